"""Proactive messages: what each kind is, the merchant's settings for it, the subscriber's choice,
one-click unsubscribe, the links inside, and sending each occurrence exactly once.

The jobs that find what is due are in `outreach_jobs`; this module is what they share.

Exactly once: each message is an `outreach_sends` row unique on (kind, subject, occurrence),
inserted with ON CONFLICT DO NOTHING in the same transaction as its outbox email. A second worker
racing for the same occurrence waits for the first one's commit and then inserts nothing; a
rerun finds the row and inserts nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.models import ActorType, Customer, LinkAction, MessageOptOut, OutreachSend, OutreachSetting
from portal.services import audit, clock, links, notifications
from portal.services import policy as policy_service
from portal.services.actors import Actor
from portal.services.errors import DomainError, InvalidToken, NotFound
from portal.services.lookup import is_record_id
from portal.services.uow import transactional
from portal.services.urls import public_url
from portal.text import lazy_text as _l

SUBJECT_MAX_LENGTH, INTRO_MAX_LENGTH = 200, 2000


@dataclass(frozen=True)
class MessageKind:
    code: str
    label: Any
    # What the merchant's number of days means for this message.
    timing_label: Any
    # Optional messages can be turned off by the subscriber; the others are notices they need.
    optional: bool
    default_days: int
    days_range: tuple[int, int]
    default_subject: Any
    default_intro: Any


KINDS: dict[str, MessageKind] = {
    kind.code: kind
    for kind in (
        MessageKind(
            "order_reminder",
            _l("Upcoming order reminder"),
            _l("Days before each order (more than the order cut-off)"),
            True,
            3,
            (1, 30),
            _l("Your next order is on its way soon"),
            _l("Here is what we will send you next. You can still change it until it is being prepared."),
        ),
        MessageKind(
            "card_expiring",
            _l("Card expiring"),
            _l("Days before the next charge for the second notice"),
            True,
            7,
            (1, 30),
            _l("Your card is about to expire"),
            _l("The card we charge for your subscription expires soon. Add a new one so your deliveries keep coming."),
        ),
        MessageKind(
            "pause_ending",
            _l("Pause ending"),
            _l("Days before the subscription resumes"),
            True,
            7,
            (1, 60),
            _l("Your pause ends soon"),
            _l("Your subscription resumes by itself soon. If you need a longer break, extend the pause."),
        ),
        MessageKind(
            "catalog_change",
            _l("Price change or discontinued product"),
            _l("Days of notice at least"),
            False,
            14,
            (1, 90),
            _l("A change to your subscription"),
            _l("Something you receive is changing. Here is what it means for you and what you can choose instead."),
        ),
    )
}
OPTIONAL_KINDS = tuple(code for code, kind in KINDS.items() if kind.optional)


class InvalidSetting(DomainError):
    code = "invalid_message_setting"


# --- the merchant's settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    kind: MessageKind
    enabled: bool
    days_before: int
    # Only what the merchant wrote; `text` falls back to the translated default.
    texts: dict[str, dict[str, str]]

    def text(self, locale: str) -> dict[str, str]:
        own = self.texts.get(locale) or {}
        with force_locale(locale):
            return {
                "subject": own.get("subject") or str(self.kind.default_subject),
                "intro": own.get("intro") or str(self.kind.default_intro),
            }


def setting(code: str) -> Setting:
    kind = KINDS.get(code)
    if kind is None:
        raise NotFound()
    stored = db.session.get(OutreachSetting, code)
    if stored is None:
        return Setting(kind, True, kind.default_days, {})
    return Setting(kind, stored.enabled, stored.days_before, dict(stored.texts or {}))


def all_settings() -> list[Setting]:
    return [setting(code) for code in KINDS]


@transactional
def save_setting(
    actor: Actor, code: str, *, enabled: bool, days_before: int, texts: dict[str, dict[str, str]]
) -> Setting:
    """Texts left empty in a language use the default wording, translated."""
    current = setting(code)
    low, high = current.kind.days_range
    if code == "order_reminder":
        # A reminder must leave time to act: it goes out before the order is locked.
        low = max(low, policy_service.get().order_cutoff_days + 1)
    if not low <= days_before <= high:
        raise InvalidSetting(_l("Choose a number of days from %(low)d to %(high)d.", low=low, high=high))
    cleaned = {}
    for lang in current_app.config["LANGUAGES"]:
        given = texts.get(lang) or {}
        subject = " ".join((given.get("subject") or "").split())
        intro = (given.get("intro") or "").strip()
        if len(subject) > SUBJECT_MAX_LENGTH or len(intro) > INTRO_MAX_LENGTH:
            raise InvalidSetting(_l("That is too long."))
        if subject or intro:
            cleaned[lang] = {"subject": subject, "intro": intro}
    stored = db.session.get(OutreachSetting, code) or OutreachSetting(kind=code)
    before = {"enabled": current.enabled, "days_before": current.days_before, "texts": current.texts}
    stored.enabled, stored.days_before, stored.texts = enabled, days_before, cleaned
    db.session.add(stored)
    audit.record(
        actor,
        "policy.message_saved",
        subject_type="message",
        before={"kind": code, **before},
        after={"kind": code, "enabled": enabled, "days_before": days_before, "texts": cleaned},
    )
    return setting(code)


# --- the subscriber's choice ------------------------------------------------------------------------


def opted_out(customer_id: int) -> set[str]:
    return set(db.session.scalars(select(MessageOptOut.kind).where(MessageOptOut.customer_id == customer_id)))


def wanted(customer_id: int) -> set[str]:
    """The optional messages this subscriber gets."""
    return set(OPTIONAL_KINDS) - opted_out(customer_id)


@transactional
def set_preferences(actor: Actor, customer: Customer, wanted_kinds: set[str]) -> None:
    """Turn optional messages on or off; transactional notices cannot be turned off."""
    before = opted_out(customer.id)
    after = {code for code in OPTIONAL_KINDS if code not in wanted_kinds}
    if before == after:
        return
    db.session.execute(delete(MessageOptOut).where(MessageOptOut.customer_id == customer.id))
    db.session.add_all(MessageOptOut(customer_id=customer.id, kind=code) for code in sorted(after))
    audit.record(
        actor,
        "profile.messages_changed",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        before={"opted_out": sorted(before)},
        after={"opted_out": sorted(after)},
    )


# --- one-click unsubscribe (RFC 8058) ---------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(customer: Customer, code: str) -> str:
    """Signed, not stored: it works without signing in, for as long as the email is kept."""
    return _serializer().dumps([customer.id, code])


def read_unsubscribe_token(token: str) -> tuple[Customer, MessageKind]:
    invalid = InvalidToken(_l("This unsubscribe link is not valid. Choose your emails on your profile instead."))
    try:
        customer_id, code = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        raise invalid from None
    customer = db.session.get(Customer, customer_id) if is_record_id(customer_id) else None
    kind = KINDS.get(code) if isinstance(code, str) else None
    if customer is None or kind is None or not kind.optional:
        raise invalid
    return customer, kind


@transactional
def unsubscribe(token: str, request_id: str | None = None) -> tuple[Customer, MessageKind]:
    """Stop one optional message for the token's subscriber. Doing it twice changes nothing."""
    customer, kind = read_unsubscribe_token(token)
    if kind.code not in opted_out(customer.id):
        db.session.add(MessageOptOut(customer_id=customer.id, kind=kind.code))
        audit.record(
            Actor.for_customer(customer, request_id),
            "profile.unsubscribed",
            subject_type="customer",
            subject_id=customer.id,
            customer_id=customer.id,
            after={"kind": kind.code},
        )
    return customer, kind


