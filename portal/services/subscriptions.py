"""Self-serve subscription actions. The portal, signed links, the agent console, the API and
jobs all call these; each action is previewed first and applied in one transaction with its
audit event and confirmation email."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.formatting import LazyDate
from portal.models import (
    ActorType,
    Order,
    OrderLine,
    OrderStatus,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Variant,
    utcnow,
)
from portal.services import audit, clock, notifications, policy as policy_service
from portal.services.actors import Actor
from portal.services.errors import ConcurrentChange, DomainError, NotFound
from portal.services.schedule import (
    Impact,
    Plan,
    PlannedLine,
    PlannedOrder,
    add_interval,
    after_locked,
    impact,
    rebuild,
    top_up,
)

MAX_QUANTITY = 20


class PolicyRefusal(DomainError):
    """The merchant's rules do not allow this; the message says why and what to do instead."""

    status = 422
    code = "refused"


@dataclass(frozen=True)
class Context:
    policy: policy_service.Policy
    today: date
    size: int


def _context() -> Context:
    return Context(policy_service.get(), clock.today(), current_app.config["UPCOMING_ORDERS_SHOWN"])


# --- reading a subscription into a plan -----------------------------------------------------------


def _upcoming_rows(subscription: Subscription, today: date) -> list[Order]:
    """Orders still to come: every scheduled one (a due one is being processed) and future skips."""
    return list(db.session.scalars(
        select(Order)
        .where(
            Order.subscription_id == subscription.id,
            or_(Order.status == OrderStatus.SCHEDULED,
                and_(Order.status == OrderStatus.SKIPPED, Order.scheduled_for >= today)),
        )
        .order_by(Order.scheduled_for, Order.id)
    ))


def _line_of(row) -> PlannedLine:
    if isinstance(row, SubscriptionItem):
        return PlannedLine(row.variant_id, row.variant.display_name, row.quantity, row.unit_price_minor)
    return PlannedLine(row.variant_id, row.description, row.quantity, row.unit_price_minor)


def load_plan(subscription: Subscription, ctx: Context | None = None) -> Plan:
    ctx = ctx or _context()
    upcoming = tuple(
        PlannedOrder(
            row.scheduled_for,
            skipped=row.status is OrderStatus.SKIPPED,
            locked=ctx.policy.is_locked(row.scheduled_for, ctx.today),
            locked_lines=tuple(_line_of(line) for line in row.lines)
            if ctx.policy.is_locked(row.scheduled_for, ctx.today) else (),
        )
        for row in _upcoming_rows(subscription, ctx.today)
    )
    return Plan(
        status=subscription.status,
        lines=tuple(_line_of(item) for item in subscription.items),
        interval_unit=subscription.interval_unit,
        interval_count=subscription.interval_count,
        currency=subscription.currency,
        paused_until=subscription.paused_until,
        upcoming=upcoming,
        cancel_at=subscription.cancel_at,
        discount_percent=subscription.discount_percent,
        discount_orders_left=subscription.discount_orders_left,
        last_order_date=db.session.scalar(select(func.max(Order.scheduled_for)).where(
            Order.subscription_id == subscription.id,
            Order.status.in_([OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.FAILED]))),
    )


# --- the actions: pure changes to a plan ---------------------------------------------------------


def _refuse(code: str, message) -> PolicyRefusal:
    return PolicyRefusal(message, code=code)


def _require_status(plan: Plan, wanted: SubscriptionStatus) -> None:
    if plan.status is wanted:
        return
    messages = {
        SubscriptionStatus.ACTIVE: _l("This subscription is not active. Resume or reactivate it first."),
        SubscriptionStatus.PAUSED: _l("This subscription is not paused."),
        SubscriptionStatus.CANCELLED: _l("This subscription is not cancelled."),
    }
    raise _refuse(f"not_{wanted.value}", messages[wanted])


def _first_open_date(plan: Plan, ctx: Context) -> date:
    """Where changes start: the first open order, or one interval after a locked one."""
    if plan.open:
        return plan.open[0].scheduled_for
    return after_locked(plan, ctx.policy.first_open_date(ctx.today))


