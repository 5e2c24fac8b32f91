"""All models, imported here so Alembic and the app see one complete metadata."""

from portal.models.audit import ActorType, AuditEvent, Outcome
from portal.models.auth import LinkRequest, LoginToken, PrincipalType, TokenPurpose, UserSession
from portal.models.base import Base, utcnow
from portal.models.cancellation import (
    AttemptOutcome,
    AttemptStep,
    CancelAttempt,
    CancelReason,
    DiscountGrant,
)
from portal.models.cases import (
    Case,
    CaseMessage,
    CaseStatus,
    Channel,
    CreditRequest,
    CreditStatus,
    OutboundMessage,
)
from portal.models.catalog import Product, Variant
from portal.models.customers import Address, Customer
from portal.models.help import HelpAnswer, HelpAnswerView
from portal.models.links import (
    ActionLink,
    ApiKey,
    IdempotentResponse,
    LinkAction,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.models.orders import UPCOMING_STATUSES, Order, OrderLine, OrderStatus
from portal.models.outbox import OutboxEmail
from portal.models.outreach import CatalogChange, MessageOptOut, OutreachSend, OutreachSetting
from portal.models.payments import CreditEntry, Payment, PaymentMethod, PaymentStatus
from portal.models.policy import MerchantPolicy, ProductSwap, SavedReply
from portal.models.staff import StaffRole, StaffUser
from portal.models.subscriptions import (
    IntervalUnit,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal.models.surveys import Survey, SurveyKind
from portal.models.webhooks import WebhookEvent

__all__ = [
    "ActionLink",
    "ApiKey",
    "IdempotentResponse",
    "LinkAction",
    "WebhookDelivery",
    "WebhookEndpoint",
    "ActorType",
    "Address",
    "AttemptOutcome",
    "AttemptStep",
    "CancelAttempt",
    "CancelReason",
    "CatalogChange",
    "Case",
    "CaseMessage",
    "CaseStatus",
    "Channel",
    "CreditRequest",
    "CreditStatus",
    "OutboundMessage",
    "CreditEntry",
    "DiscountGrant",
    "Payment",
    "PaymentStatus",
    "AuditEvent",
    "Base",
    "Customer",
    "HelpAnswer",
    "HelpAnswerView",
    "IntervalUnit",
    "LinkRequest",
    "LoginToken",
    "MerchantPolicy",
    "MessageOptOut",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OutboxEmail",
    "OutreachSend",
    "OutreachSetting",
    "Outcome",
    "PaymentMethod",
    "PrincipalType",
    "Product",
    "ProductSwap",
    "SavedReply",
    "StaffRole",
    "StaffUser",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionStatus",
    "Survey",
    "SurveyKind",
    "TokenPurpose",
    "UPCOMING_STATUSES",
    "UserSession",
    "Variant",
    "WebhookEvent",
    "utcnow",
]