# --- what a message is made of ------------------------------------------------------------------------


def _link(customer: Customer, endpoint: str, valid_until: date, **values) -> str:
    """Every link in these messages: a one-action sign-in link (scoped, single use, revocable, with
    a fresh copy on offer when it has run out) that lands on the page of the action, where the
    subscriber confirms it. Valid until the message no longer applies."""
    days = max((valid_until - clock.today()).days, 0) + 1
    parts = urlsplit(public_url(endpoint, **values))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return links.action_url(customer, LinkAction.SIGN_IN, next_path=path, valid_for=timedelta(days=days))


def _claim(kind: str, subject_id: int, occurrence: str, customer_id: int) -> OutreachSend | None:
    """Insert the send record unless it exists; None when this occurrence was already sent."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    row_id = db.session.execute(
        dialect.insert(OutreachSend)
        .values(kind=kind, subject_id=subject_id, occurrence=occurrence, customer_id=customer_id)
        .on_conflict_do_nothing(index_elements=["kind", "subject_id", "occurrence"])
        .returning(OutreachSend.id)
    ).scalar()
    return None if row_id is None else db.session.get(OutreachSend, row_id)


def send_once(
    job: str,
    code: str,
    customer: Customer,
    subject: tuple[str, int],
    occurrence: str,
    valid_until: date,
    links: dict[str, tuple[str, dict[str, Any]]],
    **context,
) -> bool:
    """Queue this occurrence's email unless it was sent; in the caller's unit of work.

    `links` names each link's endpoint and values; `_link` builds them. Returns whether it was queued.
    """
    subject_type, subject_id = subject
    sent = _claim(code, subject_id, occurrence, customer.id)
    if sent is None:
        return False
    kind = KINDS[code]
    locale = notifications.recipient_locale(customer)
    unsubscribe_url = (
        public_url("outreach.unsubscribe", token=unsubscribe_token(customer, code)) if kind.optional else None
    )
    email = notifications.queue_to_customer(
        code,
        customer,
        text=setting(code).text(locale),
        links={name: _link(customer, endpoint, valid_until, **values) for name, (endpoint, values) in links.items()},
        preferences_url=public_url("account.profile_page"),
        unsubscribe_url=unsubscribe_url,
        **context,
    )
    db.session.flush()
    sent.email_id = email.id
    audit.record(
        Actor(ActorType.JOB, None, job),
        f"message.{code}_sent",
        subject_type=subject_type,
        subject_id=subject_id,
        customer_id=customer.id,
        after={"occurrence": occurrence, "email": email.id},
    )
    return True


# --- the merchant's preview ---------------------------------------------------------------------------


class _SampleLinks(dict):
    """Every link in a preview goes to the portal's home page."""

    def __missing__(self, name: str) -> str:
        return public_url("account.dashboard")


