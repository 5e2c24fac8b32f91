from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import partial_index, str_enum

if TYPE_CHECKING:
    from portal.models.catalog import Variant
    from portal.models.customers import Address, Customer
    from portal.models.orders import Order
    from portal.models.payments import PaymentMethod


class SubscriptionStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class IntervalUnit(str, enum.Enum):
    WEEK = "week"
    MONTH = "month"


class Subscription(TimestampMixin, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("interval_count > 0", name="interval_positive"),
        # The dated jobs read only what is due: pauses ending, scheduled cancellations.
        partial_index("ix_subscriptions_paused_until", "paused_until", where="status = 'paused'"),
        partial_index("ix_subscriptions_cancel_at", "cancel_at", where="cancel_at IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.ACTIVE
    )
    interval_unit: Mapped[IntervalUnit] = mapped_column(str_enum(IntervalUnit, "interval_unit"))
    interval_count: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # The next delivery that ships (or, while paused, the resume date); kept for listings.
    next_order_date: Mapped[date | None]
    # A delivery date of the current cycle: deliveries fall on it plus whole intervals.
    cycle_anchor: Mapped[date]
    # When the schedule job must next look at this subscription: the date its first upcoming
    # delivery leaves the list (empty: as soon as possible). Only active subscriptions have one.
    refill_on: Mapped[date | None] = mapped_column(index=True)
    paused_until: Mapped[date | None]
    cancelled_at: Mapped[datetime | None]
    # A cancellation scheduled for this date: no orders on or after it; the job ends it then.
    cancel_at: Mapped[date | None]
    # A retention discount on the next `discount_orders_left` orders that ship.
    discount_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    discount_orders_left: Mapped[int] = mapped_column(default=0, server_default="0")
    shipping_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking: an UPDATE that finds another version raises StaleDataError.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")
    items: Mapped[list[SubscriptionItem]] = relationship(
        back_populates="subscription", order_by="SubscriptionItem.id", cascade="all, delete-orphan"
    )
    shipping_address: Mapped[Address | None] = relationship()
    payment_method: Mapped[PaymentMethod | None] = relationship()
    orders: Mapped[list[Order]] = relationship(back_populates="subscription", order_by="Order.scheduled_for")

    @property
    def price_minor(self) -> int:
        return sum(item.line_total_minor for item in self.items)


class SubscriptionItem(Base):
    __tablename__ = "subscription_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    # The price agreed for this subscription, which may differ from today's list price.
    unit_price_minor: Mapped[int]

    subscription: Mapped[Subscription] = relationship(back_populates="items")
    variant: Mapped[Variant] = relationship()

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity
