"""Renewals against localstripe: the rate of 4 workers over the due orders, compared with
localstripe's own rate of raw PaymentIntents (create + confirm) in the same run, and exactly one
PaymentIntent per order after a worker is killed with SIGKILL mid-run and the run repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import cpu
from bench.data import database_url, drop_and_create, flask
from bench.servers import ROOT, localstripe

WORKERS = 4
# The orders due today (the scale data's history is paid, on earlier dates).
TODAY = "scheduled_for = (now() AT TIME ZONE :zone)::date"
PAID_TODAY = "status = 'paid' AND " + TODAY
SUBSCRIPTIONS_PER_CUSTOMER = 5


def _app(url: str, stripe_url: str):
    os.environ.update(DATABASE_URL=url, LOCALSTRIPE_URL=stripe_url, PORTAL_ENV="development")
    from portal import create_app

    return create_app()


def raw_rate(app, count: int, stripe_pid: int) -> tuple[float, dict[str, float]]:
    """PaymentIntents per second that localstripe itself manages, created and confirmed by
    WORKERS clients at once (the same card and customer for all), and the CPU milliseconds one
    took in localstripe and in the clients (this process)."""
    from portal.billing import stripe_gateway as gateway

    with app.app_context():
        client = gateway._client()
        customer = client.customers.create(params={"email": "raw@example.com"}).id
        card = client.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            }
        ).id
        client.payment_methods.attach(card, params={"customer": customer})

        def one(n: int) -> None:
            with app.app_context():
                intent = gateway.create_charge(
                    customer_id=customer,
                    payment_method_id=card,
                    amount_minor=1200,
                    currency="EUR",
                    idempotency_key=f"raw-{n}",
                    metadata={"raw": str(n)},
                )
                gateway.confirm_charge(intent)

        started, stripe_cpu, client_cpu = time.perf_counter(), cpu.process_seconds(stripe_pid), time.process_time()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, range(count)))
        rate = count / (time.perf_counter() - started)
        return rate, {
            "localstripe": (cpu.process_seconds(stripe_pid) - stripe_cpu) * 1000 / count,
            "client": (time.process_time() - client_cpu) * 1000 / count,
        }


def prepare(app, url: str, orders: int) -> None:
    """Customers with a real card at localstripe, each with subscriptions whose order is due today."""
    from portal.billing import stripe_gateway as gateway
    from portal.extensions import db
    from portal.services import demo, demo_scale

    customers = -(-orders // SUBSCRIPTIONS_PER_CUSTOMER)
    with app.app_context():
        demo.load("demo-password")
        demo_scale.load(customers, loader=demo_scale.Loader(due_today=True), subscriptions=SUBSCRIPTIONS_PER_CUSTOMER)
        rows = db.session.execute(
            text(
                "SELECT c.id, c.email, p.id FROM customers c JOIN payment_methods p ON p.customer_id = c.id "
                "WHERE c.email LIKE '%@scale.example'"
            )
        ).all()

        def at_stripe(row):
            with app.app_context():
                client = gateway._client()
                customer = gateway.create_customer(row[1], "Scale", row[0])
                card = client.payment_methods.create(
                    params={
                        "type": "card",
                        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
                    }
                ).id
                client.payment_methods.attach(card, params={"customer": customer})
                return row[0], customer, row[2], card

        with ThreadPoolExecutor(WORKERS) as pool:
            made = list(pool.map(at_stripe, rows))
        for customer_id, stripe_customer, method_id, card in made:
            db.session.execute(
                text("UPDATE customers SET stripe_customer_id = :s WHERE id = :i"),
                {"s": stripe_customer, "i": customer_id},
            )
            db.session.execute(
                text("UPDATE payment_methods SET stripe_payment_method_id = :s WHERE id = :i"),
                {"s": card, "i": method_id},
            )
        db.session.commit()


# What the workers print, kept to show why they stopped if they stop early.
WORKER_LOG = Path(tempfile.gettempdir()) / "bench-renew-workers.log"


def _workers(url: str, stripe_url: str) -> list[subprocess.Popen]:
    env = {**os.environ, "PORTAL_ENV": "development", "DATABASE_URL": url, "LOCALSTRIPE_URL": stripe_url}
    with WORKER_LOG.open("a") as log:
        return [
            subprocess.Popen([sys.executable, "-m", "bench.renew_worker"], cwd=ROOT, env=env, stdout=log, stderr=log)
            for _ in range(WORKERS)
        ]


def _count(engine, where: str) -> int:
    zone = {"zone": os.environ.get("MERCHANT_TIMEZONE", "Europe/Madrid")}
    with engine.connect() as connection:
        return connection.scalar(text(f"SELECT count(*) FROM orders WHERE {where}"), zone if ":zone" in where else {})


def measure(orders: int) -> dict:
    url = database_url("renewals")
    subprocess.run([sys.executable, "scripts/create_database.py", url], cwd=ROOT, check=True)
    drop_and_create(url)
    flask(url, "db", "upgrade")
    WORKER_LOG.write_text("")
    with localstripe() as (stripe_url, stripe_pid):
        app = _app(url, stripe_url)
        prepare(app, url, orders)
        # Measured with the store as full as the renewals will find it.
        raw, raw_cpu = raw_rate(app, min(orders, 2000), stripe_pid)
        print(f"  localstripe's raw rate measured: {raw:.0f} PaymentIntents/s", flush=True)
        engine = create_engine(url)
        due = _count(engine, "status = 'scheduled' AND " + TODAY)
        # Run 1: four workers; one is killed with SIGKILL halfway, the others go on.
        started = time.perf_counter()
        workers = _workers(url, stripe_url)
        # CPU is counted from the first tenth paid, so the workers' start (imports, the app) is left out.
        cpu_before = paid_before = seconds_before = None
        while (paid := _count(engine, PAID_TODAY)) < due // 2:
            if cpu_before is None and paid >= due // 10:
                cpu_before, paid_before, seconds_before = _cpu_now(stripe_pid, workers), paid, time.perf_counter()
            if all(worker.poll() is not None for worker in workers):
                tail = WORKER_LOG.read_text()[-3000:]
                raise SystemExit(f"The renewal workers stopped before half the orders were paid:\n{tail}")
            time.sleep(0.2)
        killed_at, paid_at_kill = time.perf_counter() - started, _count(engine, PAID_TODAY)
        cpu_used, seconds_used = _cpu_now(stripe_pid, workers), time.perf_counter() - seconds_before
        print(f"  {paid_at_kill:,} paid in {killed_at:.0f} s; one worker killed now", flush=True)
        workers[0].send_signal(signal.SIGKILL)
        for worker in workers:
            worker.wait()
        first_run = time.perf_counter() - started
        stuck = _count(engine, "status = 'processing' AND " + TODAY)
        # The killed worker's charge waits STUCK_AFTER (5 minutes) before another worker takes
        # it over: move its claim back in time rather than wait, then run again.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE payments SET attempted_at = attempted_at - interval '10 minutes' WHERE status = 'charging'"
                )
            )
        for worker in _workers(url, stripe_url):
            worker.wait()
        per_order, succeeded = _intents_per_order(stripe_url)
        paid = _count(engine, PAID_TODAY)
        engine.dispose()
    return {
        "due_orders": due,
        "raw_intents_per_second": raw,
        "renewals_per_second": paid_at_kill / killed_at,
        # Without the workers' start, as the raw rate is measured without the client's.
        "running_renewals_per_second": (paid_at_kill - paid_before) / seconds_used,
        "raw_cpu_ms": raw_cpu,
        "renewal_cpu_ms": {
            part: (cpu_used[part] - cpu_before[part]) * 1000 / (paid_at_kill - paid_before) for part in cpu_used
        },
        "machine_busy": (cpu_used["machine"] - cpu_before["machine"]) / (os.cpu_count() * seconds_used),
        "first_run_seconds": first_run,
        "stuck_after_kill": stuck,
        "paid": paid,
        "orders_with_one_intent": sum(1 for n in per_order.values() if n == 1),
        "orders_with_more": sum(1 for n in per_order.values() if n > 1),
        "orders_charged_twice": sum(1 for n in succeeded.values() if n > 1),
    }


def _cpu_now(stripe_pid: int, workers: list[subprocess.Popen] = ()) -> dict[str, float]:
    """CPU seconds so far of the renewal workers, localstripe, PostgreSQL's processes and the whole
    machine (the workers' backends live as long as the workers do, so none is missed)."""
    return {
        "workers": sum(cpu.process_seconds(worker.pid) for worker in workers),
        "localstripe": cpu.process_seconds(stripe_pid),
        "postgresql": cpu.seconds_of_command("postgres"),
        "machine": cpu.machine_busy_seconds(),
    }


def _intents_per_order(stripe_url: str) -> tuple[Counter, Counter]:
    """How many PaymentIntents localstripe holds for each order, and how many of them succeeded
    (bench/localstripe_fast.py)."""
    # localstripe takes any key, but wants one.
    asked = urllib.request.Request(
        f"{stripe_url}/v1/bench/payment_intent_orders", headers={"Authorization": "Bearer sk_test_bench"}
    )
    with urllib.request.urlopen(asked, timeout=120) as answer:
        intents = [(order_id, status) for order_id, status in json.load(answer)["intents"] if order_id is not None]
    return Counter(order_id for order_id, _ in intents), Counter(o for o, status in intents if status == "succeeded")
