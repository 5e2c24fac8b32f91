"""What pages and other services read about a subscription's schedule. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

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


def next_skippable(subscription: Subscription) -> Order | None:
    """The first upcoming order that will ship and can still be changed."""
    if subscription.status is not SubscriptionStatus.ACTIVE:
        return None
    return next(
        (
            entry.order
            for entry in upcoming(subscription)
            if not entry.locked and entry.order.status is OrderStatus.SCHEDULED
        ),
        None,
    )


def available_actions(subscription: Subscription) -> tuple[str, ...]:
    return rules.allowed_actions(subscription.status, subscription.cancel_at is not None)


def swap_choices(subscription: Subscription) -> dict[int, list[Variant]]:
    """For each item, the variants it may become: its own product's and the merchant's picks."""
    choices = {}
    for item in subscription.items:
        products = policy_service.swap_targets(item.variant.product_id)
        choices[item.id] = list(
            db.session.scalars(
                select(Variant)
                .where(
                    Variant.product_id.in_(products),
                    Variant.active.is_(True),
                    Variant.currency == subscription.currency,
                )
                .order_by(Variant.product_id, Variant.price_minor)
            )
        )
    return choices


def reschedule_bounds() -> tuple[date, date]:
    return rules.reschedule_window(storage.context())


def cancel_end_dates(subscription: Subscription) -> dict[str, date | None]:
    """When the subscription would end for each way of cancelling, to show before choosing."""
    ctx = storage.context()
    plan = storage.load_plan(subscription, ctx)
    period_end = rules.first_open_delivery(plan, ctx) if plan.open_deliveries else None
    return {"now": ctx.today, "period_end": period_end}
