"""What the portal gives away about whose address is whose: nothing, in the answer or its timing."""

from __future__ import annotations

import math
import statistics
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, LinkRequest, LoginToken, OutboxEmail, TokenPurpose
from portal.services import auth, notifications
from portal.services.actors import Actor
from tests import factories
from tests.helpers import csrf_token, run_together, sign_in_customer

# --- /login: asking for a sign-in link -----------------------------------------------------------


def _link_requester(app, monkeypatch):
    """A browser on /login that may ask as often as the test needs (the limits are tested elsewhere)."""
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app.config, "LINK_REQUEST_RATE_LIMIT", "100000 per minute")
    client = app.test_client()
    token = csrf_token(client.get("/login").text)

    def ask(email: str) -> float:
        started = time.perf_counter()
        response = client.post("/login", data={"link-csrf_token": token, "link-email": email})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302 and response.location == "/login/sent"
        return elapsed

    return ask


def _sign_test_p(differences: list[float]) -> float:
    """Two-sided exact sign test: how likely this many differences on one side are if neither side
    is slower. It needs no estimate of the spread, so bursts of load on the machine cannot fool it."""
    nonzero = [d for d in differences if d]
    n, above = len(nonzero), sum(d > 0 for d in nonzero)
    tail = sum(math.comb(n, k) for k in range(max(above, n - above), n + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_asking_for_a_link_takes_as_long_for_any_address(app, monkeypatch):
    """Timed through the test client after a warm-up, in pairs: one request for an account's
    address and one for an unknown address of the same length, in alternating order, so drift and
    load hit both sides alike. It fails only on a difference that is both clear (an exact sign
    test on the paired differences, p < 0.0001) and material (a median difference over 10% of a
    request). Before the fix the account's address took the token, the email and the audit in
    the request: nearly every pair differed the same way, by a third of a request or more."""
    pairs = 100
    with app.app_context():
        for n in range(pairs):
            factories.customer(f"known{n:03d}@example.com")
    ask = _link_requester(app, monkeypatch)
    for n in range(20):  # warm-up: templates, connections, the limiter's storage
        ask(f"known{n:03d}@example.com")
        ask(f"other{n:03d}@example.com")
    differences, durations = [], []
    for n in range(pairs):
        known, unknown = f"known{n:03d}@example.com", f"other{n:03d}@example.com"
        if n % 2:
            known_time, unknown_time = ask(known), ask(unknown)
        else:
            unknown_time, known_time = ask(unknown), ask(known)
        differences.append(known_time - unknown_time)
        durations += [known_time, unknown_time]
    difference, typical = statistics.median(differences), statistics.median(durations)
    clear = _sign_test_p(differences) < 0.0001
    material = abs(difference) > 0.10 * typical
    assert not (clear and material), (
        f"an account's address takes {difference * 1000:+.2f} ms longer (a request takes {typical * 1000:.2f} ms, "
        f"{sum(d > 0 for d in differences)} of {pairs} pairs slower)"
    )


def test_the_worker_sends_one_link_to_an_account_and_nothing_to_an_unknown_address(app, smtp, monkeypatch):
    with app.app_context():
        factories.customer("reader@example.com", name="Rita Reader", locale="de")
    ask = _link_requester(app, monkeypatch)
    ask("Reader@Example.com ")
    ask("stranger@example.com")
    with app.app_context():
        # The request did the same for both: a row each, no token, no email, no audit yet.
        assert db.session.scalars(select(LinkRequest.email).order_by(LinkRequest.id)).all() == [
            "reader@example.com",
            "stranger@example.com",
        ]
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
        assert db.session.scalar(select(func.count()).select_from(LoginToken)) == 0
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "run", "sign-in-links"]).output.strip() == "sign-in-links: 2"
    assert runner.invoke(args=["jobs", "run", "sign-in-links"]).output.strip() == "sign-in-links: 0"
    with app.app_context():
        assert notifications.deliver_pending() == 1
        assert db.session.scalar(select(func.count()).select_from(LinkRequest)) == 0
        [audited] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.link_requested")).all()
        assert (audited.actor_label, audited.request_id is not None) == ("login page", True)
    [message] = smtp.messages
    assert message["To"] == "reader@example.com"
    assert message["Content-Language"] == "de"
    assert "/login/t/" in message.get_body(("plain",)).get_content()


