"""Language and timezone choice, and formatting money and dates for the viewer."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask import Flask, current_app, request, session
from flask_babel import format_currency, format_date, format_datetime, get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.models import IntervalUnit, OrderStatus, Outcome, StaffRole, SubscriptionStatus

LANGUAGE_NAMES = {"en": "English", "es": "Español", "de": "Deutsch"}

STATUS_LABELS = {
    SubscriptionStatus.ACTIVE: _l("Active"),
    SubscriptionStatus.PAUSED: _l("Paused"),
    SubscriptionStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.SCHEDULED: _l("Scheduled"),
    OrderStatus.SKIPPED: _l("Skipped"),
    OrderStatus.PROCESSING: _l("Processing"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.FAILED: _l("Payment failed"),
    OrderStatus.REFUNDED: _l("Refunded"),
    StaffRole.AGENT: _l("Agent"),
    StaffRole.MANAGER: _l("Manager"),
    StaffRole.ADMIN: _l("Admin"),
    Outcome.SUCCESS: _l("Done"),
    Outcome.FAILURE: _l("Refused"),
}


def select_locale() -> str:
    """The customer's own setting first, then a choice made on this browser, then its languages."""
    supported = current_app.config["LANGUAGES"]
    customer = getattr(current_user, "customer", None)
    if customer is not None and customer.locale in supported:
        return customer.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["MERCHANT_TIMEZONE"]


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return format_currency(minor_to_decimal(amount_minor, currency), currency)


def local_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, style)
    return format_date(value, style)


def country_name(code: str) -> str:
    return get_locale().territories.get(code.upper(), code)


def status_label(status) -> str:
    return str(STATUS_LABELS[status])


def interval_label(unit: IntervalUnit, count: int) -> str:
    if unit is IntervalUnit.WEEK:
        return ngettext("Every week", "Every %(num)d weeks", count)
    return ngettext("Every month", "Every %(num)d months", count)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals.update(status_label=status_label, interval_label=interval_label)

    @app.context_processor
    def i18n_context() -> dict:
        return {
            "current_locale": str(get_locale()),
            "language_names": LANGUAGE_NAMES,
            "merchant_name": current_app.config["MERCHANT_NAME"],
        }
