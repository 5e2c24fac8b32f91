"""What the portal gives away about whose address is whose: nothing, in the answer or its timing."""

from __future__ import annotations

import math
import statistics
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, LinkRequest, LoginToken, OutboxEmail
from portal.services import auth, notifications
from portal.services.actors import Actor
from tests import factories
from tests.helpers import csrf_token, run_together

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
