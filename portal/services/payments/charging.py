"""Charging orders exactly once.

A charge is made in steps, each committed before the next talks to the provider, so no crash
or second worker can charge an order twice:
1. claim: lock the order (SKIP LOCKED), take credit from the ledger, write a Payment in
   `charging` with a key derived from the order and attempt;
2. create the PaymentIntent, unconfirmed, and store its id on the Payment;
3. confirm it, and record the outcome (`settle`).
A Payment left in `charging` (a worker died between steps) is finished by `recover()`: with a
stored id it asks the provider what became of that PaymentIntent (and confirms it if it never
was); without one, nothing was charged, so it creates the PaymentIntent again with the same key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import (
    ActorType,
    Customer,
    Order,
    OrderStatus,
    Outcome,
    Payment,
    PaymentStatus,
    utcnow,
)
from portal.services import audit, clock, subscriptions
from portal.services.actors import Actor
from portal.services.payments import dunning, ledger
from portal.services.payments.cards import provider_ids_for_charge
from portal.services.uow import unit_of_work

STUCK_AFTER = timedelta(minutes=5)


def job_actor() -> Actor:
    return Actor(ActorType.JOB, None, "renewals")


@dataclass(frozen=True)
class ChargeOutcome:
    """What became of one charge, for an honest message to whoever asked for it."""

    order_id: int
    status: PaymentStatus
    failure_code: str | None = None

    @property
    def paid(self) -> bool:
        return self.status is PaymentStatus.SUCCEEDED

    @property
    def declined(self) -> bool:
        return self.status is PaymentStatus.FAILED

    @property
    def pending(self) -> bool:
        return self.status is PaymentStatus.CHARGING


def _outcome(payment_id: int) -> ChargeOutcome:
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    return ChargeOutcome(payment.order_id, payment.status, payment.failure_code)


def _due_clause(now: datetime):
    return or_(
        (Order.status == OrderStatus.SCHEDULED) & (Order.scheduled_for <= clock.today()),
        (Order.status == OrderStatus.FAILED) & (Order.next_retry_at <= now),
    )


@dataclass(frozen=True)
class _Charge:
    """What a worker needs to charge a claimed payment, read in the claim's transaction so
    that nothing has to be read again between the claim and the provider's answer."""

    payment_id: int
    order_id: int
    amount_minor: int
    currency: str
    idempotency_key: str
    intent_id: str | None
    provider_customer_id: str | None
    provider_card_id: str | None


def _charge_of(payment: Payment) -> _Charge:
    customer_ref, card_ref = provider_ids_for_charge(payment.order_id) if payment.amount_minor else (None, None)
    return _Charge(
        payment.id,
        payment.order_id,
        payment.amount_minor,
        payment.currency,
        payment.idempotency_key,
        payment.stripe_payment_intent_id,
        customer_ref,
        card_ref,
    )


class _ClaimFailed(Exception):
    """Claiming this order raised: it is left as it was, and the worker goes on with the others."""

    def __init__(self, order_id: int):
        super().__init__(order_id)
        self.order_id = order_id


def _claim(order_id: int | None = None, passed_over: Collection[int] = ()) -> _Charge | None:
    """Lock one due order (or the given one) and write its pending Payment."""
    with unit_of_work(outermost=True):
        query = select(Order).with_for_update(skip_locked=True)
        if order_id is not None:
            query = query.where(Order.id == order_id)
        else:
            query = query.where(_due_clause(utcnow())).order_by(Order.scheduled_for, Order.id).limit(1)
            if passed_over:
                query = query.where(Order.id.not_in(passed_over))
        order = db.session.scalar(query)
        if order is None or order.status not in (OrderStatus.SCHEDULED, OrderStatus.FAILED):
            return None
        # Read now: after a failed flush the order's attributes can no longer be loaded.
        claimed_id = order.id
        try:
            return _claimed(order)
        except Exception as error:
            raise _ClaimFailed(claimed_id) from error


def _claimed(order: Order) -> _Charge:
    """The claim's writes for a locked, chargeable order."""
    order.payment_attempts += 1
    # Set with the attempt count, so both go out in one UPDATE when the ledger's reads flush.
    order.status = OrderStatus.PROCESSING
    if order.payment_attempts == 1:
        ledger.take_for_order(order)
    payment = Payment(
        order_id=order.id,
        customer_id=order.customer_id,
        attempt=order.payment_attempts,
        amount_minor=order.total_minor - order.credit_applied_minor,
        currency=order.currency,
        status=PaymentStatus.CHARGING,
        idempotency_key=f"order-{order.id}-attempt-{order.payment_attempts}",
    )
    db.session.add(payment)
    db.session.flush()
    return _charge_of(payment)


def _charge(charge: _Charge) -> gateway.ChargeResult | None:
    """Create (if need be) and confirm the PaymentIntent. None when the provider could not be
    reached (the payment stays `charging` and recover() finishes it) or when the payment was
    settled meanwhile."""
    if charge.amount_minor == 0:
        return gateway.ChargeResult(None, True)
    if not charge.provider_card_id or not charge.provider_customer_id:
        return gateway.ChargeResult(None, False, "no_payment_method", None)
    intent_id = charge.intent_id
    try:
        if intent_id is None:
            intent_id = gateway.create_charge(
                customer_id=charge.provider_customer_id,
                payment_method_id=charge.provider_card_id,
                amount_minor=charge.amount_minor,
                currency=charge.currency,
                idempotency_key=charge.idempotency_key,
                metadata={"payment_id": str(charge.payment_id), "order_id": str(charge.order_id)},
            )
            if not _store_intent(charge.payment_id, intent_id):
                return None
        return gateway.confirm_charge(intent_id)
    except gateway.CardUnusable as error:
        return gateway.ChargeResult(intent_id, False, error.code, str(error)[:300])
    except gateway.GatewayError as error:
        current_app.logger.warning("charge for payment %s not confirmed: %s", charge.payment_id, error)
        return None


