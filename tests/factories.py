"""Test data builders. Call inside an app context; each commits what it makes."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from portal.extensions import db
from portal.models import (
    Address,
    Customer,
    IntervalUnit,
    Order,
    OrderStatus,
    PaymentMethod,
    Product,
    StaffRole,
    StaffUser,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Variant,
)
from portal.services import contact
from portal.services.passwords import hash_password
from portal.services.subscriptions import storage

_seq = count(1)
STAFF_PASSWORD = "correct horse battery"


def customer(
    email: str | None = None,
    *,
    name: str = "Test Customer",
    locale: str | None = "en",
    password: str | None = None,
    with_card: bool = True,
    phone: str | None = None,
) -> Customer:
    """A customer with an address and, unless told otherwise, a local card row (not at Stripe)."""
    n = next(_seq)
    made = Customer(
        email=email or f"customer{n}@example.com",
        name=name,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        phone=phone,
        phone_normalized=contact.normalize_phone(phone) if phone else None,
    )
    db.session.add(made)
    db.session.add(
        Address(customer=made, name=name, line1=f"{n} Test Street", city="Madrid", postal_code="28013", country="ES")
    )
    if with_card:
        db.session.add(
            PaymentMethod(
                customer=made,
                stripe_payment_method_id=f"pm_test_{n}",
                brand="visa",
                last4="4242",
                exp_month=4,
                exp_year=date.today().year + 1,
                is_default=True,
            )
        )
    db.session.commit()
    return made


def variant(price_minor: int = 1200, currency: str = "EUR") -> Variant:
    n = next(_seq)
    product = Product(name=f"Roast {n}")
    made = Variant(product=product, name="250 g", sku=f"SKU-{n}", price_minor=price_minor, currency=currency)
    db.session.add(made)
    db.session.commit()
    return made


def subscription(
    owner: Customer,
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    quantity: int = 1,
    price_minor: int = 1200,
    next_order_date: date | None = None,
) -> Subscription:
    item_variant = variant(price_minor)
    first = next_order_date or date.today() + timedelta(days=7)
    made = Subscription(
        customer=owner,
        status=status,
        interval_unit=IntervalUnit.WEEK,
        interval_count=2,
        currency=item_variant.currency,
        next_order_date=first,
        cycle_anchor=first,
        shipping_address=owner.addresses[0],
        payment_method=owner.payment_methods[0] if owner.payment_methods else None,
    )
    made.items.append(SubscriptionItem(variant=item_variant, quantity=quantity, unit_price_minor=price_minor))
    db.session.add(made)
    db.session.commit()
    return made


def order(
    sub: Subscription, *, status: OrderStatus = OrderStatus.SCHEDULED, scheduled_for: date | None = None
) -> Order:
    made = Order(
        customer_id=sub.customer_id,
        subscription=sub,
        status=status,
        scheduled_for=scheduled_for or sub.next_order_date,
        currency=sub.currency,
        shipping_minor=0,
    )
    db.session.add(made)
    storage.fill_order(made, tuple(storage.line_of(item) for item in sub.items), 0)
    db.session.commit()
    return made


def staff(role: StaffRole = StaffRole.AGENT, email: str | None = None) -> StaffUser:
    made = StaffUser(
        email=email or f"staff{next(_seq)}@example.com",
        name=f"{role.value} person",
        role=role,
        password_hash=hash_password(STAFF_PASSWORD),
    )
    db.session.add(made)
    db.session.commit()
    return made
