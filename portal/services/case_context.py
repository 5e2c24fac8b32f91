"""What an agent may choose from on a case page. The page lists these and the post it makes is
checked against the same lists, so a choice the page never offered is refused."""

from __future__ import annotations

from portal.models import Customer, Order, OrderStatus, StaffUser, Subscription, SubscriptionStatus
from portal.services import account
from portal.services import staff as staff_service


def assignable_staff() -> list[StaffUser]:
    """Who a case can be given to: staff who can still sign in."""
    return [member for member in staff_service.list_staff() if member.active]


def subscriptions(customer: Customer) -> list[Subscription]:
    """The customer's subscriptions, for acting on their behalf."""
    return account.subscriptions_of(customer)


def changeable(owned: list[Subscription]) -> list[Subscription]:
    """The subscriptions whose items and address an agent can still change."""
    return [s for s in owned if s.status is not SubscriptionStatus.CANCELLED]


def refundable_orders(customer: Customer) -> list[Order]:
    """The customer's recent orders that were paid, so can be refunded."""
    return [order for order in account.recent_past_orders(customer) if order.status is OrderStatus.PAID]
