"""Charging orders exactly once, saved cards, the credit ledger and failed-payment recovery.

A charge is made in three steps so that no crash or second worker can make it twice:
1. claim: lock the order (SKIP LOCKED), write a Payment in `charging` and the order in
   `processing`, commit;
2. charge at the provider with the Payment's id in the metadata and a key derived from it;
3. record the outcome. A Payment left in `charging` (the worker died between 1 and 3) is settled
   by `recover()`, which asks the provider for a charge carrying that id before trying again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.formatting import LazyMoney
from portal.models import (
    ActorType,
    CreditEntry,
    Customer,
    Order,
    OrderStatus,
    Outcome,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from portal.services import audit, auth, clock, notifications, policy as policy_service, subscriptions
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound

STUCK_AFTER = timedelta(minutes=5)


class DefaultCardInUse(DomainError):
    status = 409
    code = "default_card"
    default_message = _l("Choose another default card before removing this one.")


class PaymentProblem(DomainError):
    status = 402
    code = "payment_failed"
    default_message = _l("The payment did not go through.")


def _job_actor() -> Actor:
    return Actor(ActorType.JOB, None, "renewals")


# --- credit ledger ----------------------------------------------------------------------------------


def credit_balance(customer_id: int, currency: str) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
        CreditEntry.customer_id == customer_id, CreditEntry.currency == currency))


def add_credit(actor: Actor, customer: Customer, amount_minor: int, currency: str, reason: str,
               *, commit: bool = True) -> CreditEntry:
    """Credit the customer's ledger. With commit=False it joins the caller's transaction (a
    support credit is recorded together with its request)."""
    if amount_minor <= 0:
        raise DomainError(_l("A credit must be more than zero."), code="invalid_credit")
    entry = CreditEntry(customer_id=customer.id, amount_minor=amount_minor, currency=currency, reason=reason)
    db.session.add(entry)
    audit.record(actor, "payment.credit_added", subject_type="customer", subject_id=customer.id,
                 customer_id=customer.id, after={"amount_minor": amount_minor, "currency": currency,
                                                 "reason": reason})
    if commit:
        db.session.commit()
    return entry


# --- saved cards ------------------------------------------------------------------------------------


def ensure_provider_customer(customer: Customer) -> str:
    if not customer.stripe_customer_id:
        customer.stripe_customer_id = gateway.create_customer(customer.email, customer.name, customer.id)
        db.session.commit()
    return customer.stripe_customer_id


@dataclass(frozen=True)
class CardSetup:
    client_secret: str
    publishable_key: str
    js_url: str


def start_card_setup(customer: Customer) -> CardSetup:
    """What the card page needs: the card itself goes from the browser to Stripe, never to us."""
    try:
        secret = gateway.create_setup_intent(ensure_provider_customer(customer))
    except gateway.GatewayError as error:
        current_app.logger.warning("card setup failed: %s", error)
        raise PaymentProblem(_l("Card details cannot be changed right now. Please try again in a few minutes."),
                             code="provider_unavailable") from error
    return CardSetup(secret, gateway.publishable_key(), gateway.stripe_js_url())


def saved_cards(customer: Customer) -> list[PaymentMethod]:
    return list(db.session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
                                   .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)))


def _make_default(customer: Customer, method: PaymentMethod) -> None:
    for other in saved_cards(customer):
        other.is_default = other.id == method.id
    for subscription in customer.subscriptions:
        if subscription.status is not SubscriptionStatus.CANCELLED:
            subscription.payment_method = method


def save_card(actor: Actor, customer: Customer, setup_intent_id: str) -> PaymentMethod:
    """Keep the card a confirmed SetupIntent saved, make it the default, retry failed orders."""
    try:
        card = gateway.setup_intent_card(setup_intent_id, ensure_provider_customer(customer))
    except gateway.GatewayError as error:
        audit.record_failure(actor, "payment.card_added", "card_setup_failed", subject_type="customer",
                             subject_id=customer.id, customer_id=customer.id)
        raise PaymentProblem(_l("We could not save that card. Please try again."), code="card_setup_failed") from error
    method = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == card.id))
    if method is None:
        method = PaymentMethod(customer_id=customer.id, stripe_payment_method_id=card.id, brand=card.brand,
                               last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year)
        db.session.add(method)
        db.session.flush()
    elif method.customer_id != customer.id:
        raise NotFound()
    _make_default(customer, method)
    audit.record(actor, "payment.card_added", subject_type="customer", subject_id=customer.id,
                 customer_id=customer.id, after={"brand": card.brand, "last4": card.last4})
    _notify_card_change(customer, method)
    db.session.commit()
    return method


def _own_card(customer: Customer, method_id: int) -> PaymentMethod:
    method = db.session.get(PaymentMethod, method_id)
    if method is None or method.customer_id != customer.id:
        raise NotFound()
    return method


def set_default_card(actor: Actor, customer: Customer, method_id: int) -> None:
    method = _own_card(customer, method_id)
    _make_default(customer, method)
    audit.record(actor, "payment.default_card", subject_type="customer", subject_id=customer.id,
                 customer_id=customer.id, after={"last4": method.last4})
    _notify_card_change(customer, method)
    db.session.commit()


def remove_card(actor: Actor, customer: Customer, method_id: int) -> None:
    method = _own_card(customer, method_id)
    if method.is_default:
        raise DefaultCardInUse()
    try:
        gateway.detach(method.stripe_payment_method_id)
    except gateway.GatewayError as error:
        raise PaymentProblem(_l("The card could not be removed right now. Please try again."),
                             code="provider_unavailable") from error
    audit.record(actor, "payment.card_removed", subject_type="customer", subject_id=customer.id,
                 customer_id=customer.id, before={"last4": method.last4})
    notifications.queue_email("card_removed", customer.email, customer.locale or "en",
                              customer_name=customer.name, brand=method.brand.capitalize(), last4=method.last4)
    db.session.delete(method)
    db.session.commit()


def _notify_card_change(customer: Customer, method: PaymentMethod) -> None:
    notifications.queue_email("card_changed", customer.email, customer.locale or "en",
                              customer_name=customer.name, brand=method.brand.capitalize(), last4=method.last4)


# --- charging ---------------------------------------------------------------------------------------


def _due_clause(now: datetime):
    return or_(
        (Order.status == OrderStatus.SCHEDULED) & (Order.scheduled_for <= clock.today()),
        (Order.status == OrderStatus.FAILED) & (Order.next_retry_at <= now),
    )


def _claim(order_id: int | None = None) -> Payment | None:
    """Lock one due order (or the given one) and write its pending Payment. Commits."""
    now = utcnow()
    query = select(Order).with_for_update(skip_locked=True)
    query = query.where(Order.id == order_id) if order_id is not None else (
        query.where(_due_clause(now)).order_by(Order.scheduled_for, Order.id).limit(1))
    order = db.session.scalar(query)
    if order is None or order.status not in (OrderStatus.SCHEDULED, OrderStatus.FAILED):
        db.session.rollback()
        return None
    order.payment_attempts += 1
    credit = 0
    if order.payment_attempts == 1:
        credit = min(credit_balance(order.customer_id, order.currency), order.total_minor)
        if credit:
            db.session.add(CreditEntry(customer_id=order.customer_id, amount_minor=-credit,
                                       currency=order.currency, reason="applied to order", order_id=order.id))
            order.credit_applied_minor = credit
    payment = Payment(order_id=order.id, customer_id=order.customer_id, attempt=order.payment_attempts,
                      amount_minor=order.total_minor - order.credit_applied_minor, currency=order.currency,
                      status=PaymentStatus.CHARGING,
                      idempotency_key=f"order-{order.id}-attempt-{order.payment_attempts}")
    order.status = OrderStatus.PROCESSING
    db.session.add(payment)
    db.session.commit()
    return payment


def _charge(payment: Payment) -> gateway.ChargeResult | None:
    """Send the charge; None when the provider could not be reached (recover() settles it)."""
    if payment.amount_minor == 0:
        return gateway.ChargeResult(None, True)
    customer = db.session.get(Customer, payment.customer_id)
    method = next((m for m in saved_cards(customer) if m.is_default), None)
    if method is None or not customer.stripe_customer_id:
        return gateway.ChargeResult(None, False, "no_payment_method", None)
    try:
        return gateway.charge(customer_id=customer.stripe_customer_id,
                              payment_method_id=method.stripe_payment_method_id,
                              amount_minor=payment.amount_minor, currency=payment.currency,
                              idempotency_key=payment.idempotency_key,
                              metadata={"payment_id": str(payment.id), "order_id": str(payment.order_id)})
    except gateway.GatewayError as error:
        current_app.logger.warning("charge for payment %s not confirmed: %s", payment.id, error)
        return None


def settle(payment: Payment, result: gateway.ChargeResult, actor: Actor) -> bool:
    """Record the provider's answer for a payment still `charging`, in the caller's transaction.

    The worker and the webhook may both report the same charge, in either order: whichever
    comes second finds the payment settled and changes nothing (returns False)."""
    if payment.status is not PaymentStatus.CHARGING:
        return False
    order = db.session.get(Order, payment.order_id)
    payment.stripe_payment_intent_id = result.payment_intent_id
    payment.finished_at = utcnow()
    customer = db.session.get(Customer, order.customer_id)
    if result.succeeded:
        payment.status, order.status, order.paid_at = PaymentStatus.SUCCEEDED, OrderStatus.PAID, utcnow()
        order.failure_code, order.next_retry_at = None, None
        audit.record(actor, "payment.succeeded", subject_type="order", subject_id=order.id,
                     customer_id=order.customer_id, after={"amount_minor": payment.amount_minor,
                                                           "attempt": payment.attempt})
        if order.subscription_id:
            subscriptions.order_settled(db.session.get(Subscription, order.subscription_id), order)
    else:
        payment.status, order.status = PaymentStatus.FAILED, OrderStatus.FAILED
        payment.failure_code = order.failure_code = (result.failure_code or "failed")[:64]
        payment.failure_message = (result.failure_message or "")[:300] or None
        _schedule_retry(order, customer)
        audit.record(actor, "payment.failed", subject_type="order", subject_id=order.id,
                     customer_id=order.customer_id, outcome=Outcome.FAILURE, error_code=order.failure_code,
                     after={"attempt": payment.attempt, "next_retry_at":
                            order.next_retry_at.isoformat() if order.next_retry_at else None})
    return True


def _record(payment: Payment, result: gateway.ChargeResult, actor: Actor) -> None:
    settle(db.session.get(Payment, payment.id, with_for_update=True), result, actor)
    db.session.commit()


def _schedule_retry(order: Order, customer: Customer) -> None:
    """Retry on the merchant's days after the first failure; after the last, pause or cancel."""
    rules = policy_service.get()
    retries_done = order.payment_attempts - 1
    if retries_done < len(rules.dunning_retry_days):
        first_failure = utcnow() if retries_done == 0 else order.next_retry_at or utcnow()
        gap = rules.dunning_retry_days[retries_done] - (rules.dunning_retry_days[retries_done - 1]
                                                        if retries_done else 0)
        order.next_retry_at = first_failure + timedelta(days=gap)
        # A single-use sign-in link straight to the card page, valid until the next retry.
        link = auth.login_url(auth.issue_token(customer, minutes=gap * 24 * 60), "/payment")
        notifications.queue_email("payment_failed", customer.email, customer.locale or "en",
                                  customer_name=customer.name, order=order,
                                  retry_on=order.next_retry_at.date(), url=link)
        return
    order.next_retry_at = None
    if order.credit_applied_minor:
        # The order will not be paid automatically any more: the credit it held goes back.
        db.session.add(CreditEntry(customer_id=order.customer_id, amount_minor=order.credit_applied_minor,
                                   currency=order.currency, reason="returned: order not paid", order_id=order.id))
        order.credit_applied_minor = 0
    if order.subscription_id:
        subscriptions.end_after_failed_payments(db.session.get(Subscription, order.subscription_id),
                                                rules.dunning_final_action)


