"""Customer accounts: finding them (staff) and their sign-in settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Customer
from portal.services import audit, auth
from portal.services.actors import Actor
from portal.services.errors import InvalidCredentials
from portal.services.lookup import get_or_404
from portal.services.passwords import hash_password, verify_password
from portal.services.uow import transactional

SEARCH_LIMIT = 50


def search(query: str) -> list[Customer]:
    query = query.strip()
    if not query:
        return []
    # Escape LIKE wildcards so "%" finds a literal percent sign, not every customer.
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        db.session.scalars(
            select(Customer)
            .where(
                or_(
                    Customer.email.like(pattern, escape="\\"),
                    Customer.name.ilike(pattern, escape="\\"),
                    Customer.phone.like(pattern, escape="\\"),
                )
            )
            .order_by(Customer.name)
            .limit(SEARCH_LIMIT)
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
