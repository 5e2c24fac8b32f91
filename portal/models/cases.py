from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import str_enum


class CaseStatus(str, enum.Enum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class Channel(str, enum.Enum):
    PORTAL = "portal"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"


class Case(TimestampMixin, Base):
    """A conversation with a customer, whatever the channel, with what was known when it opened."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_customer_type_created", "customer_id", "issue_type", "created_at"),
        # The queue lists cases oldest first.
        Index("ix_cases_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for a message from an address or number we could not match to a customer.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    sender: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"), default=CaseStatus.NEW)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    issue_type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    source_page: Mapped[str | None] = mapped_column(String(300))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # Stamped by the subscriber's case page while it is open (handoff.watch).
    customer_seen_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    messages: Mapped[list[CaseMessage]] = relationship(back_populates="case", order_by="CaseMessage.id")


class CaseMessage(Base):
    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # customer, staff or system
    author: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    # The provider's id of an inbound message, or a case page's reply form's id: a redelivered
    # webhook or a form posted twice adds nothing.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)

    case: Mapped[Case] = relationship(back_populates="messages")


class OutboundMessage(TimestampMixin, Base):
    """A reply to send on SMS or social: written with the reply, sent by the channel's adapter."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_message_id: Mapped[int] = mapped_column(ForeignKey("case_messages.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    recipient: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))


class CreditStatus(str, enum.Enum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"


class CreditRequest(TimestampMixin, Base):
    """A credit an agent gave (within their limit) or asked a manager to approve."""

    __tablename__ = "credit_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[CreditStatus] = mapped_column(str_enum(CreditStatus, "credit_status"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None]
