"""The delivery schedule as a value: a Plan, the pure changes an action makes to it, and the
impact a subscriber sees before confirming. Nothing here touches the database."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta

from portal.models import IntervalUnit, SubscriptionStatus


@dataclass(frozen=True)
class PlannedLine:
    variant_id: int
    description: str
    quantity: int
    unit_price_minor: int

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class PlannedOrder:
    scheduled_for: date
    skipped: bool = False
    # Inside the merchant's cut-off: already being prepared, so kept exactly as it is,
    # with the lines it had when it locked.
    locked: bool = False
    locked_lines: tuple[PlannedLine, ...] = ()


@dataclass(frozen=True)
class Plan:
    status: SubscriptionStatus
    lines: tuple[PlannedLine, ...]
    interval_unit: IntervalUnit
    interval_count: int
    currency: str
    paused_until: date | None
    upcoming: tuple[PlannedOrder, ...]
    cancel_at: date | None = None
    discount_percent: int = 0
    discount_orders_left: int = 0
    # The newest order already past the schedule (being charged, paid or failed).
    last_order_date: date | None = None

    @property
    def price_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    def lines_of(self, order: PlannedOrder) -> tuple[PlannedLine, ...]:
        return order.locked_lines if order.locked else self.lines

    def discounts(self) -> list[int]:
        """The discount in minor units on each upcoming order, in order.

        It goes to the next open orders that ship; a locked order was priced when it locked.
        """
        left, result = self.discount_orders_left, []
        for order in self.upcoming:
            if order.locked or order.skipped or left <= 0 or not self.discount_percent:
                result.append(0)
                continue
            subtotal = sum(line.total_minor for line in self.lines)
            result.append(subtotal * self.discount_percent // 100)
            left -= 1
        return result

    def totals(self) -> list[int]:
        return [sum(line.total_minor for line in self.lines_of(order)) - discount
                for order, discount in zip(self.upcoming, self.discounts())]

    @property
    def next_delivery(self) -> date | None:
        """The next order that will really ship; for a paused plan with none, the resume date."""
        for order in self.upcoming:
            if not order.skipped:
                return order.scheduled_for
        if self.status is SubscriptionStatus.PAUSED:
            return self.paused_until
        return None

    @property
    def locked(self) -> tuple[PlannedOrder, ...]:
        return tuple(order for order in self.upcoming if order.locked)

    @property
    def open(self) -> tuple[PlannedOrder, ...]:
        return tuple(order for order in self.upcoming if not order.locked)

    def find(self, when: date) -> PlannedOrder | None:
        return next((order for order in self.upcoming if order.scheduled_for == when), None)


def add_interval(start: date, unit: IntervalUnit, count: int) -> date:
    if unit is IntervalUnit.WEEK:
        return start + timedelta(weeks=count)
    month_index = start.month - 1 + count
    year, month = start.year + month_index // 12, month_index % 12 + 1
    # 31 January plus a month is the last day of February, not 3 March.
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def cycle_dates(start: date, unit: IntervalUnit, count: int, how_many: int) -> list[date]:
    # Each date from the start, so month lengths never make the schedule drift.
    return [add_interval(start, unit, count * k) for k in range(how_many)]


def after_locked(plan: Plan, fallback: date) -> date:
    """The first date an open order can have: one interval after the last locked order."""
    if plan.locked:
        return add_interval(plan.locked[-1].scheduled_for, plan.interval_unit, plan.interval_count)
    return fallback


def rebuild(plan: Plan, anchor: date, size: int, keep_skips: bool = True) -> Plan:
    """Open orders from `anchor` on, one interval apart; locked orders stay in front.

    Skips stay with their position (the second upcoming order stays skipped), which is what a
    subscriber who moved their schedule expects.
    """
    old_open = plan.open
    dates = cycle_dates(anchor, plan.interval_unit, plan.interval_count, max(size - len(plan.locked), 1))
    dates = [when for when in dates if plan.cancel_at is None or when < plan.cancel_at]
    new_open = tuple(
        PlannedOrder(when, skipped=keep_skips and index < len(old_open) and old_open[index].skipped)
        for index, when in enumerate(dates)
    )
    return replace(plan, upcoming=plan.locked + new_open)


def top_up(plan: Plan, size: int) -> Plan:
    """Extend an active plan to `size` upcoming orders, keeping everything already there."""
    if plan.status is not SubscriptionStatus.ACTIVE or len(plan.upcoming) >= size or not plan.upcoming:
        return plan
    extra = cycle_dates(plan.upcoming[-1].scheduled_for, plan.interval_unit, plan.interval_count,
                        size - len(plan.upcoming) + 1)[1:]
    extra = [when for when in extra if plan.cancel_at is None or when < plan.cancel_at]
    return replace(plan, upcoming=plan.upcoming + tuple(PlannedOrder(when) for when in extra))


@dataclass(frozen=True)
class OrderPreview:
    scheduled_for: date
    skipped: bool
    locked: bool
    total_minor: int


@dataclass(frozen=True)
class Impact:
    """What an action changes, shown before the subscriber confirms and recorded after."""

    status_before: SubscriptionStatus
    status_after: SubscriptionStatus
    next_before: date | None
    next_after: date | None
    ends_before: date | None
    ends_after: date | None
    price_before: int
    price_after: int
    currency: str
    orders_before: tuple[OrderPreview, ...]
    orders_after: tuple[OrderPreview, ...]

    @property
    def changes_anything(self) -> bool:
        return (self.status_before, self.next_before, self.ends_before, self.price_before,
                self.orders_before) != (self.status_after, self.next_after, self.ends_after,
                                        self.price_after, self.orders_after)

    def as_record(self) -> tuple[dict, dict]:
        """Before and after, as JSON for the audit trail."""

        def side(status, next_date, ends, price, orders):
            return {
                "status": status.value,
                "next_order": next_date.isoformat() if next_date else None,
                "ends_on": ends.isoformat() if ends else None,
                "price_minor": price,
                "orders": [[o.scheduled_for.isoformat(), "skipped" if o.skipped else "scheduled",
                            o.total_minor] for o in orders],
            }

        return (
            side(self.status_before, self.next_before, self.ends_before, self.price_before,
                 self.orders_before),
            side(self.status_after, self.next_after, self.ends_after, self.price_after,
                 self.orders_after),
        )


def _previews(plan: Plan) -> tuple[OrderPreview, ...]:
    return tuple(OrderPreview(o.scheduled_for, o.skipped, o.locked, total)
                 for o, total in zip(plan.upcoming, plan.totals()))


def impact(before: Plan, after: Plan) -> Impact:
    return Impact(
        status_before=before.status, status_after=after.status,
        next_before=before.next_delivery, next_after=after.next_delivery,
        ends_before=before.cancel_at, ends_after=after.cancel_at,
        price_before=before.price_minor, price_after=after.price_minor,
        currency=after.currency,
        orders_before=_previews(before), orders_after=_previews(after),
    )
