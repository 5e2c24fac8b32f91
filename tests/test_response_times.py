"""Business seconds counted arithmetically agree with counting the opening hours day by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.response_times import business_seconds

HOURS = {"days": [0, 1, 2, 3, 4], "start": 9, "end": 17}
ZONE = "Europe/Madrid"


def day_by_day(start: datetime, end: datetime) -> int:
    """The plain definition: each calendar day's overlap with its opening hours, added up."""
    zone = ZoneInfo(ZONE)
    start, end = start.astimezone(zone), end.astimezone(zone)
    total, day = 0, start.date()
    while day <= end.date():
        if day.weekday() in HOURS["days"]:
            opens = datetime(day.year, day.month, day.day, HOURS["start"], tzinfo=zone)
            closes = datetime(day.year, day.month, day.day, HOURS["end"], tzinfo=zone)
            total += max(0, int((min(closes, end) - max(opens, start)).total_seconds()))
        day += timedelta(days=1)
    return total


moments = st.datetimes(min_value=datetime(2029, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(start=moments, length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_business_seconds_match_counting_day_by_day(app, start, length):
    with app.app_context():
        assert app.config["BUSINESS_HOURS"] == HOURS and app.config["MERCHANT_TIMEZONE"] == ZONE
        assert business_seconds(start, start + length) == day_by_day(start, start + length)


def test_a_year_open_is_counted_exactly(app):
    with app.app_context():
        start = datetime(2030, 1, 7, 8, tzinfo=UTC)  # a Monday, 09:00 in Madrid
        # 52 whole weeks of five 8-hour days, and the Monday after until 10:00 Madrid time.
        assert business_seconds(start, start + timedelta(weeks=52, hours=1)) == (52 * 5 * 8 + 1) * 3600
