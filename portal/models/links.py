"""What merchants use to reach subscribers and their own systems: one-action links, API keys
(with the first answer to each idempotency key) and outgoing webhooks with their deliveries."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.types import partial_index, str_enum

# The longest page a link may lead to (the same bound as sign-in links' return path).
LINK_PATH_MAX_LENGTH = 500


class LinkAction(str, enum.Enum):
    """What a link does when its button is pressed. Page links only sign in and open a page."""

    SIGN_IN = "sign_in"
    UPDATE_CARD = "update_card"
    OPEN_CASE = "open_case"
    SKIP = "skip"
    UNSKIP = "unskip"
    PAUSE = "pause"
    RESUME = "resume"
    REACTIVATE = "reactivate"
    KEEP = "keep"
    ORDER_NOW = "order_now"


class ActionLink(TimestampMixin, Base):
    """A single-use link for one customer, one action and its subject.

    The URL carries the id and a random secret; only the secret's SHA-256 is stored, and the
    scope (customer, action, subject) lives here, so no part of the URL can widen it."""

    __tablename__ = "action_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    action: Mapped[LinkAction] = mapped_column(str_enum(LinkAction, "link_action"))
    # A link goes with its subject: an order the schedule drops takes its skip link along.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # Fixed parameters of the action (a pause's length), echoed on the confirm page.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    next_path: Mapped[str | None] = mapped_column(String(LINK_PATH_MAX_LENGTH))
    locale: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Who made it, as the audit trail names them ("api key crm", "email", "bulk").
    created_by: Mapped[str] = mapped_column(String(120), default="")


class ApiKey(TimestampMixin, Base):
    """A merchant system's key. Only the SHA-256 is stored; `prefix` names it in lists."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotentResponse(TimestampMixin, Base):
    """The first answer to a POST with an Idempotency-Key, replayed on a retry with that key."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotent_responses_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    # Method, path and body digest: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(Text)


class WebhookEndpoint(TimestampMixin, Base):
    """A merchant's URL that receives signed events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(TimestampMixin, Base):
    """One event for one endpoint: an outbox row, written with the change, sent by the worker."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_event"),
        partial_index("ix_webhook_deliveries_due", "next_attempt_at", where="sent_at IS NULL AND gave_up_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
