"""What a signed-in subscriber sees."""

from __future__ import annotations

from datetime import date

from portal.models import OrderStatus, SubscriptionStatus
from tests import factories
from tests.helpers import sign_in_customer


def test_dashboard_shows_subscription_details(app, client):
    with app.app_context():
        customer = factories.customer("dash@example.com", name="Dana Dash")
        sub = factories.subscription(customer, quantity=2, price_minor=1250, next_order_date=date(2031, 5, 17))
        factories.order(sub, status=OrderStatus.SCHEDULED)
        factories.order(sub, status=OrderStatus.PAID, scheduled_for=date(2031, 5, 3))
        product_name = sub.items[0].variant.product.name
    sign_in_customer(app, client, "dash@example.com")
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert "Hello, Dana Dash" in page
    assert product_name in page
    assert "€25.00" in page  # 2 × 12.50
    assert "Every 2 weeks" in page
    assert "May 17, 2031" in page
    assert "Test Street" in page and "Spain" in page
    assert f"Visa ending in 4242, expires 04/{date.today().year + 1}" in page
    assert "Upcoming orders" in page and "Past orders" in page
    assert "Paid" in page and "Scheduled" in page
    assert "did not go through" not in page


def test_failed_payment_banner(app, client):
    with app.app_context():
        sub = factories.subscription(factories.customer("failing@example.com"))
        factories.order(sub, status=OrderStatus.FAILED, scheduled_for=date(2020, 1, 1))
    sign_in_customer(app, client, "failing@example.com")
    page = client.get("/")
    assert 'role="alert"' in page.text
    assert "Your last payment did not go through." in page.text


def test_paused_and_cancelled_states(app, client):
    with app.app_context():
        customer = factories.customer("states@example.com")
        paused = factories.subscription(customer, status=SubscriptionStatus.PAUSED)
        paused.paused_until = date(2031, 1, 2)
        factories.subscription(customer, status=SubscriptionStatus.CANCELLED)
        from portal.extensions import db

        db.session.commit()
    sign_in_customer(app, client, "states@example.com")
    page = client.get("/").text
    assert "Resumes on" in page and "Jan 2, 2031" in page
    assert "Cancelled" in page


def test_order_page(app, client):
    with app.app_context():
        sub = factories.subscription(factories.customer("receipt@example.com"), price_minor=990)
        order = factories.order(sub, status=OrderStatus.PAID, scheduled_for=date(2030, 2, 1))
        order_id = order.id
    sign_in_customer(app, client, "receipt@example.com")
    page = client.get(f"/orders/{order_id}").text
    assert "Order of Feb 1, 2030" in page
    assert "€9.90" in page


def test_console_customer_view(app):
    from portal.models import StaffRole
    from tests.helpers import sign_in_staff

    with app.app_context():
        customer = factories.customer("found@example.com", name="Fiona Found")
        factories.subscription(customer)
        customer_id = customer.id
        factories.staff(StaffRole.AGENT, "desk@example.com")
    client = app.test_client()
    sign_in_staff(client, "desk@example.com")
    results = client.get("/console/?q=fiona").text
    assert f"/console/customers/{customer_id}" in results
    assert "found@example.com" not in client.get("/console/?q=%25").text  # LIKE wildcard is literal
    view = client.get(f"/console/customers/{customer_id}").text
    assert "Fiona Found" in view and "Every 2 weeks" in view
    assert client.get("/console/customers/999999").status_code == 404
