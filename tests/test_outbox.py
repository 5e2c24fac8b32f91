"""The email outbox: nothing lost while SMTP is down, nothing sent twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, utcnow
from portal.services import auth, notifications
from portal.services.actors import Actor
from tests import factories
from tests.helpers import free_port


def test_email_is_in_the_customers_language(app, smtp, ctx):
    factories.customer("es@example.com", name="Erin", locale="es")
    auth.request_login_link("es@example.com", "en", Actor.system("test"))
    auth.send_requested_links()  # what the worker does
    assert notifications.deliver_pending() == 1
    [message] = smtp.messages
    assert message["Subject"] == f"Tu enlace de acceso a {app.config['MERCHANT_NAME']}"
    assert message["Content-Language"] == "es"
    assert "Hola, Erin:" in message.get_body(("plain",)).get_content()
    assert "Hola, Erin:" in message.get_body(("html",)).get_content()


def test_smtp_outage_loses_nothing_and_sends_once(app, ctx, monkeypatch):
    factories.customer("patient@example.com")
    auth.request_login_link("patient@example.com", "en", Actor.system("test"))
    auth.send_requested_links()  # what the worker does
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    assert notifications.deliver_pending() == 0
    email = db.session.scalar(select(OutboxEmail))
    assert email.sent_at is None and email.attempts == 1
    assert "Connection" in email.last_error or "refused" in email.last_error.lower()
    assert email.next_attempt_at > utcnow()
    # Not due yet: a second round does not hammer the server.
    assert notifications.deliver_pending() == 0
    assert db.session.scalar(select(OutboxEmail)).attempts == 1


def test_retry_after_outage_delivers_exactly_once(app, smtp, ctx):
    factories.customer("later@example.com")
    auth.request_login_link("later@example.com", "en", Actor.system("test"))
    auth.send_requested_links()  # what the worker does
    email = db.session.scalar(select(OutboxEmail))
    email.attempts, email.last_error = 2, "OSError: down"
    email.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert notifications.deliver_pending() == 1
    assert notifications.deliver_pending() == 0
    assert len(smtp.messages) == 1
    assert db.session.scalar(select(OutboxEmail)).sent_at is not None


def test_gives_up_after_max_attempts(app, ctx, monkeypatch):
    factories.customer("doomed@example.com")
    auth.request_login_link("doomed@example.com", "en", Actor.system("test"))
    auth.send_requested_links()  # what the worker does
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    email = db.session.scalar(select(OutboxEmail))
    email.attempts = app.config["OUTBOX_MAX_ATTEMPTS"] - 1
    db.session.commit()
    notifications.deliver_pending()
    email = db.session.scalar(select(OutboxEmail))
    assert email.gave_up_at is not None and email.sent_at is None


def test_worker_once_delivers(app, smtp):
    with app.app_context():
        factories.customer("worker@example.com")
        auth.request_login_link("worker@example.com", "en", Actor.system("test"))
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in smtp.messages] == ["worker@example.com"]


def _queued(to_address: str) -> int:
    email = notifications.queue_email(
        "login_link", to_address, "en", customer_name="Ann", link="https://x.example/l", minutes=15
    )
    db.session.commit()
    return email.id


def test_a_message_that_cannot_be_sent_holds_back_nothing_and_repeats_nothing(app, smtp, ctx):
    """One recipient header that cannot be encoded once stopped every later message and made the
    earlier ones go out again on every round."""
    first = _queued("first@example.com")
    broken = _queued('"Mail\nDelivery" <>')
    last = _queued("last@example.com")
    assert notifications.deliver_pending() == 2
    for _round in range(3):
        for email in db.session.scalars(select(OutboxEmail)):
            email.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert notifications.deliver_pending() == 0
    assert sorted(message["To"] for message in smtp.messages) == ["first@example.com", "last@example.com"]
    rows = {email.id: email for email in db.session.scalars(select(OutboxEmail))}
    assert rows[first].sent_at and rows[last].sent_at and rows[first].attempts == rows[last].attempts == 1
    assert rows[broken].sent_at is None and rows[broken].attempts == 4 and "ValueError" in rows[broken].last_error


def test_the_message_id_comes_from_the_row_so_a_resend_is_recognisable(app, smtp, ctx):
    email_id = _queued("same@example.com")
    notifications.deliver_pending()
    email = db.session.get(OutboxEmail, email_id)
    # As after a crash between sending and recording: the row goes out a second time.
    email.sent_at = None
    db.session.commit()
    notifications.deliver_pending()
    first, second = smtp.messages
    expected = f"<outbox-{email_id}.{email.created_at:%Y%m%d%H%M%S}@"
    assert first["Message-ID"] == second["Message-ID"] and first["Message-ID"].startswith(expected)
