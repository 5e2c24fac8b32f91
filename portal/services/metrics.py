"""Service-experience figures for any date range, computed from recorded events only.

Every definition is written in docs/METRICS.md; the keys here are the ones `flask metrics --json`
prints. A range is whole days in the merchant's calendar, both ends included.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    ActorType,
    AttemptOutcome,
    AuditEvent,
    CancelAttempt,
    Case,
    CaseMessage,
    CreditRequest,
    CreditStatus,
    Outcome,
    Product,
    StaffUser,
    Survey,
    SurveyKind,
    Variant,
)
from portal.services import surveys
from portal.services.response_times import business_seconds

FOLLOW_UP_WINDOW = timedelta(days=7)
TENURE_BUCKETS = (("0-30", 0, 30), ("31-90", 31, 90), ("91-365", 91, 365), ("365+", 366, None))
# What counts as a self-serve attempt for containment: any change a subscriber tried themselves.
SELF_SERVE_GROUPS = ("subscription.", "address.", "payment.", "cancel.")


@dataclass(frozen=True)
class Range:
    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """UTC instants of the first day's midnight and the midnight after the last day."""
        zone = ZoneInfo(current_app.config["MERCHANT_TIMEZONE"])
        return (
            datetime.combine(self.start, time(), zone),
            datetime.combine(self.end + timedelta(days=1), time(), zone),
        )


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _percentile(values: list[int], fraction: float) -> int | None:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


# --- CSAT ----------------------------------------------------------------------------------------


def _csat_group(scores: list[int]) -> dict[str, Any]:
    satisfied = sum(1 for score in scores if score >= 4)
    return {"ratings": len(scores), "satisfied": satisfied, "csat_percent": _share(satisfied, len(scores))}


def _split(rows: list[Survey], key) -> dict[str, Any]:
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        groups[str(key(row))].append(row.score)
    return {name: _csat_group(scores) for name, scores in sorted(groups.items())}


def csat(period: Range) -> dict[str, Any]:
    start, end = period.bounds()
    rated = list(
        db.session.scalars(
            select(Survey).where(
                Survey.kind == SurveyKind.CSAT,
                Survey.score.is_not(None),
                Survey.interaction_at >= start,
                Survey.interaction_at < end,
            )
        )
    )
    offered_self_serve = db.session.scalar(
        select(db.func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.actor_type == ActorType.CUSTOMER,
            AuditEvent.outcome == Outcome.SUCCESS,
            AuditEvent.action.in_(surveys.RATEABLE_ACTIONS),
            AuditEvent.occurred_at >= start,
            AuditEvent.occurred_at < end,
        )
    )
    offered_cases = db.session.scalar(
        select(db.func.count())
        .select_from(Survey)
        .where(
            Survey.kind == SurveyKind.CSAT,
            Survey.case_id.is_not(None),
            Survey.interaction_at >= start,
            Survey.interaction_at < end,
        )
    )
    self_serve = [row for row in rated if row.self_serve]
    agent = [row for row in rated if not row.self_serve]
    names = {staff.id: staff.name for staff in db.session.scalars(select(StaffUser))}
    return {
        **_csat_group([row.score for row in rated]),
        "offered": offered_self_serve + offered_cases,
        "response_rate": _share(len(rated), offered_self_serve + offered_cases),
        "self_serve": {
            **_csat_group([row.score for row in self_serve]),
            "offered": offered_self_serve,
            "response_rate": _share(len(self_serve), offered_self_serve),
        },
        "agent": {
            **_csat_group([row.score for row in agent]),
            "offered": offered_cases,
            "response_rate": _share(len(agent), offered_cases),
        },
        "by_channel": _split(rated, lambda row: row.channel or "portal"),
        "by_agent": _split(agent, lambda row: names.get(row.agent_id, "—")),
        "by_action": _split(self_serve, lambda row: row.action),
        "by_topic": _split(rated, lambda row: row.topic or "other"),
    }


# --- NPS -----------------------------------------------------------------------------------------


def nps(period: Range, milestone: int) -> dict[str, Any]:
    start, end = period.bounds()
    rows = db.session.execute(
        select(Survey.score, Survey.invited_at).where(
            Survey.kind == SurveyKind.NPS,
            Survey.milestone == milestone,
            Survey.interaction_at >= start,
            Survey.interaction_at < end,
        )
    ).all()
    scores = [score for score, _ in rows if score is not None]
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    return {
        "sent": sum(1 for _, invited in rows if invited is not None),
        "responses": len(scores),
        "promoters": promoters,
        "passives": len(scores) - promoters - detractors,
        "detractors": detractors,
        "nps": round(100 * (promoters - detractors) / len(scores), 1) if scores else None,
    }


# --- cases ---------------------------------------------------------------------------------------


def _cases_opened(period: Range) -> list[Case]:
    start, end = period.bounds()
    return list(
        db.session.scalars(
            select(Case).where(Case.created_at >= start, Case.created_at < end).order_by(Case.created_at, Case.id)
        )
    )


