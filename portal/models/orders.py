from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin
from portal.models.types import partial_index, str_enum

if TYPE_CHECKING:
    from portal.models.catalog import Variant
    from portal.models.customers import Customer
    from portal.models.subscriptions import Subscription


class OrderStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


UPCOMING_STATUSES = (OrderStatus.SCHEDULED, OrderStatus.SKIPPED)


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # What the renewals job claims: due scheduled orders in date order, failed ones due a retry.
        partial_index("ix_orders_due", "scheduled_for", "id", where="status = 'scheduled'"),
        partial_index("ix_orders_retry", "next_retry_at", where="status = 'failed'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"), default=OrderStatus.SCHEDULED)
    scheduled_for: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(default=0)
    shipping_minor: Mapped[int] = mapped_column(default=0)
    discount_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int] = mapped_column(default=0)
    paid_at: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(64))
    credit_applied_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    payment_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # For a failed order: when the next automatic retry is due (none after the last one).
    next_retry_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    subscription: Mapped[Subscription | None] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    # A copy of the name at order time, so later catalogue edits do not rewrite history.
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int]
    total_minor: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant | None] = relationship()
