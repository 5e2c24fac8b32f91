"""How email addresses, phone numbers and social handles are compared: one normal form each, used
wherever one is stored or looked up (sign-in, profile, staff, inbound messages)."""

from __future__ import annotations

from email.utils import parseaddr

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app

# Numbers are stored and matched in E.164 (+34600000001).
PHONE_FORMAT = phonenumbers.PhoneNumberFormat.E164


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def mailbox_address(header: str | None) -> str | None:
    """The address in a From header (`"Ann" <ann@example.com>` or a bare address), normalised;
    None when there is no valid address in it, so a message from nobody is refused at the door."""
    _name, address = parseaddr(header or "")
    if not address or any(ord(char) < 32 for char in header or ""):
        return None
    try:
        return normalize_email(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def normalize_handle(handle: str | None) -> str:
    return (handle or "").strip().lower()


def normalize_phone(raw: str | None) -> str | None:
    """The number in E.164, reading a national number ("600 000 001") as the merchant's
    country's; None when it cannot be a phone number."""
    try:
        number = phonenumbers.parse(raw or "", current_app.config["MERCHANT_COUNTRY"])
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, PHONE_FORMAT)
