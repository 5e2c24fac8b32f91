"""Money, dates and languages for the viewer's locale. No request or user state: services use it
to put amounts and dates into messages that are formatted when shown."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale, dates, numbers
from flask import current_app, g
from flask_babel import format_percent, get_locale, get_timezone

from portal.money import from_minor


def language_names() -> dict[str, str]:
    """The shipped languages (config LANGUAGES), each named in itself: what a speaker looks for."""
    return _language_names(tuple(current_app.config["LANGUAGES"]))


@lru_cache(maxsize=8)
def _language_names(codes: tuple[str, ...]) -> dict[str, str]:
    return {code: Locale.parse(code).get_display_name(code).capitalize() for code in codes}


# Pages repeat the same prices and delivery dates many times; Babel's formatting of one value
# costs more than the rest of its table row, so each text is made once per locale.
@lru_cache(maxsize=4096)
def _money_text(amount_minor: int, currency: str, locale) -> str:
    return numbers.format_currency(from_minor(amount_minor, currency), currency, locale=locale)


@lru_cache(maxsize=4096)
def _date_text(value: date, style: str, locale) -> str:
    return dates.format_date(value, style, locale=locale)


def _locale():
    """The request's locale, straight from where Flask-Babel keeps it once chosen."""
    try:
        return g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet, or no request or app context
        return get_locale()


def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return _money_text(amount_minor, currency, _locale())


def percent(share: float | None) -> str:
    """A share from 0 to 1 as a percentage in the viewer's locale ("75 %" in German)."""
    return "" if share is None else format_percent(share)


def local_date(value: date | datetime | None, style: str = "medium") -> str:
    """A date as it is, a moment in the viewer's timezone (the merchant's)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return dates.format_datetime(value, style, tzinfo=get_timezone(), locale=_locale())
    return _date_text(value, style, _locale())


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
