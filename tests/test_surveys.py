"""Surveys: one-tap CSAT on self-serve confirmations, CSAT by email when a case is resolved, NPS at
30 and 90 days; each rating is tied to its interaction and never counted twice."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Channel,
    Customer,
    Order,
    OutboxEmail,
    StaffRole,
    StaffUser,
    Subscription,
    Survey,
    utcnow,
)
from portal.services import handoff, inbox, notifications, subscriptions, surveys
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, run_action, run_together, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def sub(app):
    with app.app_context():
        customer = factories.customer("rater@example.com", name="Rita Rater", locale="es")
        made = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        return made.id


@pytest.fixture
def client_in(app, client, sub):
    sign_in_customer(app, client, "rater@example.com")
    return client


def _skip_next(app, client, sub):
    with app.app_context():
        order_id = db.session.scalar(
            select(Order.id).where(Order.subscription_id == sub).order_by(Order.scheduled_for).limit(1)
        )
    _, confirm = run_action(client, f"/subscriptions/{sub}/orders/{order_id}/skip")
    return confirm


def _surveys(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            select(Survey.key, Survey.score, Survey.comment, Survey.action, Survey.self_serve).order_by(Survey.id)
        ).all()


def test_the_confirmation_of_a_self_serve_change_asks_one_tap_and_a_second_answer_changes_it(app, client_in, sub):
    done = _skip_next(app, client_in, sub)
    assert done.status_code == 302 and "rated=" in done.location
    page = client_in.get(done.location)
    event_id = int(re.search(r"rated=(\d+)", done.location).group(1))
    action = f"/feedback/{event_id}"
    assert page.text.count(f'action="{action}"') == 5  # one small form per rating
    token = csrf_token(page.text)

    first = client_in.post(action, data={"csrf_token": token, "score": "5"})
    assert first.status_code == 302
    assert _surveys(app) == [(f"event:{event_id}", 5, None, "subscription.skip", True)]
    # A comment on the follow-up page, then a change of mind: still one rating, the comment kept.
    client_in.post(action, data={"csrf_token": token, "score": "4", "comment": "Easy"})
    client_in.post(action, data={"csrf_token": token, "score": "2"})
    assert _surveys(app) == [(f"event:{event_id}", 2, "Easy", "subscription.skip", True)]
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        assert survey.audit_event_id == event_id and survey.channel == "portal" and survey.topic == "subscription"
        answered = db.session.scalar(select(func.count()).where(AuditEvent.action == "survey.answered"))
        assert answered == 3


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "2147483648"])
def test_a_rating_off_the_scale_is_refused(app, client_in, sub, score):
    done = _skip_next(app, client_in, sub)
    page = client_in.get(done.location)
    event_id = re.search(r"rated=(\d+)", done.location).group(1)
    response = client_in.post(f"/feedback/{event_id}", data={"csrf_token": csrf_token(page.text), "score": score})
    assert response.status_code == 400
    assert _surveys(app) == []


def test_only_the_subscribers_own_self_serve_change_can_be_rated(app, client, sub):
    with app.app_context():
        other = factories.customer("other@example.com")
        event = AuditEvent(actor_type="customer", actor_id=other.id, action="subscription.skip", customer_id=other.id)
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    sign_in_customer(app, client, "rater@example.com")
    page = client.get("/")
    assert client.get(f"/feedback/{event_id}").status_code == 404
    response = client.post(f"/feedback/{event_id}", data={"csrf_token": csrf_token(page.text), "score": "5"})
    assert response.status_code == 404
    assert "rating-prompt" not in client.get(f"/?rated={event_id}").text
    assert _surveys(app) == []


def _resolve(app, case_id: int) -> None:
    with app.app_context():
        staff = db.session.scalar(select(StaffUser))
        inbox.set_status(staff, db.session.get(Case, case_id), CaseStatus.RESOLVED)


@pytest.fixture
def resolved_case(app, sub):
    with app.app_context():
        agent = factories.staff(StaffRole.AGENT, "agent@staff.example")
        customer = db.session.scalar(select(Customer).where(Customer.email == "rater@example.com"))
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="delivery", message="Late box", source_page="/"
        )
        inbox.reply(agent, case, "On its way")
        case_id = case.id
    _resolve(app, case_id)
    return case_id


def _survey_links(app) -> list[str]:
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "survey_case"))
        assert email.locale == "es"
        return re.findall(r"http\S+/survey/\S+", email.body_text)


def test_resolving_a_case_emails_signed_one_tap_links_and_a_scanner_records_nothing(app, client, resolved_case):
    links = _survey_links(app)
    assert len(links) == 5 and links[3].endswith("score=4")
    _resolve(app, resolved_case)  # resolved again: asked once only
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "survey_case")) == 1
        survey = db.session.scalar(select(Survey))
        assert survey.case_id == resolved_case and survey.channel == "portal" and survey.topic == "delivery"
        assert survey.agent_id is not None and survey.token_hash not in links[3]

    url = urlsplit(links[3])
    path = f"{url.path}?{url.query}"
    shown = client.get(path)  # what a mail scanner does
    assert shown.status_code == 200 and re.search(r'<input checked[^>]*value="4"', shown.text)
    assert _surveys(app)[0][1] is None
    saved = client.post(url.path, data={"csrf_token": csrf_token(shown.text), "score": "4", "comment": "Bien"})
    assert saved.status_code == 302
    client.post(url.path, data={"csrf_token": csrf_token(shown.text), "score": "3"})
    assert [(key, score, comment) for key, score, comment, *_ in _surveys(app)] == [
        (f"case:{resolved_case}", 3, "Bien")
    ]
    assert client.get("/survey/not-a-token?score=4").status_code == 400
    assert client.post("/survey/not-a-token", data={"score": "4"}).status_code == 400


def test_guessing_survey_tokens_is_rate_limited_per_client(app, client):
    app.config["SURVEY_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get(f"/survey/guess-{attempt}").status_code for attempt in range(4)]
    assert statuses == [400, 400, 400, 429]
    other_client = app.test_client()
    assert other_client.get("/survey/guess", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 400


def test_a_case_still_open_cannot_be_rated(app, client_in, sub):
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        case_id = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="other", message="Hello", source_page="/"
        ).id
    page = client_in.get(f"/cases/{case_id}")
    assert "rating-form" not in page.text
    response = client_in.post(f"/cases/{case_id}/rating", data={"csrf_token": csrf_token(page.text), "score": "5"})
    assert response.status_code == 400 and _surveys(app) == []


def test_the_case_page_shows_the_resolution_and_rates_the_same_question(app, client_in, resolved_case):
    page = client_in.get(f"/cases/{resolved_case}")
    assert "Resuelto" in page.text or "Resolved" in page.text
    assert f'action="/cases/{resolved_case}/rating"' in page.text
    token = csrf_token(page.text)
    assert client_in.post(f"/cases/{resolved_case}/rating", data={"csrf_token": token, "score": "9"}).status_code == 400
    assert client_in.post(f"/cases/{resolved_case}/rating", data={"csrf_token": token, "score": "5"}).status_code == 302
    assert [row[:2] for row in _surveys(app)] == [(f"case:{resolved_case}", 5)]


def _started_days_ago(app, sub, days: int) -> None:
    with app.app_context():
        db.session.get(Subscription, sub).created_at = utcnow() - timedelta(days=days)
        db.session.commit()


def test_nps_is_asked_at_30_and_90_days_once_each_in_the_subscribers_language(app, sub, smtp):
    with app.app_context():
        _started_days_ago(app, sub, 29)
        assert surveys.send_nps() == 0
        _started_days_ago(app, sub, 30)
        assert surveys.send_nps() == 1
        assert surveys.send_nps() == 0
        _started_days_ago(app, sub, 91)
        assert surveys.send_nps() == 1
        assert surveys.send_nps() == 0
        assert notifications.deliver_pending() == 2
        assert [s.milestone for s in db.session.scalars(select(Survey).order_by(Survey.id))] == [30, 90]
    assert [message["Content-Language"] for message in smtp.messages] == ["es", "es"]
    body = smtp.messages[0].get_body(("plain",)).get_content()
    assert len(re.findall(r"/survey/\S+score=\d+", body)) == 11


def test_a_cancelled_subscriber_or_one_long_past_the_milestone_is_not_asked(app, sub):
    with app.app_context():
        _started_days_ago(app, sub, 75)
        assert surveys.send_nps() == 0
        _started_days_ago(app, sub, 30)
        db.session.get(Subscription, sub).status = "cancelled"
        db.session.commit()
        assert surveys.send_nps() == 0


@pytest.mark.postgres
def test_two_workers_send_each_nps_survey_once(app):
    with app.app_context():
        for n in range(6):
            customer = factories.customer(f"nps{n}@example.com")
            made = factories.subscription(customer)
            made.created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    run_together(app, surveys.send_nps, 2)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "survey_nps")) == 6
        assert db.session.scalar(select(func.count()).select_from(Survey)) == 6


@pytest.mark.postgres
def test_racing_ratings_of_one_action_make_one_row(app, sub):
    with app.app_context():
        customer_id = db.session.scalar(select(Customer.id))
        event = AuditEvent(
            actor_type="customer", actor_id=customer_id, action="subscription.skip", customer_id=customer_id
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id

    def rate():
        customer = db.session.get(Customer, customer_id)
        surveys.rate_action(Actor.for_customer(customer), customer, event_id, 4, None)

    run_together(app, rate, 4)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Survey)) == 1


def test_a_case_opened_after_a_failed_step_gets_its_topic(app, client_in, sub):
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        db.session.add(
            AuditEvent(
                actor_type="customer",
                actor_id=customer.id,
                action="address.change",
                customer_id=customer.id,
                outcome="failure",
                error_code="invalid_address",
            )
        )
        db.session.commit()
    page = client_in.get("/help?topic=subscription&from=/address")
    assert re.search(r'<input checked[^>]*value="delivery"', page.text)


def test_agents_set_the_topic_and_link_a_social_handle(app, client, sub):
    with app.app_context():
        factories.staff(StaffRole.AGENT, "agent@staff.example")
    with app.app_context():
        case = inbox.receive(Channel.SOCIAL, "@Rita_R", "Where is my box?", "social:1")
        case_id = case.id
        assert case.customer_id is None and case.issue_type == "other"
    sign_in_staff(client, "agent@staff.example")
    page = client.get(f"/console/cases/{case_id}")
    token = csrf_token(page.text)
    topic = f"/console/cases/{case_id}/topic"
    assert client.post(topic, data={"csrf_token": token, "topic": "nope"}).status_code == 303
    assert client.post(topic, data={"csrf_token": token, "topic": "delivery"}).status_code == 302
    link = f"/console/cases/{case_id}/link-handle"
    missing = client.post(link, data={"csrf_token": token, "email": "no@example.com"})
    assert missing.status_code == 303
    linked = client.post(link, data={"csrf_token": token, "email": "rater@example.com"})
    assert linked.status_code == 302
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "rater@example.com"))
        case = db.session.get(Case, case_id)
        assert customer.social_handle == "@rita_r"
        assert (case.customer_id, case.issue_type) == (customer.id, "delivery")
        later = inbox.receive(Channel.SOCIAL, "@rita_r", "Still nothing", "social:2")
        assert later.customer_id == customer.id
