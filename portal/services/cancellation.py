"""The cancel flow: a reason, at most two offers that fit it, then a confirmation.

The reasons and their offers are the merchant's (`cancel_reasons`).

Each pass is a CancelAttempt whose step the server checks, so no step can be skipped by posting
to a later one. Attempts feed cancel-reason analysis: outcome, offers shown and taken, tenure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AttemptOutcome,
    AttemptStep,
    CancelAttempt,
    DiscountGrant,
    IntervalUnit,
    Order,
    Subscription,
    SubscriptionStatus,
    Variant,
    utcnow,
)
from portal.services import audit, cancel_reasons, clock, subscriptions, webhooks_out
from portal.services import policy as policy_service
from portal.services.actors import Actor
from portal.services.cancel_reasons import DEFAULT_DISCOUNT
from portal.services.errors import DomainError, NotFound
from portal.services.lookup import get_or_404
from portal.services.subscriptions.schedule import Impact, OrderPreview
from portal.services.uow import transactional, unit_of_work
from portal.text import lazy_text as _l

ABANDONED_AFTER = timedelta(hours=24)
SAVE_CHECK_AFTER = timedelta(days=30)


class StepError(DomainError):
    """A step was posted out of order, or the attempt is already finished."""

    status = 409
    code = "cancel_step"
    default_message = _l("That step is not available now. Please start again from your subscription.")


class InvalidReason(DomainError):
    code = "reason_required"
    default_message = _l("Please choose a reason.")


@dataclass(frozen=True)
class Offer:
    """One concrete offer, with what it would change, ready to show and to accept."""

    index: int
    type: str
    params: dict[str, Any]
    impact: Impact | None
    # What the offer is about, to name it: the variant of a swap, the order a skip leaves out.
    subject: Any = None

    @property
    def next_payment(self) -> OrderPreview | None:
        """The first order that would be paid after taking the offer."""
        if self.impact is None:
            return None
        return next((order for order in self.impact.orders_after if not order.skipped), None)

    @property
    def payment_before(self) -> OrderPreview | None:
        if self.impact is None:
            return None
        return next((order for order in self.impact.orders_before if not order.skipped), None)


# --- the flow -----------------------------------------------------------------------------------


def get_attempt(subscription: Subscription, attempt_id: int) -> CancelAttempt:
    attempt = get_or_404(CancelAttempt, attempt_id)
    if attempt.subscription_id != subscription.id:
        raise NotFound()
    return attempt


def _record(actor: Actor, attempt: CancelAttempt, action: str, **after) -> None:
    audit.record(
        actor,
        f"cancel.{action}",
        subject_type="subscription",
        subject_id=attempt.subscription_id,
        customer_id=attempt.customer_id,
        after={"attempt": attempt.id, **after},
    )


@transactional
def start(
    actor: Actor, subscription: Subscription, reason_code: str | None, reason_text: str, *, offering: bool = True
) -> CancelAttempt:
    """Step 1. Going back and choosing again updates the same unfinished attempt. `offering=False`
    (an agent cancelling as the customer asked) shows no offers, so none is counted as shown."""
    if subscription.status is SubscriptionStatus.CANCELLED:
        raise StepError(_l("This subscription is already cancelled."))
    rules = policy_service.get()
    known = {reason.code for reason in cancel_reasons.reasons()}
    if reason_code not in known and not (rules.simple_cancellation and not reason_code):
        raise InvalidReason()
    attempt = db.session.scalar(
        select(CancelAttempt)
        .where(CancelAttempt.subscription_id == subscription.id, CancelAttempt.outcome == AttemptOutcome.PENDING)
        .order_by(CancelAttempt.id.desc())
    )
    if attempt is None:
        attempt = CancelAttempt(
            customer_id=subscription.customer_id,
            subscription_id=subscription.id,
            tenure_days=(utcnow() - subscription.created_at).days,
            plan={
                "interval": f"{subscription.interval_count} {subscription.interval_unit.value}",
                "items": [[item.variant.sku, item.quantity] for item in subscription.items],
                "price_minor": subscription.price_minor,
                "currency": subscription.currency,
                "status": subscription.status.value,
            },
            offers_shown=[],
        )
        db.session.add(attempt)
    attempt.reason_code = reason_code or None
    attempt.reason_text = (reason_text or "").strip()[:2000] or None
    offers = _fitting_offers(subscription, reason_code, rules) if offering and not rules.simple_cancellation else []
    attempt.offers_shown = [{"type": offer.type, **offer.params} for offer in offers]
    attempt.step = AttemptStep.OFFERS if offers else AttemptStep.CONFIRM
    db.session.flush()
    _record(actor, attempt, "reason_given", reason=attempt.reason_code, offers=attempt.offers_shown)
    return attempt


def _on_discount_cooldown(customer_id: int, days: int) -> bool:
    since = utcnow() - timedelta(days=days)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(DiscountGrant)
            .where(DiscountGrant.customer_id == customer_id, DiscountGrant.created_at >= since)
        )
        > 0
    )


def _concrete(subscription: Subscription, spec: dict[str, Any], rules) -> dict[str, Any] | None:
    """The parameters an offer would be applied with, or None where it does not fit."""
    kind = spec.get("type")
    if kind == "pause":
        return {"cycles": min(rules.pause_cycle_options)}
    if kind == "skip":
        order = subscriptions.next_skippable(subscription)
        return {"order_id": order.id} if order else None
    if kind == "frequency":
        current = (subscription.interval_unit, subscription.interval_count)
        longer = [choice for choice in rules.intervals() if _days(choice) > _days(current)]
        if not longer:
            return None
        unit, count = min(longer, key=_days)
        return {"unit": unit, "count": count}
    if kind == "swap":
        return _swap_that_fits(subscription)
    if kind == "discount":
        if _on_discount_cooldown(subscription.customer_id, rules.discount_cooldown_days):
            return None
        return {
            "percent": int(spec.get("percent", DEFAULT_DISCOUNT["percent"])),
            "orders": int(spec.get("orders", DEFAULT_DISCOUNT["orders"])),
        }
    if kind == "talk":
        return {}
    return None


def _swap_that_fits(subscription: Subscription) -> dict[str, Any] | None:
    """Another product (not another size of the one they want to leave), costing no more than
    now: the closest in price."""
    item = subscription.items[0]
    candidates = [
        variant
        for variant in subscriptions.swap_choices(subscription)[item.id]
        if variant.product_id != item.variant.product_id and variant.price_minor <= item.unit_price_minor
    ]
    if not candidates:
        return None
    choice = max(candidates, key=lambda variant: (variant.price_minor, -variant.id))
    return {"item_id": item.id, "variant_id": choice.id, "quantity": item.quantity}


def _days(interval) -> int:
    unit, count = interval
    return count * (7 if unit.value == "week" else 30)


def _fitting_offers(subscription: Subscription, reason_code: str | None, rules) -> list[Offer]:
    reason = next((r for r in cancel_reasons.reasons() if r.code == reason_code), None)
    if reason is None:
        return []
    offers = []
    for spec in reason.offers:
        params = _concrete(subscription, spec, rules)
        if params is None:
            continue
        impact = None
        if spec["type"] != "talk":
            impact = subscriptions.try_preview(subscription, _action_of(spec["type"]), **params)
            if impact is None:
                continue
        offers.append(Offer(len(offers), spec["type"], params, impact))
        if len(offers) == cancel_reasons.MAX_OFFERS:
            break
    return offers


def _action_of(offer_type: str) -> str:
    return {"pause": "pause", "skip": "skip", "frequency": "frequency", "swap": "swap", "discount": "discount"}[
        offer_type
    ]


def _stored_params(stored: dict[str, Any]) -> dict[str, Any]:
    params = {key: value for key, value in stored.items() if key != "type"}
    if "unit" in params:
        params["unit"] = IntervalUnit(params["unit"])
    return params


def offers(attempt: CancelAttempt, subscription: Subscription) -> list[Offer]:
    """The offers this attempt showed, with their impact as of now."""
    if attempt.step is not AttemptStep.OFFERS:
        raise StepError()
    result = []
    for index, stored in enumerate(attempt.offers_shown):
        params = _stored_params(stored)
        impact = (
            None
            if stored["type"] == "talk"
            else subscriptions.try_preview(subscription, _action_of(stored["type"]), **params)
        )
        result.append(Offer(index, stored["type"], params, impact, _subject(stored["type"], params)))
    return result


def _subject(kind: str, params: dict[str, Any]):
    if kind == "swap":
        return db.session.get(Variant, params["variant_id"])
    if kind == "skip":
        order = db.session.get(Order, params["order_id"])
        return order.scheduled_for if order else None
    return None


@transactional
def accept_offer(
    actor: Actor, attempt: CancelAttempt, subscription: Subscription, index: int, expected_version: int
) -> str:
    """Take one of the offers shown, with the change it makes, in one unit of work. Returns its type."""
    if attempt.step is not AttemptStep.OFFERS or not 0 <= index < len(attempt.offers_shown):
        raise StepError()
    stored = attempt.offers_shown[index]
    kind = stored["type"]
    if kind != "talk":
        subscriptions.apply(actor, subscription, _action_of(kind), expected_version, **_stored_params(stored))
    attempt.offer_taken = kind
    attempt.outcome = AttemptOutcome.HANDED_OFF if kind == "talk" else AttemptOutcome.SAVED
    attempt.step, attempt.finished_at = AttemptStep.DONE, utcnow()
    _record(actor, attempt, "offer_taken", offer=kind)
    if kind == "discount":
        db.session.add(
            DiscountGrant(
                customer_id=attempt.customer_id,
                subscription_id=subscription.id,
                attempt_id=attempt.id,
                percent=stored["percent"],
                orders=stored["orders"],
            )
        )
    return kind


@transactional
def decline_offers(actor: Actor, attempt: CancelAttempt) -> None:
    if attempt.step is not AttemptStep.OFFERS:
        raise StepError()
    attempt.step = AttemptStep.CONFIRM
    _record(actor, attempt, "offers_declined")


def end_choices(subscription: Subscription) -> list[tuple[str, date | None]]:
    """Each way of cancelling that fits now (in `CANCEL_MODES` order), with when it would end
    (None for a date the subscriber picks)."""
    ends = subscriptions.cancel_end_dates(subscription)
    return [(mode, ends.get(mode)) for mode in subscriptions.CANCEL_MODES if mode != "period_end" or ends["period_end"]]


@dataclass(frozen=True)
class EndImpact:
    """What one way of cancelling does to the upcoming orders, for the last step's table."""

    mode: str
    ends_on: date | None
    still_delivered: tuple[date, ...]
    dropped: int


