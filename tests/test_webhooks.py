"""Stripe webhooks: signatures checked, each event once, in any order."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import func, select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import AuditEvent, Customer, Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from portal.services import payments
from portal.services.payments import charging
from tests.billing import GOOD, add_card

pytestmark = pytest.mark.usefixtures("fixed_today", "localstripe")


def post_event(client, app, event: dict, *, age: int = 0, secret: str | None = None):
    payload = json.dumps(event)
    timestamp = int(time.time()) - age
    key = (secret or app.config["STRIPE_WEBHOOK_SECRET"]).encode()
    signature = hmac.new(key, f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        "/api/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": f"t={timestamp},v1={signature}"},
    )


def event(event_id: str, kind: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}


def _charging_payment(app):
    """A charge made at the provider whose worker died before recording it."""
    with app.app_context():
        charge = charging._claim()
        result = charging._charge(charge)
        return charge.payment_id, result.payment_intent_id


def test_bad_and_stale_signatures_are_refused(app, client):
    sample = event("evt_1", "payment_intent.succeeded", {"id": "pi_x", "metadata": {}})
    assert post_event(client, app, sample, secret="whsec_wrong").status_code == 400
    stale = post_event(client, app, sample, age=301)
    assert stale.status_code == 400 and stale.json["error"]["code"] == "bad_signature"
    assert client.post("/api/webhooks/stripe", data="{}", content_type="application/json").status_code == 400
    assert post_event(client, app, sample, age=290).status_code == 200


def test_success_event_settles_a_payment_once(app, client, due):
    due(GOOD)
    payment_id, intent_id = _charging_payment(app)
    succeeded = event(
        "evt_ok", "payment_intent.succeeded", {"id": intent_id, "metadata": {"payment_id": str(payment_id)}}
    )
    first = post_event(client, app, succeeded)
    assert first.json["result"] == f"recorded payment {payment_id}"
    assert post_event(client, app, succeeded).json["result"] == "duplicate"
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.status is PaymentStatus.SUCCEEDED
        assert db.session.get(Order, payment.order_id).status is OrderStatus.PAID
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "payment.succeeded")
            )
            == 1
        )


def test_worker_reporting_after_the_event_changes_nothing(app, client, due):
    due(GOOD)
    payment_id, intent_id = _charging_payment(app)
    post_event(
        client,
        app,
        event("evt_early", "payment_intent.succeeded", {"id": intent_id, "metadata": {"payment_id": str(payment_id)}}),
    )
    late_failure = event(
        "evt_late",
        "payment_intent.payment_failed",
        {"id": intent_id, "metadata": {"payment_id": str(payment_id)}, "last_payment_error": {"code": "card_declined"}},
    )
    assert post_event(client, app, late_failure).json["result"] == f"payment {payment_id} already recorded"
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payments.settle(payment, gateway.ChargeResult(intent_id, True), None) is False
        assert payment.status is PaymentStatus.SUCCEEDED


def test_refund_and_card_events(app, client, due):
    due(GOOD)
    with app.app_context():
        payments.run_renewals()
        payment = db.session.scalar(select(Payment))
        intent_id, payment_id = payment.stripe_payment_intent_id, payment.id
        customer = db.session.scalar(select(Customer))
        add_card(customer, "5555555555554444")
        old = next(m for m in payments.saved_cards(customer) if not m.is_default)
        old_id, old_stripe_id = old.id, old.stripe_payment_method_id
        default_stripe_id = next(m for m in payments.saved_cards(customer) if m.is_default).stripe_payment_method_id
    refunded = post_event(
        client,
        app,
        event("evt_refund", "charge.refunded", {"id": "ch_1", "payment_intent": intent_id, "amount_refunded": 1200}),
    )
    assert refunded.json["result"] == f"refund noted on payment {payment_id}"
    updated = post_event(
        client,
        app,
        event(
            "evt_card",
            "payment_method.updated",
            {
                "id": default_stripe_id,
                "card": {"brand": "mastercard", "last4": "4444", "exp_month": 1, "exp_year": 2035},
            },
        ),
    )
    assert updated.status_code == 200
    post_event(client, app, event("evt_detach", "payment_method.detached", {"id": old_stripe_id}))
    with app.app_context():
        paid_order = db.session.get(Payment, payment_id).order_id
        assert db.session.get(Order, paid_order).status is OrderStatus.REFUNDED
        default = db.session.scalar(select(PaymentMethod).where(PaymentMethod.is_default.is_(True)))
        assert (default.brand, default.exp_year) == ("mastercard", 2035)
        assert db.session.get(PaymentMethod, old_id) is None


def test_unknown_events_are_acknowledged(app, client):
    response = post_event(client, app, event("evt_other", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.json["result"] == "ignored: type not handled"
    response = post_event(
        client, app, event("evt_foreign", "payment_intent.succeeded", {"id": "pi_foreign", "metadata": {}})
    )
    assert response.json["result"] == "ignored: not one of our payments"
