"""Every page reads a fixed number of statements, however much the customer has: the same count for
a subscriber with 1 subscription and with 20, for a queue of 1 case and of 21, for a search that
finds 1 customer and one that finds 20. A loop that queries per row (N+1) fails here."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.billing.stripe_gateway import ChargeResult
from portal.extensions import db
from portal.models import (
    AttemptOutcome,
    CancelAttempt,
    Customer,
    Order,
    OrderStatus,
    ProductSwap,
    StaffRole,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Survey,
    SurveyKind,
    utcnow,
)
from portal.services import demo_service, handoff, subscriptions
from portal.services.actors import Actor
from portal.services.payments import charging
from tests import factories
from tests.helpers import sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")

# A ceiling per page, so "fixed" also stays small.
MOST_STATEMENTS = 12


@contextmanager
def counting():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(app, client, path: str) -> int:
    assert client.get(path).status_code == 200, path  # warm: a first visit may set up its session
    with app.app_context(), counting() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def _subscriber(app, fixed_today, email: str, count: int) -> dict:
    """A customer with `count` subscriptions in every state, several items, swap targets, upcoming
    and past orders, a failed payment and a case; returns the ids the pages need."""
    with app.app_context():
        customer = factories.customer(email, name=f"Query {email}")
        owned = []
        for n in range(count):
            status = [SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, SubscriptionStatus.CANCELLED][n % 3]
            sub = factories.subscription(customer, status=status, next_order_date=fixed_today + timedelta(days=5 + n))
            if status is SubscriptionStatus.PAUSED:
                sub.paused_until = fixed_today + timedelta(days=40)
            if n % 2:
                other = factories.variant()
                sub.items.append(type(sub.items[0])(variant=other, quantity=2, unit_price_minor=900))
                db.session.add(
                    ProductSwap(product_id=sub.items[0].variant.product_id, target_product_id=other.product_id)
                )
            db.session.commit()
            factories.order(sub, status=OrderStatus.PAID, scheduled_for=fixed_today - timedelta(days=14))
            factories.order(sub, status=OrderStatus.FAILED, scheduled_for=fixed_today - timedelta(days=1))
            owned.append(sub.id)
        subscriptions.roll_forward()
        customer = db.session.get(Customer, customer.id)
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="payment", message="Help", source_page="/payment"
        )
        return {"customer": customer.id, "subscription": owned[0], "case": case.id}


def test_subscriber_pages_read_the_same_for_1_and_20_subscriptions(app, fixed_today):
    one = _subscriber(app, fixed_today, "one@example.com", 1)
    twenty = _subscriber(app, fixed_today, "twenty@example.com", 20)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Subscription.id))) == 21
    counts = {}
    for email, ids in (("one@example.com", one), ("twenty@example.com", twenty)):
        client = app.test_client()
        sign_in_customer(app, client, email)
        pages = {
            "dashboard": "/",
            "subscription": f"/subscriptions/{ids['subscription']}",
            "activity": "/activity",
            "payment": "/payment",
        }
        counts[email] = {page: _statements(app, client, path) for page, path in pages.items()}
    assert counts["one@example.com"] == counts["twenty@example.com"]
    assert max(counts["twenty@example.com"].values()) <= MOST_STATEMENTS, counts


def test_console_pages_read_the_same_for_1_and_20_subscriptions(app, client, fixed_today):
    one = _subscriber(app, fixed_today, "one@example.com", 1)
    with app.app_context():
        factories.staff(StaffRole.AGENT, "agent@example.com")
    sign_in_staff(client, "agent@example.com")
    queue_of_one = _statements(app, client, "/console/cases")
    twenty = _subscriber(app, fixed_today, "twenty@example.com", 20)
    with app.app_context():
        for n in range(20):
            customer = factories.customer(f"searchable{n}@example.com", name=f"Searchable {n}")
            handoff.open_case(Actor.for_customer(customer), customer, issue_type="other", message="Hi", source_page="/")
        factories.customer("lonely@example.com", name="Lonely Person")
    counts = {
        label: {
            "case": _statements(app, client, f"/console/cases/{ids['case']}"),
            "customer": _statements(app, client, f"/console/customers/{ids['customer']}"),
        }
        for label, ids in (("one", one), ("twenty", twenty))
    }
    assert counts["one"] == counts["twenty"]
    assert _statements(app, client, "/console/cases") == queue_of_one
    # A search that finds one customer reads as much as one that finds twenty; so do the exact paths.
    fragment = {query: _statements(app, client, f"/console/?q={query}") for query in ("Lonely", "Searchable")}
    assert fragment["Lonely"] == fragment["Searchable"]
    assert _statements(app, client, "/console/?q=lonely@example.com") <= fragment["Lonely"]
    assert max(*counts["twenty"].values(), queue_of_one, *fragment.values()) <= MOST_STATEMENTS, counts


def _subscriber_only(email: str) -> Customer:
    """A customer whose one subscription is of a product of its own, so reports split by product."""
    customer = factories.customer(email)
    factories.subscription(customer)
    db.session.commit()
    return db.session.get(Customer, customer.id)


def test_the_service_report_reads_the_same_for_months_of_history_and_twenty_more_customers(app, client, fixed_today):
    with app.app_context():
        factories.staff(StaffRole.MANAGER, "boss@example.com")
        factories.staff(StaffRole.AGENT, "agent@example.com")
        demo_service.load([_subscriber_only(f"history{n}@example.com") for n in range(3)])
        db.session.commit()
    sign_in_staff(client, "boss@example.com")
    paths = (
        "/console/reports/service?cancel_split=product",
        "/console/reports/service?cancel_split=tenure&split=agent",
    )
    before = [_statements(app, client, path) for path in paths]
    with app.app_context():
        # Each with a product, an agent and a rating of its own: any lookup per row shows here.
        for n in range(20):
            customer = _subscriber_only(f"more{n}@example.com")
            agent = factories.staff(StaffRole.AGENT, f"agent{n}@example.com")
            moment = utcnow() - timedelta(days=n + 1)
            db.session.add_all(
                [
                    CancelAttempt(
                        customer_id=customer.id,
                        subscription_id=customer.subscriptions[0].id,
                        reason_code="moving",
                        outcome=AttemptOutcome.CANCELLED,
                        tenure_days=n * 20,
                        plan={"items": [[customer.subscriptions[0].items[0].variant.sku, 1]]},
                        created_at=moment,
                    ),
                    Survey(
                        key=f"more:{n}",
                        kind=SurveyKind.CSAT,
                        customer_id=customer.id,
                        agent_id=agent.id,
                        score=n % 5 + 1,
                        channel="email",
                        topic="delivery",
                        interaction_at=moment,
                    ),
                ]
            )
        db.session.commit()
    assert [_statements(app, client, path) for path in paths] == before


def _due_subscription(fixed_today, email: str, items: int) -> int:
    """An active subscription with `items` items and its upcoming orders, the first due today;
    returns that order's id."""
    customer = factories.customer(email)
    sub = factories.subscription(customer, next_order_date=fixed_today)
    for variant in [factories.variant() for _ in range(items - 1)]:
        sub.items.append(SubscriptionItem(variant=variant, quantity=1, unit_price_minor=500))
    db.session.commit()
    subscriptions.roll_forward()
    return db.session.scalar(
        select(Order.id).where(Order.subscription_id == sub.id, Order.scheduled_for == fixed_today)
    )


