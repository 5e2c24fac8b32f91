"""Hostile input is a clear 4xx, never a 500, and never half-applied: control characters, huge
bodies, malformed signed callbacks, and visitors' text inside translated messages."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from flask import render_template_string
from flask.json.tag import TaggedJSONSerializer
from sqlalchemy import func, select, text

from portal import create_app
from portal.extensions import db
from portal.models import Case, CaseMessage, Customer, StaffRole
from portal.text import lazy_text as _l
from tests import factories
from tests.helpers import csrf_token, form_fields, sign_in_customer, sign_in_staff

XSS = '<img src=x onerror="alert(1)">'


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- visitors' text inside translated messages ----------------------------------------------------


def test_values_in_lazy_messages_are_escaped_and_the_text_is_not(app):
    with app.test_request_context():
        message = _l("“%(code)s” is not a frequency. Write it like 2w or 1m.", code=XSS)
        html = render_template_string("{{ message }}", message=message)
        assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
        # The message itself stays readable text for JSON and the audit trail.
        assert XSS in str(message)
        # A flashed message passes through the session serializer, which keeps HTML as HTML.
        restored = TaggedJSONSerializer().loads(TaggedJSONSerializer().dumps({"m": message}))["m"]
        assert "<img" not in restored and "&lt;img" in restored


def test_a_hostile_policy_value_is_shown_escaped_to_the_admin(app, client):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, email="boss@example.com")
    assert sign_in_staff(client, "boss@example.com").status_code == 302
    page = client.get("/admin/policies")
    fields = {**form_fields(page.text, "narrow"), "allowed_intervals": XSS}
    response = client.post("/admin/policies", data=fields)
    assert response.status_code == 400
    assert "is not a frequency" in response.text
    assert "&lt;img src=x" in response.text and XSS not in response.text
    assert "<img" not in client.get("/admin/policies").text


# --- control characters, sizes ------------------------------------------------------------------


def test_nul_in_a_form_is_refused_before_anything_changes(app, client):
    with app.app_context():
        factories.subscription(factories.customer("nul@example.com", name="Nora Null", locale="es"))
    sign_in_customer(app, client, "nul@example.com")
    page = client.get("/profile")
    response = client.post(
        "/profile",
        data={"csrf_token": csrf_token(page.text), "name": "Nora\x00", "phone": "", "locale": "es"},
    )
    assert response.status_code == 400
    assert "caracteres de control" in response.text
    with app.app_context():
        assert db.session.scalar(select(Customer.name).where(Customer.email == "nul@example.com")) == "Nora Null"


@pytest.mark.parametrize("path", ["/login?next=%00", "/help?q=a%00b", "/no%00where", "/login?%01=x"])
def test_control_characters_in_the_address_are_refused(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "control characters" in response.text


def test_tabs_and_line_breaks_are_ordinary_text(app, client):
    with app.app_context():
        factories.subscription(factories.customer("lines@example.com"))
    sign_in_customer(app, client, "lines@example.com")
    page = client.get("/help")
    response = client.post(
        "/help", data={"csrf_token": csrf_token(page.text), "topic": "other", "message": "Line one\r\n\tLine two"}
    )
    assert response.status_code == 302


def test_a_body_over_the_limit_is_413_and_a_form_under_it_is_read(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data="x" * (limit + 1), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "larger than this page accepts" in response.text
    api = client.post(
        "/api/inbound/email",
        data="x" * (limit + 1),
        content_type="application/json",
        headers={"X-Inbound-Key": app.config["INBOUND_EMAIL_KEY"]},
    )
    assert api.status_code == 413 and api.json["error"]["code"] == "too_large"
    assert client.post("/login", data={"email": "a" * 5000}).status_code == 400


def test_the_error_page_renders_after_a_failed_statement(database_url):
    """A database error leaves the session unusable; the 500 page must not fail in turn."""
    failing = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)

    @failing.route("/broken-query")
    def broken_query():
        db.session.execute(text("SELECT no_such_column FROM customers"))

    @failing.route("/then-a-page")
    def then_a_page():
        return str(db.session.scalar(select(func.count()).select_from(Customer)))

    client = failing.test_client()
    response = client.get("/broken-query")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert client.get("/then-a-page").status_code == 200


# --- inbound messages: keyed, then checked field by field ----------------------------------------


def _email(client, app, body, *, key=None):
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        "/api/inbound/email",
        data=payload,
        content_type="application/json",
        headers={"X-Inbound-Key": key or app.config["INBOUND_EMAIL_KEY"]},
    )


GOOD_EMAIL = {"from": "Hana <hana@example.com>", "subject": "Help", "text": "Where is my order?", "message_id": "m-1"}


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"just a string"',
        "not json",
        "[" * 50_000 + "]" * 50_000,
        {**GOOD_EMAIL, "from": 5},
        {**GOOD_EMAIL, "message_id": 12},
        {**GOOD_EMAIL, "message_id": "m" * 191},
        {**GOOD_EMAIL, "message_id": None},
        {**GOOD_EMAIL, "text": ["a"]},
        {**GOOD_EMAIL, "text": "   "},
        {**GOOD_EMAIL, "text": "null\x00byte"},
        {**GOOD_EMAIL, "subject": {"deep": {"deeper": 1}}},
        {**GOOD_EMAIL, "subject": "s" * 501},
        {**GOOD_EMAIL, "from": '"Mail\nDelivery" <>'},
        {**GOOD_EMAIL, "from": "not an address"},
        {**GOOD_EMAIL, "from": "Hana <hana@example.com\x00>"},
    ],
)
def test_malformed_inbound_email_is_400_and_files_nothing(app, client, body):
    response = _email(client, app, body)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
    with app.app_context():
        assert _count(CaseMessage) == 0


def test_a_good_inbound_email_still_files_a_case(app, client):
    response = _email(client, app, GOOD_EMAIL)
    assert response.status_code == 200
    with app.app_context():
        case = db.session.get(Case, response.json["case"])
        assert case.sender == "hana@example.com"


def test_a_non_ascii_key_or_signature_is_403_not_500(app, client):
    assert _email(client, app, GOOD_EMAIL, key="é".encode().decode("latin-1")).status_code == 403
    social = client.post(
        "/api/inbound/social", json={"handle": "@a", "text": "x", "id": "1"}, headers={"X-Inbound-Key": "ü"}
    )
    assert social.status_code == 403
    sms = client.post("/api/inbound/sms", data={"From": "+34600000001"}, headers={"X-Signature": "ß"})
    assert sms.status_code == 403
    with app.app_context():
        assert _count(CaseMessage) == 0


@pytest.mark.parametrize(
    "body",
    [
        "[1]",
        {"handle": 5, "text": "x", "id": "1"},
        {"handle": "@a", "text": "x", "id": "1" * 191},
        {"handle": "@a\x00"},
    ],
)
def test_malformed_social_messages_are_400(app, client, body):
    response = client.post(
        "/api/inbound/social",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"X-Inbound-Key": app.config["INBOUND_SOCIAL_KEY"]},
    )
    assert response.status_code == 400


def test_signed_sms_with_bad_fields_is_400(app, client):
    raw = b"From=%2B34600000001&Body=hi%00there&MessageSid=SM1"
    signature = hmac.new(app.config["INBOUND_SMS_KEY"].encode(), raw, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/inbound/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Signature": signature},
    )
    assert response.status_code == 400


# --- payment provider events: signed, but of the wrong shape ------------------------------------


def _signed(app, client, payload: str, signature_header: str | None = None):
    timestamp = int(time.time())
    key = app.config["STRIPE_WEBHOOK_SECRET"].encode()
    signature = hmac.new(key, f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        "/api/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature_header or f"t={timestamp},v1={signature}"},
    )


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        "{}",
        '{"id": "evt_1"}',
        '{"id": "evt_1", "type": "payment_intent.succeeded"}',
        '{"id": 7, "type": "payment_intent.succeeded", "data": {"object": {}}}',
        json.dumps({"id": "evt_" + "x" * 200, "type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"id": "evt_1", "type": "odd\u0000type", "data": {"object": {}}}),
        json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": ["pi"]}}}),
        '{"a":' * 5000 + "1" + "}" * 5000,
    ],
)
def test_signed_events_of_the_wrong_shape_are_400(app, client, payload):
    response = _signed(app, client, payload)
    assert response.status_code == 400 and response.json["error"]["code"] != "server_error"


def test_a_non_ascii_stripe_signature_is_400(app, client):
    assert _signed(app, client, "{}", "t=1,v1=ü").status_code == 400
