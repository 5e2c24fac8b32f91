"""localstripe for the renewals benchmark, without two costs that grow with its store and that
Stripe does not have, so the run measures our renewals, not the fake's slowdown over a run:
- it pickles the whole store to disk after every change (quadratic over 10,000 charges);
- every list reads the whole store, and every PaymentIntent or Charge it answers lists the
  charge's refunds that way (about six whole-store reads per call).
Both the raw rate and our renewals run on this same server. One route more lists the order of
every PaymentIntent at once. `python -m bench.localstripe_fast --port N`."""

from collections import defaultdict

from localstripe import resources

# The store's objects by type ("payment_intent", "refund", ...), in the store's own order.
_by_type: dict[str, dict[str, object]] = defaultdict(dict)


def _set(self, key, value):
    dict.__setitem__(self, key, value)
    _by_type[key.split(":", 1)[0]][key] = value


def _delete(self, key):
    dict.__delitem__(self, key)
    _by_type[key.split(":", 1)[0]].pop(key, None)


def _list_all(cls, url, limit=None, starting_after=None, **kwargs):
    if kwargs:
        raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    listing = resources.List(url, limit=limit, starting_after=starting_after)
    listing._list = list(_by_type[cls.object].values())
    return listing


resources.Store.__setitem__ = _set
resources.Store.__delitem__ = _delete
resources.Store.dump_to_disk = lambda self: None
resources.StripeObject._api_list_all = classmethod(_list_all)


class _IntentOrders:
    """Every PaymentIntent's order id in one answer: localstripe's list pages by 100, and paging
    through 10,000 intents ran into the client's timeout."""

    def _export(self, expand=None):
        return {"order_ids": [(value.metadata or {}).get("order_id") for value in _by_type["payment_intent"].values()]}


resources.extra_apis.append(("GET", "/v1/bench/payment_intent_orders", lambda **_: _IntentOrders()))

from localstripe.server import start  # noqa: E402  (after the patch: the server imports the store)

start()
