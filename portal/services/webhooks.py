"""Events from the payment provider: verified, each handled once, in whatever order they come."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import WebhookEvent
from portal.services.errors import DomainError
from portal.services.payments import events
from portal.services.uow import unit_of_work
from portal.text import lazy_text as _l


class WebhookRejected(DomainError):
    code = "webhook_rejected"
    default_message = _l("That event was not accepted.")


def handle_stripe(payload: bytes, signature: str) -> str:
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise WebhookRejected(code="webhook_not_configured")
    try:
        event = gateway.parse_event(payload, signature, secret)
    except gateway.BadSignature:
        raise WebhookRejected(code="bad_signature") from None
    except gateway.MalformedEvent as error:
        current_app.logger.warning("malformed provider event refused: %s", error)
        raise WebhookRejected(code="malformed_event") from None
    try:
        with unit_of_work():
            if db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.event_id == event.id)):
                return "duplicate"
            result = events.apply(event.data)
            db.session.add(WebhookEvent(provider="stripe", event_id=event.id, type=event.type, result=result[:200]))
    except IntegrityError:
        # The same event delivered twice at once: the other delivery handled it.
        return "duplicate"
    return result
