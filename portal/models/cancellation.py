from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import str_enum


class CancelReason(Base):
    """A reason the merchant offers in the cancel flow, with its labels and its offers."""

    __tablename__ = "cancel_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int]
    enabled: Mapped[bool] = mapped_column(default=True)
    # {"en": "...", "es": "...", "de": "..."}
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    # [{"type": "discount", "percent": 20, "orders": 2}, {"type": "pause"}]
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class AttemptStep(str, enum.Enum):
    REASON = "reason"
    OFFERS = "offers"
    CONFIRM = "confirm"
    DONE = "done"


class AttemptOutcome(str, enum.Enum):
    PENDING = "pending"
    CANCELLED = "cancelled"
    SAVED = "saved"
    HANDED_OFF = "handed_off"
    ABANDONED = "abandoned"


class CancelAttempt(TimestampMixin, Base):
    """One pass through the cancel flow, kept whatever its end, for cancel-reason analysis."""

    __tablename__ = "cancel_attempts"
    __table_args__ = (Index("ix_cancel_attempts_outcome_created", "outcome", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    step: Mapped[AttemptStep] = mapped_column(str_enum(AttemptStep, "attempt_step"), default=AttemptStep.REASON)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    offers_shown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    offer_taken: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[AttemptOutcome] = mapped_column(
        str_enum(AttemptOutcome, "attempt_outcome"), default=AttemptOutcome.PENDING
    )
    cancel_mode: Mapped[str | None] = mapped_column(String(20))
    cancel_on: Mapped[date | None]
    finished_at: Mapped[datetime | None]
    tenure_days: Mapped[int]
    # Interval, items and price when the attempt started.
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set 30 days after a save: still subscribed (True) or gone after all (False).
    save_verified: Mapped[bool | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DiscountGrant(TimestampMixin, Base):
    """A retention discount given to a customer; its date drives the per-customer cooldown."""

    __tablename__ = "discount_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("cancel_attempts.id"))
    percent: Mapped[int]
    orders: Mapped[int]
