"""Saved replies in the merchant's voice: warm, plain, and never making the customer repeat themselves."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale

from portal.extensions import db
from portal.models import Case, Customer
from portal.text import lazy_text as _l


@dataclass(frozen=True)
class SavedReply:
    title: object
    body: object


SAVED_REPLIES = {
    "card_updated": SavedReply(
        _l("Card updated, order paid"),
        _l(
            "Hi %(name)s, thanks for updating your card. I have retried your order and it went through, "
            "so it is on its way. Nothing else for you to do."
        ),
    ),
    "skip_done": SavedReply(
        _l("Skipped for you"),
        _l(
            "Hi %(name)s, done: I have skipped that order for you. Your next delivery stays as it was, "
            "and you can always change it in your account."
        ),
    ),
    "delivery_sorry": SavedReply(
        _l("Delivery problem, credit given"),
        _l(
            "Hi %(name)s, I am sorry your delivery did not arrive as it should. I have added a credit to your "
            "account; it comes off your next order automatically."
        ),
    ),
}


def text(key: str | None, case: Case) -> str:
    """A saved reply written out for this customer, in their language."""
    reply = SAVED_REPLIES.get(key or "")
    if reply is None:
        return ""
    customer = db.session.get(Customer, case.customer_id) if case.customer_id else None
    locale = (customer.locale if customer else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        return str(reply.body) % {"name": customer.name.split()[0] if customer else ""}
