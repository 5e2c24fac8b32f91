"""Every route and form, as every kind of visitor, with hostile values: never a server error, and a
refused request changes nothing.

The forms' CSRF check is switched off here so that the hostile values reach the views (CSRF is
proved in test_security.py). A refused request may still write what it exists to write: the audit
row of the refusal, the visitor's session and a help answer shown. Everything else is compared
before and after.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from wtforms.fields.core import UnboundField

from portal.extensions import db, limiter
from portal.services import demo
from tests.helpers import sign_in_customer, sign_in_staff

DEMO_PASSWORD = "fuzz-demo-password"
VISITORS = ("anonymous", "alice@example.com", "agent@example.com", "manager@example.com", "admin@example.com")
# Signing out would turn the rest of a run into an anonymous one; signing out is tested elsewhere.
SKIPPED_ENDPOINTS = {"static", "auth.logout", "console.logout"}
# What a refused request exists to write, or what any request touches.
UNCOMPARED_TABLES = {"audit_events", "user_sessions", "help_answer_views", "alembic_version"}

HOSTILE = [
    "",
    " ",
    "abc",
    "1e3",
    "-1",
    "0",
    "0.001",
    "1",
    "2147483648",
    "99999999999999999999",
    "NaN",
    "sNaN",
    "Infinity",
    "-0",
    "\x00",
    "a\x00b",
    "<img src=x onerror=alert(1)>",
    "//evil.example/",
    "https://evil.example/",
    "2026-02-30",
    "9999-12-31",
    "x" * 5000,
    "ü€" * 300,
    "\u202e",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


def _form_field_names() -> list[str]:
    """The names of every field of every form in the app, so a post can fill any of them."""
    names: set[str] = set()
    pending = [FlaskForm]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        names.update(name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField))
    names.update({"version", "next", "q", "page", "attempt"})
    return sorted(names)


@pytest.fixture
def shop(app, localstripe, fixed_today):
    """The demo shop: subscribers in every state, orders, cards, cases, staff of every role."""
    with app.app_context():
        demo.load(DEMO_PASSWORD)
        ids = list(db.session.scalars(text("SELECT id FROM subscriptions ORDER BY id")))
    return {"ids": ids}


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def _client(app, visitor: str):
    client = app.test_client()
    with app.app_context():
        limiter.reset()  # the fuzzing's own sign-in posts count against the client address
    if visitor.startswith(("agent", "manager", "admin")):
        assert sign_in_staff(client, visitor, DEMO_PASSWORD).status_code == 302
    elif visitor != "anonymous":
        app.config["WTF_CSRF_ENABLED"] = True
        sign_in_customer(app, client, visitor)
        app.config["WTF_CSRF_ENABLED"] = False
    return client


def _fingerprint() -> str:
    digest = hashlib.sha256()
    tables = sorted(table.name for table in db.metadata.sorted_tables if table.name not in UNCOMPARED_TABLES)
    with db.engine.connect() as connection:
        for table in tables:
            for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _routes(app) -> list[tuple[str, str, list[str]]]:
    """(endpoint, method, argument names) for every route that takes a request."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method, sorted(rule.arguments)))
    return routes


def _path(rule: str, arguments: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda match: arguments[match.group(1)], rule)


def _send(app, client, rule: str, method: str, path_values: dict[str, str], fields: dict[str, str]):
    path = _path(rule, path_values)
    with app.app_context():
        before = _fingerprint()
    if method == "GET":
        response = client.get(path, query_string=fields)
    else:
        response = client.open(path, method=method, data=fields)
    assert response.status_code < 500, f"{method} {path} {fields!r}: {response.status_code}"
    if response.status_code >= 400:
        with app.app_context():
            assert _fingerprint() == before, f"refused {method} {path} {fields!r} changed the database"
    return response


def _id_values(shop) -> list[str]:
    return [str(shop["ids"][0]), str(shop["ids"][-1]), "1", "0", "2147483647", "2147483648", "abc", "%00"]


def test_every_route_refuses_hostile_values_cleanly(app, shop, no_csrf):
    """Every route and method as every visitor, with every field, id and version hostile in turn."""
    field_names = _form_field_names()
    ids = _id_values(shop)
    for visitor in VISITORS:
        client = _client(app, visitor)
        for number, (rule, method, argument_names) in enumerate(_routes(app)):
            for turn in range(3):
                hostile = HOSTILE[(number + 8 * turn) % len(HOSTILE)]
                path_values = {name: ids[(number + turn) % len(ids)] for name in argument_names}
                _send(app, client, rule, method, path_values, dict.fromkeys(field_names, hostile))


@pytest.mark.parametrize("visitor", VISITORS)
def test_random_requests_never_fail_on_the_server(app, shop, no_csrf, visitor):
    client = _client(app, visitor)
    routes = _routes(app)
    field_names = _form_field_names()
    ids = _id_values(shop)
    # One id for each argument of the route that takes the most.
    longest = max(len(argument_names) for _, _, argument_names in routes)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        route=st.sampled_from(routes),
        path_ids=st.lists(st.sampled_from(ids), min_size=longest, max_size=longest),
        fields=st.dictionaries(st.sampled_from(field_names), values, max_size=8),
    )
    def check(route, path_ids, fields):
        rule, method, argument_names = route
        _send(app, client, rule, method, dict(zip(argument_names, path_ids, strict=False)), fields)

    check()
