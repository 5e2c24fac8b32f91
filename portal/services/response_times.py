"""First response time of a case, in calendar time and in the merchant's business hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal.models import Case, utcnow
from portal.services import support_settings
from portal.services.support_settings import BusinessHours


def business_seconds(start: datetime, end: datetime, hours: BusinessHours | None = None) -> int:
    """Seconds between two moments that fall inside the merchant's opening hours.

    The first and last day are counted by the clock; the whole days between by arithmetic (whole
    weeks, then the days left over), so a case open for a year costs no more than one open today.
    """
    hours = hours or support_settings.get().hours
    zone = ZoneInfo(current_app.config["MERCHANT_TIMEZONE"])
    start, end = start.astimezone(zone), end.astimezone(zone)
    first, last = start.date(), end.date()
    if last < first:
        return 0

    def open_seconds(day) -> int:
        if day.weekday() not in hours.days:
            return 0
        opens = _at(day, hours.start, zone)
        closes = _at(day, hours.end, zone)
        return max(0, int((min(closes, end) - max(opens, start)).total_seconds()))

    if first == last:
        return open_seconds(first)
    between = (last - first).days - 1
    weeks, rest = divmod(between, 7)
    open_days = weeks * len(hours.days) + sum(
        1 for offset in range(1, rest + 1) if (first.weekday() + offset) % 7 in hours.days
    )
    day_seconds = max(0, hours.end - hours.start) * 3600
    return open_seconds(first) + open_days * day_seconds + open_seconds(last)


@dataclass(frozen=True)
class ResponseClock:
    calendar_seconds: int
    business_seconds: int
    responded: bool
    breached: bool


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    # Closing at 24:00 is the start of the next day.
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour)


def first_response_target_hours() -> int:
    return support_settings.get().first_response_target_hours


def response_clock(case: Case, now: datetime | None = None) -> ResponseClock:
    """From handoff to the first public human reply (or until now, while there is none)."""
    end = case.first_response_at or now or utcnow()
    business = business_seconds(case.created_at, end)
    target = first_response_target_hours() * 3600
    return ResponseClock(
        int((end - case.created_at).total_seconds()), business, case.first_response_at is not None, business > target
    )
