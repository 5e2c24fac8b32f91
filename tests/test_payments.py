"""Charging against localstripe: once per order, declines and recovery, credits, saved cards."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Customer,
    Order,
    OrderStatus,
    OutboxEmail,
    Payment,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from portal.services import clock, payments, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.conftest import TODAY, csrf_token
from tests.helpers import sign_in_customer

pytestmark = pytest.mark.usefixtures("fixed_today", "localstripe")
GOOD, DECLINE = "4242424242424242", "4000000000000341"


def add_card(customer: Customer, number: str) -> None:
    """What Stripe.js does in the browser: confirm a SetupIntent with the card. Then save it."""
    client = gateway._client()
    payments.ensure_provider_customer(customer)
    intent = client.setup_intents.create(params={"customer": customer.stripe_customer_id, "usage": "off_session"})
    client.setup_intents.confirm(intent.id, params={"payment_method_data": {
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}})
    payments.save_card(Actor.system("test"), customer, intent.id)


def payment_intents(app) -> list:
    with app.app_context():
        return gateway._client().payment_intents.list(params={"limit": 100}).data


@pytest.fixture
def due(app):
    """A subscription whose first order is due today, paying with the given card."""
    def make(number: str = GOOD, price: int = 1200, email: str = "payer@example.com"):
        with app.app_context():
            customer = factories.customer(email, with_card=False)
            sub = factories.subscription(customer, price_minor=price, next_order_date=TODAY)
            subscriptions.roll_forward()
            add_card(db.session.get(Customer, customer.id), number)
            return sub.id
    return make


def _orders(app, sub_id):
    with app.app_context():
        return [(o.scheduled_for, o.status, o.total_minor - o.credit_applied_minor) for o in db.session.scalars(
            select(Order).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for))]


def test_good_card_charges_once(app, due):
    sub_id = due(GOOD)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "run", "renewals"]).output.strip() == "renewals: 1"
    assert runner.invoke(args=["jobs", "run", "renewals"]).output.strip() == "renewals: 0"
    [intent] = payment_intents(app)
    assert (intent.amount, intent.currency, intent.status) == (1200, "eur", "succeeded")
    orders = _orders(app, sub_id)
    assert orders[0][1] is OrderStatus.PAID
    assert [status for _, status, _ in orders[1:]] == [OrderStatus.SCHEDULED] * 3  # topped up
    with app.app_context():
        assert db.session.get(Subscription, sub_id).next_order_date == TODAY + timedelta(weeks=2)
        payment = db.session.scalar(select(Payment))
        assert payment.status is PaymentStatus.SUCCEEDED and payment.stripe_payment_intent_id == intent.id
        assert payment.idempotency_key == f"order-{payment.order_id}-attempt-1"


def test_declined_card_fails_cleanly_and_enters_dunning(app, due, client):
    sub_id = due(DECLINE)
    with app.app_context():
        payments.run_renewals()
        order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
        assert order.failure_code == "card_declined"
        assert order.next_retry_at.date() == (utcnow() + timedelta(days=1)).date()
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "payment_failed"))
        assert "did not go through" in email.subject and "next=%2Fpayment" in email.body_text
        failure = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.failed"))
        assert failure.error_code == "card_declined"
    assert _orders(app, sub_id)[0][1] is OrderStatus.FAILED
    sign_in_customer(app, client, "payer@example.com")
    assert "Your last payment did not go through." in client.get("/").text
    assert "did not go through" in client.get("/payment").text


def test_fix_the_card_and_pay_now(app, due):
    sub_id = due(DECLINE)
    with app.app_context():
        payments.run_renewals()
        customer = db.session.scalar(select(Customer))
        add_card(customer, GOOD)
        [payment] = payments.retry_failed_orders(Actor.for_customer(customer), customer)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.attempt == 2
    assert _orders(app, sub_id)[0][1] is OrderStatus.PAID
    assert sorted(intent.status for intent in payment_intents(app)) == ["requires_payment_method", "succeeded"]


def test_retries_follow_policy_then_the_subscription_pauses(app, due):
    sub_id = due(DECLINE)
    with app.app_context():
        payments.run_renewals()
        for expected_gap in (2, 2):  # retries on days 1, 3 and 5
            order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
            order.next_retry_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            payments.run_renewals()
            order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
            assert order.next_retry_at - (utcnow() - timedelta(seconds=1)) <= timedelta(days=expected_gap, seconds=5)
        order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
        order.next_retry_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        payments.run_renewals()
        order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
        assert order.payment_attempts == 4 and order.next_retry_at is None
        assert db.session.get(Subscription, sub_id).status is SubscriptionStatus.PAUSED
        told = db.session.scalars(select(OutboxEmail.subject).where(OutboxEmail.kind == "subscription_changed")).all()
        assert any("Paused because payments kept failing" in subject for subject in told)
    assert len(payment_intents(app)) == 4


def test_credit_is_applied_to_the_next_charge(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        payments.add_credit(Actor.system("test"), customer, 500, "EUR", "late delivery")
        payments.run_renewals()
        assert payments.credit_balance(customer.id, "EUR") == 0
    [intent] = payment_intents(app)
    assert intent.amount == 700
    assert _orders(app, sub_id)[0][1:] == (OrderStatus.PAID, 700)


def test_credit_covering_the_whole_order_charges_nothing(app, due):
    due(GOOD, price=400)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        payments.add_credit(Actor.system("test"), customer, 1000, "EUR", "goodwill")
        payments.run_renewals()
        assert payments.credit_balance(customer.id, "EUR") == 600
        assert db.session.scalar(select(Order).where(Order.status == OrderStatus.PAID)) is not None
    assert payment_intents(app) == []


def test_worker_killed_after_charging_does_not_charge_again(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        payment = payments._claim()
        payments._charge(payment)  # ... and the worker dies before recording the result
        payment = db.session.get(Payment, payment.id)
        payment.created_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        payments.run_renewals()
    assert len(payment_intents(app)) == 1
    assert _orders(app, sub_id)[0][1] is OrderStatus.PAID


def test_worker_killed_before_charging_charges_once_later(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        payment = payments._claim()  # the worker dies before reaching the provider
        payment.created_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        payments.run_renewals()  # settles it as never sent and puts the order back
        payments.run_renewals()
    assert len(payment_intents(app)) == 1
    assert _orders(app, sub_id)[0][1] is OrderStatus.PAID


def test_card_page_lists_sets_default_and_removes(app, client, due):
    due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        add_card(customer, "5555555555554444")
    sign_in_customer(app, client, "payer@example.com")
    page = client.get("/payment")
    assert page.status_code == 200
    assert "ending in 4444, expires 12/2031 · <strong>Default</strong>" in page.text
    assert "Visa ending in 4242" in page.text
    assert app.config["LOCALSTRIPE_URL"] in page.headers["Content-Security-Policy"]
    assert "/js.stripe.com/v3/" in page.text and 'data-client-secret="seti_' in page.text
    with app.app_context():
        cards = {m.last4: m.id for m in payments.saved_cards(db.session.scalar(select(Customer)))}
    token = csrf_token(page.text)
    refused = client.post(f"/payment/cards/{cards['4444']}/remove", data={"csrf_token": token})
    assert refused.status_code == 303  # the default card cannot be removed
    client.post(f"/payment/cards/{cards['4242']}/default", data={"csrf_token": token})
    assert client.post(f"/payment/cards/{cards['4444']}/remove", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        left = payments.saved_cards(db.session.scalar(select(Customer)))
        assert [(m.last4, m.is_default) for m in left] == [("4242", True)]
        assert db.session.scalar(select(Subscription)).payment_method_id == left[0].id


def test_other_customers_cards_are_404(app, client, due):
    due(GOOD)
    with app.app_context():
        factories.customer("thief@example.com")
        card_id = payments.saved_cards(db.session.scalar(select(Customer).where(
            Customer.email == "payer@example.com")))[0].id
    sign_in_customer(app, client, "thief@example.com")
    token = csrf_token(client.get("/").text)
    assert client.post(f"/payment/cards/{card_id}/default", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/payment/cards/{card_id}/remove", data={"csrf_token": token}).status_code == 404