def _store_intent(payment_id: int, intent_id: str) -> bool:
    """Store the id on a payment still `charging`. False when it was settled meanwhile (this
    worker stalled past STUCK_AFTER and another one recovered the charge): it is not ours to confirm."""
    with unit_of_work(outermost=True):
        stored = db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status == PaymentStatus.CHARGING)
            .values(stripe_payment_intent_id=intent_id)
            .execution_options(synchronize_session=False)
        )
        return stored.rowcount == 1


def settle(payment: Payment, result: gateway.ChargeResult, actor: Actor) -> bool:
    """Record the provider's answer for a payment still `charging`, in the caller's unit of work.

    The worker and the webhook may both report the same charge, in either order: whichever
    comes second finds the payment settled and changes nothing (returns False)."""
    if payment.status is not PaymentStatus.CHARGING:
        return False
    order = db.session.get(Order, payment.order_id)
    payment.stripe_payment_intent_id = result.payment_intent_id or payment.stripe_payment_intent_id
    payment.finished_at = utcnow()
    if result.succeeded:
        payment.status, order.status, order.paid_at = PaymentStatus.SUCCEEDED, OrderStatus.PAID, utcnow()
        order.failure_code, order.next_retry_at = None, None
        audit.record(
            actor,
            "payment.succeeded",
            subject_type="order",
            subject_id=order.id,
            customer_id=order.customer_id,
            after={"amount_minor": payment.amount_minor, "attempt": payment.attempt},
        )
        if order.subscription_id:
            subscriptions.order_paid(order.subscription_id, bool(order.discount_minor))
    else:
        payment.status, order.status = PaymentStatus.FAILED, OrderStatus.FAILED
        payment.failure_code = order.failure_code = (result.failure_code or "failed")[:64]
        payment.failure_message = (result.failure_message or "")[:300] or None
        dunning.after_failure(order, db.session.get(Customer, order.customer_id))
        audit.record(
            actor,
            "payment.failed",
            subject_type="order",
            subject_id=order.id,
            customer_id=order.customer_id,
            outcome=Outcome.FAILURE,
            error_code=order.failure_code,
            after={
                "attempt": payment.attempt,
                "next_retry_at": order.next_retry_at.isoformat() if order.next_retry_at else None,
            },
        )
    return True


def _record(payment_id: int, result: gateway.ChargeResult, actor: Actor) -> None:
    with unit_of_work(outermost=True):
        settle(db.session.get(Payment, payment_id, with_for_update=True, populate_existing=True), result, actor)


def charge_order(order_id: int, actor: Actor) -> ChargeOutcome | None:
    """Charge one order now if it can be charged (order now, pay now, a new card)."""
    charge = _claim(order_id)
    if charge is None:
        return None
    result = _charge(charge)
    if result is not None:
        _record(charge.payment_id, result, actor)
    return _outcome(charge.payment_id)


def run_renewals(limit: int = 500) -> int:
    """Charge every due order, one claim at a time, so several workers share the work."""
    done, passed_over = 0, []
    while done < limit:
        try:
            charge = _claim(passed_over=passed_over)
        except _ClaimFailed as failed:
            # Left due, and passed over for the rest of this run: one order that cannot be
            # claimed (bad data, a bug) must not hold up every other renewal behind it.
            current_app.logger.exception("renewal of order %s could not be claimed", failed.order_id)
            passed_over.append(failed.order_id)
            continue
        if charge is None:
            break
        result = _charge(charge)
        if result is not None:
            _record(charge.payment_id, result, job_actor())
        done += 1
    return done + recover()


def recover(limit: int = 100) -> int:
    """Finish payments a crashed worker left in `charging` longer than STUCK_AFTER."""
    finished = 0
    while finished < limit:
        charge = _reclaim_stuck()
        if charge is None:
            return finished
        result = None
        if charge.intent_id:
            try:
                result = gateway.charge_outcome(charge.intent_id)
            except gateway.GatewayError:
                return finished
        result = result or _charge(charge)
        if result is None:
            # The provider is unreachable: the next round tries again.
            return finished
        _record(charge.payment_id, result, job_actor())
        finished += 1
    return finished


def _reclaim_stuck() -> _Charge | None:
    """Take over one stuck payment: its new attempt time keeps other workers off it."""
    with unit_of_work(outermost=True):
        payment = db.session.scalar(
            select(Payment)
            .where(Payment.status == PaymentStatus.CHARGING, Payment.attempted_at <= utcnow() - STUCK_AFTER)
            .order_by(Payment.attempted_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if payment is None:
            return None
        payment.attempted_at = utcnow()
        return _charge_of(payment)


def retry_failed_orders(actor: Actor, customer: Customer) -> list[ChargeOutcome]:
    """Try every failed order of this customer at once (a new card, "pay now")."""
    failed = db.session.scalars(
        select(Order.id)
        .where(Order.customer_id == customer.id, Order.status == OrderStatus.FAILED)
        .order_by(Order.scheduled_for)
    ).all()
    return [outcome for order_id in failed if (outcome := charge_order(order_id, actor)) is not None]


def charge_due_order_of(actor: Actor, subscription_id: int) -> ChargeOutcome | None:
    """Charge the subscription's order that is due today ("order now")."""
    order_id = db.session.scalar(
        select(Order.id)
        .where(
            Order.subscription_id == subscription_id,
            Order.status == OrderStatus.SCHEDULED,
            Order.scheduled_for <= clock.today(),
        )
        .order_by(Order.scheduled_for)
        .limit(1)
    )
    return charge_order(order_id, actor) if order_id is not None else None
