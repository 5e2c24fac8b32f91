"""Racing requests on PostgreSQL: one sign-in link, one winner."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import auth
from portal.services.actors import Actor
from portal.services.errors import InvalidToken
from tests import factories
from tests.helpers import run_together, sign_in_url

pytestmark = pytest.mark.postgres


def test_a_link_used_from_many_tabs_at_once_signs_in_once(app):
    with app.app_context():
        factories.customer("race@example.com")
    token = sign_in_url(app, "race@example.com").rsplit("/", 1)[1]
    outcomes: list[str] = []

    def use_link():
        try:
            auth.sign_in_with_token(token)
            outcomes.append("signed in")
        except InvalidToken:
            outcomes.append("refused")

    run_together(app, use_link, 8)
    assert sorted(outcomes) == ["refused"] * 7 + ["signed in"]
    with app.app_context():
        signed_in = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.signed_in")
        )
        assert signed_in == 1


def test_parallel_workers_send_each_email_once(app, smtp):
    from portal.services import notifications
    from portal.services.actors import Actor

    with app.app_context():
        for n in range(20):
            factories.customer(f"bulk{n}@example.com")
            auth.request_login_link(f"bulk{n}@example.com", "en", Actor.system("test"))
            auth.send_requested_links()  # what the worker does

    def worker():
        while notifications.deliver_pending(batch_size=3):
            pass

    run_together(app, worker, 4)
    recipients = sorted(message["To"] for message in smtp.messages)
    assert recipients == sorted(f"bulk{n}@example.com" for n in range(20))


def test_racing_confirmations_apply_one_action(app):
    """Eight tabs confirm the same skip at once: one wins, the others hear it changed meanwhile."""
    from datetime import date, timedelta

    from portal.models import Order, OrderStatus, OutboxEmail, Subscription
    from portal.services import subscriptions
    from tests.helpers import form_fields, sign_in_customer

    with app.app_context():
        customer = factories.customer("tabs@example.com")
        factories.subscription(customer, next_order_date=date.today() + timedelta(days=10))
        subscriptions.roll_forward()
        sub = db.session.scalar(select(Subscription))
        order_id = db.session.scalar(
            select(Order.id).where(Order.subscription_id == sub.id).order_by(Order.scheduled_for.desc())
        )
    first = app.test_client()
    sign_in_customer(app, first, "tabs@example.com")
    path = f"/subscriptions/{sub.id}/orders/{order_id}/skip"
    confirm = form_fields(first.get(path).text, "actions-row")
    tabs = []
    for _ in range(8):
        tab = app.test_client()
        for cookie in first._cookies.values():
            tab.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        tabs.append(tab)
    statuses: list[int] = []
    barrier = threading.Barrier(len(tabs))

    def submit(tab):
        barrier.wait()
        statuses.append(tab.post(path, data=confirm).status_code)

    threads = [threading.Thread(target=submit, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [409] * 7
    with app.app_context():
        assert db.session.get(Order, order_id).status is OrderStatus.SKIPPED
        applied = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "subscription.skip", AuditEvent.outcome == "success")
        )
        assert applied == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "subscription_changed")
            )
            == 1
        )


def test_four_workers_charge_each_due_order_exactly_once(app, localstripe, fixed_today):
    """Many due orders, four workers at once: one PaymentIntent per order, counted in localstripe."""
    from collections import Counter

    from portal.billing import stripe_gateway as gateway
    from portal.models import Customer, Order, OrderStatus
    from portal.services import payments, subscriptions
    from tests.billing import add_card

    with app.app_context():
        for n in range(30):
            customer = factories.customer(f"due{n}@example.com", with_card=False)
            factories.subscription(customer, next_order_date=fixed_today)
            add_card(db.session.get(Customer, customer.id), "4242424242424242")
        subscriptions.roll_forward()
        due = set(db.session.scalars(select(Order.id).where(Order.scheduled_for == fixed_today)))
    assert len(due) == 30

    run_together(app, payments.run_renewals, 4)

    with app.app_context():
        intents = gateway._client().payment_intents.list(params={"limit": 100}).data
        charged = Counter(intent.metadata.to_dict()["order_id"] for intent in intents)
        assert charged == Counter({str(order_id): 1 for order_id in due})
        assert set(db.session.scalars(select(Order.status).where(Order.id.in_(due)))) == {OrderStatus.PAID}


def test_an_action_link_pressed_in_many_tabs_at_once_acts_once(app):
    from datetime import date, timedelta

    from portal.models import Order, OrderStatus
    from portal.services import links, subscriptions

    with app.app_context():
        customer = factories.customer("linkrace@example.com")
        sub = factories.subscription(customer, next_order_date=date.today() + timedelta(days=10))
        subscriptions.roll_forward()
        order = db.session.scalar(select(Order).where(Order.subscription_id == sub.id).order_by(Order.scheduled_for))
        link, url = links.create(Actor.system("test"), customer, "skip", order)
        link_id, secret, order_id = link.id, url.rsplit("/", 1)[1], order.id
    outcomes: list[str] = []

    def press():
        try:
            acted = links.act(link_id, secret, None, "test", None)
            outcomes.append("refused" if acted.refusal else "acted")
        except links.LinkUnusable:
            outcomes.append("spent")

    run_together(app, press, 8)
    assert sorted(outcomes) == ["acted"] + ["spent"] * 7
    with app.app_context():
        skips = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "subscription.skip")
        )
        assert skips == 1
        assert db.session.get(Order, order_id).status is OrderStatus.SKIPPED


def test_racing_retries_with_one_idempotency_key_act_once(app):
    from datetime import date, timedelta

    from portal.models import Subscription
    from portal.services import api_keys, subscriptions

    with app.app_context():
        customer = factories.customer("idem@example.com")
        sub = factories.subscription(customer, next_order_date=date.today() + timedelta(days=10))
        subscriptions.roll_forward()
        sub_id, version = sub.id, db.session.get(Subscription, sub.id).version
        _key, secret = api_keys.create(Actor.system("test"), "crm", ["write"])
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "pause-once"}
    statuses: list[int] = []

    def retry():
        response = app.test_client().post(
            f"/api/v1/subscriptions/{sub_id}/actions/pause", json={"cycles": 1, "version": version}, headers=headers
        )
        statuses.append(response.status_code)

    run_together(app, retry, 6)
    # The first acts; the others get its answer, or hear it is still running (409) while it is.
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}
    with app.app_context():
        pauses = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "subscription.pause")
        )
        assert pauses == 1
