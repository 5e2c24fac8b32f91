"""`flask demo-data`, `flask portal-session` and the worker's one-shot commands."""

from __future__ import annotations

import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import (
    Customer,
    Order,
    OrderStatus,
    OutboxEmail,
    Product,
    StaffRole,
    StaffUser,
    Subscription,
    SubscriptionStatus,
    Variant,
)
from portal.services import payments
from portal.services.actors import Actor
from tests.billing import confirmed_setup_intent, payment_intents
from tests.helpers import csrf_token, sign_in_customer, sign_in_staff


def _counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Customer, Product, Variant, Subscription, Order, StaffUser)
    }


def test_demo_data_states_and_idempotence(app, localstripe):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        first = _counts()
        assert first["Product"] == 3 and first["Variant"] == 6

        def subs(email):
            customer = db.session.scalar(select(Customer).where(Customer.email == email))
            return customer, [s.status for s in customer.subscriptions]

        alice, statuses = subs("alice@example.com")
        assert statuses == [SubscriptionStatus.ACTIVE, SubscriptionStatus.ACTIVE]
        assert subs("bob@example.com")[1] == [SubscriptionStatus.PAUSED]
        assert subs("dave@example.com")[1] == [SubscriptionStatus.CANCELLED]
        carol, _ = subs("carol@example.com")
        last = db.session.scalar(
            select(Order)
            .where(Order.customer_id == carol.id, Order.status != OrderStatus.SCHEDULED)
            .order_by(Order.scheduled_for.desc())
        )
        assert last.status is OrderStatus.FAILED
        erin, _ = subs("erin@example.com")
        assert erin.locale == "es"
        roles = {s.email: s.role for s in db.session.scalars(select(StaffUser))}
        assert roles == {
            "agent@example.com": StaffRole.AGENT,
            "manager@example.com": StaffRole.MANAGER,
            "admin@example.com": StaffRole.ADMIN,
        }
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        assert _counts() == first
        from portal.models import Case, CaseStatus

        # Beside months of resolved history, one open case: Carol's.
        [case] = db.session.scalars(select(Case).where(Case.status != CaseStatus.RESOLVED)).all()
        assert case.issue_type == "payment" and case.snapshot["payment"]["failed_orders"]
    assert sign_in_staff(app.test_client(), "admin@example.com", "demo-password").status_code == 302


