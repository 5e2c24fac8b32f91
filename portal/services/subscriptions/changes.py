"""Previewing and applying a change to a subscription: one path for every caller.

`apply` checks the version, runs the pure action, writes the plan, records the audit event and
queues the confirmation email, all in one unit of work; jobs and payment outcomes record their
changes through the same `record_change`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.models import ActorType, Order, Subscription, SubscriptionStatus, Variant
from portal.services import audit, notifications, webhooks_out
from portal.services.actors import Actor
from portal.services.errors import ConcurrentChange, DomainError, NotFound
from portal.services.lookup import get_or_404, is_record_id
from portal.services.subscriptions import rules, storage
from portal.services.subscriptions.queries import swap_choices
from portal.services.subscriptions.rules import Context, PolicyRefusal
from portal.services.subscriptions.schedule import Impact, Plan, impact
from portal.services.uow import transactional


def job_actor(name: str) -> Actor:
    return Actor(ActorType.JOB, None, name)


def _swap_params(subscription: Subscription, params: dict[str, Any]) -> dict[str, Any]:
    item_id, variant_id = params.pop("item_id"), params.pop("variant_id")
    index = next((i for i, item in enumerate(subscription.items) if item.id == item_id), None)
    if index is None:
        raise NotFound()
    variant = db.session.get(Variant, variant_id) if is_record_id(variant_id) else None
    if variant is None:
        raise rules.swap_not_allowed()
    return {**params, "item_index": index, "variant": variant, "allowed": swap_choices(subscription)[item_id]}


def _order_date(subscription: Subscription, order_id: int) -> date:
    order = get_or_404(Order, order_id)
    if order.subscription_id != subscription.id:
        raise NotFound()
    return order.scheduled_for


def _plan_change(subscription: Subscription, action: str, params: dict[str, Any], ctx: Context) -> tuple[Plan, Plan]:
    if action not in rules.ACTIONS:
        raise NotFound()
    params = dict(params)
    before = storage.load_plan(subscription, ctx)
    if action == "swap":
        params = _swap_params(subscription, params)
    if "order_id" in params:
        params["order_date"] = _order_date(subscription, params.pop("order_id"))
    return before, rules.run(action, before, ctx, **params)


def audit_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date) else getattr(value, "value", value)
        for key, value in params.items()
    }


def _record_refusal(
    actor: Actor, subject: tuple[int, int], action: str, step: str, error: DomainError, params: dict[str, Any]
) -> None:
    """`subject` is (subscription id, customer id), read before the change: after a failed
    flush the subscription's attributes can no longer be loaded."""
    subscription_id, customer_id = subject
    audit.record_failure(
        actor,
        f"subscription.{action}",
        error.code,
        subject_type="subscription",
        subject_id=subscription_id,
        customer_id=customer_id,
        after={"step": step, **audit_params(params)},
    )


@transactional
def preview(actor: Actor, subscription: Subscription, action: str, *, offered: bool = True, **params) -> Impact:
    """What the action would change. A refusal is recorded (step: preview): support sees it.
    `offered=False` is a page opened for an action the subscription does not offer now (an old
    tab or link, "order now" on a paused subscription): refused all the same, but merely
    opening it is not an attempt."""
    ctx = storage.context()
    try:
        before, after = _plan_change(subscription, action, params, ctx)
    except PolicyRefusal as error:
        if offered:
            _record_refusal(actor, (subscription.id, subscription.customer_id), action, "preview", error, params)
        raise
    return impact(before, after)


def check_preview(subscription: Subscription, action: str, **params) -> Impact:
    """What an action would change, refused as `preview` refuses, but recording nothing: for
    pages that anyone may open without meaning to act (a link in an email)."""
    before, after = _plan_change(subscription, action, params, storage.context())
    return impact(before, after)


def try_preview(subscription: Subscription, action: str, **params) -> Impact | None:
    """What an action would change, or None where the rules refuse it. Records nothing:
    used to decide what to offer, not in answer to a subscriber's request."""
    try:
        return check_preview(subscription, action, **params)
    except DomainError:
        return None


def record_change(
    actor: Actor,
    subscription: Subscription,
    action: str,
    before: Plan,
    after: Plan,
    ctx: Context,
    params: dict[str, Any] | None = None,
) -> Impact:
    """Write the new plan, record it and tell the subscriber: the one way a plan changes."""
    change = impact(before, after)
    storage.write_plan(subscription, after, ctx)
    before_record, after_record = change.as_record()
    audit.record(
        actor,
        f"subscription.{action}",
        subject_type="subscription",
        subject_id=subscription.id,
        customer_id=subscription.customer_id,
        before=before_record,
        after={**after_record, **audit_params(params or {})},
    )
    notifications.queue_subscription_changed(subscription, action, change, params or {})
    webhooks_out.emit(
        "subscription.changed",
        {
            "subscription_id": subscription.id,
            "customer_id": subscription.customer_id,
            "action": action,
            "actor": actor.type.value,
            "before": before_record,
            "after": after_record,
        },
    )
    return change


@transactional
def apply(actor: Actor, subscription: Subscription, action: str, expected_version: int, **params) -> Impact:
    """Apply once. A stale version (double submit, another tab, a racing request) is refused."""
    ctx = storage.context()
    subject = (subscription.id, subscription.customer_id)
    if subscription.version != expected_version:
        _record_refusal(actor, subject, action, "apply", ConcurrentChange(), params)
        raise ConcurrentChange()
    try:
        before, after = _plan_change(subscription, action, params, ctx)
    except PolicyRefusal as error:
        _record_refusal(actor, subject, action, "apply", error, params)
        raise
    try:
        return record_change(actor, subscription, action, before, after, ctx, params)
    except StaleDataError:
        _record_refusal(actor, subject, action, "apply", ConcurrentChange(), params)
        raise ConcurrentChange() from None


# --- what payments change ------------------------------------------------------------------------


def order_paid(subscription_id: int, discounted: bool) -> None:
    """A paid order left the upcoming list (in the caller's unit of work)."""
    ctx = storage.context()
    subscription = storage.subscription_for_plan(subscription_id)
    plan = storage.load_plan(subscription, ctx)
    storage.write_plan(subscription, rules.order_paid(plan, ctx, discounted), ctx)


def stop_after_failed_payments(subscription_id: int, final_action: str) -> None:
    """After the last failed retry: pause until the subscriber resumes, or cancel, and say so."""
    ctx = storage.context()
    subscription = storage.subscription_for_plan(subscription_id)
    before = storage.load_plan(subscription, ctx)
    if before.status is SubscriptionStatus.CANCELLED or (
        before.status is SubscriptionStatus.PAUSED and final_action == "pause"
    ):
        return
    action = "payment_cancel" if final_action == "cancel" else "payment_pause"
    record_change(
        job_actor("renewals"), subscription, action, before, rules.stop_after_failed_payments(before, final_action), ctx
    )
