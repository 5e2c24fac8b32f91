"""localstripe for the renewals benchmark, without its pickling of the whole store to disk after
every change: that makes each call slower as the store grows (quadratic over a run of 10,000
charges), for our charges and for the raw rate alike; and with one route that lists the order of
every PaymentIntent at once. `python -m bench.localstripe_fast --port N`."""

from localstripe import resources

resources.Store.dump_to_disk = lambda self: None


class _IntentOrders:
    """Every PaymentIntent's order id in one answer: localstripe's list reads its whole store for
    each page of 100, and paging through 10,000 intents ran into the client's timeout."""

    def _export(self, expand=None):
        return {
            "order_ids": [
                (value.metadata or {}).get("order_id")
                for key, value in resources.store.items()
                if key.startswith("payment_intent:")
            ]
        }


resources.extra_apis.append(("GET", "/v1/bench/payment_intent_orders", lambda **_: _IntentOrders()))

from localstripe.server import start  # noqa: E402  (after the patch: the server imports the store)

start()
