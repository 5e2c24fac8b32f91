"""Surveys: CSAT after every interaction, NPS at 30 and 90 days of a subscription.

A rating belongs to one question, named by the survey's unique `key`: a self-serve action (its
audit event), a resolved case, or a subscriber's milestone. Answering again changes the answer
(an upsert on the key), so two taps, two tabs or two racing requests never count twice.

Emailed surveys carry their own random token (stored hashed, like sign-in links) that answers
that one survey and nothing else, so no sign-in is needed. The GET of a one-tap link only shows
the choice with a confirm button, because mail scanners open links; the POST records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import (
    ActorType,
    AuditEvent,
    Case,
    CaseStatus,
    Customer,
    Outcome,
    Subscription,
    SubscriptionStatus,
    Survey,
    SurveyKind,
    utcnow,
)
from portal.services import audit, handoff, notifications, tokens
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.lookup import get_or_404
from portal.services.uow import transactional, unit_of_work
from portal.services.urls import public_url
from portal.text import lazy_text as _l

CSAT_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)
NPS_MILESTONES = (30, 90)
# A subscriber first seen past a milestone is still asked within this many days of it, never later.
NPS_WINDOW_DAYS = 30
# How long after a self-serve action its confirmation still offers the rating.
RATING_WINDOW = timedelta(days=1)
COMMENT_MAX_LENGTH = 2000
# The self-serve actions whose confirmation asks for a rating.
RATEABLE_ACTIONS = frozenset(
    {
        "subscription.skip",
        "subscription.unskip",
        "subscription.pause",
        "subscription.resume",
        "subscription.swap",
        "subscription.frequency",
        "subscription.reschedule",
        "subscription.order_now",
        "subscription.cancel",
        "subscription.keep",
        "subscription.reactivate",
        "subscription.address",
        "payment.card_added",
        "payment.default_card",
    }
)


class InvalidScore(DomainError):
    code = "invalid_score"
    default_message = _l("Choose one of the ratings shown.")


class CaseNotResolved(DomainError):
    code = "case_not_resolved"
    default_message = _l("You can rate a conversation once it is resolved.")


class InvalidSurveyLink(DomainError):
    code = "invalid_survey_link"
    default_message = _l("This survey link has expired or is not valid.")


def scale_of(survey_kind: SurveyKind) -> range:
    return CSAT_SCALE if survey_kind is SurveyKind.CSAT else NPS_SCALE


# --- answering -----------------------------------------------------------------------------------


def _insert():
    return (postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite).insert(Survey)


def _clean_comment(comment: str | None) -> str | None:
    """None keeps the comment already given (a one-tap rating has none); text replaces it."""
    return None if comment is None else comment.strip()[:COMMENT_MAX_LENGTH]


def _upsert_answer(question: dict, score: int, comment: str | None) -> Survey:
    """Insert the answered question, or change the answer already there: one row per key."""
    now = utcnow()
    answer = {"score": score, "answered_at": now, "updated_at": now}
    statement = _insert().values(**question, **answer, comment=comment)
    statement = statement.on_conflict_do_update(
        index_elements=[Survey.key],
        set_={**answer, "comment": func.coalesce(statement.excluded.comment, Survey.comment)},
    ).returning(Survey.id)
    survey_id = db.session.execute(statement).scalar_one()
    return db.session.get(Survey, survey_id, populate_existing=True)


def _check_score(kind: SurveyKind, score: object) -> int:
    if not isinstance(score, int) or isinstance(score, bool) or score not in scale_of(kind):
        raise InvalidScore()
    return score


def _record_answer(actor: Actor, survey: Survey) -> None:
    audit.record(
        actor,
        "survey.answered",
        subject_type="survey",
        subject_id=survey.id,
        customer_id=survey.customer_id,
        after={"key": survey.key, "score": survey.score},
    )


@dataclass(frozen=True)
class RatingPrompt:
    """What the confirmation page asks about: one self-serve action of this subscriber."""

    event_id: int
    action: str
    score: int | None


def _own_rateable_event(customer: Customer, event_id: object) -> AuditEvent:
    event = get_or_404(AuditEvent, event_id)
    if (
        event.customer_id != customer.id
        or event.actor_type is not ActorType.CUSTOMER
        or event.actor_id != customer.id
        or event.outcome is not Outcome.SUCCESS
        or event.action not in RATEABLE_ACTIONS
    ):
        raise NotFound()
    return event


def latest_rateable_event(customer: Customer) -> int | None:
    """The subscriber's own last self-serve change: what a confirmation page asks them to rate."""
    return db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.customer_id == customer.id,
            AuditEvent.actor_type == ActorType.CUSTOMER,
            AuditEvent.outcome == Outcome.SUCCESS,
            AuditEvent.action.in_(RATEABLE_ACTIONS),
            AuditEvent.occurred_at >= utcnow() - RATING_WINDOW,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def rating_prompt(customer: Customer, event_id: object) -> RatingPrompt | None:
    """The rating a confirmation page offers, or None when the event is not the subscriber's own
    recent self-serve action."""
    try:
        event = _own_rateable_event(customer, event_id)
    except NotFound:
        return None
    if event.occurred_at < utcnow() - RATING_WINDOW:
        return None
    score = db.session.scalar(select(Survey.score).where(Survey.key == f"event:{event.id}"))
    return RatingPrompt(event.id, event.action, score)


