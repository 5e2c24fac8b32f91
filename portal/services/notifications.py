"""Outbox email: queued inside the caller's transaction, delivered by a job with retries."""
from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, utcnow

MAX_BACKOFF = timedelta(hours=6)


def queue_email(kind: str, to_address: str, locale: str, **context) -> OutboxEmail:
    """Render `emails/<kind>.txt` (and `.html` if there is one) in the recipient's language.

    Each text template sets `subject` at top level, so subject and body are translated together.
    """
    context.setdefault("merchant_name", current_app.config["MERCHANT_NAME"])
    with force_locale(locale):
        text_template = current_app.jinja_env.get_template(f"emails/{kind}.txt")
        module = text_template.make_module(context)
        body_text = str(module)
        subject = str(module.subject).strip()
        # Most emails are plain text shown as simple HTML; a few have their own HTML design.
        html_template = current_app.jinja_env.select_template(
            [f"emails/{kind}.html", "emails/_text_as_html.html"])
        body_html = render_template(html_template, subject=subject, body_text=body_text, **context)
    email = OutboxEmail(
        kind=kind,
        to_address=to_address,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
    )
    db.session.add(email)
    return email


def _send(email: OutboxEmail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    # Stable per outbox row, so a resend after a crash can be recognised as the same mail.
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}", domain="portal.local")
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    # After the bodies: set_content drops any Content-* header set earlier.
    message["Content-Language"] = email.locale
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver_pending(batch_size: int = 50) -> int:
    """Send what is due. Rows are claimed with SKIP LOCKED, so parallel workers never share one.

    Returns how many were sent; failures are rescheduled with exponential backoff.
    """
    now = utcnow()
    claimed = db.session.scalars(
        select(OutboxEmail)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.gave_up_at.is_(None),
            OutboxEmail.next_attempt_at <= now,
        )
        .order_by(OutboxEmail.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for email in claimed:
        email.attempts += 1
        try:
            _send(email)
        except (OSError, smtplib.SMTPException) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if email.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                email.gave_up_at = now
                current_app.logger.error("outbox email %s gave up: %s", email.id, email.last_error)
            else:
                email.next_attempt_at = now + min(timedelta(minutes=2**email.attempts), MAX_BACKOFF)
        else:
            email.sent_at = utcnow()
            email.last_error = None
            sent += 1
    db.session.commit()
    return sent


def recent(limit: int = 100) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)))


def get(email_id: int) -> OutboxEmail | None:
    return db.session.get(OutboxEmail, email_id)
