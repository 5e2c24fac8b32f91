"""The delivery schedule as a value: a Plan, how it is filled, and the impact a subscriber sees
before confirming a change. Nothing here touches the database.

A plan's deliveries fall on its *cycle*: the anchor date plus whole intervals. Upcoming orders
are the next few cycle dates (a skipped one stays a row, so the skip belongs to its date), plus
two kinds of rows that are off the cycle: orders already being prepared (locked), and dates the
subscriber skipped before a change moved the cycle away from them. The invariants these
functions keep are written down in docs/SCHEDULE.md.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta

from portal.models import IntervalUnit, SubscriptionStatus

ONE_DAY = timedelta(days=1)


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


def add_interval(start: date, unit: IntervalUnit, count: int) -> date:
    if unit is IntervalUnit.WEEK:
        return start + timedelta(weeks=count)
    month_index = start.month - 1 + count
    year, month = start.year + month_index // 12, month_index % 12 + 1
    # 31 January plus a month is the last day of February, not 3 March.
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Plan:
    status: SubscriptionStatus
    lines: tuple[PlannedLine, ...]
    interval_unit: IntervalUnit
    interval_count: int
    currency: str
    # A delivery date of the current cycle: every delivery is this plus whole intervals.
    anchor: date
    paused_until: date | None
    # Sorted by date.
    upcoming: tuple[PlannedOrder, ...]
    cancel_at: date | None = None
    discount_percent: int = 0
    discount_orders_left: int = 0
    # The newest order already past the schedule (being charged, paid, failed or refunded).
    last_order_date: date | None = None

    @property
    def price_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    def lines_of(self, order: PlannedOrder) -> tuple[PlannedLine, ...]:
        return order.locked_lines if order.locked else self.lines

    # --- the cycle ---

    def cycle_date(self, k: int) -> date:
        # Always counted from the anchor, so month lengths never make the schedule drift.
        return add_interval(self.anchor, self.interval_unit, self.interval_count * k)

    def first_cycle_date_from(self, day: date) -> date:
        """The first delivery date of the cycle on or after `day` (never before the anchor)."""
        if day <= self.anchor:
            return self.anchor
        if self.interval_unit is IntervalUnit.WEEK:
            step = 7 * self.interval_count
            return self.cycle_date(-(-(day - self.anchor).days // step))
        months = (day.year - self.anchor.year) * 12 + day.month - self.anchor.month
        k = max(0, months // self.interval_count - 1)
        while self.cycle_date(k) < day:
            k += 1
        return self.cycle_date(k)

    def on_cycle(self, day: date) -> bool:
        return self.first_cycle_date_from(day) == day

    # --- the upcoming rows ---

    @property
    def locked(self) -> tuple[PlannedOrder, ...]:
        return tuple(order for order in self.upcoming if order.locked)

    @property
    def open(self) -> tuple[PlannedOrder, ...]:
        return tuple(order for order in self.upcoming if not order.locked)

    def is_delivery(self, order: PlannedOrder) -> bool:
        """A delivery slot (shipping or skipped), not a skip the cycle has moved away from."""
        return order.locked or self.on_cycle(order.scheduled_for)

    @property
    def open_deliveries(self) -> tuple[PlannedOrder, ...]:
        return tuple(order for order in self.open if self.on_cycle(order.scheduled_for))

    @property
    def skipped_dates(self) -> frozenset[date]:
        return frozenset(order.scheduled_for for order in self.open if order.skipped)

    def find(self, when: date) -> PlannedOrder | None:
        return next((order for order in self.upcoming if order.scheduled_for == when), None)

    def last_delivery(self) -> date | None:
        """The latest order that ships or shipped: locked, or already past the schedule."""
        dates = [order.scheduled_for for order in self.locked]
        if self.last_order_date:
            dates.append(self.last_order_date)
        return max(dates, default=None)

    @property
    def next_delivery(self) -> date | None:
        """The next order that will really ship."""
        return next((order.scheduled_for for order in self.upcoming if not order.skipped), None)

    def discounts(self) -> list[int]:
        """The discount in minor units on each upcoming order, in order.

        It goes to the next open orders that ship; a locked order was priced when it locked.
        """
        left, result = self.discount_orders_left, []
        for order in self.upcoming:
            if order.locked or order.skipped or left <= 0 or not self.discount_percent:
                result.append(0)
                continue
            result.append(self.price_minor * self.discount_percent // 100)
            left -= 1
        return result

    def totals(self) -> list[int]:
        return [
            order_total(self.lines_of(order), discount)[1]
            for order, discount in zip(self.upcoming, self.discounts(), strict=True)
        ]


def order_total(lines, discount_minor: int, shipping_minor: int = 0) -> tuple[int, int]:
    """An order's subtotal and total: the one place an order is priced (previews, order rows and
    bulk-loaded data all call it)."""
    subtotal = sum(line.total_minor for line in lines)
    return subtotal, subtotal + shipping_minor - discount_minor


def with_upcoming(plan: Plan, orders) -> Plan:
    return replace(plan, upcoming=tuple(sorted(orders, key=lambda order: order.scheduled_for)))


def fill(plan: Plan, size: int, not_before: date) -> Plan:
    """Materialise cycle dates until an active plan has `size` upcoming deliveries.

    Cycle dates are walked from after the last delivery (and from `not_before`); a date that
    already has a row (a skip) counts as it is, a missing one is added, none on or after a
    scheduled end. Nothing already there changes, so filling twice is filling once.
    """
    if plan.status is not SubscriptionStatus.ACTIVE:
        return plan
    last = plan.last_delivery()
    day = not_before if last is None else max(not_before, last + ONE_DAY)
    planned = {order.scheduled_for for order in plan.open}
    added, deliveries = [], len(plan.locked)
    while deliveries < size:
        when = plan.first_cycle_date_from(day)
        if plan.cancel_at is not None and when >= plan.cancel_at:
            break
        if when not in planned:
            added.append(PlannedOrder(when))
        deliveries += 1
        day = when + ONE_DAY
    return with_upcoming(plan, plan.upcoming + tuple(added)) if added else plan


def restart(plan: Plan, anchor: date, size: int) -> Plan:
    """A new cycle from `anchor`: open deliveries are laid out again from it.

    Locked orders stay as they are. Every skipped date stays skipped, on the new cycle or off
    it (where it marks a date the subscriber will be away), so a skip never moves to a delivery
    the subscriber did not skip.
    """
    skips = tuple(PlannedOrder(when, skipped=True) for when in sorted(plan.skipped_dates))
    cleared = with_upcoming(replace(plan, anchor=anchor), plan.locked + skips)
    return fill(cleared, size, anchor)


def without_open_deliveries(plan: Plan, from_date: date | None = None) -> Plan:
    """Drop the open orders that would ship (from `from_date` on); skips and locked orders stay."""
    return with_upcoming(
        plan,
        tuple(
            order
            for order in plan.upcoming
            if order.locked or order.skipped or (from_date is not None and order.scheduled_for < from_date)
        ),
    )


def ended(plan: Plan) -> Plan:
    """Cancelled from today: what is being prepared still ships, nothing else is planned."""
    return with_upcoming(
        replace(plan, status=SubscriptionStatus.CANCELLED, paused_until=None, cancel_at=None), plan.locked
    )


def paused(plan: Plan, until: date | None) -> Plan:
    """No open deliveries until `until` (None: until the subscriber resumes); skips stay."""
    return without_open_deliveries(replace(plan, status=SubscriptionStatus.PAUSED, paused_until=until))


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
    resumes_before: date | None
    resumes_after: date | None
    ends_before: date | None
    ends_after: date | None
    price_before: int
    price_after: int
    currency: str
    orders_before: tuple[OrderPreview, ...]
    orders_after: tuple[OrderPreview, ...]

    @property
    def changes_anything(self) -> bool:
        return self.as_record()[0] != self.as_record()[1]

    def as_record(self) -> tuple[dict, dict]:
        """Before and after, as JSON for the audit trail."""

        def side(status, next_date, resumes, ends, price, orders):
            return {
                "status": status.value,
                "next_order": next_date.isoformat() if next_date else None,
                "resumes_on": resumes.isoformat() if resumes else None,
                "ends_on": ends.isoformat() if ends else None,
                "price_minor": price,
                "orders": [
                    [o.scheduled_for.isoformat(), "skipped" if o.skipped else "scheduled", o.total_minor]
                    for o in orders
                ],
            }

        return (
            side(
                self.status_before,
                self.next_before,
                self.resumes_before,
                self.ends_before,
                self.price_before,
                self.orders_before,
            ),
            side(
                self.status_after,
                self.next_after,
                self.resumes_after,
                self.ends_after,
                self.price_after,
                self.orders_after,
            ),
        )


def _previews(plan: Plan) -> tuple[OrderPreview, ...]:
    return tuple(
        OrderPreview(o.scheduled_for, o.skipped, o.locked, total)
        for o, total in zip(plan.upcoming, plan.totals(), strict=True)
    )


def impact(before: Plan, after: Plan) -> Impact:
    return Impact(
        status_before=before.status,
        status_after=after.status,
        next_before=before.next_delivery,
        next_after=after.next_delivery,
        resumes_before=before.paused_until,
        resumes_after=after.paused_until,
        ends_before=before.cancel_at,
        ends_after=after.cancel_at,
        price_before=before.price_minor,
        price_after=after.price_minor,
        currency=after.currency,
        orders_before=_previews(before),
        orders_after=_previews(after),
    )
