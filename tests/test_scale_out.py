"""Two app processes (the production start: gunicorn with gunicorn.conf.py) on the same PostgreSQL and
Redis behave as one: a session opened on one is good on the other, a sign-out on one ends it on
both, and a rate limit counts the attempts made on both."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from portal.services import auth
from portal.services.actors import Actor
from tests import factories
from tests.helpers import free_port, wait_for

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
COOKIE = "__Host-portal_session"


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")


class Process:
    """One gunicorn serving the app; requests carry the session cookie by hand (it is Secure)."""

    def __init__(self, port: int, process: subprocess.Popen):
        self.port, self.process = port, process

    def request(self, method: str, path: str, cookie: str | None = None, form: dict | None = None):
        connection = HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        set_cookie = response.getheader("Set-Cookie") or ""
        match = re.search(rf"{re.escape(COOKIE)}=([^;]*)", set_cookie)
        connection.close()
        return response.status, response.getheader("Location"), text, (match.group(1) if match else None)


@pytest.fixture
def two_processes(app, database_url):
    _redis_or_skip()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "scale-out-test-secret",
        # Production refuses to start without Stripe keys; nothing here reaches Stripe.
        "STRIPE_SECRET_KEY": "sk_test_scale_out_only",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_scale_out_only",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        # A prefix of this run's own, so counters of other runs sharing the Redis never mix in.
        "RATELIMIT_KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT": "3 per minute",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESS_LOG": "",
    }
    processes = []
    for _ in range(2):
        port = free_port()
        popen = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(Process(port, popen))
    try:
        for process in processes:
            wait_for(lambda p=process: _answers(p), timeout=120)
        yield processes
    finally:
        for process in processes:
            process.process.terminate()
        for process in processes:
            process.process.wait(timeout=20)


def _answers(process: Process) -> bool:
    if process.process.poll() is not None:
        raise AssertionError(f"gunicorn exited with {process.process.returncode} before answering")
    try:
        return process.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_session_sign_out_and_rate_limit_hold_across_processes(app, two_processes):
    one, other = two_processes
    with app.app_context():
        customer = factories.customer("scale@example.com", name="Sam Scale", password="a long password 123")
        link = urlsplit(auth.create_portal_session_url(customer, Actor.system("test")))
    path = f"{link.path}?{link.query}"

    # Signed in through the first process...
    status, _, page, cookie = one.request("GET", path)
    assert status == 200
    status, location, _, cookie = one.request("POST", path, cookie=cookie, form={"csrf_token": _csrf(page)})
    assert status == 302 and cookie
    # ...the second knows the session.
    status, _, page, _ = other.request("GET", "/", cookie=cookie)
    assert status == 200 and "Hello, Sam Scale" in page

    # Signing out on the second ends the session on the first.
    status, _, _, _ = other.request("POST", "/logout", cookie=cookie, form={"csrf_token": _csrf(page)})
    assert status in (302, 303)
    status, location, _, _ = one.request("GET", "/", cookie=cookie)
    assert status == 302 and "/login" in location

    # Wrong passwords count on both processes together: 3 per minute, then 429 on either.
    statuses = []
    for process in (one, other, one, other):
        status, _, page, login_cookie = process.request("GET", "/login")
        statuses.append(
            process.request(
                "POST",
                "/login/password",
                cookie=login_cookie,
                form={"pw-csrf_token": _csrf(page), "pw-email": "scale@example.com", "pw-password": "wrong password"},
            )[0]
        )
    assert statuses == [400, 400, 400, 429]
