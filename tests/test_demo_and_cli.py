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