def _first_resolutions(case_ids: list[int]) -> dict[int, datetime]:
    resolved: dict[int, datetime] = {}
    if not case_ids:
        return resolved
    for case_id, after, at in db.session.execute(
        select(AuditEvent.subject_id, AuditEvent.after, AuditEvent.occurred_at)
        .where(
            AuditEvent.action == "case.status_changed",
            AuditEvent.subject_type == "case",
            AuditEvent.subject_id.in_(case_ids),
        )
        .order_by(AuditEvent.occurred_at)
    ):
        if (after or {}).get("status") == "resolved":
            resolved.setdefault(case_id, at)
    return resolved


def first_response(period: Range) -> dict[str, Any]:
    cases = _cases_opened(period)
    answered = [case for case in cases if case.first_response_at is not None]
    calendar = [int((case.first_response_at - case.created_at).total_seconds()) for case in answered]
    business = [business_seconds(case.created_at, case.first_response_at) for case in answered]
    resolutions = _first_resolutions([case.id for case in cases])
    resolution_seconds = [
        int((resolutions[case.id] - case.created_at).total_seconds()) for case in cases if case.id in resolutions
    ]
    # Reopened: the customer wrote again after the case was first resolved.
    reopened = set()
    if resolutions:
        for case_id, written in db.session.execute(
            select(CaseMessage.case_id, CaseMessage.created_at).where(
                CaseMessage.case_id.in_(list(resolutions)), CaseMessage.author == "customer"
            )
        ):
            if written > resolutions[case_id]:
                reopened.add(case_id)
    return {
        "cases": len(cases),
        "responded": len(answered),
        "median_seconds": _median(calendar),
        "p90_seconds": _percentile(calendar, 0.9),
        "median_business_seconds": _median(business),
        "p90_business_seconds": _percentile(business, 0.9),
        "resolved": len(resolution_seconds),
        "median_resolution_seconds": _median(resolution_seconds),
        "reopened": len(reopened),
        "reopen_rate": _share(len(reopened), len(resolution_seconds)),
    }


def repeat_contact_rate(period: Range) -> dict[str, Any]:
    cases = [case for case in _cases_opened(period) if case.customer_id is not None]
    later: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    if cases:
        start, end = period.bounds()
        for customer_id, topic, created in db.session.execute(
            select(Case.customer_id, Case.issue_type, Case.created_at).where(
                Case.customer_id.in_({case.customer_id for case in cases}),
                Case.created_at >= start,
                Case.created_at < end + FOLLOW_UP_WINDOW,
            )
        ):
            later[(customer_id, topic)].append(created)
    repeated = sum(
        1
        for case in cases
        if any(
            case.created_at < other <= case.created_at + FOLLOW_UP_WINDOW
            for other in later[(case.customer_id, case.issue_type)]
        )
    )
    return {"cases": len(cases), "repeated": repeated, "rate": _share(repeated, len(cases))}


def containment(period: Range) -> dict[str, Any]:
    start, end = period.bounds()
    first_attempt: dict[int, datetime] = {}
    for customer_id, action, at in db.session.execute(
        select(AuditEvent.customer_id, AuditEvent.action, AuditEvent.occurred_at)
        .where(
            AuditEvent.actor_type == ActorType.CUSTOMER,
            AuditEvent.customer_id.is_not(None),
            AuditEvent.occurred_at >= start,
            AuditEvent.occurred_at < end,
        )
        .order_by(AuditEvent.occurred_at)
    ):
        if action.startswith(SELF_SERVE_GROUPS):
            first_attempt.setdefault(customer_id, at)
    handed_off = set()
    if first_attempt:
        for customer_id, created in db.session.execute(
            select(Case.customer_id, Case.created_at).where(
                Case.customer_id.in_(list(first_attempt)),
                Case.created_at >= start,
                Case.created_at < end + FOLLOW_UP_WINDOW,
            )
        ):
            if first_attempt[customer_id] <= created <= first_attempt[customer_id] + FOLLOW_UP_WINDOW:
                handed_off.add(customer_id)
    attempted = len(first_attempt)
    return {
        "attempted": attempted,
        "handed_off": len(handed_off),
        "contained": attempted - len(handed_off),
        "rate": _share(attempted - len(handed_off), attempted),
    }


# --- cancellations -------------------------------------------------------------------------------


def tenure_bucket(days: int) -> str:
    return next(name for name, low, high in TENURE_BUCKETS if days >= low and (high is None or days <= high))


def _attempts(period: Range) -> list[CancelAttempt]:
    start, end = period.bounds()
    return list(
        db.session.scalars(
            select(CancelAttempt)
            .where(CancelAttempt.created_at >= start, CancelAttempt.created_at < end)
            .order_by(CancelAttempt.id)
        )
    )


def _counted(counter: Counter, whole: int) -> list[dict[str, Any]]:
    return [{"key": key, "count": count, "share": _share(count, whole)} for key, count in counter.most_common()]


