"""What merchant systems read through the API: customers, subscriptions and orders, one by id
or a page at a time in id order, with a cursor that names the last row seen (keyset paging: a
page costs the same however deep it is, and rows added meanwhile are neither lost nor repeated)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Customer, Order, Subscription, SubscriptionItem
from portal.models.types import MAX_ID
from portal.services import contact
from portal.services.errors import DomainError
from portal.services.lookup import get_or_404
from portal.text import lazy_text as _l

T = TypeVar("T")
MAX_PAGE = 100


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"
    default_message = _l("That cursor is not one this API gave out.")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    kind, _, number = text.partition(":")
    if kind != "id" or not number.isdigit() or not 0 < int(number) <= MAX_ID:
        raise InvalidCursor()
    return int(number)


def _page(statement, model, cursor: str | None, limit: int) -> Page:
    if cursor:
        statement = statement.where(model.id > decode_cursor(cursor))
    rows = list(db.session.scalars(statement.order_by(model.id).limit(min(limit, MAX_PAGE) + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)


def customers(cursor: str | None, limit: int, email: str | None = None) -> Page[Customer]:
    statement = select(Customer)
    if email:
        statement = statement.where(Customer.email == contact.normalize_email(email))
    return _page(statement, Customer, cursor, limit)


def _with_items(statement):
    return statement.options(selectinload(Subscription.items).selectinload(SubscriptionItem.variant))


def subscriptions(cursor: str | None, limit: int, customer_id: int | None = None) -> Page[Subscription]:
    statement = _with_items(select(Subscription))
    if customer_id is not None:
        statement = statement.where(Subscription.customer_id == customer_id)
    return _page(statement, Subscription, cursor, limit)


def orders(cursor: str | None, limit: int, subscription_id: int | None = None) -> Page[Order]:
    statement = select(Order)
    if subscription_id is not None:
        statement = statement.where(Order.subscription_id == subscription_id)
    return _page(statement, Order, cursor, limit)


def customer(customer_id: int) -> Customer:
    return get_or_404(Customer, customer_id)


def subscription(subscription_id: int) -> Subscription:
    return get_or_404(Subscription, subscription_id)


def order(order_id: int) -> Order:
    return get_or_404(Order, order_id)
