"""Customers see only their own data; staff routes are checked against every role."""

from __future__ import annotations

import pytest

from portal.models import OrderStatus, StaffRole
from tests import factories
from tests.helpers import sign_in_customer, sign_in_staff


@pytest.fixture
def two_customers(app):
    with app.app_context():
        mine, theirs = factories.customer("me@example.com"), factories.customer("them@example.com")
        my_sub, their_sub = factories.subscription(mine), factories.subscription(theirs)
        my_order = factories.order(my_sub, status=OrderStatus.PAID)
        their_order = factories.order(their_sub, status=OrderStatus.PAID)
        return {"my_sub": my_sub.id, "their_sub": their_sub.id, "my_order": my_order.id, "their_order": their_order.id}


def test_other_customers_records_are_404(app, client, two_customers):
    sign_in_customer(app, client, "me@example.com")
    assert client.get(f"/subscriptions/{two_customers['my_sub']}").status_code == 200
    assert client.get(f"/orders/{two_customers['my_order']}").status_code == 200
    assert client.get(f"/subscriptions/{two_customers['their_sub']}").status_code == 404
    assert client.get(f"/orders/{two_customers['their_order']}").status_code == 404
    assert client.get("/subscriptions/999999").status_code == 404
    assert client.get("/subscriptions/abc").status_code == 404


def test_dashboard_lists_only_own_subscriptions(app, client, two_customers):
    sign_in_customer(app, client, "me@example.com")
    page = client.get("/").text
    assert f"/subscriptions/{two_customers['my_sub']}" in page
    assert f"/subscriptions/{two_customers['their_sub']}" not in page


def test_anonymous_is_sent_to_sign_in_with_next(client):
    response = client.get("/subscriptions/1")
    assert response.status_code == 302
    assert response.location == "/login?next=/subscriptions/1"
    assert client.get("/console/").location.startswith("/staff/login?next=")


STAFF_ROUTES = {
    "/console/": StaffRole.AGENT,
    "/console/password": StaffRole.AGENT,
    "/console/customers/{customer}": StaffRole.AGENT,
    "/console/cases": StaffRole.AGENT,
    "/console/cases/{case}": StaffRole.AGENT,
    "/console/cases/{case}/messages": StaffRole.AGENT,
    "/console/approvals": StaffRole.MANAGER,
    "/console/reports/credits": StaffRole.MANAGER,
    "/admin/staff": StaffRole.ADMIN,
    "/admin/policies": StaffRole.ADMIN,
    "/admin/products": StaffRole.ADMIN,
    "/admin/cancellation": StaffRole.ADMIN,
    "/admin/integrations": StaffRole.ADMIN,
    "/admin/replies": StaffRole.ADMIN,
    "/admin/support-hours": StaffRole.ADMIN,
}


def test_every_staff_route_declares_a_role(app):
    """A new console or admin view without a role check fails here."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("console", "admin"):
            view = app.view_functions[rule.endpoint]
            assert isinstance(getattr(view, "required_role", None), StaffRole), rule.rule


@pytest.mark.parametrize("who", ["anonymous", "customer", "agent", "manager", "admin"])
def test_role_by_route_matrix(app, who):
    from portal.models import Channel
    from portal.services import inbox

    with app.app_context():
        customer = factories.customer("subject@example.com")
        customer_id = customer.id
        case_id = inbox.receive(Channel.EMAIL, "subject@example.com", "hello", "email:matrix").id
        for role in StaffRole:
            factories.staff(role, f"{role.value}@staff.example")
    client = app.test_client()
    if who == "customer":
        sign_in_customer(app, client, "subject@example.com")
    elif who != "anonymous":
        assert sign_in_staff(client, f"{who}@staff.example").status_code == 302
    for path, needed in STAFF_ROUTES.items():
        status = client.get(path.format(customer=customer_id, case=case_id)).status_code
        if who in ("anonymous", "customer"):
            assert status == 302, (who, path)
        elif StaffRole(who).includes(needed):
            assert status == 200, (who, path)
        else:
            assert status == 403, (who, path)
    # Staff are not subscribers: the portal sends them to the subscriber sign-in.
    if who not in ("anonymous", "customer"):
        assert client.get("/").status_code == 302
