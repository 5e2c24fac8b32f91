"""Handing a subscriber over to a person: a case that already knows everything.

The snapshot is taken when the case opens, so the agent sees the account as the customer saw it,
and the customer never has to explain it again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CancelAttempt,
    Case,
    CaseMessage,
    CaseStatus,
    Channel,
    Customer,
    LinkAction,
    Order,
    OrderStatus,
    Outcome,
    utcnow,
)
from portal.services import account, audit, links, notifications, webhooks_out
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.lookup import get_or_404
from portal.services.uow import transactional, unit_of_work
from portal.text import lazy_text as _l

REPEAT_WINDOW = timedelta(days=7)
# The case page is a live chat (both sides' pages show new messages as they arrive), so what the
# subscriber writes there is chat, whatever channel the case came on.
CASE_PAGE_CHANNEL = Channel.CHAT
# At most this many messages per poll of the case page; the page asks again for the rest.
FEED_LIMIT = 100
# The page polls every few seconds: a subscriber seen this recently is on it and reads a reply
# there, so it is not emailed too. The stamp is written at most once per PRESENCE_REFRESH.
WATCHING_WINDOW = timedelta(seconds=30)
PRESENCE_REFRESH = timedelta(seconds=10)
RECENT_EVENTS = 25
ISSUE_TYPES = {
    "payment": _l("A payment or my card"),
    "delivery": _l("A delivery"),
    "subscription": _l("Changing my subscription"),
    "cancel": _l("Cancelling"),
    "other": _l("Something else"),
}
# The topic of a self-serve step, by the first part of its audit action, so a case opened after
# a failed step and the ratings of steps are typed like the cases agents type by hand.
ACTION_TOPICS = {"payment": "payment", "address": "delivery", "cancel": "cancel", "subscription": "subscription"}
SUBSCRIPTION_ACTION_TOPICS = {
    "address": "delivery",
    "cancel": "cancel",
    "keep": "cancel",
    "reactivate": "cancel",
    "payment_cancel": "payment",
    "payment_pause": "payment",
}
# How recent a failed step must be for a request for help to be about it.
FAILED_STEP_WINDOW = timedelta(minutes=30)


class InvalidMessage(DomainError):
    code = "message_required"
    default_message = _l("Please write a message, so the right person can help you.")


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


def snapshot(customer: Customer, source_page: str | None, attempt: CancelAttempt | None = None) -> dict[str, Any]:
    """Everything an agent needs at a glance, as plain JSON."""
    view = account.dashboard(customer)
    events = account.recent_activity(customer.id, limit=RECENT_EVENTS)
    earlier = db.session.scalars(
        select(Case).where(Case.customer_id == customer.id).order_by(Case.id.desc()).limit(10)
    ).all()
    return {
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "locale": customer.locale,
        },
        "subscriptions": [
            {
                "id": s.id,
                "status": s.status.value,
                "items": [f"{i.quantity} × {i.variant.display_name}" for i in s.items],
                "interval": f"{s.interval_count} {s.interval_unit.value}",
                "next_order": _iso(s.next_order_date),
                "paused_until": _iso(s.paused_until),
                "ends_on": _iso(s.cancel_at),
                **_money(s.price_minor, s.currency),
            }
            for s in view.subscriptions
        ],
        "upcoming_orders": [_order(o) for o in view.upcoming_orders[:6]],
        "recent_orders": [_order(o) for o in view.past_orders[:6]],
        "payment": {
            "card": (
                f"{view.default_payment_method.brand} •••• {view.default_payment_method.last4} "
                f"{view.default_payment_method.exp_month:02d}/{view.default_payment_method.exp_year}"
            )
            if view.default_payment_method
            else None,
            "failed_orders": [
                _order(o)
                for o in db.session.scalars(
                    select(Order).where(Order.customer_id == customer.id, Order.status == OrderStatus.FAILED)
                )
            ],
        },
        # The self-serve path that led here, failed attempts with their step and code included.
        "recent_activity": [
            {
                "at": e.occurred_at.isoformat(),
                "action": e.action,
                "actor": e.actor_type.value,
                "outcome": e.outcome.value,
                "error_code": e.error_code,
                "step": (e.after or {}).get("step") if e.outcome is Outcome.FAILURE else None,
            }
            for e in events
        ],
        "failed_attempts": [
            {
                "at": e.occurred_at.isoformat(),
                "action": e.action,
                "error_code": e.error_code,
                "step": (e.after or {}).get("step"),
                # What was asked for (a date, a length), so the agent reads the attempt in words.
                "params": {key: value for key, value in (e.after or {}).items() if key != "step"},
            }
            for e in events
            if e.outcome is Outcome.FAILURE
        ],
        "source_page": source_page,
        "cancel": {
            "reason": attempt.reason_code,
            "details": attempt.reason_text,
            "offers_shown": attempt.offers_shown,
            "offer_taken": attempt.offer_taken,
        }
        if attempt
        else None,
        "earlier_cases": [
            {
                "id": c.id,
                "subject": c.subject,
                "status": c.status.value,
                "channel": c.channel.value,
                "opened": c.created_at.isoformat(),
            }
            for c in earlier
        ],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "date": order.scheduled_for.isoformat(),
        "status": order.status.value,
        "failure_code": order.failure_code,
        **_money(order.total_minor, order.currency),
    }


def topic_of_action(action: str) -> str:
    """ "subscription.skip" -> "subscription", "subscription.address" -> "delivery", ..."""
    group, _, name = action.partition(".")
    if group == "subscription":
        return SUBSCRIPTION_ACTION_TOPICS.get(name, "subscription")
    return ACTION_TOPICS.get(group, "other")


def failed_step_topic(customer: Customer) -> str | None:
    """The topic of the subscriber's self-serve step that failed in the last half hour, if any."""
    action = db.session.scalar(
        select(AuditEvent.action)
        .where(
            AuditEvent.customer_id == customer.id,
            AuditEvent.outcome == Outcome.FAILURE,
            AuditEvent.occurred_at >= utcnow() - FAILED_STEP_WINDOW,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if action is None or action.partition(".")[0] not in ACTION_TOPICS:
        return None
    return topic_of_action(action)


def is_repeat(customer_id: int | None, issue_type: str, case: Case | None = None) -> bool:
    """The same customer raised the same kind of issue in the week before, on any channel
    (before `case` when it is given, else before now)."""
    if customer_id is None:
        return False
    until = case.created_at if case is not None else utcnow()
    query = select(Case.id).where(
        Case.customer_id == customer_id,
        Case.issue_type == issue_type,
        Case.created_at >= until - REPEAT_WINDOW,
        Case.created_at <= until,
    )
    if case is not None:
        query = query.where(Case.id != case.id)
    return db.session.scalar(query.limit(1)) is not None


@transactional
def open_case(
    actor: Actor,
    customer: Customer,
    *,
    issue_type: str,
    message: str,
    source_page: str | None,
    cancel_attempt_id: int | None = None,
    channel: Channel = Channel.PORTAL,
) -> Case:
    message = (message or "").strip()
    if not message:
        raise InvalidMessage()
    if issue_type not in ISSUE_TYPES:
        issue_type = "other"
    attempt = get_or_404(CancelAttempt, cancel_attempt_id) if cancel_attempt_id else None
    if attempt is not None and attempt.customer_id != customer.id:
        raise NotFound()
    case = Case(
        customer_id=customer.id,
        sender=customer.email,
        channel=channel,
        issue_type=issue_type,
        subject=message.splitlines()[0][:200],
        source_page=(source_page or "")[:300] or None,
        snapshot=snapshot(customer, source_page, attempt),
        is_repeat=is_repeat(customer.id, issue_type),
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseMessage(case_id=case.id, author="customer", channel=channel, body=message[:10000]))
    audit.record(
        actor,
        "case.opened",
        subject_type="case",
        subject_id=case.id,
        customer_id=customer.id,
        after={"issue_type": issue_type, "channel": channel.value, "repeat": case.is_repeat},
    )
    notifications.queue_to_customer(
        "case_opened", customer, case_id=case.id, url=links.action_url(customer, LinkAction.OPEN_CASE, case)
    )
    webhooks_out.emit(
        "case.opened",
        {"case_id": case.id, "customer_id": customer.id, "issue_type": issue_type, "channel": channel.value},
    )
    return case


def customer_cases(customer: Customer) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.customer_id == customer.id).order_by(Case.id.desc())))


