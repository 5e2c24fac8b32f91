"""The API's request and response bodies. The same models validate what comes in and goes out
and generate the OpenAPI document, so the reference cannot drift from the code."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from portal.models import IntervalUnit, LinkAction, OrderStatus, SubscriptionStatus
from portal.models.types import MAX_ID
from portal.web import has_control_characters


def _text_only(value: Any) -> Any:
    """No string anywhere in a value carries control characters (PostgreSQL cannot store NUL)."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError("must not contain control characters such as NUL")
    if isinstance(value, dict):
        for key, item in value.items():
            _text_only(key)
            _text_only(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _text_only(item)
    return value


class Checked(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _text_only(value)


class Model(Checked):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


# --- errors -------------------------------------------------------------------------------------


class ErrorDetail(Model):
    code: str = Field(description="Stable, for machines: e.g. not_found, skip_limit, concurrent_change.")
    message: str = Field(description="For people, in the shop's language.")
    request_id: str = Field(description="Quote it to support; it is in our logs.")


class ErrorBody(Model):
    error: ErrorDetail


# --- records ------------------------------------------------------------------------------------


class CustomerOut(Model):
    id: int
    email: str
    name: str
    locale: str | None
    phone: str | None


class ItemOut(Model):
    id: int
    variant_id: int
    quantity: int
    unit_price_minor: int


class SubscriptionOut(Model):
    id: int
    customer_id: int
    status: SubscriptionStatus
    interval_unit: IntervalUnit
    interval_count: int
    currency: str
    next_order_date: date | None
    paused_until: date | None
    cancel_at: date | None
    version: int = Field(description="Send it back with an action: a stale version is refused with 409.")
    items: list[ItemOut]


class OrderOut(Model):
    id: int
    customer_id: int
    subscription_id: int | None
    status: OrderStatus
    scheduled_for: date
    currency: str
    total_minor: int
    paid_at: datetime | None


class PageQuery(Model):
    model_config = ConfigDict(extra="ignore")
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the previous page.")
    limit: int = Field(20, ge=1, le=100)


class CustomerQuery(PageQuery):
    email: str | None = Field(None, max_length=254)


class SubscriptionQuery(PageQuery):
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)


class OrderQuery(PageQuery):
    subscription_id: int | None = Field(None, ge=1, le=MAX_ID)


class CustomerPage(Model):
    data: list[CustomerOut]
    next_cursor: str | None


class SubscriptionPage(Model):
    data: list[SubscriptionOut]
    next_cursor: str | None


class OrderPage(Model):
    data: list[OrderOut]
    next_cursor: str | None


# --- links and sign-in ------------------------------------------------------------------------


class PostHeaders(Checked):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key returns the first answer instead of acting again.",
    )


class PortalSessionIn(Model):
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    email: str | None = Field(None, min_length=3, max_length=254)
    return_path: str | None = Field(None, max_length=500, description="A page of the portal, like /payment.")


class PortalSessionOut(Model):
    url: str
    customer_id: int
    expires_at: datetime


class LinkIn(Model):
    customer_id: int = Field(ge=1, le=MAX_ID)
    action: LinkAction
    order_id: int | None = Field(None, ge=1, le=MAX_ID, description="For skip and unskip.")
    subscription_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="For pause, resume, reactivate, keep and order_now."
    )
    case_id: int | None = Field(None, ge=1, le=MAX_ID, description="For open_case.")
    next_path: str | None = Field(None, max_length=500, description="For sign_in: the page it opens.")
    cycles: int | None = Field(None, ge=1, le=52, description="For pause: one of the shop's pause lengths.")
    expires_in_minutes: int | None = Field(None, ge=5, le=60 * 24 * 30)


class LinkOut(Model):
    id: int
    customer_id: int
    action: LinkAction
    subscription_id: int | None
    order_id: int | None
    case_id: int | None
    next_path: str | None
    locale: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedLinkOut(LinkOut):
    url: str = Field(description="Shown once: only its digest is stored.")


class RevokedOut(Model):
    revoked: int


# --- subscription actions -----------------------------------------------------------------------


class SubscriptionAction(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    UNSKIP = "unskip"
    SWAP = "swap"
    FREQUENCY = "frequency"
    RESCHEDULE = "reschedule"
    ORDER_NOW = "order_now"
    CANCEL = "cancel"
    REACTIVATE = "reactivate"
    KEEP = "keep"


class CancelMode(str, Enum):
    NOW = "now"
    PERIOD_END = "period_end"
    DATE = "date"


class ActionQuery(Model):
    model_config = ConfigDict(extra="ignore")
    preview: bool = Field(False, description="Only say what would change.")


class ActionIn(Model):
    version: int | None = Field(None, ge=0, le=MAX_ID, description="Required to act; not for a preview.")
    cycles: int | None = Field(None, ge=1, le=52, description="pause: for this many deliveries")
    until: date | None = Field(None, description="pause: until this date")
    order_id: int | None = Field(None, ge=1, le=MAX_ID, description="skip, unskip")
    item_id: int | None = Field(None, ge=1, le=MAX_ID, description="swap")
    variant_id: int | None = Field(None, ge=1, le=MAX_ID, description="swap")
    quantity: int | None = Field(None, ge=1, le=1000, description="swap")
    interval: str | None = Field(None, max_length=4, description="frequency: like 2w or 1m")
    new_date: date | None = Field(None, description="reschedule")
    mode: CancelMode | None = Field(None, description="cancel")
    on_date: date | None = Field(None, description="cancel with mode date")


class OrderPreviewOut(Model):
    scheduled_for: date
    total_minor: int
    skipped: bool
    locked: bool


class ImpactOut(Model):
    status_before: SubscriptionStatus
    status_after: SubscriptionStatus
    next_before: date | None
    next_after: date | None
    resumes_before: date | None
    resumes_after: date | None
    ends_before: date | None
    ends_after: date | None
    price_before: int
    price_after: int
    currency: str
    orders_before: list[OrderPreviewOut]
    orders_after: list[OrderPreviewOut]


class ActionOut(Model):
    preview: bool
    impact: ImpactOut
    subscription: SubscriptionOut
    charge: str | None = Field(None, description="order_now: paid, pending or declined.")