def charge_order(order_id: int, actor: Actor) -> Payment | None:
    """Charge one order now if it can be charged (order now, or a failed order after a new card)."""
    payment = _claim(order_id)
    if payment is None:
        return None
    result = _charge(payment)
    if result is not None:
        _record(payment, result, actor)
    return payment


def run_renewals(limit: int = 500) -> int:
    """Charge every due order, one claim at a time, so several workers share the work."""
    done = 0
    while done < limit:
        payment = _claim()
        if payment is None:
            break
        result = _charge(payment)
        if result is not None:
            _record(payment, result, _job_actor())
        done += 1
    return done + recover()


def recover() -> int:
    """Settle payments a crashed worker left in `charging`: record what the provider did, or
    put the order back so the next round charges it (with a new attempt and key)."""
    settled = 0
    stuck = db.session.scalars(select(Payment).where(
        Payment.status == PaymentStatus.CHARGING, Payment.created_at <= utcnow() - STUCK_AFTER)
        .with_for_update(skip_locked=True)).all()
    for payment in stuck:
        customer = db.session.get(Customer, payment.customer_id)
        found = gateway.find_charge(customer.stripe_customer_id, payment.id) if customer.stripe_customer_id else None
        if found is not None:
            settle(payment, found, _job_actor())
            db.session.commit()
        else:
            order = db.session.get(Order, payment.order_id)
            payment.status, payment.failure_code, payment.finished_at = PaymentStatus.FAILED, "not_sent", utcnow()
            order.status = OrderStatus.SCHEDULED if order.payment_attempts == 1 else OrderStatus.FAILED
            order.next_retry_at = utcnow() if order.status is OrderStatus.FAILED else None
            db.session.commit()
        settled += 1
    return settled


