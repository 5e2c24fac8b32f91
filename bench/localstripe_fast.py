"""localstripe for the renewals benchmark, without two costs that grow with its store and that
Stripe does not have, so the run measures our renewals, not the fake's slowdown over a run:
- it pickles the whole store to disk after every change (quadratic over 10,000 charges);
- every list reads the whole store, and every PaymentIntent or Charge it answers lists the
  charge's refunds that way (about six whole-store reads per call).
And with one thing Stripe has that localstripe lacks: a request repeated with the same
`Idempotency-Key` gets the first answer again, not a second object. (A worker killed after the
provider made its PaymentIntent and before the id was stored creates it again with the same key
when the charge is recovered: at Stripe that is the same PaymentIntent.)
Both the raw rate and our renewals run on this same server. One route more lists the order and
status of every PaymentIntent at once. `python -m bench.localstripe_fast --port N`."""

from collections import defaultdict

from aiohttp import web
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
    """Every PaymentIntent's order id and status in one answer: localstripe's list pages by 100,
    and paging through 10,000 intents ran into the client's timeout."""

    def _export(self, expand=None):
        intents = _by_type["payment_intent"].values()
        return {"intents": [[(value.metadata or {}).get("order_id"), value.status] for value in intents]}


resources.extra_apis.append(("GET", "/v1/bench/payment_intent_orders", lambda **_: _IntentOrders()))

from localstripe.server import app, start  # noqa: E402  (after the patch: the server imports the store)

_first_answers: dict[tuple[str, str], web.Response] = {}


@web.middleware
async def _idempotent(request, handler):
    key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
    if key is None:
        return await handler(request)
    if (request.path, key) not in _first_answers:
        response = await handler(request)
        if response.status >= 500:
            return response
        _first_answers[request.path, key] = response
    first = _first_answers[request.path, key]
    return web.Response(status=first.status, body=first.body, content_type="application/json")


app.middlewares.append(_idempotent)
start()
