"""The self-serve actions as pure changes to a Plan, with the merchant's rules.

Each action takes (plan, ctx, **params) and returns the new plan, or raises PolicyRefusal with a
stable code and a message that says why and what to do instead. Nothing here reads or writes the
database, so every rule is tested without one (tests/test_schedule_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from portal.formatting import LazyDate
from portal.models import IntervalUnit, SubscriptionStatus
from portal.services.errors import DomainError, NotFound
from portal.services.policy import Policy
from portal.services.subscriptions.schedule import (
    Plan,
    PlannedLine,
    PlannedOrder,
    add_interval,
    ended,
    fill,
    paused,
    restart,
    with_upcoming,
    without_open_deliveries,
)
from portal.text import lazy_text as _l

MAX_QUANTITY = 20
DISCOUNT_PERCENT_RANGE = (1, 100)
DISCOUNT_ORDERS_RANGE = (1, 12)
CANCEL_MODES = ("now", "period_end", "date")
# How far ahead a subscriber may choose the end of their subscription.
CANCEL_WINDOW_DAYS = 365


class PolicyRefusal(DomainError):
    """The merchant's rules do not allow this; the message says why and what to do instead."""

    status = 422
    code = "refused"


@dataclass(frozen=True)
class Context:
    policy: Policy
    today: date
    size: int

    @property
    def first_open_date(self) -> date:
        return self.policy.first_open_date(self.today)


def refuse(code: str, message) -> PolicyRefusal:
    return PolicyRefusal(message, code=code)


# A subscription that still ships or will again: addresses and cards apply to these.
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)

# Which actions each status allows: the pages, the console, the API and the actions all read this.
ALLOWED = {
    SubscriptionStatus.ACTIVE: (
        "skip",
        "unskip",
        "order_now",
        "reschedule",
        "frequency",
        "swap",
        "pause",
        "cancel",
        "keep",
        "discount",
        "address",
    ),
    # "pause" while paused extends the pause.
    SubscriptionStatus.PAUSED: (
        "resume",
        "pause",
        "unskip",
        "frequency",
        "swap",
        "cancel",
        "keep",
        "discount",
        "address",
    ),
    SubscriptionStatus.CANCELLED: ("reactivate",),
}
_NOT_ALLOWED = {
    SubscriptionStatus.ACTIVE: _l("This subscription is not active. Resume or reactivate it first."),
    SubscriptionStatus.PAUSED: _l("This subscription is not paused."),
    SubscriptionStatus.CANCELLED: _l("This subscription is not cancelled."),
}


def allowed_actions(status: SubscriptionStatus, ending: bool) -> tuple[str, ...]:
    """What can be done now; a subscription set to end offers "keep" instead of "cancel"."""
    hidden = "cancel" if ending else "keep"
    return tuple(action for action in ALLOWED[status] if action != hidden)


def check_allowed(plan: Plan, action: str) -> None:
    if action in ALLOWED[plan.status]:
        return
    if action == "cancel":
        raise refuse("already_cancelled", _l("This subscription is already cancelled."))
    wanted = next(status for status, actions in ALLOWED.items() if action in actions)
    raise refuse(f"not_{wanted.value}", _NOT_ALLOWED[wanted])


def first_open_delivery(plan: Plan, ctx: Context) -> date:
    """Where changes start: the first open delivery, or the first cycle date after what is
    being prepared (and outside the cut-off)."""
    if plan.open_deliveries:
        return plan.open_deliveries[0].scheduled_for
    return plan.first_cycle_date_from(restart_floor(plan, ctx))


def restart_floor(plan: Plan, ctx: Context) -> date:
    """The earliest date deliveries can start again: outside the cut-off and at least one
    interval after the last order that ships or shipped."""
    last = plan.last_delivery()
    after_last = add_interval(last, plan.interval_unit, plan.interval_count) if last else ctx.first_open_date
    return max(ctx.first_open_date, after_last)


# --- the actions ---------------------------------------------------------------------------------


def pause(plan: Plan, ctx: Context, cycles: int | None = None, until: date | None = None) -> Plan:
    # Extending a pause counts from the date it was going to end.
    extending = plan.status is SubscriptionStatus.PAUSED and plan.paused_until is not None
    start = plan.paused_until if extending else first_open_delivery(plan, ctx)
    if until is None:
        if cycles not in ctx.policy.pause_cycle_options:
            raise refuse("pause_option_not_offered", _l("Choose one of the pause lengths offered."))
        resume_on = add_interval(start, plan.interval_unit, plan.interval_count * cycles)
    else:
        latest = ctx.today + timedelta(days=ctx.policy.max_pause_days)
        if until <= start or until > latest:
            raise refuse(
                "pause_date_out_of_range",
                _l(
                    "Choose a date after %(first)s and no later than %(last)s. For a longer break, talk to us.",
                    first=LazyDate(start),
                    last=LazyDate(latest),
                ),
            )
        resume_on = until
    return paused(plan, resume_on)


