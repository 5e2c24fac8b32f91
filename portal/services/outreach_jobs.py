"""The scheduled jobs that send proactive messages: upcoming orders, expiring cards, pauses ending.

Each reads only what is due now and still true (a skipped order, a paused or cancelled
subscription, a card already replaced or a subscriber who turned the message off is not in
the query), in keyset batches committed one by one; `outreach.send_once` makes each occurrence
go out once whoever runs the job and however often."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    MessageOptOut,
    Order,
    OrderStatus,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal.services import clock, outreach
from portal.services import policy as policy_service
from portal.services.payments import ledger
from portal.services.subscriptions.rules import LIVE_STATUSES
from portal.services.uow import unit_of_work

BATCH_SIZE = 200


def _in_batches(statement, key, handle: Callable) -> int:
    """Run `handle` on each row of `statement` (keyset-paginated on `key`); returns how many sent."""
    sent, last_id = 0, 0
    while True:
        with unit_of_work(outermost=True):
            batch = db.session.scalars(statement.where(key > last_id).order_by(key).limit(BATCH_SIZE)).unique().all()
            for row in batch:
                sent += handle(row)
        if len(batch) < BATCH_SIZE:
            return sent
        last_id = batch[-1].id


def _wants(code: str, customer_id_column):
    return ~exists().where(MessageOptOut.customer_id == customer_id_column, MessageOptOut.kind == code)


def _not_ending_by(day_column):
    return or_(Subscription.cancel_at.is_(None), Subscription.cancel_at > day_column)


# --- upcoming order ------------------------------------------------------------------------------


def order_reminders() -> int:
    """A reminder for each order due within the merchant's number of days that can still change."""
    config = outreach.setting("order_reminder")
    if not config.enabled:
        return 0
    today = clock.today()
    first, last = policy_service.get().first_open_date(today), today + timedelta(days=config.days_before)
    statement = (
        select(Order)
        .join(Subscription, Subscription.id == Order.subscription_id)
        .where(
            Order.status == OrderStatus.SCHEDULED,
            Order.scheduled_for >= first,
            Order.scheduled_for <= last,
            Subscription.status == SubscriptionStatus.ACTIVE,
            _not_ending_by(Order.scheduled_for),
            _wants("order_reminder", Order.customer_id),
        )
        .options(
            selectinload(Order.lines),
            joinedload(Order.customer),
            joinedload(Order.subscription).joinedload(Subscription.shipping_address),
            joinedload(Order.subscription).joinedload(Subscription.payment_method),
        )
    )
    return _in_batches(statement, Order.id, _remind_of_order)


def _remind_of_order(order: Order) -> bool:
    subscription = order.subscription
    credit = min(ledger.balance(order.customer_id, order.currency), order.total_minor)
    on = {"subscription_id": subscription.id}
    return outreach.send_once(
        "order-reminders",
        "order_reminder",
        order.customer,
        ("order", order.id),
        order.scheduled_for.isoformat(),
        order.scheduled_for,
        {
            "skip": ("account.order_action", {**on, "order_id": order.id, "action": "skip"}),
            "swap": ("account.subscription_action", {**on, "action": "swap"}),
            "reschedule": ("account.subscription_action", {**on, "action": "reschedule"}),
            "pause": ("account.subscription_action", {**on, "action": "pause"}),
            "address": ("account.address", on),
        },
        order=order,
        credit_minor=credit,
        to_pay_minor=order.total_minor - credit,
        address=subscription.shipping_address,
        card=subscription.payment_method,
    )


# --- card expiring ----------------------------------------------------------------------------------


def last_valid_day(card: PaymentMethod) -> date:
    return date(card.exp_year, card.exp_month, calendar.monthrange(card.exp_year, card.exp_month)[1])


def _expiry(card: PaymentMethod) -> str:
    return f"{card.exp_year:04d}-{card.exp_month:02d}"


def card_notices() -> int:
    """The first notice in the card's last month; a second a week before a charge it cannot pay."""
    config = outreach.setting("card_expiring")
    if not config.enabled:
        return 0
    today = clock.today()
    live = exists().where(Subscription.customer_id == PaymentMethod.customer_id, Subscription.status.in_(LIVE_STATUSES))
    expiring = (
        select(PaymentMethod)
        .where(
            PaymentMethod.is_default.is_(True),
            PaymentMethod.exp_year == today.year,
            PaymentMethod.exp_month == today.month,
            live,
            _wants("card_expiring", PaymentMethod.customer_id),
        )
        .options(joinedload(PaymentMethod.customer))
    )
    sent = _in_batches(expiring, PaymentMethod.id, _first_card_notice)
    charges = (
        select(Order)
        .join(Subscription, Subscription.id == Order.subscription_id)
        .join(PaymentMethod, PaymentMethod.id == Subscription.payment_method_id)
        .where(
            Order.status == OrderStatus.SCHEDULED,
            Order.scheduled_for >= today,
            Order.scheduled_for <= today + timedelta(days=config.days_before),
            Subscription.status == SubscriptionStatus.ACTIVE,
            _not_ending_by(Order.scheduled_for),
            _wants("card_expiring", Order.customer_id),
        )
        .options(joinedload(Order.customer), joinedload(Order.subscription).joinedload(Subscription.payment_method))
    )
    return sent + _in_batches(charges, Order.id, _second_card_notice)


def _card_notice(card: PaymentMethod, occurrence: str, valid_until: date, order: Order | None) -> bool:
    return outreach.send_once(
        "card-notices",
        "card_expiring",
        card.customer,
        ("payment_method", card.id),
        occurrence,
        valid_until,
        {"card": ("account.payment", {})},
        card=card,
        expires_on=last_valid_day(card),
        order=order,
    )


def _first_card_notice(card: PaymentMethod) -> bool:
    return _card_notice(card, _expiry(card), last_valid_day(card), None)


def _second_card_notice(order: Order) -> bool:
    card = order.subscription.payment_method
    if last_valid_day(card) >= order.scheduled_for:
        return False  # the card still pays this charge
    return _card_notice(card, f"{_expiry(card)}-charge", order.scheduled_for, order)


# --- pause ending -------------------------------------------------------------------------------------


def pause_reminders() -> int:
    """A reminder before a pause ends by itself, with the choice to extend it or resume now."""
    config = outreach.setting("pause_ending")
    if not config.enabled:
        return 0
    today = clock.today()
    statement = (
        select(Subscription)
        .where(
            Subscription.status == SubscriptionStatus.PAUSED,
            Subscription.paused_until > today,
            Subscription.paused_until <= today + timedelta(days=config.days_before),
            _not_ending_by(Subscription.paused_until),
            _wants("pause_ending", Subscription.customer_id),
        )
        .options(
            joinedload(Subscription.customer),
            selectinload(Subscription.items).joinedload(SubscriptionItem.variant),
        )
    )
    return _in_batches(statement, Subscription.id, _remind_of_pause)


def _remind_of_pause(subscription: Subscription) -> bool:
    on = {"subscription_id": subscription.id}
    return outreach.send_once(
        "pause-reminders",
        "pause_ending",
        subscription.customer,
        ("subscription", subscription.id),
        subscription.paused_until.isoformat(),
        subscription.paused_until,
        {
            "extend": ("account.subscription_action", {**on, "action": "pause"}),
            "resume": ("account.subscription_action", {**on, "action": "resume"}),
        },
        subscription=subscription,
        resumes_on=subscription.paused_until,
    )
