"""One inbox for every channel: inbound messages find their customer and case, agents reply on
the case's channel, and the clock of the first human response runs in business hours too."""

from __future__ import annotations

import re
from typing import Protocol

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    Case,
    CaseMessage,
    CaseStatus,
    Channel,
    Customer,
    LinkAction,
    OutboundMessage,
    StaffUser,
    utcnow,
)
from portal.services import audit, contact, handoff, links, notifications, surveys, webhooks_out
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.lookup import get_or_404
from portal.services.uow import transactional, unit_of_work
from portal.services.urls import public_url
from portal.text import lazy_text as _l

OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING, CaseStatus.REOPENED)


class InvalidReply(DomainError):
    code = "reply_required"
    default_message = _l("Write a message first.")


def _record_case(actor: Actor, action: str, case: Case, before: dict | None = None, after: dict | None = None):
    """The audit event of a change to a case, in the transaction that makes it."""
    audit.record(
        actor, action, subject_type="case", subject_id=case.id, customer_id=case.customer_id, before=before, after=after
    )


# --- matching inbound messages -------------------------------------------------------------------


def _customer_for(channel: Channel, sender: str) -> Customer | None:
    if channel is Channel.EMAIL:
        return db.session.scalar(select(Customer).where(Customer.email == contact.normalize_email(sender)))
    if channel is Channel.SMS:
        wanted = contact.normalize_phone(sender)
        return db.session.scalar(select(Customer).where(Customer.phone_normalized == wanted)) if wanted else None
    return db.session.scalar(select(Customer).where(Customer.social_handle == contact.normalize_handle(sender)))


_CASE_REFERENCE = re.compile(r"\(\w+ (\d+)\)")


def _case_named_in(subject: str | None, customer: Customer | None, sender: str) -> Case | None:
    """An answer to one of our emails names its case in the subject ("... (case 12)"); it goes back
    there, even when that case was resolved, as long as it is the same customer's."""
    match = _CASE_REFERENCE.search(subject or "")
    case = db.session.get(Case, int(match.group(1))) if match else None
    if case is None:
        return None
    if customer is not None and case.customer_id == customer.id:
        return case
    return case if customer is None and case.sender == sender else None


def receive(channel: Channel, sender: str, body: str, external_id: str, subject: str | None = None) -> Case:
    """An inbound message: into the customer's open case, or a new one. Redelivery adds nothing."""
    try:
        with unit_of_work():
            existing = db.session.scalar(select(CaseMessage).where(CaseMessage.external_id == external_id))
            if existing is not None:
                return db.session.get(Case, existing.case_id)
            return _file_message(channel, sender, body, external_id, subject)
    except IntegrityError:
        # The same message delivered twice at the same moment: the other delivery stored it.
        return db.session.scalar(select(Case).join(CaseMessage).where(CaseMessage.external_id == external_id))


def _file_message(channel: Channel, sender: str, body: str, external_id: str, subject: str | None) -> Case:
    customer = _customer_for(channel, sender)
    case = _case_named_in(subject, customer, sender)
    if case is None and customer is not None:
        case = db.session.scalar(
            select(Case)
            .where(Case.customer_id == customer.id, Case.status.in_(OPEN_STATUSES))
            .order_by(Case.updated_at.desc())
        )
    if case is None:
        case = Case(
            customer_id=customer.id if customer else None,
            sender=sender[:254],
            channel=channel,
            issue_type="other",
            subject=(subject or body.strip().splitlines()[0] if body.strip() else "")[:200] or str(_l("Message")),
            snapshot=handoff.snapshot(customer, None) if customer else {"sender": sender},
            is_repeat=handoff.is_repeat(customer.id if customer else None, "other"),
        )
        db.session.add(case)
        db.session.flush()
        webhooks_out.emit(
            "case.opened",
            {"case_id": case.id, "customer_id": case.customer_id, "issue_type": "other", "channel": channel.value},
        )
    handoff.add_customer_message(case, body, channel, external_id)
    _record_case(
        Actor.system(f"inbound {channel.value}"), "case.message_received", case, after={"channel": channel.value}
    )
    return case


