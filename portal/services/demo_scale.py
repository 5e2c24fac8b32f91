"""A merchant's size of demo data, bulk-loaded: `flask demo-data --scale N`.

N customers with about 1.3 subscriptions each in every state, the upcoming orders the schedule
would have written (the same pure `fill` the schedule job runs), paid history with its payments,
audit events, and one case per 20 customers (50,000 at a million). Rows are written with COPY on
PostgreSQL (batched inserts on SQLite), a chunk of customers per transaction, with explicit ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import (
    Address,
    AuditEvent,
    Case,
    CaseMessage,
    Customer,
    IntervalUnit,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    Variant,
)
from portal.services import bulk_load, clock
from portal.services.subscriptions import rules, schedule, storage

CHUNK = 5_000
CUSTOMERS_PER_CASE = 20
# From this many customers on, PostgreSQL's secondary indexes are dropped and built after the load.
BULK_FROM = 50_000
_FIRST_NAMES = """Ana Ben Carla David Elena Farid Greta Hugo Irene Jonas Kira Luis Marta Nils Olga Pablo Quinn Rosa
Sven Tara Umar Vera Wim Xenia Yusuf Zoe Aiko Bruno Chen Dora Emil Fatima Goran Hana Ivan Jana Karim Lea Mateo Nora"""
_SYLLABLES = "ber gar mon lin dor vel sta kos ri na to han mer wal fer tis lo qua zen bra dem hol cas pe ru"
FIRST_NAMES, SYLLABLES = _FIRST_NAMES.split(), _SYLLABLES.split()
MODELS = (
    Customer,
    Address,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    Order,
    OrderLine,
    Payment,
    AuditEvent,
    Case,
    CaseMessage,
)


def surname(rng: random.Random) -> str:
    """Many surnames (as in a real customer base), so a name fragment finds a handful of people."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3)))).capitalize()


@dataclass
class Rows:
    """The rows of one chunk, per table, as column -> value dicts."""

    tables: dict[type, list[dict]] = field(default_factory=lambda: {model: [] for model in MODELS})
    next_ids: dict[type, int] = field(default_factory=dict)

    def add(self, model: type, **values) -> int:
        values.setdefault("id", self.next_ids[model])
        self.next_ids[model] = values["id"] + 1
        self.tables[model].append(values)
        return values["id"]


