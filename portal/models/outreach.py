from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow


class OutreachSetting(Base):
    """The merchant's choices for one kind of message: on or off, how early, and its words."""

    __tablename__ = "outreach_settings"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    days_before: Mapped[int]
    # {"en": {"subject": ..., "intro": ...}, ...}; a locale left out uses the translated default.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutreachSend(TimestampMixin, Base):
    """One message sent for one occurrence (this order on this date, this card's expiry): the
    unique key is what makes two workers and a rerun send it once."""

    __tablename__ = "outreach_sends"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    occurrence: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_emails.id"))


class MessageOptOut(TimestampMixin, Base):
    """An optional message a subscriber does not want."""

    __tablename__ = "message_opt_outs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)


class CatalogChange(TimestampMixin, Base):
    """A price change or a discontinued variant the merchant announced, from a date on."""

    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    # "price" or "discontinued"
    kind: Mapped[str] = mapped_column(String(20))
    new_price_minor: Mapped[int | None]
    effective_on: Mapped[date]
    # When the job put it into effect (prices and the catalogue); before that it is only announced.
    applied_at: Mapped[datetime | None]
