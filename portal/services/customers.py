"""Customer accounts: finding them (staff) and their sign-in settings."""

from __future__ import annotations

import re
from functools import reduce

from sqlalchemy import and_, func, literal_column, select

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


# The words of that text, with the punctuation of emails and phones read as spaces, for a search
# by the beginnings of words ("mat braz" finds Mateo Brazenber). PostgreSQL answers it from a GIN
# index on this same expression (migration 0044) that reads only the entries of matching words,
# so it costs about the same in a shop of a thousand customers or a million; a trigram search
# reads every customer that shares a trigram with the fragment.
_SIMPLE = literal_column("'simple'::regconfig")
_WORD_BREAKS = "@.+-_()"
SEARCH_WORDS = func.to_tsvector(
    _SIMPLE,
    func.translate(SEARCH_TEXT, literal_column(f"'{_WORD_BREAKS}'"), literal_column(f"'{' ' * len(_WORD_BREAKS)}'")),
)
# Letters and digits only: nothing of the query can become a text-search operator.
_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 8

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


def _first_found(condition) -> list[Customer]:
    return list(db.session.scalars(select(Customer).where(condition).order_by(Customer.name).limit(SEARCH_LIMIT)))


def _word_beginnings(query: str):
    """Every word of the query begins a word of the customer's text."""
    words = _WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if not words:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        return SEARCH_WORDS.bool_op("@@")(func.to_tsquery(_SIMPLE, " & ".join(f"{word}:*" for word in words)))
    # SQLite (development): the same test, without an index.
    spaced = _SPACE.concat(reduce(lambda text, mark: func.replace(text, mark, " "), _WORD_BREAKS, SEARCH_TEXT))
    return and_(*(spaced.like(f"% {word}%") for word in words))


def search(query: str) -> list[Customer]:
    """Customers by a whole email or phone; else those whose name, email or phone has words
    beginning with the query's words; else those where the query appears anywhere in them."""
    query = query.strip()
    if not query:
        return []
    for condition in (_exact_match(query), _word_beginnings(query)):
        if condition is not None and (found := _first_found(condition)):
            return found
    # Escape LIKE wildcards so "%" finds a literal percent sign, not every customer.
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _first_found(SEARCH_TEXT.like(f"%{escaped}%", escape="\\"))


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
