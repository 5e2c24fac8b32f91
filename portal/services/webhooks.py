"""Events from the payment provider: verified, each handled once, in whatever order they come."""
from __future__ import annotations

from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import WebhookEvent
from portal.services import payments
from portal.services.errors import DomainError


class WebhookRejected(DomainError):
    code = "webhook_rejected"
    default_message = _l("That event was not accepted.")


HANDLERS: dict[str, Callable[[dict], str]] = {
    "payment_intent.succeeded": lambda obj: payments.event_payment_intent(obj, succeeded=True),
    "payment_intent.payment_failed": lambda obj: payments.event_payment_intent(obj, succeeded=False),
    "payment_method.attached": payments.event_card,
    "payment_method.updated": payments.event_card,
    "payment_method.automatically_updated": payments.event_card,
    "payment_method.detached": lambda obj: payments.event_card(obj, detached=True),
    "charge.refunded": payments.event_refund,
}


def handle_stripe(payload: bytes, signature: str) -> str:
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise WebhookRejected(code="webhook_not_configured")
    try:
        event = gateway.verify_webhook(payload, signature, secret)
    except ValueError:
        raise WebhookRejected(code="bad_signature") from None
    if db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.event_id == event["id"])):
        return "duplicate"
    handler = HANDLERS.get(event["type"])
    result = handler(event["data"]["object"]) if handler else "ignored: type not handled"
    db.session.add(WebhookEvent(provider="stripe", event_id=event["id"], type=event["type"], result=result[:200]))
    try:
        db.session.commit()
    except IntegrityError:
        # The same event delivered twice at once: the other delivery handled it.
        db.session.rollback()
        return "duplicate"
    return result