def end_impacts(subscription: Subscription) -> list[EndImpact]:
    """For each choice with a known end (not "on a date I choose"), its effect, previewed by the
    rules (recording nothing)."""
    found = []
    for mode, _ends in end_choices(subscription):
        if mode == "date":
            continue
        impact = subscriptions.try_preview(subscription, "cancel", mode=mode, on_date=None)
        if impact is None:
            continue
        kept = tuple(o.scheduled_for for o in impact.orders_after if not o.skipped)
        planned = [o.scheduled_for for o in impact.orders_before if not o.skipped]
        found.append(EndImpact(mode, impact.ends_after, kept, sum(1 for day in planned if day not in kept)))
    return found


@transactional
def confirm(
    actor: Actor,
    attempt: CancelAttempt,
    subscription: Subscription,
    mode: str,
    on_date: date | None,
    expected_version: int,
) -> Impact:
    """Step 3: cancel now, when the paid period ends, or on a chosen date."""
    if attempt.step is not AttemptStep.CONFIRM:
        raise StepError()
    change = subscriptions.apply(actor, subscription, "cancel", expected_version, mode=mode, on_date=on_date)
    attempt.outcome, attempt.step, attempt.finished_at = AttemptOutcome.CANCELLED, AttemptStep.DONE, utcnow()
    attempt.cancel_mode = mode
    attempt.cancel_on = subscription.cancel_at or clock.today()
    _record(actor, attempt, "confirmed", mode=mode, ends_on=attempt.cancel_on.isoformat())
    webhooks_out.emit(
        "subscription.cancelled",
        {
            "subscription_id": subscription.id,
            "customer_id": subscription.customer_id,
            "reason_code": attempt.reason_code,
            "reason_text": attempt.reason_text,
            "mode": mode,
            "ends_on": attempt.cancel_on.isoformat(),
        },
    )
    return change


# --- follow-up ---------------------------------------------------------------------------------


def follow_up() -> int:
    """Close attempts left unfinished for a day, and check saves after 30 days. Idempotent."""
    now = utcnow()
    with unit_of_work(outermost=True):
        changed = 0
        for attempt in db.session.scalars(
            select(CancelAttempt)
            .where(CancelAttempt.outcome == AttemptOutcome.PENDING, CancelAttempt.updated_at <= now - ABANDONED_AFTER)
            .with_for_update(skip_locked=True)
        ).all():
            attempt.outcome, attempt.finished_at = AttemptOutcome.ABANDONED, now
            changed += 1
        for attempt in db.session.scalars(
            select(CancelAttempt)
            .where(
                CancelAttempt.outcome == AttemptOutcome.SAVED,
                CancelAttempt.save_verified.is_(None),
                CancelAttempt.finished_at <= now - SAVE_CHECK_AFTER,
            )
            .with_for_update(skip_locked=True)
        ).all():
            subscription = db.session.get(Subscription, attempt.subscription_id)
            attempt.save_verified = (
                subscription.status is not SubscriptionStatus.CANCELLED and subscription.cancel_at is None
            )
            changed += 1
    return changed
