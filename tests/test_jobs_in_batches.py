"""The dated jobs read only the subscriptions they have to act on, a batch at a time, each batch
its own transaction, so their cost follows the work and their memory stays bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import Order, OrderStatus, Subscription
from portal.services import subscriptions
from portal.services.subscriptions import jobs
from tests import factories
from tests.helpers import TODAY

pytestmark = pytest.mark.usefixtures("fixed_today")


def test_the_schedule_job_fills_every_subscription_in_batches_and_then_reads_none(app, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    with app.app_context():
        customer = factories.customer("batches@example.com")
        ids = [factories.subscription(customer, next_order_date=TODAY + timedelta(days=3 + n)).id for n in range(5)]
        batches: list[str] = []

        def note_batch(conn, cursor, statement, parameters, context, executemany):
            if "FROM subscriptions" in statement and "LIMIT" in statement:
                batches.append(statement)

        event.listen(db.engine, "before_cursor_execute", note_batch)
        try:
            first = subscriptions.roll_forward()
            first_batches = len(batches)
            second = subscriptions.roll_forward()
        finally:
            event.remove(db.engine, "before_cursor_execute", note_batch)
        # 5 subscriptions in batches of 2: 2, 2, 1; the second pass finds none short of orders.
        assert (first, first_batches) == (5, 3)
        assert (second, len(batches) - first_batches) == (0, 1)
        upcoming = db.session.execute(
            select(Order.subscription_id, func.count(Order.id))
            .where(Order.status == OrderStatus.SCHEDULED)
            .group_by(Order.subscription_id)
        ).all()
        assert {sub_id for sub_id, count in upcoming if count > 0} == set(ids)
        assert db.session.scalar(select(func.count(Subscription.id)).where(Subscription.refill_on.is_(None))) == 0
