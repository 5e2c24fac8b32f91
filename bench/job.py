"""Run one scheduled job once in this process and print how long it took (the parent reads the
process's peak memory): `python -m bench.job NAME`."""

import sys
import time

from portal import create_app
from portal.jobs import JOBS

app = create_app()
with app.app_context():
    started = time.perf_counter()
    done = JOBS[sys.argv[1]]()
    print(f"{done} {time.perf_counter() - started:.3f}")
