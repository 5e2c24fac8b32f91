"""What a subscriber sees of their own account. Every lookup is scoped to that customer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    UPCOMING_STATUSES,
    AuditEvent,
    Customer,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
)
from portal.services import clock
from portal.services import subscriptions as subscription_service
from portal.services.errors import NotFound
from portal.services.payments.cards import default_card
from portal.services.subscriptions import storage

RECENT_ORDERS = 10


@dataclass
class Dashboard:
    customer: Customer
    subscriptions: list[Subscription]
    upcoming_orders: list[Order]
    past_orders: list[Order]
    default_payment_method: PaymentMethod | None
    has_failed_payment: bool
    # Per subscription, the next order that can still be skipped (for a one-tap "Skip next").
    next_skippable: dict[int, Order]


def _subscriptions_query(customer_id: int):
    # One statement however many subscriptions: each with its address, card, items and products.
    return (
        select(Subscription)
        .where(Subscription.customer_id == customer_id)
        .options(
            storage.ITEMS_WITH_PRODUCTS,
            joinedload(Subscription.shipping_address),
            joinedload(Subscription.payment_method),
        )
    )


def _orders_query(customer_id: int):
    return select(Order).where(Order.customer_id == customer_id).options(selectinload(Order.lines))


def _upcoming_clause(today):
    """Orders still to come: scheduled ones, and skips whose date has not passed."""
    return (Order.status == OrderStatus.SCHEDULED) | (
        (Order.status == OrderStatus.SKIPPED) & (Order.scheduled_for >= today)
    )


def _recent_past_query(customer_id: int):
    return (
        _orders_query(customer_id)
        .where(Order.status.not_in(UPCOMING_STATUSES))
        .order_by(Order.scheduled_for.desc(), Order.id.desc())
        .limit(RECENT_ORDERS)
    )


def subscriptions_of(customer: Customer) -> list[Subscription]:
    """The customer's subscriptions with their items, products, address and card (two statements)."""
    return list(db.session.scalars(_subscriptions_query(customer.id).order_by(Subscription.id)).unique())


def recent_past_orders(customer: Customer) -> list[Order]:
    """The latest orders that are done with (paid, failed, refunded), newest first."""
    return list(db.session.scalars(_recent_past_query(customer.id)))


def dashboard(customer: Customer) -> Dashboard:
    """Everything the subscriber's home shows, in a fixed number of statements."""
    subscriptions = list(
        db.session.scalars(_subscriptions_query(customer.id).order_by(Subscription.status, Subscription.id)).unique()
    )
    recent_past = _recent_past_query(customer.id).with_only_columns(Order.id)
    # Upcoming and recent orders in one statement (and their lines in one more).
    orders = db.session.scalars(
        _orders_query(customer.id)
        .where(_upcoming_clause(clock.today()) | Order.id.in_(recent_past))
        .order_by(Order.scheduled_for, Order.id)
    ).all()
    upcoming = [order for order in orders if order.status in UPCOMING_STATUSES]
    past = [order for order in reversed(orders) if order.status not in UPCOMING_STATUSES]
    default_method = default_card(customer.id)
    return Dashboard(
        customer=customer,
        subscriptions=subscriptions,
        upcoming_orders=upcoming,
        past_orders=past,
        default_payment_method=default_method,
        has_failed_payment=any(order.status is OrderStatus.FAILED for order in past[:1]),
        next_skippable=subscription_service.next_skippable_of(subscriptions, upcoming),
    )


def get_subscription(customer: Customer, subscription_id: int) -> Subscription:
    """Another customer's subscription is indistinguishable from a missing one: 404."""
    subscription = (
        db.session.scalars(_subscriptions_query(customer.id).where(Subscription.id == subscription_id)).unique().first()
    )
    if subscription is None:
        raise NotFound()
    return subscription


def subscription_history(subscription: Subscription) -> list[Order]:
    """Orders that are done with (paid, failed, refunded, or a skip whose date has passed)."""
    return list(
        db.session.scalars(
            _orders_query(subscription.customer_id)
            .where(
                Order.subscription_id == subscription.id,
                Order.status != OrderStatus.SCHEDULED,
                ~((Order.status == OrderStatus.SKIPPED) & (Order.scheduled_for >= clock.today())),
            )
            .order_by(Order.scheduled_for.desc(), Order.id.desc())
        )
    )


def get_order(customer: Customer, order_id: int) -> Order:
    order = db.session.scalar(_orders_query(customer.id).where(Order.id == order_id))
    if order is None:
        raise NotFound()
    return order


def recent_activity(customer_id: int, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.customer_id == customer_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def failed_orders(customer: Customer) -> list[Order]:
    return list(
        db.session.scalars(
            _orders_query(customer.id).where(Order.status == OrderStatus.FAILED).order_by(Order.scheduled_for)
        )
    )


@dataclass
class Receipt:
    order: Order
    payments: list[Payment]
    charged_minor: int
    refunded_minor: int


def receipt(customer: Customer, order_id: int) -> Receipt:
    """The receipt of a paid (or refunded) order; anything else has none."""
    order = get_order(customer, order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED):
        raise NotFound()
    attempts = list(db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))
    paid = [p for p in attempts if p.status is PaymentStatus.SUCCEEDED]
    return Receipt(order, attempts, sum(p.amount_minor for p in paid), sum(p.refunded_minor for p in paid))
