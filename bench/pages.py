"""Pages under load: the portal on gunicorn beside the hello app on the same gunicorn settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from http.client import HTTPConnection
from urllib.parse import quote, urlencode, urlsplit

from bench import wrk
from bench.data import Sample, flask
from bench.servers import gunicorn, worker_rss_mb

COOKIE = "__Host-portal_session"
STAFF_EMAIL, STAFF_PASSWORD = "agent@example.com", "demo-password"


def _request(base: str, method: str, path: str, cookie: str = "", form: dict | None = None):
    parts = urlsplit(base)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    page = response.read().decode()
    found = re.search(rf"{re.escape(COOKIE)}=([^;]*)", response.getheader("Set-Cookie") or "")
    connection.close()
    return response.status, page, (f"{COOKIE}={found.group(1)}" if found else cookie)


def _csrf(page: str, name: str = "csrf_token") -> str:
    return re.search(rf'name="{name}" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def sign_in_customer(base: str, url: str, email: str) -> str:
    link = urlsplit(flask(url, "portal-session", email).strip())
    path = f"{link.path}?{link.query}"
    _, page, cookie = _request(base, "GET", path)
    status, _, cookie = _request(base, "POST", path, cookie, {"csrf_token": _csrf(page)})
    assert status == 302, f"sign-in answered {status}"
    return cookie


def sign_in_staff(base: str) -> str:
    _, page, cookie = _request(base, "GET", "/staff/login")
    form = {"csrf_token": _csrf(page), "email": STAFF_EMAIL, "password": STAFF_PASSWORD}
    status, _, cookie = _request(base, "POST", "/staff/login", cookie, form)
    assert status == 302, f"staff sign-in answered {status}"
    return cookie


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    who: str  # "customer", "staff" or "" (no session)


def targets(sample: Sample) -> list[Target]:
    return [
        Target("/healthz", "/healthz", ""),
        # A signed-in page that reads and renders nothing of its own (bench/signed_in.py).
        Target("signed-in floor", "/bench/signed-in", "customer"),
        Target("dashboard", "/", "customer"),
        Target("subscription page", f"/subscriptions/{sample.subscription_id}", "customer"),
        Target("agent queue", "/console/cases", "staff"),
        # Every status: a full page of 50 in both shops (the small one has fewer open cases than a page).
        Target("agent queue, all cases", "/console/cases?status=", "staff"),
        Target("case page", f"/console/cases/{sample.case_id}", "staff"),
        Target("search: email", f"/console/?q={quote(sample.email)}", "staff"),
        Target("search: name fragment", f"/console/?q={quote(sample.name_fragment)}", "staff"),
        Target("search: name beginnings", f"/console/?q={quote(sample.name_beginnings)}", "staff"),
        Target("search: inside a name", f"/console/?q={quote(sample.inside_name)}", "staff"),
        Target("search: phone", f"/console/?q={quote(sample.phone)}", "staff"),
    ]


def app_env(url: str) -> dict[str, str]:
    return {
        "PORTAL_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark-only-secret",
        "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
        "RATELIMIT_KEY_PREFIX": "portal-bench",
        # Production refuses to start without payment keys; no measured page calls the provider.
        "STRIPE_SECRET_KEY": "sk_test_benchmark",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_benchmark",
    }


def measure(url: str, sample: Sample, *, seconds: int, connections: int) -> dict:
    """{label: wrk.Result} for every target and "hello", "hello beside" {label: wrk.Result} (the
    hello app measured just before that target), and the workers' memory after the load."""
    results, beside = {}, {}
    # Both servers run for the whole measurement, each idle while the other is measured; a
    # target is compared with the hello app measured just before it, so that a machine whose
    # speed drifts during the run (a shared host) moves both figures of a ratio alike.
    with (
        gunicorn("bench.hello:app", {}) as (hello, _),
        gunicorn("bench.signed_in:app", app_env(url), probe="/healthz") as (
            base,
            master,
        ),
    ):
        wrk.run(hello + "/", seconds=2, connections=connections)
        results["hello"] = wrk.run(hello + "/", seconds=seconds, connections=connections)
        cookies = {"customer": sign_in_customer(base, url, sample.email), "staff": sign_in_staff(base), "": ""}
        for target in targets(sample):
            status, _, _ = _request(base, "GET", target.path, cookies[target.who])
            assert status == 200, f"{target.path} answered {status}"
            cookie = cookies[target.who] or None
            # Every worker renders the page once before it is measured (templates compile lazily).
            wrk.run(base + target.path, seconds=max(2, seconds // 2), connections=connections, cookie=cookie)
            beside[target.label] = wrk.run(hello + "/", seconds=max(3, seconds // 2), connections=connections)
            results[target.label] = wrk.run(base + target.path, seconds=seconds, connections=connections, cookie=cookie)
        results["worker_rss_mb"] = worker_rss_mb(master)
        results["hello beside"] = beside
    return results