def _pause(plan: Plan, ctx: Context, cycles: int | None = None, until: date | None = None) -> Plan:
    _require_status(plan, SubscriptionStatus.ACTIVE)
    start = _first_open_date(plan, ctx)
    if until is None:
        if cycles not in ctx.policy.pause_cycle_options:
            raise _refuse("pause_option_not_offered", _l("Choose one of the pause lengths offered."))
        resume_on = add_interval(start, plan.interval_unit, plan.interval_count * cycles)
    else:
        latest = ctx.today.toordinal() + ctx.policy.max_pause_days
        if until <= start or until.toordinal() > latest:
            raise _refuse("pause_date_out_of_range", _l(
                "Choose a date after %(first)s and no later than %(last)s. For a longer break, talk to us.",
                first=LazyDate(start), last=LazyDate(date.fromordinal(latest))))
        resume_on = until
    return replace(plan, status=SubscriptionStatus.PAUSED, paused_until=resume_on, upcoming=plan.locked)


def _resume(plan: Plan, ctx: Context) -> Plan:
    _require_status(plan, SubscriptionStatus.PAUSED)
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None)
    return rebuild(active, after_locked(plan, ctx.policy.first_open_date(ctx.today)), ctx.size,
                   keep_skips=False)


def _target(plan: Plan, ctx: Context, order_date: date) -> PlannedOrder:
    order = plan.find(order_date)
    if order is None:
        raise NotFound()
    if order.locked:
        raise _refuse("order_locked", _l(
            "Your order of %(date)s is already being prepared, so it can no longer be changed. "
            "You can still change the orders after it.", date=LazyDate(order_date)))
    return order


def _set_skipped(plan: Plan, order_date: date, skipped: bool) -> Plan:
    return replace(plan, upcoming=tuple(
        replace(order, skipped=skipped) if order.scheduled_for == order_date else order
        for order in plan.upcoming))


def _skip(plan: Plan, ctx: Context, order_date: date) -> Plan:
    _require_status(plan, SubscriptionStatus.ACTIVE)
    if _target(plan, ctx, order_date).skipped:
        raise _refuse("already_skipped", _l("That order is already skipped."))
    after = _set_skipped(plan, order_date, True)
    run = longest = 0
    for order in after.upcoming:
        run = run + 1 if order.skipped else 0
        longest = max(longest, run)
    if longest > ctx.policy.max_consecutive_skips:
        raise _refuse("too_many_skips", _l(
            "You can skip at most %(max)d orders in a row. To take a longer break, pause your subscription instead.",
            max=ctx.policy.max_consecutive_skips))
    return after


def _unskip(plan: Plan, ctx: Context, order_date: date) -> Plan:
    _require_status(plan, SubscriptionStatus.ACTIVE)
    if not _target(plan, ctx, order_date).skipped:
        raise _refuse("not_skipped", _l("That order is not skipped."))
    return _set_skipped(plan, order_date, False)


def swap_choices(subscription: Subscription) -> dict[int, list[Variant]]:
    """For each item, the variants it may become: its own product's and the merchant's picks."""
    choices = {}
    for item in subscription.items:
        products = policy_service.swap_targets(item.variant.product_id)
        choices[item.id] = list(db.session.scalars(
            select(Variant)
            .where(Variant.product_id.in_(products), Variant.active.is_(True),
                   Variant.currency == subscription.currency)
            .order_by(Variant.product_id, Variant.price_minor)
        ))
    return choices


def _swap(plan: Plan, ctx: Context, item_index: int, variant: Variant, quantity: int,
          allowed: list[Variant]) -> Plan:
    if plan.status is SubscriptionStatus.CANCELLED:
        _require_status(plan, SubscriptionStatus.ACTIVE)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _refuse("quantity_out_of_range", _l("Choose a quantity from 1 to %(max)d.", max=MAX_QUANTITY))
    if variant.id not in {choice.id for choice in allowed}:
        raise _refuse("swap_not_allowed", _l("That product cannot replace this one. Choose one from the list."))
    old = plan.lines[item_index]
    # A new variant costs today's price; keeping the variant keeps the agreed price.
    price = old.unit_price_minor if variant.id == old.variant_id else variant.price_minor
    new_line = PlannedLine(variant.id, variant.display_name, quantity, price)
    if new_line == old:
        raise _refuse("no_change", _l("That is what you already get."))
    lines = plan.lines[:item_index] + (new_line,) + plan.lines[item_index + 1:]
    return replace(plan, lines=lines)


