from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow
from portal.models.types import str_enum


class ActorType(str, enum.Enum):
    CUSTOMER = "customer"
    STAFF = "staff"
    LINK = "link"
    JOB = "job"
    STRIPE = "stripe"
    API = "api"
    SYSTEM = "system"


class Outcome(str, enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"


class AuditEvent(Base):
    """Who did what to which subject, before and after, and whether it worked."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType, "actor_type"))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    # The customer the event concerns, so their history is one indexed query.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "outcome"), default=Outcome.SUCCESS)
    error_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