class HandleNotLinkable(DomainError):
    code = "handle_not_linkable"
    default_message = _l("Only a social message from a sender not yet matched to a customer can be linked.")


class CustomerNotFound(DomainError):
    status = 404
    code = "customer_not_found"
    default_message = _l("No customer has that email address.")


class HandleTaken(DomainError):
    status = 409
    code = "handle_taken"
    default_message = _l("That handle already belongs to another customer.")


@transactional
def link_handle(staff: StaffUser, case: Case, customer_email: str, request_id: str | None = None) -> Customer:
    """The agent knows who wrote: the sender's social handle becomes the customer's, so their
    later messages land on them; this case and the sender's other unmatched ones move over."""
    if case.channel is not Channel.SOCIAL or case.customer_id is not None or not case.sender:
        raise HandleNotLinkable()
    customer = db.session.scalar(select(Customer).where(Customer.email == contact.normalize_email(customer_email)))
    if customer is None:
        raise CustomerNotFound()
    handle = contact.normalize_handle(case.sender)
    owner = db.session.scalar(select(Customer).where(Customer.social_handle == handle))
    if owner is not None and owner.id != customer.id:
        raise HandleTaken()
    before = customer.social_handle
    customer.social_handle = handle
    # The same normal form as contact.normalize_handle, so every spelling of the handle moves.
    moved = db.session.scalars(
        select(Case).where(
            Case.channel == Channel.SOCIAL, Case.customer_id.is_(None), func.lower(func.trim(Case.sender)) == handle
        )
    ).all()
    for moved_case in moved:
        moved_case.customer_id = customer.id
        moved_case.snapshot = handoff.snapshot(customer, moved_case.source_page)
        moved_case.is_repeat = handoff.is_repeat(customer.id, moved_case.issue_type, moved_case)
    audit.record(
        _staff_actor(staff, request_id),
        "customer.handle_linked",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        before={"social_handle": before},
        after={"social_handle": handle, "cases": [c.id for c in moved]},
    )
    return customer


# --- outbound channels --------------------------------------------------------------------------


class ChannelAdapter(Protocol):
    def send(self, recipient: str, body: str) -> str:
        """Send a message; return the provider's id for it."""


class RecordingAdapter:
    """Keeps the message as sent. Stands in until a provider (an SMS gateway, a social network)
    is configured; the outbound row is the same either way."""

    def send(self, recipient: str, body: str) -> str:
        current_app.logger.info("outbound message to %s recorded (no provider configured)", recipient)
        return "recorded"


ADAPTERS: dict[Channel, ChannelAdapter] = {Channel.SMS: RecordingAdapter(), Channel.SOCIAL: RecordingAdapter()}


