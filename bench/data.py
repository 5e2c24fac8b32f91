"""The databases a benchmark runs on: created, migrated and filled with `flask demo-data --scale N`
once, then reused by later runs; and what to ask of them (a typical customer, search terms)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.servers import BIN, ROOT, localstripe

SERVER_URL = os.environ.get("BENCH_DATABASE_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("BENCH_DB_PREFIX", "portal_bench_")


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{PREFIX}{name}"


def flask(url: str, *args: str, check: bool = True, **env: str) -> str:
    env = {**os.environ, "FLASK_APP": "wsgi", "PORTAL_ENV": "development", "DATABASE_URL": url, **env}
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout


def customers_in(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM customers"))
    except Exception:  # no database or no tables yet
        return -1
    finally:
        engine.dispose()


def prepare(customers: int) -> str:
    """A database with demo data and `customers` scale customers; loaded only the first time."""
    url = database_url(str(customers))
    subprocess.run([sys.executable, "scripts/create_database.py", url], cwd=ROOT, check=True)
    if customers_in(url) < customers:
        drop_and_create(url)
        flask(url, "db", "upgrade")
        print(
            f"  loading {customers:,} customers into {make_url(url).database} (once; later runs reuse it)", flush=True
        )
        # The demo shop's own subscribers get their cards at a payment provider: a localstripe
        # of this run's, so no other server has to be up.
        with localstripe() as (stripe_url, _):
            loaded = flask(url, "demo-data", "--scale", str(customers), LOCALSTRIPE_URL=stripe_url)
        print("  " + loaded.strip().splitlines()[-1], flush=True)
    else:
        flask(url, "db", "upgrade")  # a database kept from an earlier run gets the newer migrations
    return url


def drop_and_create(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


@dataclass(frozen=True)
class Sample:
    """A typical customer to sign in as, and what an agent would type to find one."""

    email: str
    subscription_id: int
    case_id: int
    name_fragment: str  # the surname: more customers share it in a bigger shop
    name_beginnings: str  # the beginnings of first and last name ("mat braz")
    inside_name: str  # a piece from inside the surname: only a fragment search finds it
    phone: str


def sample(url: str) -> Sample:
    """The middle scale customer with two subscriptions, one active: the same shape at any size."""
    engine = create_engine(url)
    with engine.connect() as connection:
        middle = connection.scalar(
            text("SELECT (min(id) + max(id)) / 2 FROM customers WHERE email LIKE '%@scale.example'")
        )
        email, subscription_id, name, phone = connection.execute(
            text(
                "SELECT c.email, min(s.id), c.name, c.phone FROM customers c "
                "JOIN subscriptions s ON s.customer_id = c.id "
                "WHERE c.id >= :middle AND c.email LIKE '%@scale.example' AND s.status = 'active' "
                "GROUP BY c.id HAVING count(*) = 2 ORDER BY c.id LIMIT 1"
            ),
            {"middle": middle},
        ).one()
        case_id = connection.scalar(text("SELECT id FROM cases WHERE customer_id IS NOT NULL ORDER BY id DESC LIMIT 1"))
    engine.dispose()
    first, last = name.split()[0], name.split()[-1]
    return Sample(email, subscription_id, case_id, last, f"{first[:3]} {last[:4]}".lower(), last[1:5].lower(), phone)
