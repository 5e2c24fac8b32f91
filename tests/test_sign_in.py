"""Emailed sign-in links, password sign-in and where the browser goes afterwards."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, LoginToken, OutboxEmail, utcnow
from portal.services import auth, notifications
from tests import factories
from tests.helpers import csrf_token, sign_in_url


def _request_link(client, email: str, next_path: str = ""):
    page = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    return client.post(
        "/login",
        data={
            "link-csrf_token": csrf_token(page.text),
            "link-email": email,
            "link-next": next_path,
        },
    )


def test_link_request_answers_the_same_for_known_and_unknown_addresses(app, client):
    with app.app_context():
        factories.customer("known@example.com")
    known = _request_link(client, "Known@Example.com")
    unknown = _request_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location == "/login/sent"
    with app.app_context():
        assert auth.send_requested_links() == 2  # the worker answers both
        queued = db.session.scalars(select(OutboxEmail)).all()
        assert [email.to_address for email in queued] == ["known@example.com"]


def test_emailed_link_arrives_over_smtp_and_signs_in(app, client, smtp):
    with app.app_context():
        factories.customer("reader@example.com", name="Rita Reader")
    _request_link(client, "reader@example.com", "/orders/999")
    with app.app_context():
        auth.send_requested_links()
        assert notifications.deliver_pending() == 1
    [message] = smtp.messages
    assert message["To"] == "reader@example.com"
    assert "Rita Reader" in message.get_body(("plain",)).get_content()
    link = next(line for line in message.get_body(("plain",)).get_content().splitlines() if "/login/t/" in line).strip()
    path = link.replace(app.config["PUBLIC_BASE_URL"], "")
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert response.location == "/orders/999"


def test_token_is_stored_only_as_a_hash(app):
    with app.app_context():
        factories.customer("hash@example.com")
    path = sign_in_url(app, "hash@example.com")
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(select(LoginToken))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash


def test_get_does_not_use_the_token_up_and_post_uses_it_once(app, client):
    with app.app_context():
        factories.customer("once@example.com")
    path = sign_in_url(app, "once@example.com")
    for _ in range(3):  # mail scanners prefetch links
        assert client.get(path).status_code == 200
    token = csrf_token(client.get(path).text)
    first = client.post(path, data={"csrf_token": token})
    assert first.status_code == 302 and first.location == "/"
    second_browser = app.test_client()
    page = second_browser.get(path)
    assert page.status_code == 400
    assert "expired or was already used" in page.text
    replay = second_browser.post(path, data={"csrf_token": csrf_token(page.text)})
    assert replay.status_code == 400
    assert second_browser.get("/").status_code == 302  # still not signed in


def test_expired_token_is_refused(app, client):
    with app.app_context():
        factories.customer("late@example.com")
    path = sign_in_url(app, "late@example.com")
    with app.app_context():
        stored = db.session.scalar(select(LoginToken))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 400
    response = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_token_lifetime_is_fifteen_minutes(app):
    with app.app_context():
        factories.customer("ttl@example.com")
    sign_in_url(app, "ttl@example.com")
    with app.app_context():
        stored = db.session.scalar(select(LoginToken))
        lifetime = stored.expires_at - stored.created_at
        assert timedelta(minutes=14, seconds=59) <= lifetime <= timedelta(minutes=15, seconds=1)


def test_unknown_token_gives_400_not_500(client):
    assert client.get("/login/t/not-a-real-token").status_code == 400


def test_offsite_next_is_ignored(app, client):
    with app.app_context():
        factories.customer("next@example.com")
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        path = sign_in_url(app, "next@example.com", target)
        browser = app.test_client()
        page = browser.get(path)
        response = browser.post(path, data={"csrf_token": csrf_token(page.text), "next": target})
        assert response.status_code == 302
        assert response.location == "/", target


def test_password_sign_in(app, client):
    with app.app_context():
        factories.customer("pw@example.com", password="a long passphrase")
    page = client.get("/login")
    wrong = client.post(
        "/login/password",
        data={
            "pw-csrf_token": csrf_token(page.text),
            "pw-email": "pw@example.com",
            "pw-password": "nope",
        },
    )
    assert wrong.status_code == 400
    assert "do not match" in wrong.text
    right = client.post(
        "/login/password",
        data={
            "pw-csrf_token": csrf_token(page.text),
            "pw-email": "pw@example.com",
            "pw-password": "a long passphrase",
        },
    )
    assert right.status_code == 302 and right.location == "/"
    assert client.get("/").status_code == 200
    with app.app_context():
        outcomes = [(e.action, e.outcome.value) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert outcomes == [("auth.signed_in", "failure"), ("auth.signed_in", "success")]


def test_invalid_email_gets_a_message_and_400(client):
    page = client.get("/login")
    response = client.post("/login", data={"link-csrf_token": csrf_token(page.text), "link-email": "not an email"})
    assert response.status_code == 400
    assert "name@example.com" in response.text
