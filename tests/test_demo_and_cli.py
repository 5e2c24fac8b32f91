"""`flask demo-data`, `flask portal-session` and the worker's one-shot commands."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Customer,
    Order,
    OrderStatus,
    Product,
    StaffRole,
    StaffUser,
    Subscription,
    SubscriptionStatus,
    Variant,
)
from tests.helpers import csrf_token, sign_in_staff


def _counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Customer, Product, Variant, Subscription, Order, StaffUser)
    }


def test_demo_data_states_and_idempotence(app):
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
        from portal.models import Case

        [case] = db.session.scalars(select(Case)).all()
        assert case.issue_type == "payment" and case.snapshot["payment"]["failed_orders"]
    assert sign_in_staff(app.test_client(), "admin@example.com", "demo-password").status_code == 302


def test_demo_data_refused_without_demo_password(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_PASSWORD", None)
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "development only" in result.output


def test_portal_session_prints_a_working_single_use_url(app):
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


def test_demo_data_at_scale_is_what_the_services_would_have_written(app, client):
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
        assert db.session.scalar(select(func.count()).select_from(Case).where(Case.customer_id.is_not(None))) == 4
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