def get_customer_case(customer: Customer, case_id: int) -> Case:
    case = get_or_404(Case, case_id)
    if case.customer_id != customer.id:
        raise NotFound()
    return case


def public_messages(case: Case) -> list[CaseMessage]:
    return [message for message in case.messages if not message.internal]


def watch(case: Case, after_id: int) -> list[CaseMessage]:
    """A poll of the subscriber's case page: the stamp that says they are on the page, then the
    messages it has not shown (read after the stamp's commit, so they are not expired)."""
    _stamp_presence(case)
    return public_messages_after(case, after_id)


@transactional
def _stamp_presence(case: Case) -> None:
    # One conditional UPDATE: most polls, inside PRESENCE_REFRESH of the last stamp, change nothing.
    now = utcnow()
    db.session.execute(
        update(Case)
        .where(
            Case.id == case.id,
            or_(Case.customer_seen_at.is_(None), Case.customer_seen_at < now - PRESENCE_REFRESH),
        )
        .values(customer_seen_at=now, updated_at=Case.updated_at)
        .execution_options(synchronize_session=False)
    )


def customer_is_watching(case: Case) -> bool:
    seen = case.customer_seen_at
    return seen is not None and utcnow() - seen < WATCHING_WINDOW


def public_messages_after(case: Case, after_id: int) -> list[CaseMessage]:
    """What the subscriber's case page has not shown yet: public messages after `after_id`, oldest
    first, in one statement."""
    return list(
        db.session.scalars(
            select(CaseMessage)
            .where(CaseMessage.case_id == case.id, CaseMessage.internal.is_(False), CaseMessage.id > after_id)
            .order_by(CaseMessage.id)
            .limit(FEED_LIMIT)
        )
    )