def test_recording_a_renewal_costs_the_same_statements_for_1_and_6_items(app, fixed_today):
    # The renewal workers record one paid order after another: statements per item or per
    # upcoming order would multiply across every due order of the day.
    counts = {}
    with app.app_context():
        for items in (1, 6):
            order_id = _due_subscription(fixed_today, f"renewal{items}@example.com", items)
            payment_id = charging._claim(order_id).payment_id
            with counting() as statements:
                charging._record(payment_id, ChargeResult(f"pi_{items}", True), charging.job_actor())
            # The new order's lines are one INSERT each on SQLite (PostgreSQL batches them).
            counts[items] = [
                statement for statement in statements if not statement.startswith("INSERT INTO order_lines")
            ]
            order = db.session.get(Order, order_id, populate_existing=True)
            assert order.status is OrderStatus.PAID
            upcoming = db.session.scalars(
                select(Order).where(
                    Order.subscription_id == order.subscription_id, Order.status == OrderStatus.SCHEDULED
                )
            ).all()
            # The paid order left the list and the next one was planned with every item.
            assert len(upcoming) == app.config["UPCOMING_ORDERS_SHOWN"]
            assert all(len(row.lines) == items for row in upcoming)
    assert len(counts[1]) == len(counts[6]) <= MOST_STATEMENTS + 4, counts
