"""The scheduled jobs that move subscriptions along as dates pass.

Each selects only the subscriptions that are due, in batches ordered by id (keyset pagination),
each batch claimed with SKIP LOCKED and committed on its own: several workers share the work,
memory stays bounded, and a subscriber's own change never waits long behind a job. A
subscription that no longer matches the condition is not touched again, so running a job twice
does nothing more than running it once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Subscription, SubscriptionStatus
from portal.services.subscriptions import rules, storage
from portal.services.subscriptions.changes import job_actor, record_change
from portal.services.subscriptions.rules import Context
from portal.services.subscriptions.schedule import Plan
from portal.services.uow import unit_of_work

BATCH_SIZE = 200


def _in_batches(condition, handle: Callable[[Subscription, Context], bool]) -> int:
    """Run `handle` on every due subscription; returns how many it changed."""
    ctx = storage.context()
    changed, last_id = 0, 0
    while True:
        with unit_of_work(outermost=True):
            batch = db.session.scalars(
                select(Subscription)
                .where(condition(ctx), Subscription.id > last_id)
                .order_by(Subscription.id)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True)
            ).all()
            for subscription in batch:
                changed += handle(subscription, ctx)
        if len(batch) < BATCH_SIZE:
            return changed
        last_id = batch[-1].id


def _apply_dated(job: str, action: str, change: Callable[[Plan, Context], Plan]):
    def handle(subscription: Subscription, ctx: Context) -> bool:
        before = storage.load_plan(subscription, ctx)
        record_change(job_actor(job), subscription, action, before, change(before, ctx), ctx)
        return True

    return handle


def resume_due() -> int:
    """Resume paused subscriptions whose date has come."""
    return _in_batches(
        lambda ctx: (Subscription.status == SubscriptionStatus.PAUSED) & (Subscription.paused_until <= ctx.today),
        _apply_dated("auto-resume", "auto_resume", rules.resume_as_planned),
    )


def end_due() -> int:
    """End subscriptions whose scheduled cancellation date has come."""
    return _in_batches(
        lambda ctx: (Subscription.status != SubscriptionStatus.CANCELLED) & (Subscription.cancel_at <= ctx.today),
        _apply_dated("cancellations", "scheduled_cancel", rules.end_as_planned),
    )


def _keep_filled(subscription: Subscription, ctx: Context) -> bool:
    plan = storage.load_plan(subscription, ctx)
    filled = rules.keep_filled(plan, ctx)
    if filled == plan:
        subscription.refill_on = storage.refill_date(plan)
        return False
    storage.write_plan(subscription, filled, ctx)
    return True


def roll_forward() -> int:
    """Keep active subscriptions' upcoming orders filled as dates pass. Only subscriptions whose
    first upcoming delivery has come (or that have none yet) are read."""
    return _in_batches(
        lambda ctx: (
            (Subscription.status == SubscriptionStatus.ACTIVE)
            & or_(Subscription.refill_on.is_(None), Subscription.refill_on <= ctx.today)
        ),
        _keep_filled,
    )
