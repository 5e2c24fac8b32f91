from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow


class MerchantPolicy(Base):
    """The merchant's self-serve rules. One row; absent means the defaults from config."""

    __tablename__ = "merchant_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_cutoff_days: Mapped[int]
    pause_cycle_options: Mapped[list[int]] = mapped_column(JSON)
    max_pause_days: Mapped[int]
    max_consecutive_skips: Mapped[int]
    # Each entry is "<count><unit>", e.g. "2w" or "1m".
    allowed_intervals: Mapped[list[str]] = mapped_column(JSON)
    reschedule_window_days: Mapped[int]
    # Where the law asks for it: the reason is optional and no offers are shown.
    simple_cancellation: Mapped[bool] = mapped_column(default=False, server_default="0")
    discount_cooldown_days: Mapped[int] = mapped_column(default=100, server_default="100")
    # Days after a failed charge on which it is tried again, and what happens after the last.
    dunning_retry_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1, 3, 5])
    dunning_final_action: Mapped[str] = mapped_column(String(10), default="pause", server_default="pause")
    # Credit an agent may give per case without a manager's approval.
    agent_credit_limit_minor: Mapped[int] = mapped_column(default=2000, server_default="2000")
    # How long emailed links work: sign-in links, and links that act (skip, pause, update card).
    sign_in_link_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    action_link_hours: Mapped[int] = mapped_column(default=72, server_default="72")
    # Support's opening hours in the merchant's timezone (Monday is 0) and the first-response
    # target in those hours; empty means config's BUSINESS_HOURS and target.
    support_days: Mapped[list[int] | None] = mapped_column(JSON)
    support_opens_hour: Mapped[int | None]
    support_closes_hour: Mapped[int | None]
    first_response_target_hours: Mapped[int | None]
    # {"en": ..., "es": ...}: how saved replies should sound, shown beside them in admin.
    tone_guidelines: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Until the merchant first edits the saved replies, the translated defaults are used.
    saved_replies_edited: Mapped[bool] = mapped_column(default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SavedReply(TimestampMixin, Base):
    """A reply agents send in one click, in the merchant's words, in every shipped language."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    # {"en": {"title": ..., "body": ...}, ...}; a language left empty uses the default language's.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProductSwap(Base):
    """A product whose variants subscribers of another product may swap to.

    Variants of the same product are always allowed; these rows add other products.
    """

    __tablename__ = "product_swaps"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    target_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
