"""A subscriber's own details: name, phone, language, and a confirmed email change."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import language_names
from portal.models import Customer, TokenPurpose
from portal.services import audit, auth, contact, notifications, policy
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.uow import transactional
from portal.services.urls import public_url
from portal.text import lazy_text as _l

_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")


class InvalidProfile(DomainError):
    code = "invalid_profile"


class EmailTaken(DomainError):
    status = 409
    code = "email_taken"
    default_message = _l("Another account already uses that email address.")


@transactional
def update_profile(actor: Actor, customer: Customer, *, name: str, phone: str, locale: str) -> None:
    name, phone = " ".join(name.split()), phone.strip()
    if not name:
        raise InvalidProfile(_l("Enter your name."))
    normalized = contact.normalize_phone(phone) if phone else None
    if phone and (not _PHONE.match(phone) or normalized is None):
        raise InvalidProfile(_l("Enter a phone number with digits only, like +34 600 000 000."))
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidProfile(_l("Choose one of the languages offered."))
    before = {"name": customer.name, "phone": customer.phone, "locale": customer.locale}
    after = {"name": name, "phone": phone or None, "locale": locale}
    if before == after:
        return
    customer.name, customer.phone, customer.locale = name, phone or None, locale
    customer.phone_normalized = normalized
    audit.record(
        actor,
        "profile.updated",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        before=before,
        after=after,
    )
    notifications.queue_email(
        "profile_updated", customer.email, locale, customer_name=name, phone=phone, language=language_names()[locale]
    )


@transactional
def request_email_change(actor: Actor, customer: Customer, new_email: str) -> None:
    """Nothing changes until the link sent to the new address is opened and confirmed.

    Whether another account uses the address must not show, to the subscriber or in their own
    mailbox: the answer, the audit record and the notice to the current address are the same
    either way, and the new address gets one email either way. Its owner, if it has one, gets a
    note that nothing changed instead of a link (the owner may well be this same person with a
    second account, who would otherwise wait for a link that never comes)."""
    new_email = contact.normalize_email(new_email)
    if new_email == customer.email:
        raise InvalidProfile(_l("That is already your email address."), code="no_change")
    owner = db.session.scalar(select(Customer).where(Customer.email == new_email))
    if owner is None:
        token = auth.issue_token(customer, TokenPurpose.EMAIL_CHANGE, new_email=new_email)
        notifications.queue_email(
            "email_change_confirm",
            new_email,
            notifications.recipient_locale(customer),
            customer_name=customer.name,
            url=public_url("account.confirm_email_change", token=token),
            minutes=policy.get().sign_in_link_minutes,
        )
    else:
        notifications.queue_to_customer("email_in_use", owner)
    # The current address hears about it too, in case it was not them.
    notifications.queue_to_customer("email_change_notice", customer, new_email=new_email)
    audit.record(
        actor,
        "profile.email_change_requested",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"new_email": new_email},
    )


def check_email_change(token: str) -> tuple[Customer, str]:
    found = auth.check_token(token, TokenPurpose.EMAIL_CHANGE)
    return db.session.get(Customer, found.customer_id), found.new_email


@transactional
def confirm_email_change(token: str, request_id: str | None = None) -> Customer:
    used = auth.use_token(token, TokenPurpose.EMAIL_CHANGE)
    customer = db.session.get(Customer, used.customer_id)
    if db.session.scalar(select(Customer.id).where(Customer.email == used.new_email)) is not None:
        raise EmailTaken()
    before = customer.email
    customer.email = used.new_email
    audit.record(
        Actor.for_customer(customer, request_id),
        "profile.email_changed",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        before={"email": before},
        after={"email": customer.email},
    )
    return customer
