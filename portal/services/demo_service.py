"""A few months of service history for the demo shop, so every chart of the service report has
something to show: self-serve changes and their ratings, cases on every channel with replies,
resolutions and ratings, NPS answers, cancel attempts with offers and 30-day checks, credits.

Written straight as the rows those events leave (dated in the past), from a fixed seed, once."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
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
    CaseStatus,
    Channel,
    CreditRequest,
    CreditStatus,
    Customer,
    StaffUser,
    Survey,
    SurveyKind,
)
from portal.services.clock import today

DAYS = 120
SELF_SERVE = [
    "subscription.skip",
    "subscription.pause",
    "subscription.swap",
    "subscription.frequency",
    "subscription.address",
    "payment.card_added",
]
CHANNELS = [Channel.PORTAL, Channel.EMAIL, Channel.SMS, Channel.SOCIAL, Channel.CHAT]
TOPICS = ["delivery", "payment", "subscription", "cancel", "other"]
REASONS = ["too_expensive", "too_much", "not_using", "customer_service", "switching", "moving"]
OFFERS = {
    "too_expensive": "discount",
    "too_much": "frequency",
    "not_using": "pause",
    "moving": "pause",
    "switching": "discount",
    "customer_service": "talk",
}


def load(customers: list[Customer]) -> None:
    """In the caller's unit of work; does nothing when the history is there already."""
    if db.session.scalar(select(Survey.id).where(Survey.key.like("demo:%")).limit(1)) is not None:
        return
    agents = list(db.session.scalars(select(StaffUser).order_by(StaffUser.id)))
    zone = ZoneInfo(current_app.config["MERCHANT_TIMEZONE"])
    seed = random.Random(13)
    start = today() - timedelta(days=DAYS)
    for offset in range(DAYS):
        moment = datetime.combine(start + timedelta(days=offset), time(9), zone) + timedelta(
            minutes=seed.randrange(0, 600)
        )
        customer = customers[offset % len(customers)]
        # Later months go a little better, so the trend has a direction.
        good = 0.5 + 0.3 * offset / DAYS
        _self_serve(seed, offset, customer, moment, good)
        if offset % 3 == 0:
            _case(seed, offset, customer, moment, agents, good)
        if offset % 5 == 0:
            _nps(seed, offset, customer, moment, good)
        if offset % 4 == 1 and customer.subscriptions:
            _attempt(seed, offset, customer, moment)


def _score(seed: random.Random, good: float, scale: range) -> int:
    high = seed.random() < good
    top = scale[-1]
    return seed.choice([top, top - 1]) if high else seed.randrange(scale[0], top - 1)


def _self_serve(seed, offset, customer, moment, good) -> None:
    action = SELF_SERVE[offset % len(SELF_SERVE)]
    event = AuditEvent(
        actor_type=ActorType.CUSTOMER,
        actor_id=customer.id,
        actor_label=customer.email,
        action=action,
        customer_id=customer.id,
        occurred_at=moment,
    )
    db.session.add(event)
    db.session.flush()
    if seed.random() < 0.6:
        db.session.add(
            Survey(
                key=f"demo:event:{event.id}",
                kind=SurveyKind.CSAT,
                customer_id=customer.id,
                audit_event_id=event.id,
                self_serve=True,
                channel="portal",
                action=action,
                topic="payment" if action.startswith("payment") else "subscription",
                interaction_at=moment,
                score=_score(seed, good, range(1, 6)),
                answered_at=moment,
            )
        )


def _case(seed, offset, customer, moment, agents, good) -> None:
    channel = CHANNELS[offset % len(CHANNELS)]
    topic = TOPICS[(offset // 3) % len(TOPICS)]
    agent = agents[offset % len(agents)] if agents else None
    answered = moment + timedelta(hours=seed.choice([1, 2, 3, 5, 8, 20, 30]))
    resolved = answered + timedelta(hours=seed.choice([1, 4, 24]))
    case = Case(
        customer_id=customer.id,
        sender=customer.email,
        channel=channel,
        issue_type=topic,
        subject="Question about my subscription",
        snapshot={"customer": {"name": customer.name}},
        status=CaseStatus.RESOLVED,
        assignee_id=agent.id if agent else None,
        created_at=moment,
        first_response_at=answered,
        resolved_at=resolved,
        updated_at=resolved,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add_all(
        [
            CaseMessage(
                case_id=case.id, author="customer", channel=channel, body="Could you help me?", created_at=moment
            ),
            CaseMessage(
                case_id=case.id,
                author="staff",
                staff_id=agent.id if agent else None,
                channel=channel,
                body="Of course, it is done.",
                created_at=answered,
            ),
            AuditEvent(
                actor_type=ActorType.STAFF,
                actor_id=agent.id if agent else None,
                action="case.status_changed",
                subject_type="case",
                subject_id=case.id,
                customer_id=customer.id,
                occurred_at=resolved,
                before={"status": "waiting"},
                after={"status": "resolved"},
            ),
        ]
    )
    answered_survey = seed.random() < 0.5
    db.session.add(
        Survey(
            key=f"demo:case:{case.id}",
            kind=SurveyKind.CSAT,
            customer_id=customer.id,
            case_id=case.id,
            agent_id=case.assignee_id,
            channel=channel.value,
            topic=topic,
            interaction_at=resolved,
            invited_at=resolved,
            score=_score(seed, good, range(1, 6)) if answered_survey else None,
            answered_at=resolved if answered_survey else None,
        )
    )
    if agent is not None and offset % 9 == 0:
        over_limit = offset % 18 == 0
        db.session.add(
            CreditRequest(
                case_id=case.id,
                customer_id=customer.id,
                requested_by=agent.id,
                amount_minor=3000 if over_limit else 500,
                currency=customer.subscriptions[0].currency if customer.subscriptions else "EUR",
                reason="Late delivery",
                status=CreditStatus.APPROVED,
                created_at=resolved,
                decided_at=resolved + timedelta(hours=3) if over_limit else None,
                decided_by=agents[-1].id if over_limit else None,
            )
        )


def _nps(seed, offset, customer, moment, good) -> None:
    milestone = 30 if offset % 10 == 0 else 90
    answered = seed.random() < 0.7
    db.session.add(
        Survey(
            key=f"demo:nps{milestone}:{offset}",
            kind=SurveyKind.NPS,
            milestone=milestone,
            customer_id=customer.id,
            interaction_at=moment,
            invited_at=moment,
            score=_score(seed, good, range(0, 11)) if answered else None,
            answered_at=moment if answered else None,
        )
    )


def _attempt(seed, offset, customer, moment) -> None:
    subscription = customer.subscriptions[0]
    reason = REASONS[(offset // 4) % len(REASONS)]
    saved = seed.random() < 0.4
    offer = OFFERS[reason]
    db.session.add(
        CancelAttempt(
            customer_id=customer.id,
            subscription_id=subscription.id,
            reason_code=reason,
            offers_shown=[{"type": offer}],
            offer_taken=offer if saved else None,
            outcome=AttemptOutcome.SAVED if saved else AttemptOutcome.CANCELLED,
            finished_at=moment,
            tenure_days=seed.choice([12, 45, 80, 150, 300, 500]),
            plan={"items": [[subscription.items[0].variant.sku, 1]]},
            save_verified=(seed.random() < 0.7) if saved else None,
            created_at=moment,
            updated_at=moment,
        )
    )