@pytest.mark.postgres
def test_workers_side_by_side_send_each_link_once(app):
    with app.app_context():
        for n in range(20):
            factories.customer(f"many{n}@example.com")
        for n in range(20):
            auth.request_login_link(f"many{n}@example.com", "en", Actor.system("test"))
            auth.request_login_link(f"nobody{n}@example.com", "en", Actor.system("test"))

    run_together(app, lambda: auth.send_requested_links(batch_size=3), 4)

    with app.app_context():
        recipients = sorted(db.session.scalars(select(OutboxEmail.to_address)))
        assert recipients == sorted(f"many{n}@example.com" for n in range(20))
        assert db.session.scalar(select(func.count()).select_from(LoginToken)) == 20
        assert db.session.scalar(select(func.count()).select_from(LinkRequest)) == 0


# --- /profile/email: moving the account to another address ---------------------------------------


def _ask_to_move(client, new_email: str, address: str = "127.0.0.1"):
    token = csrf_token(client.get("/profile").text)
    return client.post(
        "/profile/email",
        data={"email-csrf_token": token, "email-email": new_email},
        environ_base={"REMOTE_ADDR": address},
    )


def test_email_change_answers_the_same_whether_or_not_the_address_is_taken(app, client):
    with app.app_context():
        factories.customer("mover@example.com")
        factories.customer("taken@example.com", name="Tomás Taken", locale="es")
    sign_in_customer(app, client, "mover@example.com")
    answers = {}
    for new_email in ("taken@example.com", "freeaddr@example.com"):  # two addresses of one length
        response = _ask_to_move(client, new_email)
        page = client.get(response.location).text if response.location else response.text
        answers[new_email] = (response.status_code, response.location, page.replace(new_email, "ADDRESS"))
    assert answers["taken@example.com"] == answers["freeaddr@example.com"]
    status, location, page = answers["taken@example.com"]
    assert (status, location) == (302, "/profile")
    assert "We have sent an email to ADDRESS. If that address can be used, the email has a link" in page
    with app.app_context():
        mail = db.session.execute(select(OutboxEmail.to_address, OutboxEmail.kind).order_by(OutboxEmail.id)).all()
        assert mail == [
            ("taken@example.com", "email_in_use"),  # a note to its owner, in their language, with no link
            ("mover@example.com", "email_change_notice"),
            ("freeaddr@example.com", "email_change_confirm"),
            ("mover@example.com", "email_change_notice"),
        ]
        note = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "email_in_use"))
        assert note.subject == "Alguien ha pedido usar tu dirección de correo"
        assert "http" not in note.body_text
        changes = select(LoginToken.new_email).where(LoginToken.purpose == TokenPurpose.EMAIL_CHANGE)
        assert db.session.scalars(changes).all() == ["freeaddr@example.com"]
        recorded = db.session.execute(
            select(AuditEvent.outcome, AuditEvent.after).where(AuditEvent.action == "profile.email_change_requested")
        ).all()
        assert [(outcome.value, after) for outcome, after in recorded] == [
            ("success", {"new_email": "taken@example.com"}),
            ("success", {"new_email": "freeaddr@example.com"}),
        ]
    assert "Not done" not in client.get("/activity").text


def test_email_change_requests_are_limited_per_subscriber_and_per_client_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_CHANGE_RATE_LIMIT", "2 per hour")
    with app.app_context():
        for name in ("roamer", "first", "second", "third", "elsewhere"):
            factories.customer(f"{name}@example.com")
    # One subscriber trying many addresses from many networks.
    roamer = app.test_client()
    sign_in_customer(app, roamer, "roamer@example.com")
    statuses = [_ask_to_move(roamer, f"try{n}@example.com", f"10.0.0.{n}").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    # Many accounts from one client address.
    statuses = []
    for name in ("first", "second", "third"):
        browser = app.test_client()
        sign_in_customer(app, browser, f"{name}@example.com")
        statuses.append(_ask_to_move(browser, f"{name}-new@example.com", "10.9.9.9").status_code)
    assert statuses == [302, 302, 429]
    # Somebody else, somewhere else, is not held up.
    elsewhere = app.test_client()
    sign_in_customer(app, elsewhere, "elsewhere@example.com")
    assert _ask_to_move(elsewhere, "moved@example.com", "10.1.1.1").status_code == 302
    with app.app_context():
        sent = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "email_change_confirm")
        )
        assert sent == 5
