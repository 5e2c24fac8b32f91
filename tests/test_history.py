"""The subscriber's history in words, only what concerns them; the subscription page's money facts;
link pages in the owner's language; the favicon."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    ActorType,
    AuditEvent,
    CancelReason,
    Customer,
    Outcome,
    StaffRole,
    Subscription,
    SubscriptionStatus,
)
from portal.services import audit, auth, cancellation, credits, handoff, inbox, payments, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, run_action, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def sub(app):
    with app.app_context():
        customer = factories.customer("history@example.com", name="Hilda History", locale="en")
        made = factories.subscription(customer, price_minor=1200, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        return made.id


@pytest.fixture
def signed_in(app, client, sub):
    sign_in_customer(app, client, "history@example.com")
    return client


def _product(app, sub_id: int) -> str:
    with app.app_context():
        return db.session.get(Subscription, sub_id).items[0].variant.product.name


def test_history_says_what_changed_to_which_subscription_and_hides_internal_events(app, signed_in, sub):
    product = _product(app, sub)
    run_action(signed_in, f"/subscriptions/{sub}/reschedule", {"new_date": (TODAY + timedelta(days=20)).isoformat()})
    with app.test_request_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "history@example.com"))
        agent = factories.staff(StaffRole.AGENT, "agent@example.com")
        subscription = db.session.get(Subscription, sub)
        cancellation.start(Actor.for_customer(customer), subscription, "too_expensive", "")
        case = _open_case(customer)
        inbox.note(agent, case, "Sounds unhappy; offer a discount")
        inbox.assign(agent, case, agent.id)
        credits.request_credit(agent, case, 1500, "Late delivery")  # within the limit: given at once
        credits.request_credit(agent, case, 1000, "Goodwill")  # above it: waits for a manager
        internal = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == customer.id)))
    assert {"case.noted", "case.assigned", "case.credit_requested", "cancel.reason_given"} <= internal

    page = signed_in.get("/activity").text
    assert f"Moved the next {product} order from Jan 17, 2030 to Jan 27, 2030" in page
    assert "Support gave you €15.00 credit" in page
    assert "Asked to talk to a person" in page
    for code in ("cancel.", "case.", "too_expensive", "Sounds unhappy", "Goodwill", "€10.00", "Assigned"):
        assert code not in page, code


def _open_case(customer):
    return handoff.open_case(
        Actor.for_customer(customer), customer, issue_type="other", message="Where is my parcel?", source_page="/"
    )


def test_opening_order_now_on_a_paused_subscription_records_nothing(app, signed_in, sub):
    run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "1"})
    with app.app_context():
        assert db.session.get(Subscription, sub).status is SubscriptionStatus.PAUSED
    opened = signed_in.get(f"/subscriptions/{sub}/order_now")
    assert opened.status_code == 422 and "not active" in opened.text
    with app.app_context():
        refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == Outcome.FAILURE)).all()
    assert refusals == []
    assert "Not done" not in signed_in.get("/activity").text


def test_subscription_page_shows_the_discount_in_effect_and_the_credit_balance(app, signed_in, sub):
    page = signed_in.get(f"/subscriptions/{sub}").text
    assert "Discount" not in page and "Credit balance" not in page
    with app.app_context():
        subscription = db.session.get(Subscription, sub)
        subscriptions.apply(Actor.system("test"), subscription, "discount", subscription.version, percent=20, orders=2)
        payments.add_credit(
            Actor.system("test"), db.session.get(Customer, subscription.customer_id), 750, "EUR", "Sorry"
        )
        db.session.commit()
    page = signed_in.get(f"/subscriptions/{sub}").text
    assert "20% off the next 2 orders" in page
    assert "€7.50, used on your next orders before your card is charged" in page


def test_link_pages_speak_the_language_of_the_links_owner(app, client):
    with app.app_context():
        customer = factories.customer("lola@example.com", locale="es")
        url = auth.create_portal_session_url(customer, Actor.system("test"))
    path = url.split("://", 1)[1].split("/", 1)[1]
    english_browser = {"Accept-Language": "en-GB,en"}
    confirm = client.get(f"/{path}", headers=english_browser)
    assert confirm.status_code == 200 and 'lang="es"' in confirm.text
    used = client.post(f"/{path}", data={"csrf_token": csrf_token(confirm.text)}, headers=english_browser)
    assert used.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    again = client.get(f"/{path}", headers=english_browser)
    assert again.status_code == 400 and 'lang="es"' in again.text
    assert "Este enlace de acceso ha caducado o ya se ha usado." in again.text
    unknown = client.get("/login/t/not-a-real-token", headers=english_browser)
    assert unknown.status_code == 400 and 'lang="en"' in unknown.text


def test_favicon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301
    assert client.get(icon.headers["Location"]).status_code == 200
    assert 'rel="icon"' in client.get("/login").text


def test_a_failed_payment_is_in_the_subscribers_history(app, signed_in, sub):
    with app.app_context():
        subscription = db.session.get(Subscription, sub)
        audit.record(
            Actor(ActorType.JOB, None, "renewals"),
            "payment.failed",
            subject_type="order",
            subject_id=subscription.orders[0].id,
            customer_id=subscription.customer_id,
            outcome=Outcome.FAILURE,
            error_code="card_declined",
        )
        db.session.commit()
    page = signed_in.get("/activity").text
    assert "Payment failed" in page and "Tried:" not in page


def test_the_cancel_reason_editor_shows_labels_and_keeps_them(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "boss@example.com")
    admin = app.test_client()
    sign_in_staff(admin, "boss@example.com")
    page = admin.get("/admin/cancellation").text
    assert 'name="r-too_expensive-label_en" type="text" value="It costs too much"' in page
    # The first reason's own form posted as it is: no label retyped.
    fields = {k: v for k, v in form_fields(page, "card").items() if k.startswith("r-too_expensive-")}
    fields["prefix"] = "r-too_expensive"
    assert admin.post("/admin/cancellation", data=fields).status_code == 302
    with app.app_context():
        reason = db.session.scalar(select(CancelReason).where(CancelReason.code == fields["r-too_expensive-code"]))
        assert reason.labels == {"en": "It costs too much", "es": "Cuesta demasiado", "de": "Es ist zu teuer"}
