from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow


class OutboxEmail(TimestampMixin, Base):
    """An email written in the same transaction as the change it reports; a job delivers it."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Set when attempts run out; the row stays for support to see.
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Optional messages carry one-click unsubscribe (RFC 8058) to this address.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
