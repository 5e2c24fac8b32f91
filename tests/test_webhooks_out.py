"""Outgoing webhooks: written with the change, signed, retried, delivered once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Subscription, WebhookDelivery
from portal.services import actions, subscriptions, webhooks_out
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY

pytestmark = pytest.mark.usefixtures("fixed_today")
ADMIN = Actor.system("test")


class Receiver:
    """An HTTP endpoint on loopback that records what it receives and answers `statuses` in turn."""

    def __init__(self, statuses):
        self.received, self.statuses = [], list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    made = Receiver([500])
    yield made
    made.close()


def _pause(app) -> int:
    with app.app_context():
        customer = factories.customer("hook@example.com")
        sub = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        sub = db.session.get(Subscription, sub.id)
        actions.perform(ADMIN, sub, "pause", sub.version, cycles=1)
        return sub.id


def test_events_are_signed_retried_and_delivered_once(app, receiver, calendar):
    with app.app_context():
        endpoint = webhooks_out.add_endpoint(ADMIN, receiver.url)
        secret = endpoint.secret
    sub_id = _pause(app)
    with app.app_context():
        assert webhooks_out.deliver_pending() == 0  # the receiver answered 500
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.attempts == 1 and delivery.sent_at is None and "500" in delivery.last_error
        assert webhooks_out.deliver_pending() == 0  # not due yet
    calendar.traveller.shift(timedelta(minutes=3))
    with app.app_context():
        assert webhooks_out.deliver_pending() == 1
        assert webhooks_out.deliver_pending() == 0  # delivered once
    assert len(receiver.received) == 2
    (first_headers, first_body), (headers, body) = receiver.received
    assert first_headers["Portal-Event-Id"] == headers["Portal-Event-Id"] and first_body == body
    event = json.loads(body)
    assert event["type"] == "subscription.changed" and event["data"]["subscription_id"] == sub_id
    assert event["data"]["action"] == "pause" and event["data"]["after"]["status"] == "paused"
    timestamp, digest = (part.split("=", 1)[1] for part in headers["Portal-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    assert webhooks_out.signature("wrong", int(timestamp), body) != headers["Portal-Signature"]


def test_no_endpoint_no_event_and_a_disabled_endpoint_gets_nothing(app, receiver):
    _pause(app)
    with app.app_context():
        assert db.session.scalar(select(WebhookDelivery)) is None
        endpoint = webhooks_out.add_endpoint(ADMIN, receiver.url)
        webhooks_out.emit("case.opened", {"case_id": 1})
        webhooks_out.disable_endpoint(ADMIN, endpoint.id)
        db.session.commit()
        assert webhooks_out.deliver_pending() == 0
    assert receiver.received == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://example.com/hook", "not a url", "https://"])
def test_endpoints_must_be_https(app, url):
    with app.app_context(), pytest.raises(webhooks_out.InvalidEndpoint):
        webhooks_out.add_endpoint(ADMIN, url)
