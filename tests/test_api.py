"""The JSON API v1: keys and scopes, JSON errors, idempotency, cursor pagination, links and
subscription actions with the portal's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ActorType, ApiKey, AuditEvent, Order, OrderStatus, Subscription
from portal.services import api_keys, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, follow_link

pytestmark = pytest.mark.usefixtures("fixed_today")


def make_key(app, *scopes: str, name: str = "crm") -> str:
    with app.app_context():
        return api_keys.create(Actor.system("test"), name, list(scopes or api_keys.SCOPES))[1]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def shop(app):
    with app.app_context():
        customers = [factories.customer(f"c{n}@example.com") for n in range(5)]
        subs = [factories.subscription(c, next_order_date=TODAY + timedelta(days=10)) for c in customers]
        subscriptions.roll_forward()
        return {"customers": [c.id for c in customers], "subscriptions": [s.id for s in subs]}


@pytest.fixture
def key(app):
    return make_key(app)


def test_the_cli_prints_the_key_alone_on_its_last_line_and_stores_only_its_digest(app):
    result = app.test_cli_runner().invoke(args=["api-keys", "create", "warehouse", "--scopes", "read,links"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert " " not in secret and len(secret) > 30
    with app.app_context():
        stored = db.session.scalar(select(ApiKey))
        assert stored.scopes == ["links", "read"] and secret not in (stored.key_hash, stored.prefix)
    assert app.test_client().get("/api/v1/customers", headers=bearer(secret)).status_code == 200
    bad = app.test_cli_runner().invoke(args=["api-keys", "create", "x", "--scopes", "root"])
    assert bad.exit_code != 0


def test_requests_without_a_live_key_get_a_json_401(app, client, key):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {key}"}):
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["code"] == "unauthorized" and error["message"] and error["request_id"]
    with app.app_context():
        api_keys.revoke(Actor.system("test"), db.session.scalar(select(ApiKey.id)))
    assert client.get("/api/v1/customers", headers=bearer(key)).status_code == 401


def test_scopes_are_enforced(app, client, shop):
    reader = bearer(make_key(app, "read", name="reader"))
    sub_id = shop["subscriptions"][0]
    assert client.get(f"/api/v1/subscriptions/{sub_id}", headers=reader).status_code == 200
    acted = client.post(f"/api/v1/subscriptions/{sub_id}/actions/resume", json={"version": 1}, headers=reader)
    assert acted.status_code == 403 and acted.get_json()["error"]["code"] == "insufficient_scope"
    linked = client.post(
        "/api/v1/links", json={"customer_id": shop["customers"][0], "action": "sign_in"}, headers=reader
    )
    assert linked.status_code == 403
    writer = bearer(make_key(app, "write", name="writer"))
    assert client.get("/api/v1/customers", headers=writer).status_code == 403


def test_customers_are_paged_with_a_cursor_and_found_by_email(app, client, shop, key):
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", query_string=query, headers=bearer(key)).get_json()
        seen += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == shop["customers"]
    found = client.get("/api/v1/customers", query_string={"email": "C3@Example.com"}, headers=bearer(key)).get_json()
    assert [row["email"] for row in found["data"]] == ["c3@example.com"]
    bad = client.get("/api/v1/customers", query_string={"cursor": "not-a-cursor"}, headers=bearer(key))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_cursor"
    too_many = client.get("/api/v1/customers", query_string={"limit": 1000}, headers=bearer(key))
    assert too_many.status_code == 422 and too_many.get_json()["error"]["code"] == "invalid_request"


def test_subscriptions_and_orders_filter_by_their_owner(app, client, shop, key):
    customer_id, sub_id = shop["customers"][1], shop["subscriptions"][1]
    subs = client.get("/api/v1/subscriptions", query_string={"customer_id": customer_id}, headers=bearer(key))
    assert [row["id"] for row in subs.get_json()["data"]] == [sub_id]
    orders = client.get("/api/v1/orders", query_string={"subscription_id": sub_id}, headers=bearer(key)).get_json()
    assert orders["data"] and {row["subscription_id"] for row in orders["data"]} == {sub_id}
    assert client.get("/api/v1/customers/2147483647", headers=bearer(key)).status_code == 404
    missing = client.get("/api/v1/subscriptions/99999", headers=bearer(key))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_actions_preview_refuse_with_a_stable_code_and_409_on_a_stale_version(app, client, shop, key):
    sub_id = shop["subscriptions"][0]
    with app.app_context():
        first, second, third = db.session.scalars(
            select(Order.id).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for)
        ).all()[:3]
    path = f"/api/v1/subscriptions/{sub_id}/actions/skip"
    preview = client.post(f"{path}?preview=1", json={"order_id": first}, headers=bearer(key))
    assert preview.status_code == 200 and preview.get_json()["preview"] is True
    version = preview.get_json()["subscription"]["version"]
    with app.app_context():
        assert db.session.get(Order, first).status is OrderStatus.SCHEDULED
    done = client.post(path, json={"order_id": first, "version": version}, headers=bearer(key))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["impact"]["orders_after"][0]["skipped"] is True
    stale = client.post(path, json={"order_id": second, "version": version}, headers=bearer(key))
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "concurrent_change"
    version = done.get_json()["subscription"]["version"]
    client.post(path, json={"order_id": second, "version": version}, headers=bearer(key))
    version += 1
    refused = client.post(path, json={"order_id": third, "version": version}, headers=bearer(key))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "too_many_skips"
    missing = client.post(path, json={"version": version}, headers=bearer(key))
    assert missing.status_code == 422 and "order_id" in missing.get_json()["error"]["message"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.skip"))
        assert event.actor_type is ActorType.API and "crm" in event.actor_label
    assert (
        client.post(f"/api/v1/subscriptions/{sub_id}/actions/explode", json={}, headers=bearer(key)).status_code == 404
    )


def test_an_idempotency_key_returns_the_first_answer_on_a_retry(app, client, shop, key):
    sub_id = shop["subscriptions"][0]
    path = f"/api/v1/subscriptions/{sub_id}/actions/pause"
    headers = {**bearer(key), "Idempotency-Key": "pause-once"}
    version = client.get(f"/api/v1/subscriptions/{sub_id}", headers=bearer(key)).get_json()["version"]
    first = client.post(path, json={"cycles": 1, "version": version}, headers=headers)
    again = client.post(path, json={"cycles": 1, "version": version}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        paused = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "subscription.pause")
        )
        assert paused == 1
    other = client.post(path, json={"cycles": 2, "version": version}, headers=headers)
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    # Without the key the same request acts again: on a paused subscription it extends the pause.
    again_without_key = client.post(path, json={"cycles": 1, "version": version + 1}, headers=bearer(key))
    assert again_without_key.status_code == 200 and again_without_key.get_json() != first.get_json()
    # Keys belong to one API key: another merchant system's same key is its own.
    other_key = {**bearer(make_key(app, name="erp")), "Idempotency-Key": "pause-once"}
    links_made = client.post(
        "/api/v1/links", json={"customer_id": shop["customers"][1], "action": "update_card"}, headers=other_key
    )
    assert links_made.status_code == 201


def test_links_made_read_and_revoked_through_the_api(app, client, shop, key):
    customer_id, sub_id = shop["customers"][0], shop["subscriptions"][0]
    made = client.post(
        "/api/v1/links",
        json={"customer_id": customer_id, "action": "pause", "subscription_id": sub_id, "cycles": 1},
        headers=bearer(key),
    )
    assert made.status_code == 201, made.get_json()
    link = made.get_json()
    assert link["url"].startswith("http://localhost/l/") and link["action"] == "pause"
    read = client.get(f"/api/v1/links/{link['id']}", headers=bearer(key)).get_json()
    assert "url" not in read and read["used_at"] is None
    browser = app.test_client()
    follow_link(browser, link["url"].removeprefix("http://localhost"))
    with app.app_context():
        assert db.session.get(Subscription, sub_id).status.value == "paused"
    assert client.get(f"/api/v1/links/{link['id']}", headers=bearer(key)).get_json()["used_at"] is not None

    other_sub = shop["subscriptions"][1]
    theirs = client.post(
        "/api/v1/links",
        json={"customer_id": customer_id, "action": "pause", "subscription_id": other_sub},
        headers=bearer(key),
    )
    assert theirs.status_code == 422 and theirs.get_json()["error"]["code"] == "invalid_link"

    fresh = client.post(
        "/api/v1/links", json={"customer_id": customer_id, "action": "update_card"}, headers=bearer(key)
    ).get_json()
    revoked = client.delete(f"/api/v1/links/{fresh['id']}", headers=bearer(key))
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    assert browser.get(fresh["url"].removeprefix("http://localhost")).status_code == 410
    for _ in range(2):
        client.post("/api/v1/links", json={"customer_id": customer_id, "action": "sign_in"}, headers=bearer(key))
    all_revoked = client.delete(f"/api/v1/customers/{customer_id}/links", headers=bearer(key))
    # The two sign-in links, and the "Undo" (resume) link of the pause's confirmation email.
    assert all_revoked.get_json() == {"revoked": 3}


def test_portal_sessions_by_id_or_email_sign_in_to_the_page_asked_for(app, client, shop, key):
    made = client.post(
        "/api/v1/portal-sessions", json={"email": "c2@example.com", "return_path": "/payment"}, headers=bearer(key)
    )
    assert made.status_code == 201
    body = made.get_json()
    assert body["customer_id"] == shop["customers"][2]
    landed = follow_link(app.test_client(), body["url"].removeprefix("http://localhost"))
    assert landed.location == "/payment"
    nobody = client.post("/api/v1/portal-sessions", json={"email": "nobody@example.com"}, headers=bearer(key))
    assert nobody.status_code == 404
    neither = client.post("/api/v1/portal-sessions", json={}, headers=bearer(key))
    assert neither.status_code == 422
    offsite = client.post(
        "/api/v1/portal-sessions",
        json={"customer_id": shop["customers"][0], "return_path": "//evil.example"},
        headers=bearer(key),
    )
    assert offsite.status_code == 422


def test_hostile_bodies_get_json_4xx(app, client, shop, key):
    for body, content_type in (("{", "application/json"), ("[]", "application/json"), ("a=b", "text/plain")):
        response = client.post("/api/v1/links", data=body, content_type=content_type, headers=bearer(key))
        assert 400 <= response.status_code < 500 and response.get_json()["error"]["code"]
    response = client.post("/api/v1/links", json={"customer_id": "x" * 10_000, "action": 7}, headers=bearer(key))
    assert response.status_code == 422


def test_the_api_is_rate_limited_per_key(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    one, two = make_key(app, name="one"), make_key(app, name="two")
    statuses = [client.get("/api/v1/customers", headers=bearer(one)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/customers", headers=bearer(two)).status_code == 200
    refused = client.get("/api/v1/customers", headers=bearer(one))
    assert refused.get_json()["error"]["code"] == "rate_limited"
    # A client can pace itself: what is left, and when to come back.
    assert refused.headers["X-RateLimit-Limit"] == "3" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    counted = client.get("/api/v1/customers", headers=bearer(two))
    assert counted.headers["X-RateLimit-Remaining"] == "1"
    # The document and its reference page are public and not counted against anyone.
    for _ in range(4):
        assert client.get("/api/v1/openapi.json", headers=bearer(two)).status_code == 200
    assert client.get("/api/v1/customers", headers=bearer(two)).status_code == 200


def test_made_up_keys_are_limited_per_client_address(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "API_UNKNOWN_KEY_RATE_LIMIT", "3 per minute")
    key = make_key(app)
    guesses = [client.get("/api/v1/customers", headers=bearer(f"made-up-{n}")).status_code for n in range(4)]
    assert guesses == [401, 401, 401, 429]
    assert client.get("/api/v1/customers").status_code == 429  # no key at all counts the same
    # A real key from the same address goes on working.
    assert client.get("/api/v1/customers", headers=bearer(key)).status_code == 200


def test_the_openapi_document_and_its_reference_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert {
        "/api/v1/portal-sessions",
        "/api/v1/links",
        "/api/v1/links/{link_id}",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}",
        "/api/v1/orders",
        "/api/v1/subscriptions/{subscription_id}/actions/{action}",
    } <= set(spec["paths"])
    action = spec["paths"]["/api/v1/subscriptions/{subscription_id}/actions/{action}"]["post"]
    assert {"200", "409", "422"} <= set(action["responses"])
    page = client.get("/api/v1/reference")
    assert page.status_code == 200 and "POST /api/v1/links" in page.text and "LinkIn" in page.text


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nul\u0000@example.com"},
        {"customer_id": 1, "return_path": "/\u0000"},
    ],
)
def test_control_characters_in_a_json_body_are_422_not_stored(client, shop, key, body):
    response = client.post("/api/v1/portal-sessions", json=body, headers=bearer(key))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_request"
    assert "control characters" in response.get_json()["error"]["message"]