def customer_reply(actor: Actor, customer: Customer, case: Case, body: str, key: str | None = None) -> CaseMessage:
    """A message from the case page; like any customer message, it reopens a finished case.
    `key`: the reply form's id, so the form posted twice is stored once (`store_once`)."""
    body = (body or "").strip()
    if not body:
        raise InvalidMessage()

    def write() -> CaseMessage:
        message = add_customer_message(case, body, CASE_PAGE_CHANNEL, external_id)
        audit.record(actor, "case.customer_replied", subject_type="case", subject_id=case.id, customer_id=customer.id)
        return message

    external_id = form_message_id("portal", case, key, body)
    return store_once(external_id, write)


def form_message_id(page: str, case: Case, key: str | None, body: str) -> str | None:
    """The id of a message posted by a case page's reply form: the form's id with what it said, so
    the same text posted twice is one message, and a text changed before posting again is new."""
    if not key:
        return None
    return f"{page}:{case.id}:{key}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def store_once(external_id: str | None, write: Callable[[], CaseMessage]) -> CaseMessage:
    """Run `write` in a unit of work of its own unless a message with `external_id` is stored
    already: the unique id that makes a redelivered webhook add nothing makes a reply form posted
    twice (a double click, a retried request) apply once."""
    try:
        with unit_of_work():
            if external_id is not None:
                sent = db.session.scalar(select(CaseMessage).where(CaseMessage.external_id == external_id))
                if sent is not None:
                    return sent
            return write()
    except IntegrityError:
        if external_id is None:
            raise
        # Posted twice at the same moment: the other request stored it.
        return db.session.scalar(select(CaseMessage).where(CaseMessage.external_id == external_id))


def add_customer_message(case: Case, body: str, channel: Channel, external_id: str | None = None) -> CaseMessage:
    """In the caller's unit of work. A customer writing again reopens a case that was waiting on
    them or resolved."""
    message = CaseMessage(
        case_id=case.id, author="customer", channel=channel, body=body[:10000], external_id=external_id
    )
    db.session.add(message)
    if case.status in (CaseStatus.WAITING, CaseStatus.RESOLVED):
        case.status = CaseStatus.REOPENED
        case.resolved_at = None
    case.updated_at = utcnow()
    return message