def _frequency(plan: Plan, ctx: Context, unit, count: int) -> Plan:
    if plan.status is SubscriptionStatus.CANCELLED:
        _require_status(plan, SubscriptionStatus.ACTIVE)
    if (unit, count) not in ctx.policy.intervals():
        raise _refuse("frequency_not_offered", _l("That delivery frequency is not offered. Choose one from the list."))
    if (unit, count) == (plan.interval_unit, plan.interval_count):
        raise _refuse("no_change", _l("That is already your delivery frequency."))
    changed = replace(plan, interval_unit=unit, interval_count=count)
    if plan.status is SubscriptionStatus.PAUSED:
        return changed
    # The next open order keeps its date; the ones after it follow the new rhythm.
    anchor = plan.open[0].scheduled_for if plan.open else after_locked(changed, ctx.policy.first_open_date(ctx.today))
    return rebuild(changed, anchor, ctx.size)


def reschedule_window(ctx: Context) -> tuple[date, date]:
    first = ctx.policy.first_open_date(ctx.today)
    return first, date.fromordinal(ctx.today.toordinal() + ctx.policy.reschedule_window_days)


def _reschedule(plan: Plan, ctx: Context, new_date: date) -> Plan:
    _require_status(plan, SubscriptionStatus.ACTIVE)
    if plan.locked:
        raise _refuse("order_locked", _l(
            "Your order of %(date)s is already being prepared, so it can no longer be moved. "
            "You can move the orders after it once it has shipped.", date=LazyDate(plan.locked[0].scheduled_for)))
    first, last = reschedule_window(ctx)
    if not first <= new_date <= last:
        raise _refuse("date_out_of_window", _l("Choose a date from %(first)s to %(last)s.",
                                                  first=LazyDate(first), last=LazyDate(last)))
    if plan.open and plan.open[0].scheduled_for == new_date:
        raise _refuse("no_change", _l("Your next order is already on that date."))
    return rebuild(plan, new_date, ctx.size)


def _order_now(plan: Plan, ctx: Context) -> Plan:
    _require_status(plan, SubscriptionStatus.ACTIVE)
    if plan.locked:
        raise _refuse("order_already_coming", _l(
            "Your order of %(date)s is already being prepared. It is the quickest way to get your next delivery.",
            date=LazyDate(plan.locked[0].scheduled_for)))
    if plan.last_order_date == ctx.today:
        raise _refuse("ordered_today", _l("You already have an order today. You can order again from tomorrow."))
    return rebuild(plan, ctx.today, ctx.size, keep_skips=False)


def _reactivate(plan: Plan, ctx: Context) -> Plan:
    _require_status(plan, SubscriptionStatus.CANCELLED)
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None, upcoming=(), cancel_at=None)
    return rebuild(active, ctx.policy.first_open_date(ctx.today), ctx.size, keep_skips=False)


CANCEL_MODES = ("now", "period_end", "date")


def _cancel(plan: Plan, ctx: Context, mode: str, on_date: date | None = None) -> Plan:
    """End now, when the period already paid for runs out (the next open order), or on a date.

    Orders already being prepared still ship.
    """
    if plan.status is SubscriptionStatus.CANCELLED:
        raise _refuse("already_cancelled", _l("This subscription is already cancelled."))
    if mode == "now":
        return replace(plan, status=SubscriptionStatus.CANCELLED, paused_until=None,
                       upcoming=plan.locked, cancel_at=None)
    if mode == "period_end":
        end = _first_open_date(plan, ctx)
    elif mode == "date" and on_date is not None:
        latest = date.fromordinal(ctx.today.toordinal() + 365)
        if not ctx.today < on_date <= latest:
            raise _refuse("date_out_of_window", _l("Choose a date from %(first)s to %(last)s.",
                                                   first=LazyDate(date.fromordinal(ctx.today.toordinal() + 1)),
                                                   last=LazyDate(latest)))
        end = on_date
    else:
        raise _refuse("cancel_mode_unknown", _l("Choose when the subscription should end."))
    kept = tuple(order for order in plan.upcoming if order.locked or order.scheduled_for < end)
    return replace(plan, upcoming=kept, cancel_at=end)


