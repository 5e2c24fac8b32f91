from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import str_enum

if TYPE_CHECKING:
    from portal.models.customers import Customer


class PaymentMethod(TimestampMixin, Base):
    """Our copy of a card's display details; the card itself lives only at Stripe."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stripe_payment_method_id: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    is_default: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="payment_methods")


class PaymentStatus(str, enum.Enum):
    # Claimed and sent (or about to be sent) to the provider; the outcome is not recorded yet.
    CHARGING = "charging"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(TimestampMixin, Base):
    """One attempt to charge one order. Its id is in the provider's metadata and its key."""

    __tablename__ = "payments"
    __table_args__ = (
        Index(
            "ix_payments_charging",
            "attempted_at",
            postgresql_where=text("status = 'charging'"),
            sqlite_where=text("status = 'charging'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    attempt: Mapped[int]
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"))
    # Deterministic per order attempt, so a retried request can never charge twice at Stripe.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(300))
    refunded_minor: Mapped[int] = mapped_column(default=0)
    # When a worker last took this charge on: one left `charging` long after it was crashed on.
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class CreditEntry(TimestampMixin, Base):
    """The customer's credit ledger: positive when given, negative when used on a charge."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # The support case a credit was given on.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
