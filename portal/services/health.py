from __future__ import annotations

from sqlalchemy import text

from portal.extensions import db
from portal.services.uow import unit_of_work


def check() -> dict:
    try:
        with unit_of_work():
            db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # any driver error means the database is not usable
        database = f"error: {type(exc).__name__}"
    return {"status": "ok" if database == "ok" else "degraded", "database": database}