def _keep(plan: Plan, ctx: Context) -> Plan:
    """Undo a cancellation that has not happened yet."""
    if plan.cancel_at is None:
        raise _refuse("not_scheduled_to_end", _l("This subscription is not set to end."))
    kept = replace(plan, cancel_at=None)
    if plan.status is not SubscriptionStatus.ACTIVE:
        return kept
    if not kept.open:
        # Deliveries carry on from where they were to stop (for "end of the paid period", the
        # very order that was dropped), never inside the cut-off.
        start = max(plan.cancel_at, ctx.policy.first_open_date(ctx.today))
        return rebuild(kept, after_locked(kept, start) if kept.locked else start, ctx.size)
    return top_up(kept, ctx.size)


def _discount(plan: Plan, ctx: Context, percent: int, orders: int) -> Plan:
    if plan.status is SubscriptionStatus.CANCELLED:
        _require_status(plan, SubscriptionStatus.ACTIVE)
    if not (1 <= percent <= 100 and 1 <= orders <= 12):
        raise _refuse("invalid_discount", _l("That discount is not available."))
    return replace(plan, discount_percent=percent, discount_orders_left=orders)


ACTIONS: dict[str, Callable[..., Plan]] = {
    "pause": _pause,
    "resume": _resume,
    "skip": _skip,
    "unskip": _unskip,
    "swap": _swap,
    "frequency": _frequency,
    "reschedule": _reschedule,
    "order_now": _order_now,
    "reactivate": _reactivate,
    "cancel": _cancel,
    "keep": _keep,
    "discount": _discount,
}


# --- preview and apply ----------------------------------------------------------------------------


def _params_for_swap(subscription: Subscription, params: dict) -> dict:
    item_id, variant_id = params.pop("item_id"), params.pop("variant_id")
    index = next((i for i, item in enumerate(subscription.items) if item.id == item_id), None)
    if index is None:
        raise NotFound()
    variant = db.session.get(Variant, variant_id)
    if variant is None:
        raise _refuse("swap_not_allowed", _l("That product cannot replace this one. Choose one from the list."))
    return {**params, "item_index": index, "variant": variant,
            "allowed": swap_choices(subscription)[item_id]}


def _plan_change(subscription: Subscription, action: str, params: dict, ctx: Context) -> tuple[Plan, Plan]:
    if action not in ACTIONS:
        raise NotFound()
    before = load_plan(subscription, ctx)
    if action == "swap":
        params = _params_for_swap(subscription, dict(params))
    if "order_id" in params:
        params = dict(params)
        params["order_date"] = _order_date(subscription, params.pop("order_id"))
    return before, ACTIONS[action](before, ctx, **params)


def _order_date(subscription: Subscription, order_id: int) -> date:
    order = db.session.get(Order, order_id)
    if order is None or order.subscription_id != subscription.id:
        raise NotFound()
    return order.scheduled_for


def _audit_params(params: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else
            getattr(value, "value", value) for key, value in params.items()}


def _record_refusal(actor: Actor, subscription: Subscription, action: str, step: str,
                    error: DomainError, params: dict) -> None:
    audit.record_failure(actor, f"subscription.{action}", error.code, subject_type="subscription",
                         subject_id=subscription.id, customer_id=subscription.customer_id,
                         after={"step": step, **_audit_params(params)})


def preview(actor: Actor, subscription: Subscription, action: str, **params) -> Impact:
    ctx = _context()
    try:
        before, after = _plan_change(subscription, action, params, ctx)
    except PolicyRefusal as error:
        _record_refusal(actor, subscription, action, "preview", error, params)
        raise
    return impact(before, after)


def try_preview(subscription: Subscription, action: str, **params) -> Impact | None:
    """What an action would change, or None where the rules refuse it. Records nothing:
    used to decide which offers to show, not in answer to a subscriber's request."""
    try:
        before, after = _plan_change(subscription, action, params, _context())
    except DomainError:
        return None
    return impact(before, after)


def apply(actor: Actor, subscription: Subscription, action: str, expected_version: int,
          also: Callable[[], None] | None = None, **params) -> Impact:
    """Apply once. A stale version (double submit, another tab, a racing request) is refused.

    `also` runs inside the same transaction, for callers that record more with the change.
    """
    ctx = _context()
    if subscription.version != expected_version:
        _record_refusal(actor, subscription, action, "apply", ConcurrentChange(), params)
        raise ConcurrentChange()
    try:
        before, after = _plan_change(subscription, action, params, ctx)
    except PolicyRefusal as error:
        _record_refusal(actor, subscription, action, "apply", error, params)
        raise
    change = impact(before, after)
    try:
        _write(subscription, after, ctx)
        before_record, after_record = change.as_record()
        audit.record(actor, f"subscription.{action}", subject_type="subscription",
                     subject_id=subscription.id, customer_id=subscription.customer_id,
                     before=before_record, after={**after_record, **_audit_params(params)})
        _queue_confirmation(subscription, action, change)
        if also is not None:
            also()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        _record_refusal(actor, subscription, action, "apply", ConcurrentChange(), params)
        raise ConcurrentChange() from None
    return change