def retry_failed_orders(actor: Actor, customer: Customer) -> list[Payment]:
    """After a new card: try every failed order of this customer at once."""
    failed = db.session.scalars(select(Order.id).where(Order.customer_id == customer.id,
                                                       Order.status == OrderStatus.FAILED)).all()
    return [payment for order_id in failed if (payment := charge_order(order_id, actor)) is not None]


def order_now(actor: Actor, subscription: Subscription, expected_version: int, **params):
    """"Order now": move the next order to today, then charge it straight away."""
    change = subscriptions.apply(actor, subscription, "order_now", expected_version, **params)
    order_id = db.session.scalar(select(Order.id).where(
        Order.subscription_id == subscription.id, Order.status == OrderStatus.SCHEDULED,
        Order.scheduled_for <= clock.today()))
    if order_id is not None:
        charge_order(order_id, actor)
    return change


# --- refunds and receipts ----------------------------------------------------------------------------


def paid_payment(order: Order) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                   Payment.status == PaymentStatus.SUCCEEDED))


def refund(actor: Actor, order: Order, amount_minor: int, reason: str) -> Payment:
    """Give money back for a paid order, in full or in part (used by support)."""
    payment = paid_payment(order)
    refundable = (payment.amount_minor - payment.refunded_minor) if payment else 0
    if not 0 < amount_minor <= refundable:
        raise DomainError(_l("You can refund up to %(amount)s for this order.",
                             amount=LazyMoney(refundable, order.currency)),
                          code="refund_too_large")
    if payment.stripe_payment_intent_id:
        try:
            gateway.refund(payment.stripe_payment_intent_id, amount_minor,
                           idempotency_key=f"refund-{payment.id}-{payment.refunded_minor}")
        except gateway.GatewayError as error:
            raise PaymentProblem(_l("The refund could not be made right now. Please try again."),
                                 code="provider_unavailable") from error
    _apply_refund(payment, order, payment.refunded_minor + amount_minor)
    audit.record(actor, "payment.refunded", subject_type="order", subject_id=order.id,
                 customer_id=order.customer_id, after={"amount_minor": amount_minor, "reason": reason})
    customer = db.session.get(Customer, order.customer_id)
    notifications.queue_email("refund_issued", customer.email, customer.locale or "en",
                              customer_name=customer.name, order=order,
                              amount=amount_minor)
    db.session.commit()
    return payment