def resume(plan: Plan, ctx: Context) -> Plan:
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None)
    return restart(active, restart_floor(plan, ctx), ctx.size)


def resume_as_planned(plan: Plan, ctx: Context) -> Plan:
    """The pause has reached its date (the auto-resume job): deliveries start on that date."""
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None)
    return restart(active, max(plan.paused_until or ctx.today, ctx.today), ctx.size)


def _target(plan: Plan, order_date: date) -> PlannedOrder:
    order = plan.find(order_date)
    if order is None:
        raise NotFound()
    if order.locked:
        raise refuse(
            "order_locked",
            _l(
                "Your order of %(date)s is already being prepared, so it can no longer be changed. "
                "You can still change the orders after it.",
                date=LazyDate(order_date),
            ),
        )
    return order


def _set_skipped(plan: Plan, order_date: date, skipped: bool) -> Plan:
    return replace(
        plan,
        upcoming=tuple(
            replace(order, skipped=skipped) if order.scheduled_for == order_date else order for order in plan.upcoming
        ),
    )


def longest_skip_run(plan: Plan) -> int:
    run = longest = 0
    for order in plan.upcoming:
        run = run + 1 if order.skipped else 0
        longest = max(longest, run)
    return longest


def skip(plan: Plan, ctx: Context, order_date: date) -> Plan:
    if _target(plan, order_date).skipped:
        raise refuse("already_skipped", _l("That order is already skipped."))
    after = _set_skipped(plan, order_date, True)
    if longest_skip_run(after) > ctx.policy.max_consecutive_skips:
        raise refuse(
            "too_many_skips",
            _l(
                "You can skip at most %(max)d orders in a row. "
                "To take a longer break, pause your subscription instead.",
                max=ctx.policy.max_consecutive_skips,
            ),
        )
    return after


def unskip(plan: Plan, ctx: Context, order_date: date) -> Plan:
    if not _target(plan, order_date).skipped:
        raise refuse("not_skipped", _l("That order is not skipped."))
    if (
        plan.status is SubscriptionStatus.ACTIVE
        and plan.on_cycle(order_date)
        and not (plan.cancel_at and order_date >= plan.cancel_at)
    ):
        return _set_skipped(plan, order_date, False)
    # No delivery falls on that date any more (the schedule moved, it is paused, or it ends
    # before): restoring the date only forgets the skip.
    return with_upcoming(plan, tuple(order for order in plan.upcoming if order.scheduled_for != order_date))


def swap_not_allowed() -> PolicyRefusal:
    return refuse("swap_not_allowed", _l("That product cannot replace this one. Choose one from the list."))


def swap(plan: Plan, ctx: Context, item_index: int, variant: Any, quantity: int, allowed: list[Any]) -> Plan:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise refuse("quantity_out_of_range", _l("Choose a quantity from 1 to %(max)d.", max=MAX_QUANTITY))
    if variant.id not in {choice.id for choice in allowed}:
        raise swap_not_allowed()
    old = plan.lines[item_index]
    # A new variant costs today's price; keeping the variant keeps the agreed price.
    price = old.unit_price_minor if variant.id == old.variant_id else variant.price_minor
    new_line = PlannedLine(variant.id, variant.display_name, quantity, price)
    if new_line == old:
        raise refuse("no_change", _l("That is what you already get."))
    return replace(plan, lines=plan.lines[:item_index] + (new_line,) + plan.lines[item_index + 1 :])


def frequency(plan: Plan, ctx: Context, unit: IntervalUnit, count: int) -> Plan:
    if (unit, count) not in ctx.policy.intervals():
        raise refuse("frequency_not_offered", _l("That delivery frequency is not offered. Choose one from the list."))
    if (unit, count) == (plan.interval_unit, plan.interval_count):
        raise refuse("no_change", _l("That is already your delivery frequency."))
    changed = replace(plan, interval_unit=unit, interval_count=count)
    if plan.status is SubscriptionStatus.PAUSED:
        return changed
    # The next delivery keeps its date, unless that comes sooner than one new interval after
    # the last order (a longer frequency then moves it out).
    anchor = max(first_open_delivery(plan, ctx), restart_floor(changed, ctx))
    return restart(changed, anchor, ctx.size)


def reschedule_window(ctx: Context) -> tuple[date, date]:
    return ctx.first_open_date, ctx.today + timedelta(days=ctx.policy.reschedule_window_days)


def reschedule(plan: Plan, ctx: Context, new_date: date) -> Plan:
    if plan.locked:
        raise refuse(
            "order_locked",
            _l(
                "Your order of %(date)s is already being prepared, so it can no longer be moved. "
                "You can move the orders after it once it has shipped.",
                date=LazyDate(plan.locked[0].scheduled_for),
            ),
        )
    first, last = reschedule_window(ctx)
    if not first <= new_date <= last:
        raise refuse(
            "date_out_of_window",
            _l("Choose a date from %(first)s to %(last)s.", first=LazyDate(first), last=LazyDate(last)),
        )
    if plan.next_delivery == new_date:
        raise refuse("no_change", _l("Your next order is already on that date."))
    if plan.cancel_at is not None and new_date >= plan.cancel_at:
        raise refuse(
            "after_end",
            _l(
                "Your subscription ends on %(date)s. Choose an earlier date, or keep your subscription first.",
                date=LazyDate(plan.cancel_at),
            ),
        )
    return restart(_unskipped(plan, new_date), new_date, ctx.size)