def _sample(code: str) -> dict[str, Any]:
    """Made-up but typical details, so a preview shows the whole message."""
    today, currency = clock.today(), current_app.config["MERCHANT_CURRENCY"]
    product = str(_l("House blend · 250 g"))
    variant = SimpleNamespace(display_name=product, price_minor=1200, currency=currency)
    card = SimpleNamespace(brand="visa", last4="4242", exp_month=today.month, exp_year=today.year)
    order = SimpleNamespace(
        scheduled_for=today + timedelta(days=setting("order_reminder").days_before),
        currency=currency,
        lines=[SimpleNamespace(quantity=2, description=product, total_minor=2400)],
        discount_minor=360,
        shipping_minor=0,
        total_minor=2040,
    )
    if code == "order_reminder":
        address = SimpleNamespace(
            name="Alex Example", line1="Calle Mayor 1", line2=None, postal_code="28013", city="Madrid", country="ES"
        )
        return {"order": order, "credit_minor": 500, "to_pay_minor": 1540, "address": address, "card": card}
    if code == "card_expiring":
        return {"card": card, "expires_on": today, "order": order}
    if code == "pause_ending":
        subscription = SimpleNamespace(
            items=[SimpleNamespace(quantity=2, variant=variant)], price_minor=2400, currency=currency
        )
        return {"subscription": subscription, "resumes_on": today + timedelta(days=7)}
    change = SimpleNamespace(kind="price", effective_on=today + timedelta(days=30), new_price_minor=1350)
    choice = SimpleNamespace(display_name=str(_l("Decaf · 250 g")), price_minor=1200, currency=currency)
    return {
        "change": change,
        "variant": variant,
        "item": SimpleNamespace(unit_price_minor=1200),
        "currency": currency,
        "choices": [choice],
    }


def preview(code: str, texts: dict[str, dict[str, str]], locale: str) -> notifications.RenderedEmail:
    """The message as a subscriber would get it in `locale`, with the merchant's (unsaved) texts."""
    current = setting(code)
    draft = Setting(current.kind, current.enabled, current.days_before, texts)
    return notifications.render_email(
        code,
        locale,
        customer_name="Alex Example",
        text=draft.text(locale),
        links=_SampleLinks(),
        preferences_url=public_url("account.profile_page"),
        unsubscribe_url=public_url("outreach.unsubscribe", token="preview") if current.kind.optional else None,
        **_sample(code),
    )
