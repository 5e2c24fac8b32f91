"""Customer accounts: finding them (staff) and their sign-in settings."""

from __future__ import annotations

import re

from sqlalchemy import func, literal_column, select

from portal.extensions import db
from portal.models import Customer
from portal.services import audit, auth
from portal.services.actors import Actor
from portal.services.contact import normalize_email, normalize_phone
from portal.services.errors import InvalidCredentials
from portal.services.lookup import get_or_404
from portal.services.passwords import hash_password, verify_password
from portal.services.uow import transactional
from portal.text import lazy_text as _l

SEARCH_LIMIT = 50

# What a fragment may match: name, email and phone as one lower-cased text. PostgreSQL keeps a
# trigram index on this same expression (migration 0043), so a fragment is one index scan; the
# separators are literals, not parameters, so the planner sees the indexed expression.
_SPACE = literal_column("' '")
SEARCH_TEXT = func.lower(
    Customer.name + _SPACE + Customer.email + _SPACE + func.coalesce(Customer.phone, literal_column("''"))
)


_FULL_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FULL_PHONE = re.compile(r"^\+?[\d\s().-]+$")
MIN_PHONE_DIGITS = 6


def _exact_match(query: str):
    """A whole email address or phone number names one customer: an exact, indexed lookup."""
    if _FULL_EMAIL.match(query):
        return Customer.email == normalize_email(query)
    if _FULL_PHONE.match(query) and sum(char.isdigit() for char in query) >= MIN_PHONE_DIGITS:
        phone = normalize_phone(query)
        return Customer.phone_normalized == phone if phone else None
    return None


def search(query: str) -> list[Customer]:
    """Customers by a whole email or phone, else by a fragment of their email, name or phone
    (trigram indexes on PostgreSQL keep the fragment search fast for a large shop)."""
    query = query.strip()
    if not query:
        return []
    exact = _exact_match(query)
    if exact is not None:
        found = list(db.session.scalars(select(Customer).where(exact).order_by(Customer.name).limit(SEARCH_LIMIT)))
        if found:
            return found
    # Escape LIKE wildcards so "%" finds a literal percent sign, not every customer.
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        db.session.scalars(
            select(Customer).where(SEARCH_TEXT.like(pattern, escape="\\")).order_by(Customer.name).limit(SEARCH_LIMIT)
        )
    )


def get_customer(customer_id: int) -> Customer:
    return get_or_404(Customer, customer_id)


@transactional
def set_password(
    customer: Customer,
    current_password: str | None,
    new_password: str,
    session_token: str,
    request_id: str | None = None,
) -> None:
    """Set or change the optional password. Other browsers signed in as this customer end."""
    actor = Actor.for_customer(customer, request_id)
    fields = {"subject_type": "customer", "subject_id": customer.id, "customer_id": customer.id}
    if customer.password_hash and not verify_password(customer.password_hash, current_password or ""):
        audit.record_failure(actor, "customer.password_set", InvalidCredentials.code, **fields)
        raise InvalidCredentials(_l("Your current password is not right."))
    customer.password_hash = hash_password(new_password)
    auth.end_sessions(customer_id=customer.id, keep_token=session_token)
    audit.record(actor, "customer.password_set", **fields)