def deliver_outbound(batch_size: int = 50) -> int:
    """Send waiting SMS and social replies through their channel's adapter, one at a time."""
    sent, last_id = 0, 0
    for _ in range(batch_size):
        with unit_of_work(outermost=True):
            message = db.session.scalar(
                select(OutboundMessage)
                .where(OutboundMessage.sent_at.is_(None), OutboundMessage.id > last_id)
                .order_by(OutboundMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if message is None:
                break
            last_id = message.id
            message.attempts += 1
            try:
                message.provider_id = ADAPTERS[message.channel].send(message.recipient, message.body)
            except Exception as error:  # any provider failure: keep the row, try again next round
                message.last_error = str(error)[:300]
                continue
            message.sent_at = utcnow()
            sent += 1
    return sent


# --- working a case -----------------------------------------------------------------------------


def get_case(case_id: int) -> Case:
    return get_or_404(Case, case_id)


def _staff_actor(staff: StaffUser, request_id: str | None) -> Actor:
    return Actor.for_staff(staff, request_id)


def reply(
    staff: StaffUser, case: Case, body: str, request_id: str | None = None, key: str | None = None
) -> CaseMessage:
    """A public reply, sent back on the channel the case came from. `key`: the reply form's id, so
    the form posted twice is stored (and sent) once."""
    body = (body or "").strip()
    if not body:
        raise InvalidReply()
    external_id = handoff.form_message_id("console", case, key, body)
    return handoff.store_once(external_id, lambda: _reply(staff, case, body, request_id, external_id))


def _reply(staff: StaffUser, case: Case, body: str, request_id: str | None, external_id: str | None) -> CaseMessage:
    message = CaseMessage(
        case_id=case.id, author="staff", staff_id=staff.id, channel=case.channel, body=body, external_id=external_id
    )
    db.session.add(message)
    db.session.flush()
    customer = db.session.get(Customer, case.customer_id) if case.customer_id else None
    read_live = customer is not None and handoff.customer_is_watching(case)
    if case.channel in (Channel.SMS, Channel.SOCIAL):
        db.session.add(
            OutboundMessage(case_message_id=message.id, channel=case.channel, recipient=case.sender or "", body=body)
        )
    elif (customer is not None or case.sender) and not read_live:
        # Portal, chat and email cases are answered by email (the portal thread shows it too),
        # unless the subscriber has the case page open and reads it there as it arrives.
        notifications.queue_email(
            "case_reply",
            customer.email if customer else case.sender,
            notifications.recipient_locale(customer),
            customer_name=customer.name if customer else "",
            case_id=case.id,
            body=body,
            url=links.action_url(customer, LinkAction.OPEN_CASE, case)
            if customer
            else public_url("account.case", case_id=case.id),
        )
    if case.first_response_at is None:
        case.first_response_at = message.created_at or utcnow()
    case.status = CaseStatus.WAITING
    case.assignee_id = case.assignee_id or staff.id
    _record_case(
        _staff_actor(staff, request_id), "case.replied", case, after={"channel": case.channel.value, "live": read_live}
    )
    return message


@transactional
def note(staff: StaffUser, case: Case, body: str, request_id: str | None = None) -> None:
    body = (body or "").strip()
    if not body:
        raise InvalidReply()
    db.session.add(
        CaseMessage(case_id=case.id, author="staff", staff_id=staff.id, channel=case.channel, body=body, internal=True)
    )
    if case.status is CaseStatus.NEW:
        case.status = CaseStatus.OPEN
    _record_case(_staff_actor(staff, request_id), "case.noted", case)


@transactional
def set_status(staff: StaffUser, case: Case, status: CaseStatus, request_id: str | None = None) -> None:
    """Resolving a case asks the customer, once, how it went."""
    before = case.status
    case.status = status
    case.resolved_at = utcnow() if status is CaseStatus.RESOLVED else None
    actor = _staff_actor(staff, request_id)
    _record_case(actor, "case.status_changed", case, before={"status": before.value}, after={"status": status.value})
    if status is CaseStatus.RESOLVED and before is not CaseStatus.RESOLVED:
        surveys.invite_for_case(actor, case)


class UnknownTopic(DomainError):
    code = "unknown_topic"
    default_message = _l("Choose one of the topics shown.")


@transactional
def set_topic(staff: StaffUser, case: Case, topic: str, request_id: str | None = None) -> None:
    """An agent types (or corrects the type of) a case, so the same issue is matched on every
    channel; whether it repeats an earlier case is read again with the new topic."""
    if topic not in handoff.ISSUE_TYPES:
        raise UnknownTopic()
    before = case.issue_type
    case.issue_type = topic
    case.is_repeat = handoff.is_repeat(case.customer_id, topic, case)
    _record_case(
        _staff_actor(staff, request_id),
        "case.topic_changed",
        case,
        before={"topic": before},
        after={"topic": topic, "repeat": case.is_repeat},
    )


@transactional
def assign(staff: StaffUser, case: Case, assignee_id: int | None, request_id: str | None = None) -> None:
    """Claiming is assigning to oneself."""
    if assignee_id is not None and not get_or_404(StaffUser, assignee_id).active:
        raise NotFound()
    before = case.assignee_id
    case.assignee_id = assignee_id
    if case.status is CaseStatus.NEW and assignee_id is not None:
        case.status = CaseStatus.OPEN
    _record_case(
        _staff_actor(staff, request_id),
        "case.assigned",
        case,
        before={"assignee": before},
        after={"assignee": assignee_id},
    )
