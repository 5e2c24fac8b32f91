"""Schemathesis against the live app: every operation of /api/v1/openapi.json, with examples made
from the document itself, answers without a server error and as the document says."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal import create_app
from portal.api.v1 import api
from portal.services import api_keys, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_shop(app, live_server, calendar, monkeypatch):
    """A few customers with subscriptions and orders, and a key with every scope."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    with app.app_context():
        for n in range(3):
            customer = factories.customer(f"api{n}@example.com")
            factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        _key, secret = api_keys.create(Actor.system("test"), "schemathesis", list(api_keys.SCOPES))
    return live_server, secret


def _document() -> dict:
    """The document the app serves at /api/v1/openapi.json (test_api checks they are one)."""
    with create_app("test").test_request_context():
        return api.spec


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, api_shop):
    base, secret = api_shop
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
