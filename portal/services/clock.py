"""Today in the merchant's calendar: order dates, cut-offs and pauses are counted in it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["MERCHANT_TIMEZONE"])).date()