def _queue_confirmation(subscription: Subscription, action: str, change: Impact) -> None:
    customer = subscription.customer
    notifications.queue_email(
        "subscription_changed", customer.email, customer.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
        customer_name=customer.name, action=action, change=change,
        subscription_url=f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/subscriptions/{subscription.id}",
    )


# --- writing a plan back --------------------------------------------------------------------------


def _fill_order(order: Order, lines: tuple[PlannedLine, ...], discount_minor: int) -> None:
    order.lines = [OrderLine(variant_id=line.variant_id, description=line.description,
                             quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                             total_minor=line.total_minor) for line in lines]
    order.subtotal_minor = sum(line.total_minor for line in lines)
    order.shipping_minor = order.shipping_minor or 0
    order.discount_minor = discount_minor
    order.total_minor = order.subtotal_minor + order.shipping_minor - order.discount_minor


def _write(subscription: Subscription, plan: Plan, ctx: Context) -> None:
    subscription.status = plan.status
    subscription.paused_until = plan.paused_until
    subscription.interval_unit, subscription.interval_count = plan.interval_unit, plan.interval_count
    subscription.next_order_date = plan.next_delivery
    subscription.cancel_at = plan.cancel_at
    subscription.discount_percent, subscription.discount_orders_left = (
        plan.discount_percent, plan.discount_orders_left)
    if plan.status is SubscriptionStatus.ACTIVE:
        subscription.cancelled_at = None
    elif plan.status is SubscriptionStatus.CANCELLED and subscription.cancelled_at is None:
        subscription.cancelled_at = utcnow()
    # Always touched, so the version check runs even when only orders change.
    subscription.updated_at = utcnow()
    current_lines = tuple(_line_of(item) for item in subscription.items)
    if current_lines != plan.lines:
        subscription.items = [SubscriptionItem(variant_id=line.variant_id, quantity=line.quantity,
                                               unit_price_minor=line.unit_price_minor)
                              for line in plan.lines]
    rows = [row for row in _upcoming_rows(subscription, ctx.today)
            if not ctx.policy.is_locked(row.scheduled_for, ctx.today)]
    wanted = [(order, discount) for order, discount in zip(plan.upcoming, plan.discounts())
              if not order.locked]
    # Existing rows are reused in order, so an order keeps its id (and its links) when it moves.
    for row, (planned, discount) in zip(rows, wanted):
        row.scheduled_for = planned.scheduled_for
        row.status = OrderStatus.SKIPPED if planned.skipped else OrderStatus.SCHEDULED
        _fill_order(row, plan.lines, discount)
    for row in rows[len(wanted):]:
        db.session.delete(row)
    for planned, discount in wanted[len(rows):]:
        row = Order(customer_id=subscription.customer_id, subscription=subscription,
                    scheduled_for=planned.scheduled_for, currency=subscription.currency,
                    status=OrderStatus.SKIPPED if planned.skipped else OrderStatus.SCHEDULED,
                    shipping_minor=0)
        db.session.add(row)
        _fill_order(row, plan.lines, discount)
    db.session.flush()


# --- scheduled jobs -------------------------------------------------------------------------------


def _job_actor(name: str) -> Actor:
    return Actor(ActorType.JOB, None, name)


def _run_due(job: str, action: str, condition, change_plan: Callable[[Plan, Context], Plan]) -> int:
    """Apply a dated change to every subscription that is due. Claimed rows are skipped by
    other workers, and a subscription no longer matching the condition is not touched again."""
    ctx = _context()
    due = db.session.scalars(select(Subscription).where(condition(ctx)).with_for_update(skip_locked=True)).all()
    for subscription in due:
        before = load_plan(subscription, ctx)
        after = change_plan(before, ctx)
        change = impact(before, after)
        _write(subscription, after, ctx)
        before_record, after_record = change.as_record()
        audit.record(_job_actor(job), f"subscription.{action}", subject_type="subscription",
                     subject_id=subscription.id, customer_id=subscription.customer_id,
                     before=before_record, after=after_record)
        _queue_confirmation(subscription, action, change)
    db.session.commit()
    return len(due)


