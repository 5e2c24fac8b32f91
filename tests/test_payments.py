"""Charging against localstripe: once per order, declines and recovery, credits, saved cards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

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
from portal.services import payments, subscriptions
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.payments import charging
from tests import factories
from tests.billing import CARD_EXPIRY_YEAR, DECLINE, GOOD, add_card, confirmed_setup_intent, payment_intents
from tests.helpers import TODAY, csrf_token, follow_link, link_path, sign_in_customer

pytestmark = pytest.mark.usefixtures("fixed_today", "localstripe")


def _orders(app, sub_id):
    with app.app_context():
        return [
            (o.scheduled_for, o.status, o.total_minor - o.credit_applied_minor)
            for o in db.session.scalars(
                select(Order).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for)
            )
        ]


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


def test_a_renewal_charges_the_card_its_subscription_shows(app, due, client):
    sub_id = due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "payer@example.com"))
        first = customer.payment_methods[0]
        add_card(customer, "5555555555554444")  # the new default: the subscription moves onto it
        # As a subscription cancelled before that and reactivated since: it still names the first card.
        db.session.get(Subscription, sub_id).payment_method_id = first.id
        db.session.commit()
        first_ref = first.stripe_payment_method_id
        assert payments.card_uses(customer)[first.id][0].id == sub_id
        payments.run_renewals()
    [intent] = payment_intents(app)
    assert intent.payment_method == first_ref and intent.status == "succeeded"
    sign_in_customer(app, client, "payer@example.com")
    page = client.get(f"/subscriptions/{sub_id}").text
    assert "ending in 4242" in page and "ending in 4444" not in page


def test_a_card_id_beyond_the_database_range_is_not_found(app, due):
    due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "payer@example.com"))
        for change in (payments.set_default_card, payments.remove_card):
            with pytest.raises(DomainError) as refused:
                change(Actor.system("test"), customer, 10**12)
            assert refused.value.status == 404


def test_a_subscription_cancelled_before_the_first_card_shows_and_is_charged_that_card(app, client):
    # Cancelled before any card was saved, reactivated after: its pages, the card page and the
    # renewal must all name the same card.
    with app.app_context():
        customer = factories.customer("payer@example.com", with_card=False)
        sub_id = factories.subscription(customer, status=SubscriptionStatus.CANCELLED, next_order_date=TODAY).id
        add_card(db.session.get(Customer, customer.id), "5555555555554444")
        sub = db.session.get(Subscription, sub_id)
        subscriptions.apply(Actor.system("test"), sub, "reactivate", sub.version)
        [card] = db.session.get(Customer, customer.id).payment_methods
        assert [s.id for s in payments.card_uses(db.session.get(Customer, customer.id))[card.id]] == [sub_id]
        order_id = db.session.scalar(
            select(Order.id).where(Order.subscription_id == sub_id, Order.status == OrderStatus.SCHEDULED).limit(1)
        )
        assert charging.provider_ids_for_charge(order_id)[1] == card.stripe_payment_method_id
    sign_in_customer(app, client, "payer@example.com")
    page = client.get(f"/subscriptions/{sub_id}").text
    assert "ending in 4444" in page and "No payment method on file" not in page


def test_an_order_that_cannot_be_claimed_does_not_hold_up_the_others(app, due, monkeypatch):
    stuck_sub, other_sub = due(GOOD), due(GOOD, email="other@example.com")
    with app.app_context():
        stuck_order = db.session.scalar(
            select(Order.id).where(Order.subscription_id == stuck_sub, Order.scheduled_for == TODAY)
        )
    real = charging.provider_ids_for_charge

    def broken_for_one(order_id):
        if order_id == stuck_order:
            raise RuntimeError("bad data")
        return real(order_id)

    monkeypatch.setattr(charging, "provider_ids_for_charge", broken_for_one)
    with app.app_context():
        assert payments.run_renewals() == 1
    assert _orders(app, other_sub)[0][1] is OrderStatus.PAID
    # Left exactly as it was: still due, no attempt counted, no payment written.
    with app.app_context():
        order = db.session.get(Order, stuck_order)
        assert (order.status, order.payment_attempts) == (OrderStatus.SCHEDULED, 0)
        assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.order_id == stuck_order)) == 0
    assert len(payment_intents(app)) == 1


def test_a_worker_that_stalled_past_a_recovery_does_not_confirm(app, due):
    due(GOOD)
    with app.app_context():
        charge = charging._claim()
        # Meanwhile another worker took the stuck charge over and recorded it.
        db.session.get(Payment, charge.payment_id).status = PaymentStatus.FAILED
        db.session.commit()
        assert charging._charge(charge) is None
    [intent] = payment_intents(app)
    assert intent.status != "succeeded"


def test_declined_card_fails_cleanly_and_enters_dunning(app, due, client):
    sub_id = due(DECLINE)
    with app.app_context():
        payments.run_renewals()
        order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
        assert order.failure_code == "card_declined"
        assert order.next_retry_at.date() == (utcnow() + timedelta(days=1)).date()
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "payment_failed"))
        assert "did not go through" in email.subject
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
        [outcome] = payments.retry_failed_orders(Actor.for_customer(customer), customer)
        assert outcome.paid
        assert db.session.scalar(select(func.max(Payment.attempt))) == 2
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
        assert payments.balance(customer.id, "EUR") == 0
    [intent] = payment_intents(app)
    assert intent.amount == 700
    assert _orders(app, sub_id)[0][1:] == (OrderStatus.PAID, 700)


def test_credit_covering_the_whole_order_charges_nothing(app, due):
    due(GOOD, price=400)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        payments.add_credit(Actor.system("test"), customer, 1000, "EUR", "goodwill")
        payments.run_renewals()
        assert payments.balance(customer.id, "EUR") == 600
        assert db.session.scalar(select(Order).where(Order.status == OrderStatus.PAID)) is not None
    assert payment_intents(app) == []


def test_worker_killed_after_charging_does_not_charge_again(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        charge = charging._claim()
        charging._charge(charge)  # ... and the worker dies before recording the result
        payment = db.session.get(Payment, charge.payment_id)
        payment.attempted_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        payments.run_renewals()
    assert len(payment_intents(app)) == 1
    assert _orders(app, sub_id)[0][1] is OrderStatus.PAID


def test_worker_killed_before_charging_charges_once_later(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        payment = db.session.get(Payment, charging._claim().payment_id)  # the worker dies before reaching the provider
        payment.attempted_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        payments.run_renewals()  # finishes the charge the dead worker had claimed
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
    assert f"ending in 4444, expires 12/{CARD_EXPIRY_YEAR} · <strong>Default</strong>" in page.text
    assert "Visa ending in 4242" in page.text
    assert app.config["LOCALSTRIPE_URL"] in page.headers["Content-Security-Policy"]
    assert "/js.stripe.com/v3/" in page.text and 'data-setup-url="/payment/cards/setup"' in page.text
    # Showing the page asks the provider for nothing; saving a card asks for a SetupIntent.
    assert "seti_" not in page.text
    assert client.post("/payment/cards/setup").status_code == 400  # no CSRF token
    setup = client.post("/payment/cards/setup", headers={"X-CSRFToken": csrf_token(page.text)})
    assert setup.status_code == 200 and setup.json["client_secret"].startswith("seti_")
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


def test_card_setup_when_the_provider_is_down_is_a_json_refusal(app, client, monkeypatch):
    with app.app_context():
        factories.subscription(factories.customer("offline@example.com", with_card=False))
    sign_in_customer(app, client, "offline@example.com")
    monkeypatch.setitem(app.config, "LOCALSTRIPE_URL", "http://127.0.0.1:9")
    page = client.get("/payment")
    assert page.status_code == 200 and 'id="card-form"' in page.text  # shown without asking the provider
    refused = client.post("/payment/cards/setup", headers={"X-CSRFToken": csrf_token(page.text)})
    assert refused.status_code == 402
    assert refused.json["error"]["code"] == "provider_unavailable"
    assert refused.json["error"]["message"].startswith("Card details cannot be changed right now.")


def test_other_customers_cards_are_404(app, client, due):
    due(GOOD)
    with app.app_context():
        factories.customer("thief@example.com")
        card_id = payments.saved_cards(
            db.session.scalar(select(Customer).where(Customer.email == "payer@example.com"))
        )[0].id
    sign_in_customer(app, client, "thief@example.com")
    token = csrf_token(client.get("/").text)
    assert client.post(f"/payment/cards/{card_id}/default", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/payment/cards/{card_id}/remove", data={"csrf_token": token}).status_code == 404


def test_order_now_charges_at_once(app, client, due):
    from tests.helpers import run_action

    with app.app_context():
        customer = factories.customer("eager@example.com", with_card=False)
        sub_id = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10)).id
        subscriptions.roll_forward()
        add_card(db.session.get(Customer, customer.id), GOOD)
    sign_in_customer(app, client, "eager@example.com")
    _, confirm = run_action(client, f"/subscriptions/{sub_id}/order_now")
    assert confirm.status_code == 302
    [intent] = payment_intents(app)
    assert intent.status == "succeeded"
    assert _orders(app, sub_id)[0][:2] == (TODAY, OrderStatus.PAID)


def test_refund_in_part_then_in_full(app, due):
    sub_id = due(GOOD)
    with app.app_context():
        payments.run_renewals()
        order = db.session.scalar(
            select(Order).where(Order.subscription_id == sub_id, Order.status == OrderStatus.PAID)
        )
        staff = factories.staff()
        actor = Actor.for_staff(staff)
        with pytest.raises(DomainError):
            payments.refund(actor, order, 5000, "too much")
        payments.refund(actor, order, 200, "damaged bag")
        assert order.status is OrderStatus.PAID
        payments.refund(actor, order, 1000, "did not arrive")
        assert order.status is OrderStatus.REFUNDED
        assert db.session.scalar(select(Payment)).refunded_minor == 1200
        emails = db.session.scalars(select(OutboxEmail.subject).where(OutboxEmail.kind == "refund_issued")).all()
        assert emails == ["We have refunded €2.00", "We have refunded €10.00"]
        refunds = gateway._client().refunds.list(params={"limit": 10}).data
        assert sorted(r.amount for r in refunds) == [200, 1000]


def test_receipt_for_a_paid_order_only(app, client, due):
    sub_id = due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        payments.add_credit(Actor.system("test"), customer, 200, "EUR", "sorry")
        payments.run_renewals()
        paid = db.session.scalar(select(Order.id).where(Order.status == OrderStatus.PAID))
        upcoming = db.session.scalar(
            select(Order.id).where(Order.subscription_id == sub_id, Order.status == OrderStatus.SCHEDULED)
        )
    sign_in_customer(app, client, "payer@example.com")
    page = client.get(f"/orders/{paid}/receipt")
    assert page.status_code == 200
    assert "Receipt" in page.text and "€12.00" in page.text
    assert "Paid with credit" in page.text and "€10.00" in page.text  # charged to the card
    assert f'href="/orders/{paid}/receipt"' in client.get(f"/orders/{paid}").text
    assert client.get(f"/orders/{upcoming}/receipt").status_code == 404


def test_failed_payment_email_link_leads_to_paying_with_a_new_card(app, due):
    """Decline → email → its single-use link → the card page → new card → the order is paid."""
    sub_id = due(DECLINE)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["renewals", "run"]).output.strip() == "renewals: 1"
    with app.app_context():
        body = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "payment_failed"))
    path = link_path(body, "Update card and pay now")
    browser = app.test_client()
    landed = follow_link(browser, path)
    assert landed.location == "/payment"
    card_page = browser.get("/payment")
    assert "did not go through" in card_page.text
    with app.app_context():
        intent_id = confirmed_setup_intent(db.session.scalar(select(Customer)), GOOD)
    saved = browser.post("/payment/cards", data={"csrf_token": csrf_token(card_page.text), "setup_intent": intent_id})
    assert saved.status_code == 302
    messages = browser.get("/payment").text
    assert "Your failed order has been paid. Thank you!" in messages
    assert _orders(app, sub_id)[0][1] is OrderStatus.PAID
    assert browser.get(path).status_code == 410  # the link worked once


def test_credit_held_by_an_order_that_is_never_paid_comes_back(app, due):
    due(DECLINE)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        payments.add_credit(Actor.system("test"), customer, 300, "EUR", "goodwill")
        payments.run_renewals()
        assert payments.balance(customer.id, "EUR") == 0  # held by the failed order
        for _ in range(3):
            order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
            order.next_retry_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            payments.run_renewals()
        order = db.session.scalar(select(Order).where(Order.status == OrderStatus.FAILED))
        assert order.next_retry_at is None and order.credit_applied_minor == 0
        assert payments.balance(customer.id, "EUR") == 300
    assert [intent.amount for intent in payment_intents(app)] == [900, 900, 900, 900]


def test_a_card_from_another_customers_setup_intent_is_refused(app, client):
    with app.app_context():
        victim = factories.customer("victim@example.com", with_card=False)
        factories.customer("thief@example.com", with_card=False)
        intent_id = confirmed_setup_intent(victim, GOOD)
    sign_in_customer(app, client, "thief@example.com")
    page = client.get("/payment")
    response = client.post("/payment/cards", data={"csrf_token": csrf_token(page.text), "setup_intent": intent_id})
    assert response.status_code == 303 and response.location == "/payment"
    assert "We could not save that card. Please try again." in client.get("/payment").text
    with app.app_context():
        thief = db.session.scalar(select(Customer).where(Customer.email == "thief@example.com"))
        assert payments.saved_cards(thief) == []
        refused = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "payment.card_added", AuditEvent.customer_id == thief.id)
        )
        assert (refused.outcome.value, refused.error_code) == ("failure", "foreign_setup_intent")
        client_ = gateway._client()
        method_id = client_.setup_intents.retrieve(intent_id).payment_method
        assert client_.payment_methods.retrieve(method_id).customer != thief.stripe_customer_id


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Your order is placed for today, but the payment did not go through. Please update your card"),
        ("es", "Tu pedido está hecho para hoy, pero el pago no se ha podido hacer. Actualiza tu tarjeta"),
    ],
)
def test_order_now_with_a_declining_card_says_so(app, client, locale, message):
    from tests.helpers import run_action

    with app.app_context():
        customer = factories.customer("eager@example.com", with_card=False, locale=locale)
        sub_id = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10)).id
        subscriptions.roll_forward()
        add_card(db.session.get(Customer, customer.id), DECLINE)
    sign_in_customer(app, client, "eager@example.com")
    _, confirm = run_action(client, f"/subscriptions/{sub_id}/order_now")
    assert confirm.status_code == 302 and confirm.location == "/payment"
    page = client.get("/payment").text
    assert message in page
    assert "Done" not in page and "Hecho" not in page
    assert _orders(app, sub_id)[0][:2] == (TODAY, OrderStatus.FAILED)
    [intent] = payment_intents(app)
    assert intent.status == "requires_payment_method"


def test_pay_now_with_a_card_the_provider_does_not_know_fails_then_a_new_card_pays(app, client):
    with app.app_context():
        customer_id = factories.customer("stale@example.com").id  # its card row is not at the provider
        customer = db.session.get(Customer, customer_id)
        sub_id = factories.subscription(customer, next_order_date=TODAY).id
        subscriptions.roll_forward()
        payments.ensure_provider_customer(customer)
        payments.run_renewals()
    assert _orders(app, sub_id)[0][:2] == (TODAY, OrderStatus.FAILED)
    sign_in_customer(app, client, "stale@example.com")
    page = client.get("/payment")
    retried = client.post("/payment/retry", data={"csrf_token": csrf_token(page.text)})
    assert retried.status_code == 302
    assert "The payment for your order did not go through with this card. Please use another card." in (
        client.get("/payment").text
    )
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.subscription_id == sub_id, Order.scheduled_for == TODAY))
        assert (order.status, order.failure_code, order.payment_attempts) == (OrderStatus.FAILED, "card_unusable", 2)
        intent_id = confirmed_setup_intent(db.session.get(Customer, customer_id), GOOD)
    saved = client.post("/payment/cards", data={"csrf_token": csrf_token(page.text), "setup_intent": intent_id})
    assert saved.status_code == 302
    assert "Your failed order has been paid. Thank you!" in client.get("/payment").text
    assert _orders(app, sub_id)[0][:2] == (TODAY, OrderStatus.PAID)
    [intent] = payment_intents(app)
    assert (intent.amount, intent.status) == (1200, "succeeded")


def test_a_card_a_cancelled_subscription_still_names_can_be_removed(app, client, due):
    sub_id = due(GOOD)
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        sub.status = SubscriptionStatus.CANCELLED
        db.session.commit()
        customer = db.session.scalar(select(Customer))
        old_card_id = sub.payment_method_id
        add_card(customer, "5555555555554444")  # the new default; a cancelled subscription keeps its card
        assert db.session.get(Subscription, sub_id).payment_method_id == old_card_id
    sign_in_customer(app, client, "payer@example.com")
    token = csrf_token(client.get("/payment").text)
    assert client.post(f"/payment/cards/{old_card_id}/remove", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        [kept] = payments.saved_cards(db.session.scalar(select(Customer)))
        assert kept.last4 == "4444"
        assert db.session.get(Subscription, sub_id).payment_method_id == kept.id


def test_each_card_shows_the_subscriptions_and_next_charge_it_pays(app, client, due):
    due(GOOD)
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        add_card(customer, "5555555555554444")
        subscription = db.session.scalar(select(Subscription))
        uses = payments.card_uses(customer)
        assert [s.id for s in uses[subscription.payment_method_id]] == [subscription.id]
        assert sum(len(subs) for subs in uses.values()) == 1
        card_last4 = subscription.payment_method.last4
        name = subscription.items[0].variant.product.name
    sign_in_customer(app, client, "payer@example.com")
    page = client.get("/payment").text
    row = next(line for line in page.split("<li") if f"ending in {card_last4}" in line)
    assert f"Used by: {name}, next charge " in row and "€" in row
    assert page.count("Used by:") == 1
