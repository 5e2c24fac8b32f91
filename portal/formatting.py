"""Money, dates and languages for the viewer's locale. No request or user state: services use it
to put amounts and dates into messages that are formatted when shown."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from flask import current_app
from flask_babel import format_currency, format_date, format_datetime, format_percent

from portal.money import from_minor


def language_names() -> dict[str, str]:
    """The shipped languages (config LANGUAGES), each named in itself: what a speaker looks for."""
    return {code: Locale.parse(code).get_display_name(code).capitalize() for code in current_app.config["LANGUAGES"]}


def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return format_currency(from_minor(amount_minor, currency), currency)


def percent(share: float | None) -> str:
    """A share from 0 to 1 as a percentage in the viewer's locale ("75 %" in German)."""
    return "" if share is None else format_percent(share)


def local_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, style)
    return format_date(value, style)


class LazyDate:
    """A date inside a translatable message, formatted when the message is shown."""

    def __init__(self, value: date):
        self.value = value

    def __str__(self) -> str:
        return local_date(self.value)


class LazyMoney:
    """An amount inside a translatable message, formatted when the message is shown."""

    def __init__(self, amount_minor: int, currency: str):
        self.amount_minor, self.currency = amount_minor, currency

    def __str__(self) -> str:
        return money(self.amount_minor, self.currency)
