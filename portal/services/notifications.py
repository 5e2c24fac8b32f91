"""Outbox email: queued in the caller's unit of work, delivered by a job with retries.

Each message is claimed, sent and recorded in a transaction of its own, so one message that
cannot be sent (a dead server, an address that cannot be encoded) never holds back or repeats
the others."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.models import Customer, OutboxEmail
from portal.services import links, outbox
from portal.services.urls import public_url


def recipient_locale(customer: Customer | None) -> str:
    """Mail goes out in the customer's own language, else the shop's default."""
    if customer is not None and customer.locale in current_app.config["LANGUAGES"]:
        return customer.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str


def render_email(kind: str, locale: str, **context) -> RenderedEmail:
    """Render `emails/<kind>.txt` (and `.html` if there is one) in the recipient's language.

    Each text template sets `subject` at top level, so subject and body are translated together.
    """
    context.setdefault("merchant_name", current_app.config["MERCHANT_NAME"])
    with force_locale(locale):
        text_template = current_app.jinja_env.get_template(f"emails/{kind}.txt")
        module = text_template.make_module(context)
        body_text = str(module)
        subject = " ".join(str(module.subject).split())
        # Most emails are plain text shown as simple HTML; a few have their own HTML design.
        html_template = current_app.jinja_env.select_template([f"emails/{kind}.html", "emails/_text_as_html.html"])
        body_html = render_template(html_template, subject=subject, body_text=body_text, **context)
    return RenderedEmail(subject, body_text, body_html)


def queue_email(
    kind: str, to_address: str, locale: str, *, unsubscribe_url: str | None = None, **context
) -> OutboxEmail:
    """Queue `render_email(kind, ...)` in the caller's unit of work. An optional message gives its
    `unsubscribe_url`, sent as one-click unsubscribe headers."""
    rendered = render_email(kind, locale, unsubscribe_url=unsubscribe_url, **context)
    email = OutboxEmail(
        kind=kind,
        to_address=to_address,
        locale=locale,
        subject=rendered.subject[:300],
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        unsubscribe_url=unsubscribe_url,
    )
    db.session.add(email)
    return email


def queue_to_customer(kind: str, customer: Customer, **context) -> OutboxEmail:
    return queue_email(kind, customer.email, recipient_locale(customer), customer_name=customer.name, **context)


def queue_subscription_changed(subscription, action: str, change, params: dict) -> OutboxEmail:
    return queue_to_customer(
        "subscription_changed",
        subscription.customer,
        action=action,
        change=change,
        subscription_url=public_url("account.subscription", subscription_id=subscription.id),
        action_links=links.change_links(subscription, action, params),
    )


def message_id(email: OutboxEmail) -> str:
    """Derived from the row alone, so a resend after a crash carries the same Message-ID."""
    sender = parseaddr(current_app.config["MAIL_SENDER"])[1]
    domain = sender.rpartition("@")[2] or "portal.invalid"
    return f"<outbox-{email.id}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def _message(email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = message_id(email)
    if email.unsubscribe_url:
        # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the https address.
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    # After the bodies: set_content drops any Content-* header set earlier.
    message["Content-Language"] = email.locale
    return message


def _send(email: OutboxEmail) -> None:
    config = current_app.config
    message = _message(email)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver_pending(batch_size: int = 50) -> int:
    """Send up to `batch_size` due emails; returns how many were sent."""
    return outbox.deliver_due(OutboxEmail, _send, batch_size)


def recent(limit: int = 100) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)))


def get(email_id: int) -> OutboxEmail | None:
    return db.session.get(OutboxEmail, email_id)