def _resumed(plan: Plan, ctx: Context) -> Plan:
    active = replace(plan, status=SubscriptionStatus.ACTIVE, paused_until=None)
    return rebuild(active, max(plan.paused_until, ctx.today), ctx.size, keep_skips=False)


def resume_due() -> int:
    """Resume paused subscriptions whose date has come. Running it again does nothing more."""
    return _run_due(
        "auto-resume", "auto_resume",
        lambda ctx: (Subscription.status == SubscriptionStatus.PAUSED) & (Subscription.paused_until <= ctx.today),
        _resumed,
    )


def end_due() -> int:
    """End subscriptions whose scheduled cancellation date has come."""
    return _run_due(
        "cancellations", "scheduled_cancel",
        lambda ctx: (Subscription.status != SubscriptionStatus.CANCELLED) & (Subscription.cancel_at <= ctx.today),
        lambda plan, ctx: replace(plan, status=SubscriptionStatus.CANCELLED, paused_until=None,
                                  upcoming=plan.locked, cancel_at=None),
    )


def order_settled(subscription: Subscription, order: Order) -> None:
    """A paid order leaves the upcoming list: count down a discount and keep the list full.

    Runs inside the caller's transaction."""
    ctx = _context()
    plan = load_plan(subscription, ctx)
    if order.discount_minor and plan.discount_orders_left:
        left = plan.discount_orders_left - 1
        plan = replace(plan, discount_orders_left=left, discount_percent=plan.discount_percent if left else 0)
    _write(subscription, top_up(plan, ctx.size), ctx)


def end_after_failed_payments(subscription: Subscription, final_action: str) -> None:
    """After the last failed retry: pause until the subscriber resumes, or cancel, and say so.

    Runs inside the caller's transaction."""
    ctx = _context()
    before = load_plan(subscription, ctx)
    if before.status is SubscriptionStatus.CANCELLED:
        return
    if final_action == "cancel":
        after = replace(before, status=SubscriptionStatus.CANCELLED, paused_until=None, upcoming=(), cancel_at=None)
    else:
        after = replace(before, status=SubscriptionStatus.PAUSED, paused_until=None, upcoming=())
    change = impact(before, after)
    _write(subscription, after, ctx)
    before_record, after_record = change.as_record()
    action = "payment_cancel" if final_action == "cancel" else "payment_pause"
    audit.record(_job_actor("renewals"), f"subscription.{action}", subject_type="subscription",
                 subject_id=subscription.id, customer_id=subscription.customer_id,
                 before=before_record, after=after_record)
    _queue_confirmation(subscription, action, change)


def roll_forward() -> int:
    """Keep every active subscription's list of upcoming orders full as dates pass."""
    ctx = _context()
    changed = 0
    for subscription in db.session.scalars(
        select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE)
        .with_for_update(skip_locked=True)
    ).all():
        plan = load_plan(subscription, ctx)
        if not plan.upcoming:
            start = subscription.next_order_date or ctx.policy.first_open_date(ctx.today)
            filled = rebuild(plan, max(start, ctx.today), ctx.size, keep_skips=False)
        else:
            filled = top_up(plan, ctx.size)
        if filled != plan:
            _write(subscription, filled, ctx)
            changed += 1
    db.session.commit()
    return changed


@dataclass(frozen=True)
class UpcomingOrder:
    order: Order
    locked: bool


def upcoming(subscription: Subscription) -> list[UpcomingOrder]:
    ctx = _context()
    return [UpcomingOrder(row, ctx.policy.is_locked(row.scheduled_for, ctx.today))
            for row in _upcoming_rows(subscription, ctx.today)]


def next_skippable(subscription: Subscription) -> Order | None:
    """The first upcoming order that is neither skipped nor being prepared."""
    return next((entry.order for entry in upcoming(subscription)
                 if not entry.locked and entry.order.status is OrderStatus.SCHEDULED), None)


def reschedule_bounds() -> tuple[date, date]:
    return reschedule_window(_context())
