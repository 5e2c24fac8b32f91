"""CSRF, cookies, headers, trusted hosts, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from config import DEVELOPMENT_SECRETS, TEST_SECRET_KEY
from portal import create_app
from portal.billing import stripe_gateway as gateway
from tests import factories
from tests.helpers import csrf_token, production_environment, sign_in_customer, sign_in_url


def test_post_without_csrf_token_is_rejected(app, client):
    with app.app_context():
        factories.customer("csrf@example.com")
    path = sign_in_url(app, "csrf@example.com")
    response = client.post(path, data={})
    assert response.status_code == 400
    assert "form has expired" in response.text
    # The token was not used up by the rejected request.
    page = client.get(path)
    assert page.status_code == 200
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert client.post(path, data={"csrf_token": csrf_token(page.text)}).status_code == 302


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    assert len(response.headers["X-Request-ID"]) >= 8


def test_pages_have_no_inline_script(app, client):
    with app.app_context():
        factories.subscription(factories.customer("noscript@example.com"))
    sign_in_customer(app, client, "noscript@example.com")
    for path in ("/", "/login"):
        html = client.get(path).text
        assert "<script>" not in html and " on" + "click=" not in html


def test_session_cookie_flags(app, client):
    with app.app_context():
        factories.customer("cookie@example.com")
    path = sign_in_url(app, "cookie@example.com")
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf_token(page.text)})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over http


@pytest.fixture
def production_env(monkeypatch, database_url):
    for name, value in production_environment(database_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRUSTED_HOSTS", "portal.example.com")


def test_production_cookies_and_hsts(production_env):
    app = create_app("production", TRUSTED_HOSTS=["portal.example.com"])
    client = app.test_client()
    response = client.get("/login", base_url="https://portal.example.com")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_untrusted_host_is_refused(production_env):
    app = create_app("production", TRUSTED_HOSTS=["portal.example.com"])
    response = app.test_client().get("/login", base_url="https://evil.example")
    assert response.status_code == 400


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"])
def test_production_refuses_to_start_without_secrets(production_env, monkeypatch, missing):
    monkeypatch.setenv(missing, "")
    with pytest.raises(RuntimeError, match=f"^Refusing to start in production without: {missing}$"):
        create_app("production")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *DEVELOPMENT_SECRETS.items(),
        ("SECRET_KEY", TEST_SECRET_KEY),
        ("STRIPE_SECRET_KEY", "sk_test_localstripe"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe"),
    ],
)
def test_production_refuses_to_start_with_a_public_default_secret(production_env, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    assert str(refused.value) == (
        f"Refusing to start in production with a development default (public) value for: {name}. "
        "Set a long random secret of your own."
    )


def test_production_talks_to_stripe_with_the_keys_read_at_start(production_env, monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_started")
    monkeypatch.setenv("INBOUND_SMS_KEY", "k" * 32)
    app = create_app("production", TRUSTED_HOSTS=["portal.example.com"])
    assert (app.config["STRIPE_SECRET_KEY"], app.config["INBOUND_SMS_KEY"]) == ("sk_live_started", "k" * 32)
    assert app.config["STRIPE_WEBHOOK_SECRET"] is None
    with app.app_context():
        assert gateway.stripe_js_url() == "https://js.stripe.com/v3/"


def test_login_is_rate_limited_with_a_translated_page(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    statuses = [
        client.post(
            "/login/password", data={"pw-csrf_token": token, "pw-email": "x@example.com", "pw-password": "wrong"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    spanish = client.post("/login/password", headers={"Accept-Language": "es"}, data={"pw-csrf_token": token})
    assert spanish.status_code == 429
    assert "Demasiados intentos" in spanish.text
    assert 1 <= int(spanish.headers["Retry-After"]) <= 60


def test_a_limit_of_several_parts(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute;4 per hour")
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    data = {"pw-csrf_token": token, "pw-email": "x@example.com", "pw-password": "wrong"}
    # The minute's part refuses the fourth and fifth; they do not use up the hour as well.
    assert [client.post("/login/password", data=data).status_code for _ in range(5)] == [400] * 3 + [429] * 2
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        assert client.post("/login/password", data=data).status_code == 400
        refused = client.post("/login/password", data=data)
        # Now the hour's part refuses, and says when its window ends.
        assert refused.status_code == 429 and 60 < int(refused.headers["Retry-After"]) <= 3600
        assert refused.headers["X-RateLimit-Limit"] == "4" and refused.headers["X-RateLimit-Remaining"] == "0"


def test_two_limits_on_one_page_report_the_closer_one(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "LINK_REQUEST_RATE_LIMIT", "10 per minute")
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    answers = [client.post("/login", data={"link-csrf_token": token, "link-email": "a@example.com"}) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [302, 302, 302, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer.headers["X-RateLimit-Limit"] for answer in answers} == {"3"}


def test_a_rate_limit_that_is_not_one_stops_the_start(monkeypatch):
    for broken in ("", "ten per minute", "10 per minute;"):
        with pytest.raises(RuntimeError, match="LOGIN_RATE_LIMIT"):
            create_app("test", LOGIN_RATE_LIMIT=broken)


def test_without_its_shared_storage_each_process_still_limits(app, database_url, caplog):
    # Nothing listens there: the limits are counted in this process, and said so in the log.
    cut_off = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    cut_off.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = cut_off.test_client()
    token = csrf_token(client.get("/login").text)
    data = {"pw-csrf_token": token, "pw-email": "x@example.com", "pw-password": "wrong"}
    assert [client.post("/login/password", data=data).status_code for _ in range(3)] == [400, 400, 429]
    assert "rate-limit storage unreachable" in caplog.text
    # The health check says so, and still answers 200: the portal works.
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json == {"status": "ok", "database": "ok", "rate_limits": "unreachable: each process counts alone"}


def test_pages_without_a_limit_are_never_counted(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1 per minute")
    client = app.test_client()
    for _ in range(5):
        response = client.get("/healthz")
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
    # /login counts its posts only; its GET is free.
    assert all(client.get("/login").status_code == 200 for _ in range(3))


def test_link_requests_are_limited_per_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "LINK_REQUEST_RATE_LIMIT", "2 per 15 minutes")
    statuses = []
    for _ in range(3):
        client = app.test_client()  # a fresh browser each time: the limit follows the address
        token = csrf_token(client.get("/login").text)
        statuses.append(
            client.post("/login", data={"link-csrf_token": token, "link-email": "Target@example.com "}).status_code
        )
    assert statuses == [302, 302, 429]
    # Somebody else asking for their own link is not held up by it.
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    assert client.post("/login", data={"link-csrf_token": token, "link-email": "other@example.com"}).status_code == 302


def test_production_has_no_default_shared_secrets(production_env):
    app = create_app("production", TRUSTED_HOSTS=["portal.example.com"])
    client = app.test_client()
    base = "https://portal.example.com"
    assert (
        client.post(
            "/api/inbound/email",
            json={"from": "a@b.c", "text": "x", "message_id": "1"},
            headers={"X-Inbound-Key": "dev-inbound-email-key"},
            base_url=base,
        ).status_code
        == 403
    )
    assert (
        client.post("/api/inbound/sms", data={"From": "+1", "Body": "x", "MessageSid": "1"}, base_url=base).status_code
        == 403
    )
    assert client.post("/api/webhooks/stripe", data="{}", base_url=base).status_code == 400
