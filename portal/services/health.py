"""Health for load balancers: whether the database answers.

The answer is reused for HEALTH_CHECK_SECONDS in each process, so load balancers polling every
process often (or a flood of requests to /healthz) never become the database's main load."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from portal.extensions import db
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
    _last = (now, {"status": "ok" if database == "ok" else "degraded", "database": database})
    return _last[1]
