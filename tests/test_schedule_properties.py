"""The schedule invariants of docs/SCHEDULE.md, checked after every step of random sequences of
actions, jobs and days passing, through the real services and database.

Renewals run for real too: the customer holds enough credit that every charge is covered by it,
so orders are paid without a call to the payment provider."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import (
    IntervalUnit,
    Order,
    OrderStatus,
    Subscription,
    SubscriptionStatus,
    Variant,
)
from portal.services import actions, payments, subscriptions
from portal.services import policy as policy_service
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.subscriptions.schedule import add_interval
from tests import factories
from tests.helpers import TODAY

ACTOR = Actor.system("property test")
INTERVALS = [
    (IntervalUnit.WEEK, 1),
    (IntervalUnit.WEEK, 2),
    (IntervalUnit.WEEK, 4),
    (IntervalUnit.WEEK, 6),
    (IntervalUnit.MONTH, 1),
]
DELIVERED = (OrderStatus.SCHEDULED, OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.REFUNDED)


def _wipe() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))


class Schedule(RuleBasedStateMachine):
    """One subscription; `today` moves forward; the model remembers what the subscriber asked."""

    calendar = None
    day = [TODAY]

    @initialize()
    def subscribe(self):
        self.day[0] = TODAY
        self.calendar.move_to(TODAY)
        customer = factories.customer(with_card=False)
        sub = factories.subscription(customer, price_minor=1500, next_order_date=TODAY + timedelta(days=5))
        other = Variant(
            product_id=sub.items[0].variant.product_id,
            name="1 kg",
            sku=f"BIG-{sub.id}",
            price_minor=4000,
            currency="EUR",
        )
        db.session.add(other)
        db.session.commit()
        payments.add_credit(ACTOR, customer, 10**9, "EUR", "covers every order")
        db.session.commit()
        self.sub_id = sub.id
        self.variants = [sub.items[0].variant_id, other.id]
        # Dates the subscriber skipped and has not restored; dates they chose for a delivery.
        self.skipped: set[date] = set()
        self.chosen: set[date] = set()
        subscriptions.roll_forward()

    # --- helpers ---

    @property
    def today(self) -> date:
        return self.day[0]

    def sub(self) -> Subscription:
        db.session.expire_all()
        return db.session.get(Subscription, self.sub_id)

    def orders(self) -> list[Order]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(Order).where(Order.subscription_id == self.sub_id).order_by(Order.scheduled_for, Order.id)
            )
        )

    def upcoming(self) -> list[Order]:
        return [
            o
            for o in self.orders()
            if o.status is OrderStatus.SCHEDULED or (o.status is OrderStatus.SKIPPED and o.scheduled_for >= self.today)
        ]

    def locked(self, order: Order) -> bool:
        return policy_service.get().is_locked(order.scheduled_for, self.today)

    def act(self, action: str, **params) -> bool:
        """Apply through the real entry point; a refusal must change nothing."""
        before = self.fingerprint()
        sub = self.sub()
        try:
            actions.perform(ACTOR, sub, action, sub.version, **params)
        except DomainError:
            assert self.fingerprint() == before, f"refused {action} changed something"
            return False
        return True

    def fingerprint(self):
        sub = self.sub()
        return (
            sub.status,
            sub.cycle_anchor,
            sub.paused_until,
            sub.cancel_at,
            sub.interval_unit,
            sub.interval_count,
            tuple((o.id, o.scheduled_for, o.status, o.total_minor) for o in self.orders()),
        )

    def locked_orders(self):
        return {
            o.id: (
                o.scheduled_for,
                o.status,
                o.total_minor,
                tuple((line.variant_id, line.quantity) for line in o.lines),
            )
            for o in self.upcoming()
            if o.status is OrderStatus.SCHEDULED and self.locked(o)
        }

    def forget_skips_if_ended(self) -> None:
        if self.sub().status is SubscriptionStatus.CANCELLED:
            self.skipped.clear()

    # --- what a subscriber does ---

    @rule(index=st.integers(0, 5))
    def skip(self, index):
        candidates = [o for o in self.upcoming() if o.status is OrderStatus.SCHEDULED]
        if candidates:
            order = candidates[index % len(candidates)]
            if self.act("skip", order_id=order.id):
                self.skipped.add(order.scheduled_for)

    @rule(index=st.integers(0, 5))
    def unskip(self, index):
        candidates = [o for o in self.upcoming() if o.status is OrderStatus.SKIPPED]
        if candidates:
            order = candidates[index % len(candidates)]
            if self.act("unskip", order_id=order.id):
                self.skipped.discard(order.scheduled_for)

    @rule(cycles=st.sampled_from([1, 2, 3]))
    def pause_for_deliveries(self, cycles):
        self.act("pause", cycles=cycles)

    @rule(days=st.integers(1, 100))
    def pause_until(self, days):
        until = self.today + timedelta(days=days)
        if self.act("pause", until=until):
            self.chosen.add(until)

    @rule()
    def resume(self):
        self.act("resume")

    @rule(big=st.booleans(), quantity=st.integers(1, 3))
    def swap(self, big, quantity):
        item_id = self.sub().items[0].id
        self.act("swap", item_id=item_id, variant_id=self.variants[big], quantity=quantity)

    @rule(interval=st.sampled_from(INTERVALS))
    def frequency(self, interval):
        self.act("frequency", unit=interval[0], count=interval[1])

    @rule(days=st.integers(0, 70))
    def reschedule(self, days):
        new_date = self.today + timedelta(days=days)
        if self.act("reschedule", new_date=new_date):
            self.chosen.add(new_date)
            self.skipped.discard(new_date)

    @rule()
    def order_now(self):
        if self.act("order_now"):
            self.chosen.add(self.today)
            self.skipped.discard(self.today)

    @rule(mode=st.sampled_from(["now", "period_end", "date"]), days=st.integers(1, 120))
    def cancel(self, mode, days):
        self.act("cancel", mode=mode, on_date=self.today + timedelta(days=days) if mode == "date" else None)
        self.forget_skips_if_ended()

    @rule()
    def keep(self):
        self.act("keep")

    @rule()
    def reactivate(self):
        self.act("reactivate")

    # --- what happens without them ---

    @rule(job=st.sampled_from(["schedule", "auto-resume", "cancellations"]))
    def run_job(self, job):
        run = {
            "schedule": subscriptions.roll_forward,
            "auto-resume": subscriptions.resume_due,
            "cancellations": subscriptions.end_due,
        }[job]
        locked = self.locked_orders()
        run()
        self.forget_skips_if_ended()
        assert self.locked_orders() == locked, f"{job} changed a locked order"
        after = self.fingerprint()
        assert run() == 0, f"{job} found more to do on its second run"
        assert self.fingerprint() == after, f"{job} changed something on its second run"
        if job == "schedule":
            sub = self.sub()
            if sub.status is SubscriptionStatus.ACTIVE and sub.cancel_at is None:
                assert sub.next_order_date is not None, "an active subscription has no next delivery"

    @rule(days=st.integers(1, 20))
    def days_pass(self, days):
        self.day[0] = self.today + timedelta(days=days)
        self.calendar.move_to(self.today)
        payments.run_renewals()
        subscriptions.resume_due()
        subscriptions.end_due()
        self.forget_skips_if_ended()
        subscriptions.roll_forward()

    # --- the invariants, after every step ---

    @invariant()
    def invariants_hold(self):
        sub, orders = self.sub(), self.orders()
        upcoming = [
            o
            for o in orders
            if o.status is OrderStatus.SCHEDULED or (o.status is OrderStatus.SKIPPED and o.scheduled_for >= self.today)
        ]
        self.nothing_after_the_end_or_while_paused(sub, upcoming)
        self.deliveries_at_least_one_interval_apart(sub, orders)
        shipping = {o.scheduled_for for o in orders if o.status in DELIVERED}
        assert not (shipping & {day for day in self.skipped if day >= self.today}), "a skipped date ships"
        dates = [o.scheduled_for for o in upcoming]
        assert len(dates) == len(set(dates)), "two upcoming orders on one date"

    def nothing_after_the_end_or_while_paused(self, sub, upcoming):
        open_scheduled = [o for o in upcoming if o.status is OrderStatus.SCHEDULED and not self.locked(o)]
        if sub.status is not SubscriptionStatus.ACTIVE:
            assert open_scheduled == [], f"{sub.status.value} subscription has open deliveries"
        if sub.cancel_at is not None:
            assert all(o.scheduled_for < sub.cancel_at for o in open_scheduled), "a delivery after the end date"

    def deliveries_at_least_one_interval_apart(self, sub, orders):
        deliveries = [o for o in orders if o.status in DELIVERED]
        for earlier, later in zip(deliveries, deliveries[1:], strict=False):
            if later.status is not OrderStatus.SCHEDULED or self.locked(later) or later.scheduled_for in self.chosen:
                continue
            soonest = add_interval(earlier.scheduled_for, sub.interval_unit, sub.interval_count)
            assert later.scheduled_for >= soonest, (
                f"{later.scheduled_for} comes {(later.scheduled_for - earlier.scheduled_for).days} days after "
                f"{earlier.scheduled_for} on a {sub.interval_count} {sub.interval_unit.value} plan"
            )


@pytest.mark.usefixtures("ctx")
def test_schedule_invariants_hold_for_any_sequence(app, calendar):
    Schedule.calendar = calendar
    Schedule.TestCase.settings = settings(
        # SCHEDULE_EXAMPLES=500 searches deeper (and at random) than the suite's fixed run.
        max_examples=int(os.environ.get("SCHEDULE_EXAMPLES", 40)),
        stateful_step_count=25,
        deadline=None,
        derandomize="SCHEDULE_EXAMPLES" not in os.environ,
        suppress_health_check=[HealthCheck.too_slow],
    )

    class Wiped(Schedule):
        def teardown(self):
            _wipe()

    run_state_machine_as_test(Wiped, settings=Schedule.TestCase.settings)
