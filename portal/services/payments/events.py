"""Provider events (already verified and typed by the gateway) applied to our records."""

from __future__ import annotations

from sqlalchemy import select

from portal.billing.stripe_gateway import CardEvent, IntentEvent, RefundEvent
from portal.extensions import db
from portal.models import ActorType, Customer, Order, Payment, PaymentMethod
from portal.services.actors import Actor
from portal.services.payments.charging import settle
from portal.services.payments.refunds import apply_refund


def _payment_for(event: IntentEvent) -> Payment | None:
    if event.payment_id is not None:
        return db.session.get(Payment, event.payment_id, with_for_update=True)
    return db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == event.intent_id).with_for_update()
    )


def payment_intent(event: IntentEvent) -> str:
    payment = _payment_for(event)
    if payment is None or (payment.stripe_payment_intent_id not in (None, event.intent_id)):
        return "ignored: not one of our payments"
    actor = Actor(ActorType.STRIPE, None, "stripe")
    if settle(payment, event.result, actor):
        return f"recorded payment {payment.id}"
    return f"payment {payment.id} already recorded"


def refund(event: RefundEvent) -> str:
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == event.intent_id))
    if payment is None:
        return "ignored: not one of our payments"
    apply_refund(payment, db.session.get(Order, payment.order_id), event.amount_refunded_minor)
    return f"refund noted on payment {payment.id}"


def card(event: CardEvent) -> str:
    """Keep our copy of a card's display details in step with the provider (expiry, removal)."""
    local = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == event.method_id))
    if event.detached:
        if local is None or local.is_default:
            return "kept: default card or unknown card"
        db.session.delete(local)
        return f"removed card {local.id}"
    if local is None:
        customer = (
            db.session.scalar(select(Customer).where(Customer.stripe_customer_id == event.customer_id))
            if event.customer_id
            else None
        )
        if customer is None or event.card is None:
            return "ignored: unknown customer"
        local = PaymentMethod(
            customer_id=customer.id,
            stripe_payment_method_id=event.method_id,
            is_default=False,
            brand="",
            last4="",
            exp_month=0,
            exp_year=0,
        )
        db.session.add(local)
    if event.card is not None:
        local.brand, local.last4 = event.card.brand, event.card.last4
        local.exp_month, local.exp_year = event.card.exp_month, event.card.exp_year
    return f"card {event.method_id} up to date"


HANDLERS = {IntentEvent: payment_intent, RefundEvent: refund, CardEvent: card}


def apply(data) -> str:
    handler = HANDLERS.get(type(data))
    return handler(data) if handler else "ignored: type not handled"
