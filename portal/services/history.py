"""A customer's history in words: what happened, to which subscription, and what changed.

The audit trail records codes and before/after as data; this turns each event into a sentence
("Paused House Blend until 8 Jan 2030"). The subscriber sees only what concerns them (their own
changes, what support and the shop did to their subscriptions, payments, credits); internal
events (notes, credit requests, assignments, cancel-flow steps) are for staff only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import ngettext
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import LazyDate, LazyMoney
from portal.i18n import action_label
from portal.models import ActorType, AuditEvent, Outcome, Product, Subscription, SubscriptionItem, Variant
from portal.text import lazy_text as _l

# What a subscriber is shown. Anything else (case.noted, case.credit_requested, cancel.* steps,
# staff.*, policy.*) stays in the console.
SUBSCRIBER_ACTIONS = frozenset(
    {
        *(
            f"subscription.{action}"
            for action in (
                "pause",
                "resume",
                "auto_resume",
                "skip",
                "unskip",
                "swap",
                "frequency",
                "reschedule",
                "order_now",
                "reactivate",
                "cancel",
                "scheduled_cancel",
                "keep",
                "discount",
                "payment_pause",
                "payment_cancel",
                "address",
            )
        ),
        "payment.succeeded",
        "payment.failed",
        "payment.card_added",
        "payment.default_card",
        "payment.card_removed",
        "payment.credit_added",
        "payment.refunded",
        "address.change",
        "profile.updated",
        "profile.email_change_requested",
        "profile.email_changed",
        "customer.password_set",
        "auth.signed_in",
        "case.opened",
        "case.customer_replied",
        "case.replied",
    }
)
# Whose refused attempts a subscriber sees: their own (in the portal or from an email link); and
# every failed payment, which is theirs whoever attempted it.
_OWN_ACTORS = (ActorType.CUSTOMER, ActorType.LINK)


@dataclass(frozen=True)
class Entry:
    occurred_at: datetime
    actor_type: ActorType
    text: str
    refused: bool
    # The recorded code, for staff only (the console shows it next to the words).
    action: str
    error_code: str | None


def for_subscriber(customer_id: int, limit: int = 200) -> list[Entry]:
    """What the subscriber's own history page shows, newest first."""
    query = _events(customer_id, limit).where(
        AuditEvent.action.in_(SUBSCRIBER_ACTIONS),
        (AuditEvent.outcome == Outcome.SUCCESS)
        | AuditEvent.actor_type.in_(_OWN_ACTORS)
        | (AuditEvent.action == "payment.failed"),
    )
    return _describe_all(customer_id, db.session.scalars(query))


def for_staff(customer_id: int, limit: int = 50) -> list[Entry]:
    """Everything recorded about the customer, in the same words, for the console."""
    return _describe_all(customer_id, db.session.scalars(_events(customer_id, limit)))