def _unskipped(plan: Plan, day: date) -> Plan:
    """Choosing a date for a delivery undoes a skip on that very date."""
    return with_upcoming(
        plan, tuple(order for order in plan.upcoming if not (order.skipped and order.scheduled_for == day))
    )


def order_now(plan: Plan, ctx: Context) -> Plan:
    if plan.locked:
        raise refuse(
            "order_already_coming",
            _l(
                "Your order of %(date)s is already being prepared. It is the quickest way to get your next delivery.",
                date=LazyDate(plan.locked[0].scheduled_for),
            ),
        )
    if plan.last_order_date == ctx.today:
        raise refuse("ordered_today", _l("You already have an order today. You can order again from tomorrow."))
    return restart(_unskipped(plan, ctx.today), ctx.today, ctx.size)


def reactivate(plan: Plan, ctx: Context) -> Plan:
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None, cancel_at=None)
    return restart(active, restart_floor(plan, ctx), ctx.size)


def cancel(plan: Plan, ctx: Context, mode: str, on_date: date | None = None) -> Plan:
    """End now, when the period already paid for runs out (the next open delivery), or on a date.

    Orders already being prepared still ship.
    """
    if mode == "now":
        return ended(plan)
    if mode == "period_end":
        end = first_open_delivery(plan, ctx)
    elif mode == "date" and on_date is not None:
        first, latest = ctx.today + timedelta(days=1), ctx.today + timedelta(days=CANCEL_WINDOW_DAYS)
        if not first <= on_date <= latest:
            raise refuse(
                "date_out_of_window",
                _l("Choose a date from %(first)s to %(last)s.", first=LazyDate(first), last=LazyDate(latest)),
            )
        end = on_date
    else:
        raise refuse("cancel_mode_unknown", _l("Choose when the subscription should end."))
    # Skips stay: if the subscriber keeps the subscription after all, they still hold.
    return without_open_deliveries(replace(plan, cancel_at=end), from_date=end)


def keep(plan: Plan, ctx: Context) -> Plan:
    """Undo a cancellation that has not happened yet: deliveries go on as they were planned."""
    if plan.cancel_at is None:
        raise refuse("not_scheduled_to_end", _l("This subscription is not set to end."))
    return fill(replace(plan, cancel_at=None), ctx.size, ctx.first_open_date)


def discount(plan: Plan, ctx: Context, percent: int, orders: int) -> Plan:
    if not (
        DISCOUNT_PERCENT_RANGE[0] <= percent <= DISCOUNT_PERCENT_RANGE[1]
        and DISCOUNT_ORDERS_RANGE[0] <= orders <= DISCOUNT_ORDERS_RANGE[1]
    ):
        raise refuse("invalid_discount", _l("That discount is not available."))
    return replace(plan, discount_percent=percent, discount_orders_left=orders)


ACTIONS: dict[str, Callable[..., Plan]] = {
    "pause": pause,
    "resume": resume,
    "skip": skip,
    "unskip": unskip,
    "swap": swap,
    "frequency": frequency,
    "reschedule": reschedule,
    "order_now": order_now,
    "reactivate": reactivate,
    "cancel": cancel,
    "keep": keep,
    "discount": discount,
}


def run(action: str, plan: Plan, ctx: Context, **params) -> Plan:
    """The plan after `action`, if the plan's status allows it and the merchant's rules agree."""
    if action not in ACTIONS:
        raise NotFound()
    check_allowed(plan, action)
    return ACTIONS[action](plan, ctx, **params)


# --- changes the jobs and payments make ----------------------------------------------------------


def end_as_planned(plan: Plan, ctx: Context) -> Plan:
    """The scheduled end date has come (the cancellations job)."""
    return ended(plan)


def stop_after_failed_payments(plan: Plan, final_action: str) -> Plan:
    """After the last failed retry: cancel, or pause until the subscriber resumes."""
    return ended(plan) if final_action == "cancel" else paused(plan, None)


def order_paid(plan: Plan, ctx: Context, discounted: bool) -> Plan:
    """A paid order left the upcoming list: count down a discount it used, keep the list full."""
    if discounted and plan.discount_orders_left:
        left = plan.discount_orders_left - 1
        plan = replace(plan, discount_orders_left=left, discount_percent=plan.discount_percent if left else 0)
    return fill(plan, ctx.size, ctx.today)


def keep_filled(plan: Plan, ctx: Context) -> Plan:
    """The schedule job: as dates pass, the next cycle dates are added."""
    return fill(plan, ctx.size, ctx.today)
