"""Demo data: a coffee shop with subscribers in every state. Safe to run again.

Each demo subscriber gets a customer and a test card at the payment provider, so the provider
(localstripe in development) must be running first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Address,
    Customer,
    IntervalUnit,
    Order,
    OrderStatus,
    Product,
    StaffRole,
    StaffUser,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Variant,
)
from portal.services import contact, demo_service, handoff, help_answers, payments, subscriptions
from portal.services.actors import Actor
from portal.services.clock import today
from portal.services.passwords import hash_password
from portal.services.subscriptions import storage
from portal.services.uow import unit_of_work

ROASTS = [
    ("House Blend", "Chocolate, hazelnut and a round body.", "HOUSE"),
    ("Ethiopia Yirgacheffe", "Jasmine, bergamot and lemon.", "ETH"),
    ("Colombia Decaf", "Caramel and red apple, without the caffeine.", "DECAF"),
]
SIZES = [("250 g", "250", 1200), ("1 kg", "1K", 3900)]

STAFF = [
    ("agent@example.com", "Ana Agent", StaffRole.AGENT),
    ("manager@example.com", "Max Manager", StaffRole.MANAGER),
    ("admin@example.com", "Ada Admin", StaffRole.ADMIN),
]


def _catalogue(currency: str) -> dict[str, Variant]:
    variants: dict[str, Variant] = {}
    for name, description, code in ROASTS:
        product = db.session.scalar(select(Product).where(Product.name == name))
        if product is None:
            product = Product(name=name, description=description)
            db.session.add(product)
        for size_name, size_code, price in SIZES:
            sku = f"{code}-{size_code}"
            variant = db.session.scalar(select(Variant).where(Variant.sku == sku))
            if variant is None:
                variant = Variant(product=product, name=size_name, sku=sku, price_minor=price, currency=currency)
                db.session.add(variant)
            variants[sku] = variant
    return variants


def _customer(
    email: str,
    name: str,
    *,
    locale: str = "en",
    phone: str | None = None,
    city: str = "Madrid",
    postal_code: str = "28013",
    country: str = "ES",
) -> tuple[Customer, bool]:
    existing = db.session.scalar(select(Customer).where(Customer.email == email))
    if existing is not None:
        return existing, False
    customer = Customer(
        email=email,
        name=name,
        locale=locale,
        phone=phone,
        phone_normalized=contact.normalize_phone(phone) if phone else None,
    )
    db.session.add(customer)
    db.session.add(
        Address(
            customer=customer, name=name, line1="Calle Mayor 1", city=city, postal_code=postal_code, country=country
        )
    )
    db.session.flush()
    return customer, True


def _subscription(
    customer: Customer,
    items: list[tuple[Variant, int]],
    weeks: int,
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    next_order: date | None,
    history: list[OrderStatus],
    paused_until: date | None = None,
) -> Subscription:
    subscription = Subscription(
        customer=customer,
        status=status,
        interval_unit=IntervalUnit.WEEK,
        interval_count=weeks,
        currency=items[0][0].currency,
        next_order_date=next_order,
        paused_until=paused_until,
        cycle_anchor=next_order or paused_until or today(),
        shipping_address=customer.addresses[0],
    )
    for variant, quantity in items:
        subscription.items.append(
            SubscriptionItem(variant=variant, quantity=quantity, unit_price_minor=variant.price_minor)
        )
    db.session.add(subscription)
    if status is SubscriptionStatus.CANCELLED:
        subscription.cancelled_at = datetime.combine(today() - timedelta(days=10), time(9), ZoneInfo("UTC"))
    # History ends before today; an active subscription's last order was one interval before the next.
    anchor = next_order if next_order and status is SubscriptionStatus.ACTIVE else today()
    for index, order_status in enumerate(reversed(history), start=1):
        _order(subscription, anchor - timedelta(weeks=weeks * index), order_status)
    return subscription


def _order(subscription: Subscription, scheduled_for: date, status: OrderStatus) -> Order:
    order = Order(
        customer=subscription.customer,
        subscription=subscription,
        status=status,
        scheduled_for=scheduled_for,
        currency=subscription.currency,
        shipping_minor=0,
        discount_minor=0,
    )
    storage.fill_order(order, tuple(storage.line_of(item) for item in subscription.items), 0)
    if status is OrderStatus.PAID:
        order.paid_at = datetime.combine(scheduled_for, time(8), ZoneInfo("UTC"))
    if status is OrderStatus.FAILED:
        order.failure_code = "card_declined"
    db.session.add(order)
    return order


def load(demo_password: str) -> list[str]:
    """Create what is missing; return the emails of the accounts that exist afterwards."""
    with unit_of_work(outermost=True):
        people = _load_people(demo_password)
        help_answers.load_defaults()
    # Real test cards at the payment provider (localstripe in development), so renewals charge,
    # Carol's failed order can be paid and a card can be removed, as for any subscriber.
    for person in people:
        payments.ensure_test_card(Actor.system("demo data"), person)
    # Upcoming orders come from the schedule itself, as for any real subscription.
    subscriptions.roll_forward()
    alice, bob, carol, dave, erin = people
    # Something for the agent console to show: a subscriber whose payment failed asks for help.
    if not handoff.customer_cases(carol):
        handoff.open_case(
            Actor.for_customer(carol),
            carol,
            issue_type="payment",
            source_page="/payment",
            message="My payment failed but my card is fine. Can you check?",
        )
    with unit_of_work():
        demo_service.load(people)
    return [person.email for person in people] + [s[0] for s in STAFF]


def _load_people(demo_password: str) -> list[Customer]:
    variants = _catalogue(current_app.config["MERCHANT_CURRENCY"])
    day = today()
    paid = OrderStatus.PAID

    alice, new = _customer("alice@example.com", "Alice Martin", phone="+34600000001")
    if new:
        _subscription(
            alice, [(variants["HOUSE-250"], 2)], 2, next_order=day + timedelta(days=5), history=[paid, paid, paid]
        )
        _subscription(alice, [(variants["ETH-1K"], 1)], 4, next_order=day + timedelta(days=12), history=[paid])
    bob, new = _customer("bob@example.com", "Bob Keller", locale="de", city="Berlin", postal_code="10115", country="DE")
    if new:
        _subscription(
            bob,
            [(variants["DECAF-250"], 1)],
            2,
            status=SubscriptionStatus.PAUSED,
            next_order=day + timedelta(weeks=6),
            paused_until=day + timedelta(weeks=6),
            history=[paid, paid],
        )
    carol, new = _customer("carol@example.com", "Carol Nguyen")
    if new:
        _subscription(
            carol, [(variants["ETH-250"], 1)], 2, next_order=day + timedelta(days=3), history=[paid, OrderStatus.FAILED]
        )
    dave, new = _customer("dave@example.com", "Dave Osei")
    if new:
        _subscription(
            dave,
            [(variants["HOUSE-1K"], 1)],
            4,
            status=SubscriptionStatus.CANCELLED,
            next_order=None,
            history=[paid, paid],
        )
    erin, new = _customer("erin@example.com", "Erin Sánchez", locale="es", city="Sevilla", postal_code="41001")
    if new:
        _subscription(
            erin,
            [(variants["DECAF-1K"], 1), (variants["HOUSE-250"], 1)],
            4,
            next_order=day + timedelta(days=9),
            history=[paid],
        )

    for email, name, role in STAFF:
        if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
            db.session.add(StaffUser(email=email, name=name, role=role, password_hash=hash_password(demo_password)))
    return [alice, bob, carol, dave, erin]
