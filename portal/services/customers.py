"""Finding customers, for staff."""
from __future__ import annotations

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Customer
from portal.services.errors import NotFound

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
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound()
    return customer
