"""One renewal worker for the benchmark: charges due orders until none is left (like `flask worker`
does in its loop, without the other jobs): `python -m bench.renew_worker`."""

from portal import create_app
from portal.services import payments

app = create_app()
with app.app_context():
    while payments.run_renewals():
        pass
