"""Money back for a paid order, in full or in part (support), and receipts' payment facts."""

from __future__ import annotations

from sqlalchemy import select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.formatting import LazyMoney
from portal.models import Customer, Order, OrderStatus, Payment, PaymentStatus
from portal.services import audit, notifications
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.payments.cards import PaymentProblem
from portal.services.uow import transactional
from portal.text import lazy_text as _l


def paid_payment(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED)
    )


def refundable_minor(order: Order) -> int:
    payment = paid_payment(order)
    return (payment.amount_minor - payment.refunded_minor) if payment else 0


@transactional
def refund(actor: Actor, order: Order, amount_minor: int, reason: str) -> Payment:
    payment = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED).with_for_update()
    )
    refundable = (payment.amount_minor - payment.refunded_minor) if payment else 0
    if not 0 < amount_minor <= refundable:
        raise DomainError(
            _l("You can refund up to %(amount)s for this order.", amount=LazyMoney(refundable, order.currency)),
            code="refund_too_large",
        )
    if payment.stripe_payment_intent_id:
        try:
            gateway.refund(
                payment.stripe_payment_intent_id,
                amount_minor,
                idempotency_key=f"refund-{payment.id}-{payment.refunded_minor}",
            )
        except gateway.GatewayError as error:
            raise PaymentProblem(
                _l("The refund could not be made right now. Please try again."), code="provider_unavailable"
            ) from error
    apply_refund(payment, order, payment.refunded_minor + amount_minor)
    audit.record(
        actor,
        "payment.refunded",
        subject_type="order",
        subject_id=order.id,
        customer_id=order.customer_id,
        after={"amount_minor": amount_minor, "reason": reason},
    )
    notifications.queue_to_customer(
        "refund_issued", db.session.get(Customer, order.customer_id), order=order, amount=amount_minor
    )
    return payment


def apply_refund(payment: Payment, order: Order, refunded_total: int) -> None:
    payment.refunded_minor = max(payment.refunded_minor, refunded_total)
    if payment.refunded_minor >= payment.amount_minor:
        order.status = OrderStatus.REFUNDED
