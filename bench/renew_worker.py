"""One renewal worker for the benchmark: charges due orders until none is left (like `flask worker`
does in its loop, without the other jobs): `python -m bench.renew_worker`."""

from portal import create_app

app = create_app()
# After the app: importing the payments package first runs into its import cycle with actions.
from portal.services import payments  # noqa: E402

with app.app_context():
    while payments.run_renewals():
        pass