@transactional
def rate_action(actor: Actor, customer: Customer, event_id: object, score: object, comment: str | None) -> Survey:
    """CSAT of a self-serve action, from its confirmation page."""
    score = _check_score(SurveyKind.CSAT, score)
    event = _own_rateable_event(customer, event_id)
    survey = _upsert_answer(
        {
            "key": f"event:{event.id}",
            "kind": SurveyKind.CSAT.value,
            "customer_id": customer.id,
            "audit_event_id": event.id,
            "self_serve": True,
            "channel": "portal",
            "action": event.action,
            "topic": handoff.topic_of_action(event.action),
            "interaction_at": event.occurred_at,
        },
        score,
        _clean_comment(comment),
    )
    _record_answer(actor, survey)
    return survey


def _case_question(case: Case) -> dict:
    return {
        "key": f"case:{case.id}",
        "kind": SurveyKind.CSAT.value,
        "customer_id": case.customer_id,
        "case_id": case.id,
        "agent_id": case.assignee_id,
        "self_serve": False,
        "channel": case.channel.value,
        "topic": case.issue_type,
        "interaction_at": case.resolved_at or utcnow(),
    }


def case_rating(case: Case) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.key == f"case:{case.id}"))


@transactional
def rate_case(actor: Actor, customer: Customer, case: Case, score: object, comment: str | None) -> Survey:
    """CSAT of a case, from the subscriber's case page (the same question the email asks)."""
    score = _check_score(SurveyKind.CSAT, score)
    if case.customer_id != customer.id:
        raise NotFound()
    # A case asked about once is still rateable after the customer reopens it.
    if case.status is not CaseStatus.RESOLVED and case_rating(case) is None:
        raise CaseNotResolved()
    survey = _upsert_answer(_case_question(case), score, _clean_comment(comment))
    _record_answer(actor, survey)
    return survey


def _usable_token(token: str):
    return and_(Survey.token_hash == tokens.digest(token), Survey.token_expires_at > utcnow())


def check_link(token: str) -> Survey:
    """The survey a one-tap link answers, without answering it (the GET)."""
    survey = db.session.scalar(select(Survey).where(_usable_token(token))) if token else None
    if survey is None:
        raise InvalidSurveyLink()
    return survey