def _apply_refund(payment: Payment, order: Order, refunded_total: int) -> None:
    payment.refunded_minor = max(payment.refunded_minor, refunded_total)
    if payment.refunded_minor >= payment.amount_minor:
        order.status = OrderStatus.REFUNDED


# --- provider events -----------------------------------------------------------------------------


def _payment_for(intent: dict) -> Payment | None:
    payment_id = (intent.get("metadata") or {}).get("payment_id")
    if payment_id and payment_id.isdigit():
        return db.session.get(Payment, int(payment_id), with_for_update=True)
    return db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent.get("id")))


def event_payment_intent(intent: dict, succeeded: bool) -> str:
    payment = _payment_for(intent)
    if payment is None:
        return "ignored: not one of our payments"
    error = intent.get("last_payment_error") or {}
    result = gateway.ChargeResult(intent.get("id"), succeeded, error.get("code") or "failed", error.get("message"))
    actor = Actor(ActorType.STRIPE, None, "stripe")
    return f"recorded payment {payment.id}" if settle(payment, result, actor) else f"payment {payment.id} already recorded"


def event_refund(charge: dict) -> str:
    payment = db.session.scalar(select(Payment).where(
        Payment.stripe_payment_intent_id == charge.get("payment_intent")))
    if payment is None:
        return "ignored: not one of our payments"
    _apply_refund(payment, db.session.get(Order, payment.order_id), int(charge.get("amount_refunded") or 0))
    return f"refund noted on payment {payment.id}"


def event_card(method: dict, detached: bool = False) -> str:
    """Keep our copy of a card's display details in step with Stripe (new expiry, removal)."""
    local = db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.stripe_payment_method_id == method.get("id")))
    card = method.get("card") or {}
    if detached:
        if local is None or local.is_default:
            return "kept: default card or unknown card"
        db.session.delete(local)
        return f"removed card {local.id}"
    if local is None:
        customer = db.session.scalar(select(Customer).where(Customer.stripe_customer_id == method.get("customer")))
        if customer is None or not card:
            return "ignored: unknown customer"
        local = PaymentMethod(customer_id=customer.id, stripe_payment_method_id=method["id"], is_default=False,
                              brand="", last4="", exp_month=0, exp_year=0)
        db.session.add(local)
    local.brand, local.last4 = card.get("brand", local.brand), card.get("last4", local.last4)
    local.exp_month, local.exp_year = int(card.get("exp_month") or 0), int(card.get("exp_year") or 0)
    return f"card {method.get('id')} up to date"


def add_card_and_retry(actor: Actor, customer: Customer, setup_intent_id: str) -> list[Payment]:
    """The card page's save: keep the new card, then charge failed orders with it at once."""
    save_card(actor, customer, setup_intent_id)
    return retry_failed_orders(actor, customer)
