"""The agent queue, paged and filtered, with each case's response clock; and the threads a case
page reads (every message of the customer's, on every channel, and what came after a message)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import defer

from portal.extensions import db
from portal.models import Case, CaseMessage, CaseStatus, Channel, StaffUser, utcnow
from portal.services import handoff
from portal.services.inbox import OPEN_STATUSES
from portal.services.response_times import ResponseClock, first_response_target_hours, response_clock


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    channel: str | None = None
    assignee: str | None = None  # "me", "none" or a staff id
    breached: bool = False


@dataclass(frozen=True)
class QueueRow:
    case: Case
    clock: ResponseClock
    # Who wrote, as the snapshot saw them (or the sender of an unmatched message).
    customer_name: str


QUEUE_PAGE_SIZE = 50
# Far past any real queue, and small enough that the row offset stays inside a 64-bit integer.
MAX_PAGE = 10**9


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    page: int
    has_prev: bool
    has_next: bool


def queue(staff: StaffUser, filters: QueueFilter, page: int = 1, per_page: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """One page of the queue, oldest first; a page number out of range gives page 1 or an empty page."""
    query = select(Case).options(defer(Case.snapshot)).order_by(Case.created_at, Case.id)
    if filters.status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif filters.status in {s.value for s in CaseStatus}:
        query = query.where(Case.status == CaseStatus(filters.status))
    if filters.channel in {c.value for c in Channel}:
        query = query.where(Case.channel == Channel(filters.channel))
    if filters.assignee == "me":
        query = query.where(Case.assignee_id == staff.id)
    elif filters.assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif filters.assignee and filters.assignee.isdigit():
        query = query.where(Case.assignee_id == int(filters.assignee))
    now = utcnow()
    if filters.breached:
        # Business hours never outrun the wall clock, so this keeps every breached case; the exact
        # business-hours test below can only drop rows from a page, never move them to another.
        wall_clock_target = timedelta(hours=first_response_target_hours())
        query = query.where(Case.first_response_at.is_(None), Case.created_at <= now - wall_clock_target)
    # One row past the page says whether a next page exists: no count of every matching case,
    # which grows with the shop while the page does not.
    page = max(1, min(page, MAX_PAGE))
    cases = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    has_next = len(cases) > per_page
    cases = cases[:per_page]
    # The name is read out of the snapshot in the database: the snapshots themselves stay there.
    name = Case.snapshot["customer"]["name"].as_string()
    page_ids = [case.id for case in cases]
    names = {case_id: n for case_id, n in db.session.execute(select(Case.id, name).where(Case.id.in_(page_ids)))}
    rows = [QueueRow(case, response_clock(case, now), names.get(case.id) or case.sender or "") for case in cases]
    if filters.breached:
        rows = [row for row in rows if row.clock.breached and not row.clock.responded]
    return QueuePage(rows, page, page > 1, has_next)


def messages_after(case: Case, after_id: int) -> list[CaseMessage]:
    """What the agent's case page has not shown yet: the case's messages and notes after
    `after_id`, oldest first, in one statement."""
    return list(
        db.session.scalars(
            select(CaseMessage)
            .where(CaseMessage.case_id == case.id, CaseMessage.id > after_id)
            .order_by(CaseMessage.id)
            .limit(handoff.FEED_LIMIT)
        )
    )


def customer_history(case: Case) -> list[CaseMessage]:
    """One customer, one history: every message of theirs and to them, on every channel."""
    if case.customer_id is None:
        return list(case.messages)
    return list(
        db.session.scalars(
            select(CaseMessage)
            .join(Case)
            .where(or_(Case.customer_id == case.customer_id, Case.id == case.id))
            .order_by(CaseMessage.created_at, CaseMessage.id)
        )
    )
