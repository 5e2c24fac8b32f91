"""Credits support gives: within the merchant's per-case limit at once, above it after a manager.

What was given on a case is read with the case's row locked, so parallel requests cannot
together give more than the limit."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import LazyMoney
from portal.models import Case, CaseMessage, CreditRequest, CreditStatus, Customer, StaffRole, StaffUser, utcnow
from portal.services import audit, policy
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.payments import REASON_MAX_LENGTH, add_credit
from portal.services.uow import transactional
from portal.text import lazy_text as _l

# The most one request may give, in minor units: a typo must not become a fortune.
MAX_CREDIT_MINOR = 1_000_000


def _given_on_case(case_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(CreditRequest.amount_minor), 0)).where(
            CreditRequest.case_id == case_id, CreditRequest.status == CreditStatus.APPROVED
        )
    )


@transactional
def request_credit(
    staff: StaffUser, case: Case, amount_minor: int, reason: str, request_id: str | None = None
) -> CreditRequest:
    """Give the credit now if the case stays within the limit; otherwise queue it for a manager."""
    case = db.session.get(Case, case.id, with_for_update=True, populate_existing=True)
    if case.customer_id is None:
        raise DomainError(_l("Link this case to a customer before giving a credit."), code="no_customer")
    reason = " ".join((reason or "").split())
    if not 0 < amount_minor <= MAX_CREDIT_MINOR or not reason or len(reason) > REASON_MAX_LENGTH:
        raise DomainError(_l("Enter an amount and a reason."), code="invalid_credit")
    customer = db.session.get(Customer, case.customer_id)
    currency = current_app.config["MERCHANT_CURRENCY"]
    limit = policy.get().agent_credit_limit_minor
    within = staff.role.includes(StaffRole.MANAGER) or _given_on_case(case.id) + amount_minor <= limit
    request = CreditRequest(
        case_id=case.id,
        customer_id=customer.id,
        requested_by=staff.id,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
        status=CreditStatus.APPROVED if within else CreditStatus.PENDING,
    )
    db.session.add(request)
    db.session.flush()
    actor = Actor.for_staff(staff, request_id)
    audit.record(
        actor,
        "case.credit_requested",
        subject_type="case",
        subject_id=case.id,
        customer_id=customer.id,
        after={"amount_minor": amount_minor, "status": request.status.value, "limit_minor": limit},
    )
    if within:
        add_credit(actor, customer, amount_minor, currency, request.reason, case_id=case.id)
    return request


@dataclass(frozen=True)
class PendingCredit:
    """A request as the approving manager needs it: who asked, for whom, on which case."""

    request: CreditRequest
    requester: str
    customer_name: str
    case_subject: str


def pending() -> list[PendingCredit]:
    rows = db.session.execute(
        select(CreditRequest, StaffUser.name, Customer.name, Case.subject)
        .join(StaffUser, StaffUser.id == CreditRequest.requested_by)
        .join(Customer, Customer.id == CreditRequest.customer_id)
        .join(Case, Case.id == CreditRequest.case_id)
        .where(CreditRequest.status == CreditStatus.PENDING)
        .order_by(CreditRequest.created_at)
    )
    return [PendingCredit(*row) for row in rows]


def _note_outcome(manager: StaffUser, request: CreditRequest, approve: bool) -> None:
    """The agent who asked reads the outcome on the case they asked from. Written in the shop's
    language: a note is stored text, and a decision may come from outside any request."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = str(
            _l(
                "Credit of %(amount)s (%(reason)s) %(outcome)s by %(manager)s.",
                amount=LazyMoney(request.amount_minor, request.currency),
                reason=request.reason,
                outcome=_l("approved") if approve else _l("rejected"),
                manager=manager.name,
            )
        )
    case = db.session.get(Case, request.case_id)
    db.session.add(
        CaseMessage(
            case_id=case.id, author="staff", staff_id=manager.id, channel=case.channel, internal=True, body=body
        )
    )


@transactional
def decide(manager: StaffUser, credit_request_id: int, approve: bool, request_id: str | None = None) -> CreditRequest:
    if not manager.role.includes(StaffRole.MANAGER):
        raise PermissionDenied()
    request = db.session.get(CreditRequest, credit_request_id, with_for_update=True)
    if request is None:
        raise NotFound()
    if request.status is not CreditStatus.PENDING:
        raise DomainError(_l("That request was already decided."), code="already_decided")
    request.status = CreditStatus.APPROVED if approve else CreditStatus.REJECTED
    request.decided_by, request.decided_at = manager.id, utcnow()
    actor = Actor.for_staff(manager, request_id)
    audit.record(
        actor,
        "case.credit_decided",
        subject_type="case",
        subject_id=request.case_id,
        customer_id=request.customer_id,
        after={"approved": approve, "amount_minor": request.amount_minor},
    )
    _note_outcome(manager, request, approve)
    if approve:
        add_credit(
            actor,
            db.session.get(Customer, request.customer_id),
            request.amount_minor,
            request.currency,
            request.reason,
            case_id=request.case_id,
        )
    return request


@dataclass(frozen=True)
class AgentCredits:
    staff: StaffUser
    approved_minor: int
    pending_minor: int
    count: int


def by_agent() -> list[AgentCredits]:
    """Every credit is logged per agent: what each gave, and what waits for approval."""
    rows = db.session.execute(
        select(
            CreditRequest.requested_by, CreditRequest.status, func.sum(CreditRequest.amount_minor), func.count()
        ).group_by(CreditRequest.requested_by, CreditRequest.status)
    ).all()
    totals: dict[int, list[int]] = {}
    for staff_id, status, amount, count in rows:
        entry = totals.setdefault(staff_id, [0, 0, 0])
        if status is CreditStatus.APPROVED:
            entry[0] += amount
        elif status is CreditStatus.PENDING:
            entry[1] += amount
        entry[2] += count
    return [AgentCredits(db.session.get(StaffUser, staff_id), *values) for staff_id, values in sorted(totals.items())]