@transactional
def answer_link(token: str, score: object, comment: str | None, request_id: str | None = None) -> Survey:
    """The POST of a one-tap link: the token answers its own survey, again and again if need be."""
    survey = check_link(token)
    score = _check_score(survey.kind, score)
    survey = _upsert_answer(
        {
            "key": survey.key,
            "kind": survey.kind.value,
            "customer_id": survey.customer_id,
            "interaction_at": survey.interaction_at,
        },
        score,
        _clean_comment(comment),
    )
    customer = db.session.get(Customer, survey.customer_id)
    _record_answer(Actor(ActorType.LINK, customer.id, customer.email, request_id), survey)
    return survey


# --- inviting ------------------------------------------------------------------------------------


def _invite(question: dict, customer: Customer) -> str | None:
    """Add the question with a fresh link token unless it exists already (whoever got there first
    sent it): returns the token when this call created it."""
    token = tokens.new_secret()
    now = utcnow()
    statement = (
        _insert()
        .values(
            **question,
            token_hash=tokens.digest(token),
            token_expires_at=now + timedelta(days=current_app.config["SURVEY_LINK_DAYS"]),
            invited_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Survey.key])
        .returning(Survey.id)
    )
    return token if db.session.execute(statement).scalar() is not None else None


def survey_url(token: str, score: int) -> str:
    return public_url("surveys.answer", token=token, score=score)


def invite_for_case(actor: Actor, case: Case) -> bool:
    """In the caller's unit of work (resolving the case): email the CSAT survey of this case,
    once. A case without a customer has nobody to ask."""
    if case.customer_id is None:
        return False
    customer = db.session.get(Customer, case.customer_id)
    token = _invite(_case_question(case), customer)
    if token is None:
        return False
    notifications.queue_to_customer(
        "survey_case",
        customer,
        case_id=case.id,
        subject_line=case.subject,
        links=[(score, survey_url(token, score)) for score in CSAT_SCALE],
        case_url=public_url("account.case", case_id=case.id),
    )
    audit.record(
        actor, "survey.sent", subject_type="case", subject_id=case.id, customer_id=customer.id, after={"kind": "csat"}
    )
    return True


def _due_for_nps(milestone: int, limit: int) -> list[int]:
    now = utcnow()
    started = func.min(Subscription.created_at)
    other = aliased(Subscription)
    live = (
        select(other.id).where(other.customer_id == Customer.id, other.status != SubscriptionStatus.CANCELLED).exists()
    )
    asked = (
        select(Survey.id)
        .where(Survey.customer_id == Customer.id, Survey.kind == SurveyKind.NPS, Survey.milestone == milestone)
        .exists()
    )
    return list(
        db.session.scalars(
            select(Customer.id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .where(live, ~asked)
            .group_by(Customer.id)
            .having(
                started <= now - timedelta(days=milestone),
                started > now - timedelta(days=milestone + NPS_WINDOW_DAYS),
            )
            .order_by(Customer.id)
            .limit(limit)
        )
    )


def send_nps(batch_size: int = 200) -> int:
    """Job: ask each subscriber for NPS at 30 and at 90 days, once each, in their language.

    Each invitation is its own transaction, and the insert of its unique key is the claim: a
    second worker waits on that key and then finds it taken, so nobody is asked twice."""
    sent = 0
    for milestone in NPS_MILESTONES:
        for customer_id in _due_for_nps(milestone, batch_size):
            with unit_of_work(outermost=True):
                customer = db.session.get(Customer, customer_id)
                token = _invite(
                    {
                        "key": f"nps{milestone}:customer:{customer.id}",
                        "kind": SurveyKind.NPS.value,
                        "milestone": milestone,
                        "customer_id": customer.id,
                        "interaction_at": utcnow(),
                    },
                    customer,
                )
                if token is None:
                    continue
                notifications.queue_to_customer(
                    "survey_nps", customer, links=[(score, survey_url(token, score)) for score in NPS_SCALE]
                )
                audit.record(
                    Actor(ActorType.JOB, None, "nps-surveys"),
                    "survey.sent",
                    subject_type="customer",
                    subject_id=customer.id,
                    customer_id=customer.id,
                    after={"kind": "nps", "milestone": milestone},
                )
                sent += 1
    return sent
