from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import str_enum


class SurveyKind(str, enum.Enum):
    CSAT = "csat"
    NPS = "nps"


class Survey(TimestampMixin, Base):
    """One question put to a subscriber about one interaction (or one milestone), and its answer.

    `key` names what is rated ("event:12", "case:7", "nps30:customer:3") and is unique, so a
    second answer to the same question changes the row instead of adding one. Emailed surveys
    carry a random token stored as its SHA-256; in-page ratings have none.
    """

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score_range"),
        Index("ix_surveys_kind_interaction", "kind", "interaction_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[SurveyKind] = mapped_column(str_enum(SurveyKind, "survey_kind"))
    # Days into the subscription for NPS (30 or 90); empty for CSAT.
    milestone: Mapped[int | None]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    # What was rated: a self-serve action (its audit event) or a case, with who and where.
    audit_event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_events.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    self_serve: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(40))
    # When the interaction happened (the action, the resolution, the invitation): what a date
    # range of the reports selects on.
    interaction_at: Mapped[datetime]
    invited_at: Mapped[datetime | None]
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
