"""Health for load balancers: whether the database answers, and whether the rate limits'
shared storage does.

The answer is reused for HEALTH_CHECK_SECONDS in each process, so load balancers polling every
process often (or a flood of requests to /healthz) never become the database's main load."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from portal.extensions import db, limiter
from portal.services.uow import unit_of_work

_last: tuple[float, dict] | None = None


def check() -> dict:
    global _last
    now = time.monotonic()
    if _last is not None and now - _last[0] < current_app.config["HEALTH_CHECK_SECONDS"]:
        return _last[1]
    try:
        with unit_of_work():
            db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # any driver error means the database is not usable
        database = f"error: {type(exc).__name__}"
    # Without the shared storage each process still limits on its own: worth an alert, but not
    # a reason to take every process out of the balancer (which would take the site down).
    rate_limits = "ok" if limiter.storage_reachable() else "unreachable: each process counts alone"
    _last = (
        now,
        {"status": "ok" if database == "ok" else "degraded", "database": database, "rate_limits": rate_limits},
    )
    return _last[1]
