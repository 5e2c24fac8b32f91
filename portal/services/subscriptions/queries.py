"""What pages and other services read about a subscription's schedule. Read-only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Order, OrderStatus, Subscription, SubscriptionStatus, Variant
from portal.services import policy as policy_service
from portal.services.subscriptions import rules, storage


@dataclass(frozen=True)
class UpcomingOrder:
    order: Order
    locked: bool


def upcoming(subscription: Subscription) -> list[UpcomingOrder]:
    ctx = storage.context()
    return [
        UpcomingOrder(row, ctx.policy.is_locked(row.scheduled_for, ctx.today))
        for row in storage.upcoming_rows(subscription.id, ctx)
    ]


def first_skippable(orders: Iterable[Order], ctx: rules.Context) -> Order | None:
    """Of one subscription's upcoming orders (by date), the first that will ship and can still be
    changed."""
    return next(
        (
            order
            for order in orders
            if order.status is OrderStatus.SCHEDULED and not ctx.policy.is_locked(order.scheduled_for, ctx.today)
        ),
        None,
    )


def next_skippable(subscription: Subscription) -> Order | None:
    """The first upcoming order that will ship and can still be changed."""
    if subscription.status is not SubscriptionStatus.ACTIVE:
        return None
    ctx = storage.context()
    return first_skippable(storage.upcoming_rows(subscription.id, ctx), ctx)


def next_skippable_of(subscriptions: Iterable[Subscription], upcoming_orders: Iterable[Order]) -> dict[int, Order]:
    """`next_skippable` for each of a customer's subscriptions, from their upcoming orders already
    read (sorted by date): no query per subscription."""
    ctx = storage.context()
    active = {s.id for s in subscriptions if s.status is SubscriptionStatus.ACTIVE}
    by_subscription: dict[int, list[Order]] = {}
    for order in upcoming_orders:
        if order.subscription_id in active:
            by_subscription.setdefault(order.subscription_id, []).append(order)
    found = {sid: first_skippable(orders, ctx) for sid, orders in by_subscription.items()}
    return {sid: order for sid, order in found.items() if order is not None}


def available_actions(subscription: Subscription) -> tuple[str, ...]:
    return rules.allowed_actions(subscription.status, subscription.cancel_at is not None)


def swap_choices_of(subscriptions: Iterable[Subscription]) -> dict[int, list[Variant]]:
    """For each item of these subscriptions, the variants it may become: its own product's and the
    merchant's picks. Two queries however many subscriptions and items."""
    items = [(subscription, item) for subscription in subscriptions for item in subscription.items]
    if not items:
        return {}
    targets = policy_service.swap_targets_of({item.variant.product_id for _s, item in items})
    currencies = {subscription.currency for subscription, _i in items}
    variants = db.session.scalars(
        select(Variant)
        .where(
            Variant.product_id.in_(set().union(*targets.values())),
            Variant.active.is_(True),
            Variant.currency.in_(currencies),
        )
        .options(joinedload(Variant.product))
        .order_by(Variant.product_id, Variant.price_minor, Variant.id)
    ).all()
    return {
        item.id: [
            v
            for v in variants
            if v.product_id in targets[item.variant.product_id] and v.currency == subscription.currency
        ]
        for subscription, item in items
    }


def swap_choices(subscription: Subscription) -> dict[int, list[Variant]]:
    return swap_choices_of([subscription])


def reschedule_bounds() -> tuple[date, date]:
    return rules.reschedule_window(storage.context())


def cancel_end_dates(subscription: Subscription) -> dict[str, date | None]:
    """When the subscription would end for each way of cancelling, to show before choosing."""
    ctx = storage.context()
    plan = storage.load_plan(subscription, ctx)
    period_end = rules.first_open_delivery(plan, ctx) if plan.open_deliveries else None
    return {"now": ctx.today, "period_end": period_end}