def test_demo_data_refused_without_demo_password(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_PASSWORD", None)
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "development only" in result.output


def test_portal_session_prints_a_working_single_use_url(app, localstripe):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["portal-session", "ALICE@example.com"])
    assert result.exit_code == 0
    url = result.output.strip()
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/login/t/")
    path = urlsplit(url).path
    client = app.test_client()
    page = client.get(path)
    assert "Alice Martin" in page.text
    assert client.post(path, data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert "Alice Martin" in client.get("/").text
    assert app.test_client().get(path).status_code == 400


def test_portal_session_for_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(args=["portal-session", "ghost@example.com"])
    assert result.exit_code != 0
    assert "No customer" in result.output


def _demo_customers() -> dict[str, Customer]:
    return {c.email.split("@")[0]: c for c in db.session.scalars(select(Customer).order_by(Customer.id))}


def _provider_cards(customer: Customer) -> list:
    listing = gateway._client().payment_methods.list(params={"customer": customer.stripe_customer_id, "type": "card"})
    return listing.data


def test_demo_subscribers_pay_with_real_test_cards(app, localstripe, fixed_today, calendar):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert runner.invoke(args=["demo-data"]).exit_code == 0  # again: nothing new at the provider
    with app.app_context():
        for name, customer in _demo_customers().items():
            [card] = payments.saved_cards(customer)
            [at_provider] = _provider_cards(customer)
            assert (card.is_default, card.brand, card.last4) == (True, "visa", "4242"), name
            assert card.stripe_payment_method_id == at_provider.id
        kinds = set(db.session.scalars(select(OutboxEmail.kind)))
        assert "card_changed" not in kinds  # demo data does not email the demo subscribers about it

    # Twelve days on, every active demo subscription has an order due.
    calendar.move_to(fixed_today + timedelta(days=12))
    assert runner.invoke(args=["jobs", "run", "renewals"]).output.strip() == "renewals: 4"
    intents = payment_intents(app)
    assert sorted((intent.amount, intent.status) for intent in intents) == [
        (1200, "succeeded"),  # Carol
        (2400, "succeeded"),  # Alice, two bags of House Blend
        (3900, "succeeded"),  # Alice, Ethiopia 1 kg
        (5100, "succeeded"),  # Erin
    ]

    # Carol's failed order from the demo history is paid from her payment page.
    client = app.test_client()
    sign_in_customer(app, client, "carol@example.com")
    page = client.get("/payment")
    assert "did not go through" in page.text
    client.post("/payment/retry", data={"csrf_token": csrf_token(page.text)})
    assert "Your failed order has been paid. Thank you!" in client.get("/payment").text
    with app.app_context():
        carol = _demo_customers()["carol"]
        statuses = db.session.scalars(
            select(Order.status).where(Order.customer_id == carol.id, Order.scheduled_for < fixed_today)
        ).all()
        assert sorted(status.value for status in statuses) == ["paid", "paid"]
    assert len(payment_intents(app)) == 5


def test_a_demo_card_can_be_removed(app, localstripe):
    app.test_cli_runner().invoke(args=["demo-data"])
    client = app.test_client()
    sign_in_customer(app, client, "dave@example.com")
    with app.app_context():
        dave = _demo_customers()["dave"]
        demo_card_id = payments.saved_cards(dave)[0].id
        intent_id = confirmed_setup_intent(dave, "5555555555554444")
    page = client.get("/payment")
    token = csrf_token(page.text)
    assert client.post("/payment/cards", data={"csrf_token": token, "setup_intent": intent_id}).status_code == 302
    removed = client.post(f"/payment/cards/{demo_card_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert "Card removed." in client.get("/payment").text
    with app.app_context():
        dave = _demo_customers()["dave"]
        [kept] = payments.saved_cards(dave)
        assert kept.last4 == "4444"
        assert [card.id for card in _provider_cards(dave)] == [kept.stripe_payment_method_id]


def test_demo_data_makes_the_cards_again_for_a_fresh_localstripe(app, localstripe, fixed_today):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    with app.app_context():
        before = {name: c.stripe_customer_id for name, c in _demo_customers().items()}
    urllib.request.urlopen(urllib.request.Request(f"{localstripe}/_config/data", method="DELETE"), timeout=5)
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        for name, customer in _demo_customers().items():
            assert customer.stripe_customer_id != before[name]
            [card] = payments.saved_cards(customer)
            assert [method.id for method in _provider_cards(customer)] == [card.stripe_payment_method_id]
        alice = _demo_customers()["alice"]
        order_id = db.session.scalar(select(Order.id).where(Order.customer_id == alice.id, Order.status == "scheduled"))
        outcome = payments.charge_order(order_id, Actor.system("test"))
        assert outcome.paid


def test_demo_data_says_when_the_payment_provider_is_not_running(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOCALSTRIPE_URL", "http://127.0.0.1:9")
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 1
    assert "The demo cards could not be made at the payment provider (http://127.0.0.1:9)" in result.output


def test_demo_data_at_scale_is_what_the_services_would_have_written(app, client, localstripe):
    from portal.models import Case, Payment
    from portal.services import subscriptions
    from portal.services.subscriptions import storage
    from tests.helpers import sign_in_customer

    result = app.test_cli_runner().invoke(args=["demo-data", "--scale", "60"])
    assert result.exit_code == 0, result.output
    assert "Loaded 60 customers" in result.output
    with app.app_context():
        scale = db.session.scalars(select(Customer).where(Customer.email.like("%@scale.example"))).all()
        assert len(scale) == 60
        scale_cases = select(func.count()).select_from(Case).where(Case.customer_id.in_([c.id for c in scale]))
        assert db.session.scalar(scale_cases) == 3
        subs = db.session.scalars(select(Subscription).where(Subscription.customer_id.in_([c.id for c in scale])))
        ctx = storage.context()
        active = 0
        for sub in subs:
            plan = storage.load_plan(sub, ctx)
            assert sub.refill_on == storage.refill_date(plan)
            if sub.status is SubscriptionStatus.ACTIVE:
                active += 1
                assert len(plan.upcoming) == ctx.size and sub.next_order_date == plan.upcoming[0].scheduled_for
        assert active > 30
        ids = [c.id for c in scale]
        paid = select(func.count()).select_from(Order).where(Order.status == OrderStatus.PAID)
        payments = select(func.count()).select_from(Payment)
        assert db.session.scalar(paid.where(Order.customer_id.in_(ids))) == db.session.scalar(payments) > 0
        # The schedule job finds every plan as it would have left it, and a new customer gets the next id.
        assert subscriptions.roll_forward() == 0
        email, name = scale[0].email, scale[0].name
    assert app.test_cli_runner().invoke(args=["demo-data", "--scale", "1"]).exit_code == 0
    sign_in_customer(app, client, email)
    page = client.get("/")
    assert page.status_code == 200 and name in page.text
