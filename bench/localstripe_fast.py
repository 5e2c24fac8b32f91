"""localstripe for the renewals benchmark, without its pickling of the whole store to disk after
every change: that makes each call slower as the store grows (quadratic over a run of 10,000
charges), for our charges and for the raw rate alike. `python -m bench.localstripe_fast --port N`."""

from localstripe import resources

resources.Store.dump_to_disk = lambda self: None

from localstripe.server import start  # noqa: E402  (after the patch: the server imports the store)

start()