def cancel_reasons(period: Range) -> dict[str, Any]:
    cancelled = [a for a in _attempts(period) if a.outcome is AttemptOutcome.CANCELLED]
    product_names = dict(db.session.execute(select(Variant.sku, Product.name).join(Variant.product)).all())
    by_tenure: dict[str, Counter] = {name: Counter() for name, _low, _high in TENURE_BUCKETS}
    by_product: dict[str, Counter] = defaultdict(Counter)
    by_month: dict[str, Counter] = defaultdict(Counter)
    for attempt in cancelled:
        reason = attempt.reason_code or "none"
        by_tenure[tenure_bucket(attempt.tenure_days)][reason] += 1
        for sku, _quantity in attempt.plan.get("items", [])[:1]:
            by_product[product_names.get(sku, sku)][reason] += 1
        by_month[attempt.created_at.strftime("%Y-%m")][reason] += 1
    reasons = Counter(attempt.reason_code or "none" for attempt in cancelled)
    return {
        "cancellations": len(cancelled),
        "by_reason": _counted(reasons, len(cancelled)),
        "by_tenure": {bucket: dict(counter) for bucket, counter in by_tenure.items()},
        "by_product": {product: dict(counter) for product, counter in sorted(by_product.items())},
        "by_month": {month: dict(counter) for month, counter in sorted(by_month.items())},
    }


def _save_group() -> dict[str, int]:
    return {"attempts": 0, "offers_shown": 0, "taken": 0, "saved_30d": 0, "known": 0}


def save_rate_30d(period: Range) -> dict[str, Any]:
    """Known outcome: cancelled, abandoned, handed off, or a save checked at 30 days."""
    total, by_reason, by_offer = _save_group(), defaultdict(_save_group), defaultdict(_save_group)
    for attempt in _attempts(period):
        if attempt.outcome is AttemptOutcome.PENDING:
            continue
        known = attempt.outcome is not AttemptOutcome.SAVED or attempt.save_verified is not None
        kept = attempt.outcome is AttemptOutcome.SAVED and attempt.save_verified is True
        groups = [total, by_reason[attempt.reason_code or "none"]]
        for group in groups:
            group["attempts"] += 1
            group["offers_shown"] += len(attempt.offers_shown)
            group["taken"] += attempt.offer_taken is not None
            group["known"] += known
            group["saved_30d"] += kept
        for offer in attempt.offers_shown:
            group = by_offer[offer["type"]]
            group["offers_shown"] += 1
            taken = attempt.offer_taken == offer["type"]
            group["taken"] += taken
            group["attempts"] += 1
            group["known"] += known
            group["saved_30d"] += kept and taken

    def rated(group: dict[str, int]) -> dict[str, Any]:
        return {**group, "rate": _share(group["saved_30d"], group["known"])}

    return {
        **rated(total),
        "by_reason": {reason: rated(group) for reason, group in sorted(by_reason.items())},
        "by_offer": {offer: rated(group) for offer, group in sorted(by_offer.items())},
    }


# --- credits -------------------------------------------------------------------------------------


def credits(period: Range) -> dict[str, Any]:
    start, end = period.bounds()
    rows = list(
        db.session.scalars(
            select(CreditRequest).where(CreditRequest.created_at >= start, CreditRequest.created_at < end)
        )
    )
    names = {staff.id: staff.name for staff in db.session.scalars(select(StaffUser))}
    agents: dict[str, dict[str, int]] = defaultdict(
        lambda: {"given_minor": 0, "pending_minor": 0, "rejected_minor": 0, "requests": 0}
    )
    turnaround: list[int] = []
    for row in rows:
        entry = agents[names.get(row.requested_by, str(row.requested_by))]
        entry["requests"] += 1
        field = {
            CreditStatus.APPROVED: "given_minor",
            CreditStatus.PENDING: "pending_minor",
            CreditStatus.REJECTED: "rejected_minor",
        }[row.status]
        entry[field] += row.amount_minor
        if row.decided_at is not None:
            turnaround.append(int((row.decided_at - row.created_at).total_seconds()))
    return {
        "by_agent": dict(sorted(agents.items())),
        "approvals": len(turnaround),
        "approved": sum(1 for row in rows if row.decided_at is not None and row.status is CreditStatus.APPROVED),
        "median_approval_seconds": _median(turnaround),
        "currency": current_app.config["MERCHANT_CURRENCY"],
    }


def all_figures(period: Range) -> dict[str, Any]:
    """Every figure, under the keys of `flask metrics --json`."""
    return {
        "csat": csat(period),
        "nps_30": nps(period, 30),
        "nps_90": nps(period, 90),
        "first_response": first_response(period),
        "repeat_contact_rate": repeat_contact_rate(period),
        "containment": containment(period),
        "cancel_reasons": cancel_reasons(period),
        "save_rate_30d": save_rate_30d(period),
        "credits": credits(period),
    }
