"""Reading a subscription and its upcoming orders into a Plan, and writing a Plan back.

Only flushes: the unit of work that called owns the transaction."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    Order,
    OrderLine,
    OrderStatus,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Variant,
    utcnow,
)
from portal.services import clock
from portal.services import policy as policy_service
from portal.services.subscriptions import schedule
from portal.services.subscriptions.rules import Context
from portal.services.subscriptions.schedule import Plan, PlannedLine, PlannedOrder

# Orders that left the schedule: they ship (or shipped) whatever the subscription does now.
PAST_SCHEDULE = (OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.REFUNDED)


def context() -> Context:
    return Context(policy_service.get(), clock.today(), current_app.config["UPCOMING_ORDERS_SHOWN"])


# A subscription's items with their variants and products, in the statement that loads it: a
# plan, the dashboard and the card page all name each item's product (not one query per item).
ITEMS_WITH_PRODUCTS = joinedload(Subscription.items).joinedload(SubscriptionItem.variant).joinedload(Variant.product)


def subscription_for_plan(subscription_id: int) -> Subscription:
    return db.session.get(Subscription, subscription_id, options=[ITEMS_WITH_PRODUCTS])


def upcoming_rows(subscription_id: int, ctx: Context, *, with_lines: bool = False) -> list[Order]:
    """Orders still to come: every scheduled one (a due one is about to be charged) and the
    skipped ones whose date has not passed; `with_lines` loads their lines in one statement."""
    query = select(Order).options(selectinload(Order.lines)) if with_lines else select(Order)
    return list(
        db.session.scalars(
            query.where(
                Order.subscription_id == subscription_id,
                or_(
                    Order.status == OrderStatus.SCHEDULED,
                    and_(Order.status == OrderStatus.SKIPPED, Order.scheduled_for >= ctx.today),
                ),
            ).order_by(Order.scheduled_for, Order.id)
        )
    )


def line_of(row: SubscriptionItem | OrderLine) -> PlannedLine:
    if isinstance(row, SubscriptionItem):
        return PlannedLine(row.variant_id, row.variant.display_name, row.quantity, row.unit_price_minor)
    return PlannedLine(row.variant_id, row.description, row.quantity, row.unit_price_minor)


def _planned(row: Order, ctx: Context) -> PlannedOrder:
    locked = ctx.policy.is_locked(row.scheduled_for, ctx.today)
    return PlannedOrder(
        row.scheduled_for,
        skipped=row.status is OrderStatus.SKIPPED,
        locked=locked,
        locked_lines=tuple(line_of(line) for line in row.lines) if locked else (),
    )


def last_order_date(subscription_id: int):
    return db.session.scalar(
        select(func.max(Order.scheduled_for)).where(
            Order.subscription_id == subscription_id, Order.status.in_(PAST_SCHEDULE)
        )
    )


def load_plan(subscription: Subscription, ctx: Context) -> Plan:
    return Plan(
        status=subscription.status,
        lines=tuple(line_of(item) for item in subscription.items),
        interval_unit=subscription.interval_unit,
        interval_count=subscription.interval_count,
        currency=subscription.currency,
        anchor=subscription.cycle_anchor,
        paused_until=subscription.paused_until,
        upcoming=tuple(_planned(row, ctx) for row in upcoming_rows(subscription.id, ctx)),
        cancel_at=subscription.cancel_at,
        discount_percent=subscription.discount_percent,
        discount_orders_left=subscription.discount_orders_left,
        last_order_date=last_order_date(subscription.id),
    )


def fill_order(order: Order, lines: tuple[PlannedLine, ...], discount_minor: int) -> None:
    """An order's lines and totals, priced by `schedule.order_total`."""
    order.lines = [
        OrderLine(
            variant_id=line.variant_id,
            description=line.description,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            total_minor=line.total_minor,
        )
        for line in lines
    ]
    order.shipping_minor = order.shipping_minor or 0
    order.discount_minor = discount_minor
    order.subtotal_minor, order.total_minor = schedule.order_total(lines, discount_minor, order.shipping_minor)


def _same_order(row: Order, status: OrderStatus, lines: tuple[PlannedLine, ...], discount: int) -> bool:
    return (
        row.status is status and row.discount_minor == discount and tuple(line_of(line) for line in row.lines) == lines
    )


def refill_date(plan: Plan):
    """The first upcoming delivery: when it is charged or its skipped date passes, the list is
    one short. A plan that cannot grow (it ends first) waits for its end date."""
    if plan.status is not SubscriptionStatus.ACTIVE:
        return None
    deliveries = [order.scheduled_for for order in plan.upcoming if plan.is_delivery(order)]
    return min(deliveries, default=plan.cancel_at)


def write_plan(subscription: Subscription, plan: Plan, ctx: Context) -> None:
    """Make the subscription and its upcoming order rows say what the plan says.

    Rows are matched by date, so an order keeps its id (and the links that point at it) for as
    long as its delivery is planned; locked rows are never touched.
    """
    subscription.status = plan.status
    subscription.paused_until = plan.paused_until
    subscription.interval_unit, subscription.interval_count = plan.interval_unit, plan.interval_count
    subscription.cycle_anchor = plan.anchor
    subscription.next_order_date = plan.next_delivery or plan.paused_until
    subscription.cancel_at = plan.cancel_at
    subscription.refill_on = refill_date(plan)
    subscription.discount_percent, subscription.discount_orders_left = (
        plan.discount_percent,
        plan.discount_orders_left,
    )
    if plan.status is SubscriptionStatus.ACTIVE:
        subscription.cancelled_at = None
    elif plan.status is SubscriptionStatus.CANCELLED and subscription.cancelled_at is None:
        subscription.cancelled_at = utcnow()
    # Always touched, so the version check runs even when only orders change.
    subscription.updated_at = utcnow()
    if tuple(line_of(item) for item in subscription.items) != plan.lines:
        subscription.items = [
            SubscriptionItem(variant_id=line.variant_id, quantity=line.quantity, unit_price_minor=line.unit_price_minor)
            for line in plan.lines
        ]
    rows = {
        row.scheduled_for: row
        for row in upcoming_rows(subscription.id, ctx, with_lines=True)
        if not ctx.policy.is_locked(row.scheduled_for, ctx.today)
    }
    for planned, discount in zip(plan.upcoming, plan.discounts(), strict=True):
        if planned.locked:
            continue
        status = OrderStatus.SKIPPED if planned.skipped else OrderStatus.SCHEDULED
        row = rows.pop(planned.scheduled_for, None)
        if row is None:
            row = Order(
                customer_id=subscription.customer_id,
                subscription=subscription,
                scheduled_for=planned.scheduled_for,
                currency=subscription.currency,
                status=status,
                shipping_minor=0,
            )
            db.session.add(row)
        elif _same_order(row, status, plan.lines, discount):
            continue
        row.status = status
        fill_order(row, plan.lines, discount)
    for row in rows.values():
        db.session.delete(row)
    db.session.flush()
