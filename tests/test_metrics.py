"""Service metrics from known events: exact figures, edge cases included (docs/METRICS.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from portal.extensions import db
from portal.models import (
    AttemptOutcome,
    AuditEvent,
    CancelAttempt,
    Case,
    CaseMessage,
    Channel,
    CreditRequest,
    StaffRole,
    Survey,
)
from portal.services import metrics
from tests import factories

JANUARY = metrics.Range(date(2030, 1, 1), date(2030, 1, 31))
KEYS = {
    "csat",
    "nps_30",
    "nps_90",
    "first_response",
    "repeat_contact_rate",
    "containment",
    "cancel_reasons",
    "save_rate_30d",
    "credits",
}


def at(day: int, hour: int = 10, minute: int = 0, month: int = 1) -> datetime:
    """UTC; Madrid is UTC+1 in winter, so 8:00 UTC is 9:00 at the shop."""
    return datetime(2030, month, day, hour, minute, tzinfo=UTC)


def _rating(customer, n: int, score: int | None, **fields) -> Survey:
    survey = Survey(key=f"t:{n}", customer_id=customer.id, score=score, **fields)
    db.session.add(survey)
    return survey


def test_no_ratings_and_no_events_give_empty_figures_not_errors(ctx):
    figures = metrics.all_figures(JANUARY)
    assert set(figures) == KEYS
    assert figures["csat"]["ratings"] == 0 and figures["csat"]["csat_percent"] is None
    assert figures["csat"]["response_rate"] is None
    assert figures["nps_30"]["nps"] is None and figures["first_response"]["median_seconds"] is None
    assert figures["repeat_contact_rate"]["rate"] is None and figures["containment"]["rate"] is None


def test_csat_share_response_rate_and_splits(ctx):
    customer = factories.customer()
    agent = factories.staff(StaffRole.AGENT)
    agent.name = "Ana"
    events = [
        AuditEvent(
            actor_type="customer",
            actor_id=customer.id,
            customer_id=customer.id,
            action=action,
            occurred_at=at(day),
        )
        for day, action in ((3, "subscription.skip"), (4, "subscription.skip"), (5, "subscription.pause"), (6, "x.y"))
    ]
    db.session.add_all(events)
    db.session.flush()
    common = {"kind": "csat"}
    _rating(
        customer,
        1,
        5,
        self_serve=True,
        channel="portal",
        action="subscription.skip",
        topic="subscription",
        audit_event_id=events[0].id,
        interaction_at=at(3),
        **common,
    )
    _rating(
        customer,
        2,
        3,
        self_serve=True,
        channel="portal",
        action="subscription.pause",
        topic="subscription",
        audit_event_id=events[2].id,
        interaction_at=at(5),
        **common,
    )
    case = Case(customer_id=customer.id, channel=Channel.SMS, issue_type="delivery", subject="s", snapshot={})
    db.session.add(case)
    db.session.flush()
    _rating(
        customer,
        3,
        4,
        case_id=case.id,
        agent_id=agent.id,
        channel="sms",
        topic="delivery",
        interaction_at=at(7),
        invited_at=at(7),
        **common,
    )
    _rating(
        customer,
        4,
        None,
        case_id=case.id,
        agent_id=agent.id,
        channel="sms",
        topic="delivery",
        interaction_at=at(8),
        invited_at=at(8),
        **common,
    )
    # Outside the range: not counted.
    _rating(
        customer,
        5,
        1,
        self_serve=True,
        channel="portal",
        action="subscription.skip",
        interaction_at=at(1, month=2),
        **common,
    )
    db.session.commit()

    figures = metrics.csat(JANUARY)
    assert (figures["ratings"], figures["satisfied"], figures["csat_percent"]) == (3, 2, 66.7)
    # Offered: three rateable self-serve changes and two emailed case surveys.
    assert (figures["offered"], figures["response_rate"]) == (5, 60.0)
    assert figures["self_serve"] == {
        "ratings": 2,
        "satisfied": 1,
        "csat_percent": 50.0,
        "offered": 3,
        "response_rate": 66.7,
    }
    assert figures["agent"]["csat_percent"] == 100.0 and figures["agent"]["response_rate"] == 50.0
    assert figures["by_agent"] == {"Ana": {"ratings": 1, "satisfied": 1, "csat_percent": 100.0}}
    assert set(figures["by_channel"]) == {"portal", "sms"}
    assert figures["by_action"]["subscription.pause"]["csat_percent"] == 0.0
    assert figures["by_topic"]["delivery"]["ratings"] == 1


def test_a_survey_answered_twice_counts_once(app, ctx):
    from portal.services import surveys
    from portal.services.actors import Actor

    customer = factories.customer()
    event = AuditEvent(actor_type="customer", actor_id=customer.id, customer_id=customer.id, action="subscription.skip")
    db.session.add(event)
    db.session.commit()
    surveys.rate_action(Actor.for_customer(customer), customer, event.id, 2, None)
    surveys.rate_action(Actor.for_customer(customer), customer, event.id, 5, "better now")
    today = event.occurred_at.date()
    figures = metrics.csat(metrics.Range(today - timedelta(days=1), today + timedelta(days=1)))
    assert (figures["ratings"], figures["satisfied"], figures["offered"]) == (1, 1, 1)


def test_nps_promoters_minus_detractors_per_milestone(ctx):
    customer = factories.customer()
    for n, score in enumerate([10, 9, 8, 6, 0, None]):
        _rating(customer, n, score, kind="nps", milestone=30, interaction_at=at(10), invited_at=at(10))
    _rating(customer, 9, 10, kind="nps", milestone=90, interaction_at=at(10), invited_at=at(10))
    db.session.commit()
    assert metrics.nps(JANUARY, 30) == {
        "sent": 6,
        "responses": 5,
        "promoters": 2,
        "passives": 1,
        "detractors": 2,
        "nps": 0.0,
    }
    assert metrics.nps(JANUARY, 90)["nps"] == 100.0


def _case(customer, created: datetime, topic="delivery", channel=Channel.PORTAL, first_response=None) -> Case:
    case = Case(
        customer_id=customer.id if customer else None,
        channel=channel,
        issue_type=topic,
        subject="s",
        snapshot={},
        created_at=created,
        first_response_at=first_response,
    )
    db.session.add(case)
    db.session.flush()
    return case


def test_first_response_in_calendar_and_business_hours_across_a_weekend_and_outside_hours(ctx):
    customer = factories.customer()
    # Friday 4 January 2030, 16:00 at the shop -> Monday 7 January, 10:00: 1 + 1 business hours.
    _case(customer, at(4, 15), first_response=at(7, 9))
    # Saturday 5 January, outside hours -> Monday 7 January 9:30: half an hour of business time.
    _case(customer, at(5, 11), first_response=at(7, 8, 30))
    # Tuesday 8 January 10:00 -> 11:00: one hour.
    _case(customer, at(8, 9), first_response=at(8, 10))
    _case(customer, at(9, 9))  # not answered yet
    db.session.commit()
    figures = metrics.first_response(JANUARY)
    assert (figures["cases"], figures["responded"]) == (4, 3)
    calendar = sorted([66 * 3600, (45 * 60 + 30) * 60, 3600])
    assert figures["median_seconds"] == calendar[1] and figures["p90_seconds"] == calendar[2]
    assert figures["median_business_seconds"] == 3600 and figures["p90_business_seconds"] == 7200


def test_resolution_time_and_reopen_rate(ctx):
    customer = factories.customer()
    staff = factories.staff()
    first, second = _case(customer, at(3, 9)), _case(customer, at(3, 9), topic="payment")
    for case in (first, second):
        db.session.add(
            AuditEvent(
                actor_type="staff",
                actor_id=staff.id,
                action="case.status_changed",
                subject_type="case",
                subject_id=case.id,
                after={"status": "resolved"},
                occurred_at=at(3, 12),
            )
        )
    db.session.add(
        CaseMessage(case_id=first.id, author="customer", channel=Channel.PORTAL, body="again", created_at=at(4, 9))
    )
    db.session.commit()
    figures = metrics.first_response(JANUARY)
    assert figures["resolved"] == 2 and figures["median_resolution_seconds"] == 3 * 3600
    assert (figures["reopened"], figures["reopen_rate"]) == (1, 50.0)


def test_a_repeat_across_channels_within_seven_days(ctx):
    customer, other = factories.customer(), factories.customer()
    _case(customer, at(3), channel=Channel.EMAIL)
    _case(customer, at(9), channel=Channel.SOCIAL)  # the same issue six days later, elsewhere
    _case(customer, at(20), channel=Channel.SMS)  # eleven days later: a new contact
    _case(other, at(3), topic="payment")
    _case(other, at(4), topic="delivery")  # another topic: not a repeat
    _case(None, at(5))  # unmatched sender: nobody to repeat
    db.session.commit()
    assert metrics.repeat_contact_rate(JANUARY) == {"cases": 5, "repeated": 1, "rate": 20.0}


def test_containment_counts_who_tried_and_did_not_hand_off_within_seven_days(ctx):
    stayed, handed, late = factories.customer(), factories.customer(), factories.customer()
    for customer in (stayed, handed, late):
        db.session.add(
            AuditEvent(
                actor_type="customer",
                actor_id=customer.id,
                customer_id=customer.id,
                action="subscription.skip",
                outcome="failure",
                occurred_at=at(10),
            )
        )
    _case(handed, at(12))
    _case(late, at(18))
    db.session.commit()
    assert metrics.containment(JANUARY) == {"attempted": 3, "handed_off": 1, "contained": 2, "rate": 66.7}


def _attempt(customer, sub, *, reason, outcome, tenure, offers=(), taken=None, verified=None, day=5, month=1):
    db.session.add(
        CancelAttempt(
            customer_id=customer.id,
            subscription_id=sub.id,
            reason_code=reason,
            outcome=outcome,
            tenure_days=tenure,
            offers_shown=[{"type": o} for o in offers],
            offer_taken=taken,
            save_verified=verified,
            plan={"items": [[sub.items[0].variant.sku, 1]]},
            created_at=at(day, month=month),
        )
    )


def test_cancel_reasons_by_tenure_and_product_and_the_30_day_save_rate(ctx):
    customer = factories.customer()
    sub = factories.subscription(customer)
    product = sub.items[0].variant.product.name
    _attempt(customer, sub, reason="too_expensive", outcome=AttemptOutcome.CANCELLED, tenure=10, offers=["discount"])
    _attempt(customer, sub, reason="too_expensive", outcome=AttemptOutcome.CANCELLED, tenure=31)
    _attempt(customer, sub, reason="customer_service", outcome=AttemptOutcome.CANCELLED, tenure=400)
    # Saved and still there at 30 days; saved but gone before 30 days; saved too recently to know.
    _attempt(
        customer,
        sub,
        reason="too_expensive",
        outcome=AttemptOutcome.SAVED,
        tenure=100,
        offers=["discount", "frequency"],
        taken="discount",
        verified=True,
    )
    _attempt(
        customer,
        sub,
        reason="too_expensive",
        outcome=AttemptOutcome.SAVED,
        tenure=100,
        offers=["discount"],
        taken="discount",
        verified=False,
    )
    _attempt(
        customer,
        sub,
        reason="moving",
        outcome=AttemptOutcome.SAVED,
        tenure=100,
        offers=["pause"],
        taken="pause",
        verified=None,
    )
    db.session.commit()

    reasons = metrics.cancel_reasons(JANUARY)
    assert reasons["cancellations"] == 3
    assert reasons["by_reason"] == [
        {"key": "too_expensive", "count": 2, "share": 66.7},
        {"key": "customer_service", "count": 1, "share": 33.3},
    ]
    assert reasons["by_tenure"] == {
        "0-30": {"too_expensive": 1},
        "31-90": {"too_expensive": 1},
        "91-365": {},
        "365+": {"customer_service": 1},
    }
    assert reasons["by_product"] == {product: {"too_expensive": 2, "customer_service": 1}}
    assert reasons["by_month"] == {"2030-01": {"too_expensive": 2, "customer_service": 1}}

    saves = metrics.save_rate_30d(JANUARY)
    # Known outcomes: three cancellations and two checked saves; one of those saves held.
    assert (saves["attempts"], saves["known"], saves["saved_30d"], saves["rate"]) == (6, 5, 1, 20.0)
    assert saves["by_reason"]["too_expensive"]["rate"] == 25.0
    assert saves["by_offer"]["discount"] == {
        "attempts": 3,
        "offers_shown": 3,
        "taken": 2,
        "saved_30d": 1,
        "known": 3,
        "rate": 33.3,
    }
    assert saves["by_reason"]["moving"]["rate"] is None


def test_credits_per_agent_and_approval_turnaround(ctx):
    customer = factories.customer()
    agent, manager = factories.staff(StaffRole.AGENT), factories.staff(StaffRole.MANAGER)
    agent.name = "Ana"
    case = _case(customer, at(2))
    rows = [
        ("approved", 500, None, None),
        ("approved", 3000, at(3, 12), manager.id),
        ("rejected", 4000, at(3, 14), manager.id),
        ("pending", 2500, None, None),
    ]
    for status, amount, decided, by in rows:
        db.session.add(
            CreditRequest(
                case_id=case.id,
                customer_id=customer.id,
                requested_by=agent.id,
                amount_minor=amount,
                currency="EUR",
                reason="r",
                status=status,
                decided_at=decided,
                decided_by=by,
                created_at=at(3, 10),
            )
        )
    db.session.commit()
    figures = metrics.credits(JANUARY)
    assert figures["by_agent"] == {
        "Ana": {"given_minor": 3500, "pending_minor": 2500, "rejected_minor": 4000, "requests": 4}
    }
    assert (figures["approvals"], figures["approved"], figures["median_approval_seconds"]) == (2, 1, 3 * 3600)


def test_flask_metrics_prints_one_json_object_with_the_listed_keys(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["metrics", "--from", "2030-01-01", "--to", "2030-01-31", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == KEYS
    assert runner.invoke(args=["metrics", "--from", "2030-02-01", "--to", "2030-01-01"]).exit_code != 0
    assert runner.invoke(args=["metrics", "--from", "2030-02-30", "--to", "2030-03-01"]).exit_code != 0


def _staff_client(app, client, role):
    from tests.helpers import sign_in_staff

    with app.app_context():
        factories.staff(role, f"{role.value}@staff.example")
    sign_in_staff(client, f"{role.value}@staff.example")
    return client


def test_the_report_page_is_for_managers_with_a_chart_and_a_table_per_figure(app, client):
    with app.app_context():
        customer = factories.customer()
        sub = factories.subscription(customer)
        _attempt(customer, sub, reason="customer_service", outcome=AttemptOutcome.CANCELLED, tenure=5)
        db.session.commit()
    manager = _staff_client(app, client, StaffRole.MANAGER)
    page = manager.get("/console/reports/service?start=2030-01-01&end=2030-01-31&split=topic")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2 and page.text.count("<table") == page.text.count("<h2 id=")
    # Reasons, topics and money in words and the shop's currency, never as codes or minor units.
    assert "<script" not in page.text and "I was not happy with customer service" in page.text
    assert "customer_service" not in page.text and "minor units" not in page.text
    assert "Credits per agent (EUR)" in page.text
    csv_file = manager.get("/console/reports/service/cancel_reasons.csv?start=2030-01-01&end=2030-01-31")
    assert csv_file.mimetype == "text/csv"
    assert csv_file.text.splitlines() == [
        "Reason,Cancellations,Share %",
        "I was not happy with customer service,1,100.0",
    ]
    for query in (
        "start=2030-02-30",
        "start=2030-02-01&end=2030-01-01",
        "start=1900-01-01&end=2030-01-01",
        "split=x",
        "start=9999-12-31",
        "end=0001-01-01",
    ):
        assert manager.get(f"/console/reports/service?{query}").status_code == 400
    assert manager.get("/console/reports/service/nope.csv").status_code == 404


def test_cancellations_split_by_month_tenure_and_product_each_with_its_chart(app, client):
    with app.app_context():
        customer = factories.customer()
        sub = factories.subscription(customer)
        product = sub.items[0].variant.product.name
        for reason, tenure, month in (("too_expensive", 10, 1), ("too_expensive", 200, 3), ("moving", 40, 3)):
            _attempt(customer, sub, reason=reason, outcome=AttemptOutcome.CANCELLED, tenure=tenure, month=month)
        db.session.commit()
    manager = _staff_client(app, client, StaffRole.MANAGER)
    quarter = "start=2030-01-01&end=2030-03-31"

    def rows(split: str) -> list[str]:
        csv_file = manager.get(f"/console/reports/service/cancel_split.csv?{quarter}&cancel_split={split}")
        return csv_file.text.splitlines()

    expensive, moving = "It costs too much", "I am moving or away for a while"
    # The month without a cancellation is a row of zeros, so the trend does not skip it.
    assert rows("month") == [
        f"Month,Cancellations,{expensive},{moving}",
        "2030-01,1,1,0",
        "2030-02,0,0,0",
        "2030-03,2,1,1",
    ]
    assert rows("tenure") == [
        f"Tenure (days),Cancellations,{expensive},{moving}",
        "0-30,1,1,0",
        "31-90,1,0,1",
        "91-365,1,1,0",
        "365+,0,0,0",
    ]
    assert rows("product") == [f"Product,Cancellations,{expensive},{moving}", f"{product},3,2,1"]
    trend = manager.get(f"/console/reports/service?{quarter}").text
    # The cancellations trend is drawn; CSAT, with no ratings, has no line to draw.
    assert "Cancellations by Month" in trend and trend.count("<polyline") == 1
    by_product = manager.get(f"/console/reports/service?{quarter}&cancel_split=product").text
    assert f"<title>{product}: 3</title>" in by_product
    assert manager.get(f"/console/reports/service?{quarter}&cancel_split=reason").status_code == 400


def test_the_report_splits_csat_self_serve_against_agent_and_shows_approval_turnaround(app, client):
    with app.app_context():
        customer = factories.customer()
        agent, manager = factories.staff(StaffRole.AGENT), factories.staff(StaffRole.MANAGER)
        case = _case(customer, at(2))
        for n, (score, fields) in enumerate(
            [(5, {"self_serve": True}), (2, {"self_serve": True}), (4, {"agent_id": agent.id, "case_id": case.id})]
        ):
            _rating(customer, n, score, kind="csat", channel="portal", interaction_at=at(3), **fields)
        db.session.add(
            CreditRequest(
                case_id=case.id,
                customer_id=customer.id,
                requested_by=agent.id,
                amount_minor=1500,
                currency="EUR",
                reason="r",
                status="approved",
                decided_at=at(3, 13, 30),
                decided_by=manager.id,
                created_at=at(3, 10),
            )
        )
        db.session.commit()
    boss = _staff_client(app, client, StaffRole.MANAGER)
    query = "start=2030-01-01&end=2030-01-31&split=interaction"
    assert boss.get(f"/console/reports/service/csat.csv?{query}").text.splitlines() == [
        "Self-serve or agent,CSAT %,Ratings,Rated 4-5",
        "Self-serve,50.0,2,1",
        "Agent,100.0,1,1",
        "All,66.7,3,2",
    ]
    assert boss.get(f"/console/reports/service/approvals.csv?{query}").text.splitlines() == [
        "Figure,Value",
        "Requests decided,1",
        "Approved,1",
        "Median time to decide (hours),3.5",
    ]


def test_agents_cannot_see_the_report(app, client):
    agent = _staff_client(app, client, StaffRole.AGENT)
    assert agent.get("/console/reports/service").status_code == 403
    assert agent.get("/console/reports/service/csat.csv").status_code == 403
