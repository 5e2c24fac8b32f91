from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow


class HelpAnswer(TimestampMixin, Base):
    """A short answer the merchant writes for a likely question, in every shipped language."""

    __tablename__ = "help_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case topic it belongs to (payment, delivery, subscription, cancel, other).
    topic: Mapped[str] = mapped_column(String(40))
    # Refusal codes it answers ("too_many_skips"): shown beside that refusal first.
    refusal_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"en": {"title": ..., "body": ...}, "es": {...}, ...}
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HelpAnswerView(Base):
    """An answer shown to a subscriber, and whether they still asked for a person after it."""

    __tablename__ = "help_answer_views"
    __table_args__ = (Index("ix_help_answer_views_customer_shown", "customer_id", "shown_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("help_answers.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Where it was shown: the help page, beside a refusal, or in the cancel flow.
    place: Mapped[str] = mapped_column(String(20))
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A case the customer opens until then counts as asking for a person after all.
    handoff_counts_until: Mapped[datetime]