class Loader:
    """Makes the rows of one customer at a time. `due_today` (for the renewals benchmark): every
    subscription active with its first order due today."""

    def __init__(self, seed: int = 16, due_today: bool = False):
        self.rng = random.Random(seed)
        self.due_today = due_today
        self.ctx = storage.context()
        self.today = clock.today()
        self.now = datetime.now(UTC)
        self.variants = db.session.scalars(select(Variant).where(Variant.active.is_(True)).order_by(Variant.id)).all()
        self.names = {variant.id: variant.display_name for variant in self.variants}
        self.agent_ids = db.session.scalars(text("SELECT id FROM staff_users ORDER BY id")).all()

    def customer(self, rows: Rows, n: int, subscriptions: int | None = None) -> None:
        rng, first, last = self.rng, self.rng.choice(FIRST_NAMES), surname(self.rng)
        joined = self.now - timedelta(days=rng.randint(30, 900))
        phone = f"+3469{n:07d}"
        customer_id = rows.add(
            Customer,
            created_at=joined,
            email=f"{first}.{last}.{n}@scale.example".lower(),
            name=f"{first} {last}",
            phone=phone,
            phone_normalized=phone,
            locale=rng.choice(("en", "en", "es", "de")),
        )
        address_id = rows.add(
            Address,
            customer_id=customer_id,
            created_at=joined,
            name=f"{first} {last}",
            line1=f"Calle {last} {n % 200 + 1}",
            city="Madrid",
            postal_code=f"28{n % 1000:03d}",
            country="ES",
        )
        card_id = rows.add(
            PaymentMethod,
            customer_id=customer_id,
            created_at=joined,
            stripe_payment_method_id=f"pm_scale_{n}",
            brand="visa",
            last4=f"{n % 10000:04d}",
            exp_month=rng.randint(1, 12),
            exp_year=self.today.year + rng.randint(1, 4),
            is_default=True,
        )
        rows.add(
            AuditEvent,
            occurred_at=self.now - timedelta(days=rng.randint(0, 30)),
            actor_type="customer",
            actor_id=customer_id,
            actor_label=f"{first} {last}",
            action="auth.signed_in",
            subject_type="customer",
            subject_id=customer_id,
            customer_id=customer_id,
            after={"method": "link"},
            outcome="success",
        )
        count = subscriptions or (2 if rng.random() < 0.3 else 1)
        owned = [self.subscription(rows, customer_id, address_id, card_id, joined) for _ in range(count)]
        if n % CUSTOMERS_PER_CASE == 0:
            self.case(rows, customer_id, f"{first} {last}", rows.tables[Customer][-1]["email"], phone, owned)

    def subscription(self, rows: Rows, customer_id: int, address_id: int, card_id: int, joined: datetime) -> dict:
        rng = self.rng
        status = rng.choices(list(SubscriptionStatus), weights=(80, 10, 10))[0]
        weeks = rng.choice((2, 2, 4, 6))
        variants = rng.sample(self.variants, 2 if rng.random() < 0.2 else 1)
        lines = tuple(
            schedule.PlannedLine(v.id, self.names[v.id], rng.choice((1, 1, 2)), v.price_minor) for v in variants
        )
        anchor = self.today + timedelta(days=rng.randint(1, 7 * weeks))
        if self.due_today:
            status, anchor = SubscriptionStatus.ACTIVE, self.today
        paused_until = self.today + timedelta(days=rng.randint(7, 60)) if status is SubscriptionStatus.PAUSED else None
        plan = schedule.Plan(
            status=status,
            lines=lines,
            interval_unit=IntervalUnit.WEEK,
            interval_count=weeks,
            currency=variants[0].currency,
            anchor=paused_until or anchor,
            paused_until=paused_until,
            upcoming=(),
            last_order_date=anchor - timedelta(weeks=weeks),
        )
        plan = rules.keep_filled(plan, self.ctx)
        subscription_id = rows.add(
            Subscription,
            customer_id=customer_id,
            created_at=joined,
            status=status.value,
            interval_unit=IntervalUnit.WEEK.value,
            interval_count=weeks,
            currency=plan.currency,
            next_order_date=plan.next_delivery or paused_until,
            cycle_anchor=plan.anchor,
            refill_on=storage.refill_date(plan),
            paused_until=paused_until,
            cancelled_at=self.now - timedelta(days=rng.randint(1, 200))
            if status is SubscriptionStatus.CANCELLED
            else None,
            discount_percent=0,
            discount_orders_left=0,
            shipping_address_id=address_id,
            payment_method_id=card_id,
            updated_at=self.now,
            version=1,
        )
        for line in lines:
            rows.add(
                SubscriptionItem,
                subscription_id=subscription_id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
            )
        history = [plan.last_order_date - timedelta(weeks=weeks * k) for k in range(2)]
        for day in history:
            self.order(rows, customer_id, subscription_id, plan, day, "paid")
        for planned in plan.upcoming:
            self.order(rows, customer_id, subscription_id, plan, planned.scheduled_for, "scheduled")
        return {"id": subscription_id, "status": status.value, "plan": plan, "last": history[0]}

    def order(self, rows: Rows, customer_id: int, subscription_id: int, plan, day: date, status: str) -> None:
        subtotal, total = schedule.order_total(plan.lines, 0)
        paid_at = datetime.combine(day, time(8), UTC) if status == "paid" else None
        order_id = rows.add(
            Order,
            customer_id=customer_id,
            subscription_id=subscription_id,
            created_at=paid_at or self.now,
            status=status,
            scheduled_for=day,
            currency=plan.currency,
            subtotal_minor=subtotal,
            shipping_minor=0,
            discount_minor=0,
            total_minor=total,
            paid_at=paid_at,
            credit_applied_minor=0,
            payment_attempts=1 if paid_at else 0,
        )
        for line in plan.lines:
            rows.add(
                OrderLine,
                order_id=order_id,
                variant_id=line.variant_id,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                total_minor=line.total_minor,
            )
        if paid_at is None:
            return
        payment_id = rows.next_ids[Payment]
        rows.add(
            Payment,
            order_id=order_id,
            customer_id=customer_id,
            created_at=paid_at,
            attempt=1,
            amount_minor=total,
            currency=plan.currency,
            status="succeeded",
            idempotency_key=f"order-{order_id}-attempt-1",
            stripe_payment_intent_id=f"pi_scale_{payment_id}",
            refunded_minor=0,
            attempted_at=paid_at,
            finished_at=paid_at,
        )
        rows.add(
            AuditEvent,
            occurred_at=paid_at,
            actor_type="job",
            actor_label="renewals",
            action="payment.succeeded",
            subject_type="order",
            subject_id=order_id,
            customer_id=customer_id,
            after={"amount_minor": total, "attempt": 1},
            outcome="success",
        )

    def case(self, rows: Rows, customer_id: int, name: str, email: str, phone: str, owned: list[dict]) -> None:
        """A case like `handoff.open_case` writes, with a snapshot of the same shape."""
        rng = self.rng
        opened = self.now - timedelta(hours=rng.randint(1, 24 * 60))
        status = rng.choices(("new", "open", "waiting", "resolved"), weights=(15, 15, 10, 60))[0]
        replied = opened + timedelta(hours=rng.randint(1, 30)) if status != "new" else None
        snapshot = {
            "customer": {"id": customer_id, "name": name, "email": email, "phone": phone, "locale": "en"},
            "subscriptions": [
                {
                    "id": s["id"],
                    "status": s["status"],
                    "items": [f"{line.quantity} × {line.description}" for line in s["plan"].lines],
                    "interval": f"{s['plan'].interval_count} week",
                    "next_order": (s["plan"].next_delivery or self.today).isoformat(),
                    "paused_until": s["plan"].paused_until.isoformat() if s["plan"].paused_until else None,
                    "ends_on": None,
                    "amount_minor": s["plan"].price_minor,
                    "currency": s["plan"].currency,
                }
                for s in owned
            ],
            "upcoming_orders": [],
            "recent_orders": [],
            "payment": {"card": "visa •••• 4242", "failed_orders": []},
            "recent_activity": [],
            "failed_attempts": [],
            "source_page": "/",
            "cancel": None,
            "earlier_cases": [],
        }
        case_id = rows.add(
            Case,
            created_at=opened,
            customer_id=customer_id,
            sender=email,
            status=status,
            channel=rng.choice(("portal", "portal", "email", "sms")),
            issue_type=rng.choice(("payment", "delivery", "subscription", "other")),
            subject="Where is my order?",
            source_page="/",
            snapshot=snapshot,
            is_repeat=False,
            assignee_id=rng.choice(self.agent_ids) if replied and self.agent_ids else None,
            first_response_at=replied,
            resolved_at=replied if status == "resolved" else None,
            updated_at=replied or opened,
        )
        rows.add(
            CaseMessage,
            case_id=case_id,
            created_at=opened,
            author="customer",
            channel="portal",
            body="Where is my order?",
            internal=False,
        )
        if replied:
            rows.add(
                CaseMessage,
                case_id=case_id,
                created_at=replied,
                author="staff",
                channel="portal",
                body="It is on its way.",
                internal=False,
            )


def load(
    customers: int,
    progress: Callable[[Iterator[int]], Iterator[int]] | None = None,
    loader: Loader | None = None,
    subscriptions: int | None = None,
) -> int:
    """Add `customers` customers with everything they would have; returns the number added."""
    loader = loader or Loader()
    chunks = range(0, customers, CHUNK)
    first = (db.session.scalar(select(func.max(Customer.id))) or 0) + 1
    with bulk_load.bulk(MODELS, drop_indexes=customers >= BULK_FROM) as write_chunk:
        for start in progress(chunks) if progress else chunks:
            rows = Rows(next_ids=bulk_load.next_ids(MODELS))
            for n in range(first + start, first + min(start + CHUNK, customers)):
                loader.customer(rows, n, subscriptions)
            write_chunk(rows.tables)
    current_app.logger.info("scale data: %s customers added", customers)
    return customers