def _events(customer_id: int, limit: int):
    return (
        select(AuditEvent)
        .where(AuditEvent.customer_id == customer_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )


def subscription_names(customer_id: int) -> dict[int, str]:
    """Each of the customer's subscriptions by the product it first delivers (one statement)."""
    rows = db.session.execute(
        select(SubscriptionItem.subscription_id, Product.name)
        .join(Subscription, Subscription.id == SubscriptionItem.subscription_id)
        .join(Variant, Variant.id == SubscriptionItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Subscription.customer_id == customer_id)
        .order_by(SubscriptionItem.subscription_id, SubscriptionItem.id.desc())
    )
    # Later rows of a subscription overwrite earlier ones: ordered by item id descending, the
    # first item wins.
    return dict(rows.tuples().all())


def _describe_all(customer_id: int, events) -> list[Entry]:
    events = list(events)
    names = subscription_names(customer_id) if events else {}
    return [
        Entry(
            event.occurred_at,
            event.actor_type,
            describe(event, names),
            event.outcome is Outcome.FAILURE,
            event.action,
            event.error_code,
        )
        for event in events
    ]


def _day(value: str | None) -> LazyDate | None:
    return LazyDate(date.fromisoformat(value)) if value else None


def _changed_order_day(before: dict, after: dict, now: str) -> LazyDate | None:
    """The delivery whose state became `now` ("skipped" or "scheduled") in this change."""
    was = {day: state for day, state, _total in before.get("orders") or []}
    for day, state, _total in after.get("orders") or []:
        if state == now and was.get(day) != now:
            return _day(day)
    return None


def _interval(after: dict) -> str | None:
    count, unit = after.get("count"), after.get("unit")
    if not isinstance(count, int):
        return None
    if unit == "week":
        return ngettext("every week", "every %(num)d weeks", count)
    return ngettext("every month", "every %(num)d months", count)


def describe(event: AuditEvent, names: dict[int, str]) -> str:
    """One sentence for an event; an event without its own sentence uses its action's name."""
    before, after = event.before or {}, event.after or {}
    name = names.get(event.subject_id) if event.subject_type == "subscription" else None
    action = event.action.removeprefix("subscription.") if name else event.action
    if event.action == "payment.failed":
        return action_label(event.action)
    if event.outcome is Outcome.FAILURE:
        return str(_refused(event, name))
    text = _subscription_sentence(action, name, before, after) if name else None
    if text is None:
        text = _account_sentence(event, after, before)
    return str(text) if text is not None else action_label(event.action)


def _refused(event: AuditEvent, name: str | None):
    label = action_label(event.action)
    if name:
        return _l("Tried: %(action)s (%(subscription)s). Not done.", action=label, subscription=name)
    return _l("Tried: %(action)s. Not done.", action=label)


def _subscription_sentence(action: str, name: str, before: dict, after: dict):
    next_after = _day(after.get("next_order"))
    if action == "pause":
        if after.get("resumes_on"):
            return _l("Paused %(subscription)s until %(date)s", subscription=name, date=_day(after["resumes_on"]))
        return _l("Paused %(subscription)s", subscription=name)
    if action == "resume" and next_after:
        return _l("Resumed %(subscription)s; next order on %(date)s", subscription=name, date=next_after)
    if action == "auto_resume" and next_after:
        return _l("%(subscription)s resumed as planned; next order on %(date)s", subscription=name, date=next_after)
    if action == "reactivate" and next_after:
        return _l("Reactivated %(subscription)s; next order on %(date)s", subscription=name, date=next_after)
    if action == "skip":
        day = _changed_order_day(before, after, "skipped")
        return _l("Skipped the %(subscription)s order of %(date)s", subscription=name, date=day) if day else None
    if action == "unskip":
        day = _changed_order_day(before, after, "scheduled")
        return _l("Restored the %(subscription)s order of %(date)s", subscription=name, date=day) if day else None
    if action == "reschedule" and next_after:
        return _l(
            "Moved the next %(subscription)s order from %(before)s to %(after)s",
            subscription=name,
            before=_day(before.get("next_order")) or "—",
            after=next_after,
        )
    if action == "frequency" and _interval(after):
        return _l("%(subscription)s now comes %(interval)s", subscription=name, interval=_interval(after))
    if action == "swap":
        return _l("Changed what %(subscription)s delivers", subscription=name)
    if action == "order_now":
        return _l("Ordered %(subscription)s for today", subscription=name)
    if action == "cancel":
        if after.get("ends_on"):
            return _l("Cancelled %(subscription)s: it ends on %(date)s", subscription=name, date=_day(after["ends_on"]))
        return _l("Cancelled %(subscription)s", subscription=name)
    if action == "keep":
        return _l("Kept %(subscription)s: it will not end", subscription=name)
    if action == "scheduled_cancel":
        return _l("%(subscription)s ended as planned", subscription=name)
    if action == "discount" and isinstance(after.get("percent"), int):
        return _l(
            "%(subscription)s: %(percent)s%% off the next %(orders)s orders",
            subscription=name,
            percent=after["percent"],
            orders=after.get("orders", 1),
        )
    if action == "payment_pause":
        return _l("Paused %(subscription)s because payments kept failing", subscription=name)
    if action == "payment_cancel":
        return _l("Cancelled %(subscription)s because payments kept failing", subscription=name)
    if action == "address":
        return _l("Changed where %(subscription)s is delivered", subscription=name)
    return None


def _account_sentence(event: AuditEvent, after: dict, before: dict):
    amount = after.get("amount_minor")
    currency = after.get("currency")
    if event.action == "payment.credit_added" and isinstance(amount, int) and currency:
        if event.actor_type is ActorType.STAFF:
            return _l("Support gave you %(amount)s credit", amount=LazyMoney(amount, currency))
        return _l("You received %(amount)s credit", amount=LazyMoney(amount, currency))
    if event.action in ("payment.card_added", "payment.default_card") and after.get("last4"):
        return _l("Card ending %(last4)s is now used for payments", last4=after["last4"])
    if event.action == "payment.card_removed" and before.get("last4"):
        return _l("Removed the card ending %(last4)s", last4=before["last4"])
    return None
