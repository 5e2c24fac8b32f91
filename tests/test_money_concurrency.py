"""Money under concurrency on PostgreSQL: credit is used once, the agent limit holds, one default card."""

from __future__ import annotations

import threading
from collections import Counter
from itertools import accumulate

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Case,
    Channel,
    CreditEntry,
    CreditRequest,
    Customer,
    Order,
    OrderStatus,
    Payment,
    StaffRole,
    StaffUser,
)
from portal.services import credits, inbox, payments, subscriptions
from portal.services.actors import Actor
from portal.services.uow import unit_of_work
from tests import factories
from tests.billing import GOOD, add_card, confirmed_setup_intent, payment_intents
from tests.helpers import run_together

pytestmark = pytest.mark.postgres

# Several customers race at once, so a missing lock shows up on at least one of them.
CUSTOMERS = 5


def test_two_orders_claimed_at_once_use_the_credit_once(app, localstripe, fixed_today):
    """30.00 credit and two 25.00 orders due together: 25.00 off one, 5.00 off the other, never below zero."""
    with app.app_context():
        for n in range(CUSTOMERS):
            customer_id = factories.customer(f"twice{n}@example.com", with_card=False).id
            for _ in range(2):
                factories.subscription(
                    db.session.get(Customer, customer_id), price_minor=2500, next_order_date=fixed_today
                )
            add_card(db.session.get(Customer, customer_id), GOOD)
            with unit_of_work():
                payments.add_credit(
                    Actor.system("test"), db.session.get(Customer, customer_id), 3000, "EUR", "goodwill"
                )
        subscriptions.roll_forward()

    run_together(app, payments.run_renewals, CUSTOMERS * 2)

    charged = Counter(intent.metadata.to_dict()["order_id"] for intent in payment_intents(app))
    amounts = {intent.metadata.to_dict()["order_id"]: intent.amount for intent in payment_intents(app)}
    with app.app_context():
        for customer_id in db.session.scalars(select(Customer.id)):
            ledger = db.session.scalars(
                select(CreditEntry.amount_minor).where(CreditEntry.customer_id == customer_id).order_by(CreditEntry.id)
            ).all()
            assert min(accumulate(ledger)) >= 0 and sum(ledger) == 0
            due = db.session.scalars(
                select(Order)
                .where(Order.customer_id == customer_id, Order.scheduled_for == fixed_today)
                .order_by(Order.credit_applied_minor)
            ).all()
            assert [(o.status, o.credit_applied_minor) for o in due] == [
                (OrderStatus.PAID, 500),
                (OrderStatus.PAID, 2500),
            ]
            partly, wholly = due
            # The order credit paid in full is never sent to the provider; the other is charged once.
            assert (charged[str(partly.id)], amounts[str(partly.id)], charged[str(wholly.id)]) == (1, 2000, 0)
            payments_per_order = Counter(
                db.session.scalars(select(Payment.order_id).where(Payment.customer_id == customer_id))
            )
            assert payments_per_order == {partly.id: 1, wholly.id: 1}


def test_parallel_credits_cannot_beat_the_agent_limit(app):
    """Ten 15.00 credits at once against a 20.00 limit: one is given, nine wait for a manager."""
    with app.app_context():
        factories.customer("late@example.com")
        agent_id = factories.staff(StaffRole.AGENT).id
        case_id = inbox.receive(Channel.EMAIL, "late@example.com", "Late again", "email:race").id

    def give() -> None:
        credits.request_credit(db.session.get(StaffUser, agent_id), db.session.get(Case, case_id), 1500, "late")

    run_together(app, give, 10)

    with app.app_context():
        statuses = Counter(status.value for status in db.session.scalars(select(CreditRequest.status)))
        assert statuses == {"approved": 1, "pending": 9}
        assert db.session.scalars(select(CreditEntry.amount_minor)).all() == [1500]


def test_cards_saved_at_once_leave_one_default(app, localstripe):
    """Two tabs (or a double submit) saving a new card each at the same moment: one default."""
    with app.app_context():
        customer_ids = []
        for n in range(CUSTOMERS):
            customer = factories.customer(f"tabs{n}@example.com", with_card=False)
            factories.subscription(customer)
            add_card(customer, GOOD)
            customer_ids.append(customer.id)
        # Each customer's two new cards, confirmed in two browsers, saved at once below.
        intents = {
            customer_id: [confirmed_setup_intent(db.session.get(Customer, customer_id), GOOD) for _ in range(2)]
            for customer_id in customer_ids
        }
    pending = [(customer_id, intent) for customer_id, pair in intents.items() for intent in pair]
    lock = threading.Lock()

    def save_one():
        with lock:
            customer_id, intent = pending.pop()
        payments.save_card(Actor.system("test"), db.session.get(Customer, customer_id), intent)

    run_together(app, save_one, len(pending))
    with app.app_context():
        for customer_id in customer_ids:
            customer = db.session.get(Customer, customer_id)
            defaults = [method.id for method in customer.payment_methods if method.is_default]
            assert len(customer.payment_methods) == 3 and len(defaults) == 1
            assert [subscription.payment_method_id for subscription in customer.subscriptions] == defaults
