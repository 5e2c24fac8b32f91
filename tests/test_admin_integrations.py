"""The merchant's integrations page: keys shown once, webhook endpoints, revoking a customer's
links, and a campaign's links as a CSV download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ActionLink, ApiKey, StaffRole, WebhookEndpoint
from portal.services import auth, links, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def admin(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "owner@staff.example")
        for n in range(2):
            customer = factories.customer(f"fan{n}@example.com")
            factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
    client = app.test_client()
    assert sign_in_staff(client, "owner@staff.example").status_code == 302
    return client


def _token(client) -> str:
    return csrf_token(client.get("/admin/integrations").text)


def test_a_new_key_is_shown_once_and_works_until_revoked(app, admin):
    made = admin.post(
        "/admin/integrations/api-keys",
        data={"csrf_token": _token(admin), "key-name": "crm", "key-scopes": ["read", "links"]},
    )
    assert made.status_code == 200
    secret = made.text.split('<code class="secret">')[1].split("</code>")[0]
    assert secret not in admin.get("/admin/integrations").text
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/customers", headers=headers).status_code == 200
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
    admin.post(f"/admin/integrations/api-keys/{key_id}/revoke", data={"csrf_token": _token(admin)})
    assert app.test_client().get("/api/v1/customers", headers=headers).status_code == 401
    refused = admin.post("/admin/integrations/api-keys", data={"csrf_token": _token(admin), "key-name": "x"})
    assert refused.status_code == 400


def test_webhook_endpoints_are_added_with_a_secret_shown_once(app, admin):
    bad = admin.post("/admin/integrations/webhooks", data={"csrf_token": _token(admin), "hook-url": "ftp://x"})
    assert bad.status_code == 422
    good = admin.post(
        "/admin/integrations/webhooks", data={"csrf_token": _token(admin), "hook-url": "https://shop.example/hooks"}
    )
    assert good.status_code == 200 and "whsec_" in good.text
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
    admin.post(f"/admin/integrations/webhooks/{endpoint.id}/disable", data={"csrf_token": _token(admin)})
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint.id).active is False


def test_bulk_links_download_and_revoking_a_customers_links(app, admin):
    upload = io.BytesIO(b"email\nfan0@example.com\nfan1@example.com\nghost@example.com\n")
    response = admin.post(
        "/admin/integrations/links/bulk",
        data={"csrf_token": _token(admin), "bulk-file": (upload, "fans.csv"), "bulk-action": "skip"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [bool(row["url"]) for row in rows] == [True, True, False]
    revoked = admin.post(
        "/admin/integrations/links/revoke", data={"csrf_token": _token(admin), "revoke-email": "fan0@example.com"}
    )
    assert revoked.status_code == 302
    with app.app_context():
        fan0 = auth.find_customer_by_email("fan0@example.com")
        made = db.session.scalars(select(ActionLink).order_by(ActionLink.id)).all()
        assert [link.revoked_at is not None for link in made] == [link.customer_id == fan0.id for link in made]
    unknown = admin.post(
        "/admin/integrations/links/revoke", data={"csrf_token": _token(admin), "revoke-email": "who@example.com"}
    )
    assert unknown.status_code == 404


def test_a_link_revoked_from_admin_opens_the_fresh_link_page(app, admin):
    with app.app_context():
        fan = auth.find_customer_by_email("fan1@example.com")
        _link, url = links.create(Actor.system("test"), fan, "update_card")
    admin.post(
        "/admin/integrations/links/revoke", data={"csrf_token": _token(admin), "revoke-email": "fan1@example.com"}
    )
    assert app.test_client().get(url.removeprefix("http://localhost")).status_code == 410
