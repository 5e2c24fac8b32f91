"""Fixtures: an app whose schema comes from the migrations, a clean database per test,
an SMTP server on loopback, and a live server for the browser tests."""

from __future__ import annotations

import os
import threading

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db, limiter
from tests.helpers import TODAY, Calendar, at_ten, free_port, wait_for

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
ON_POSTGRES = bool(POSTGRES_URL)


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _fresh_postgres(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        if os.environ.get("REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if ON_POSTGRES:
        return _fresh_postgres(POSTGRES_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _clean_state(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if ON_POSTGRES:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
        limiter.reset()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


# --- email ---------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (the name aiosmtpd calls)
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback; the app is pointed at it for the test."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    yield mailbox
    app.config["MAIL_PORT"] = previous
    controller.stop()


# --- live server for the browser -------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    previous = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base
    yield base
    app.config["PUBLIC_BASE_URL"] = previous
    server.shutdown()
    thread.join(timeout=5)


# --- a fixed "today" -----------------------------------------------------------------------------


@pytest.fixture
def calendar():
    """The clock stands at TODAY, 10:00 in the merchant's timezone, for dates and timestamps alike
    (time-machine), and ticks from there; `calendar.move_to(day)` moves it to another day."""
    with time_machine.travel(at_ten(TODAY), tick=True) as traveller:
        yield Calendar(traveller)


@pytest.fixture
def fixed_today(calendar):
    return TODAY


# --- localstripe: a real (fake) Stripe server on loopback ------------------------------------------


@pytest.fixture(scope="session")
def localstripe_server(app):
    import shutil
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    port = free_port()
    executable = shutil.which("localstripe", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(
        [executable, "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"

    def answering():
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1)
            return True
        except OSError:
            return False

    wait_for(answering, timeout=20)
    app.config.update(LOCALSTRIPE_URL=url, STRIPE_SECRET_KEY=None)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_server):
    """localstripe emptied for this test, so what a test counts there is its own."""
    import urllib.request

    request = urllib.request.Request(f"{localstripe_server}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=5)
    return localstripe_server


@pytest.fixture
def due(app, localstripe, fixed_today):
    """Makes a subscription whose first order is due today, paying with the given card."""
    from portal.models import Customer
    from portal.services import subscriptions
    from tests import factories
    from tests.billing import GOOD, add_card

    def make(number: str = GOOD, price: int = 1200, email: str = "payer@example.com") -> int:
        with app.app_context():
            customer = factories.customer(email, with_card=False)
            sub = factories.subscription(customer, price_minor=price, next_order_date=fixed_today)
            subscriptions.roll_forward()
            add_card(db.session.get(Customer, customer.id), number)
            return sub.id

    return make
