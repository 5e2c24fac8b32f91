from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from portal.models.payments import PaymentMethod
    from portal.models.subscriptions import Subscription


# The indexes of staff search on PostgreSQL only, made by their migrations and not declared here
# (the schema comparison of tests/test_schema.py leaves them out by these names): a trigram index
# on the customers' search text (services.customers.SEARCH_TEXT, migration 0043) and a word index
# on its words (SEARCH_WORDS, migration 0044).
SEARCH_INDEX = "ix_customers_search_trgm"
WORDS_INDEX = "ix_customers_search_words"


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"
    # Staff search finds the beginnings of words (WORDS_INDEX), or else a fragment anywhere, in
    # name, email and phone (SEARCH_INDEX).

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so lookups and the unique constraint ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The phone in E.164 (services.contact), set with `phone`, so an SMS finds its sender.
    phone_normalized: Mapped[str | None] = mapped_column(String(32), index=True)
    # A social network handle (e.g. @alice), to match direct messages to the customer.
    social_handle: Mapped[str | None] = mapped_column(String(100), unique=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    addresses: Mapped[list[Address]] = relationship(back_populates="customer", order_by="Address.id")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer", order_by="Subscription.id")
    payment_methods: Mapped[list[PaymentMethod]] = relationship(back_populates="customer", order_by="PaymentMethod.id")


class Address(TimestampMixin, Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    # ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))

    customer: Mapped[Customer] = relationship(back_populates="addresses")
