"""Handoff to people and the agent console: context, channels, replies, credits, clocks, actions."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Channel,
    CreditEntry,
    CreditRequest,
    OutboundMessage,
    OutboxEmail,
    Payment,
    StaffRole,
    Subscription,
    SubscriptionStatus,
)
from portal.services import case_queue, handoff, inbox, response_times, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, run_action, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def customer_sub(app):
    with app.app_context():
        # Written as a national number: an SMS from +34 600 123 456 must still find her.
        customer = factories.customer("helpme@example.com", name="Hana Help", phone="600 123 456")
        customer.social_handle = "@hana"
        sub = factories.subscription(customer, next_order_date=TODAY + timedelta(days=1))
        subscriptions.roll_forward()
        return sub.id


@pytest.fixture
def agent(app):
    with app.app_context():
        return factories.staff(StaffRole.AGENT, "agent@staff.example").id


def _open_case(client, message="My order never came", topic="delivery", source="/"):
    page = client.get(f"/help?topic={topic}&from={source}")
    fields = form_fields(page.text, "help-form")
    return client.post("/help", data={**fields, "message": message})


def _case(app) -> Case:
    with app.app_context():
        found = db.session.scalar(select(Case).order_by(Case.id.desc()))
        db.session.expunge(found)
        return found


def test_talk_to_a_person_is_on_every_portal_page(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    for path in ("/", f"/subscriptions/{customer_sub}", "/activity", "/payment", "/profile"):
        assert 'href="/help?from=' in client.get(path).text, path


def test_case_arrives_with_the_full_context(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    with app.app_context():
        locked = db.session.scalar(select(Subscription)).orders[0].id
    refused = client.get(f"/subscriptions/{customer_sub}/orders/{locked}/skip")
    assert refused.status_code == 422 and "/help?topic=subscription" in refused.text
    response = _open_case(
        client,
        "I could not skip tomorrow's order",
        "subscription",
        f"/subscriptions/{customer_sub}/orders/{locked}/skip",
    )
    assert response.status_code == 302 and response.location.startswith("/cases/")
    case = _case(app)
    snap = case.snapshot
    assert snap["customer"]["email"] == "helpme@example.com"
    assert snap["subscriptions"][0]["id"] == customer_sub and snap["subscriptions"][0]["status"] == "active"
    assert len(snap["upcoming_orders"]) == 3
    assert snap["payment"]["card"].startswith("visa •••• 4242")
    assert snap["failed_attempts"][0]["error_code"] == "order_locked"
    assert snap["failed_attempts"][0]["step"] == "preview"
    assert snap["source_page"].endswith("/skip")
    assert case.channel is Channel.PORTAL and case.status is CaseStatus.NEW and not case.is_repeat
    with app.app_context():
        assert (
            db.session.scalar(
                select(OutboxEmail.kind)
                .where(OutboxEmail.to_address == "helpme@example.com")
                .order_by(OutboxEmail.id.desc())
            )
            == "case_opened"
        )
    # A second case about the same thing within a week is flagged, and lists the first.
    _open_case(client, "Still stuck", "subscription")
    again = _case(app)
    assert again.is_repeat and again.snapshot["earlier_cases"][0]["id"] == case.id
    assert "I could not skip tomorrow" in client.get(f"/cases/{case.id}").text


def test_repeat_counts_any_channel_but_only_seven_days(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "first", "other")
    with app.app_context():
        first = db.session.scalar(select(Case))
        first.status = CaseStatus.RESOLVED
        db.session.commit()
        email_case = inbox.receive(Channel.EMAIL, "helpme@example.com", "Hello again", "email:abc")
        assert email_case.is_repeat and email_case.id != first.id
        first.created_at = first.created_at - timedelta(days=8)
        email_case.created_at = email_case.created_at - timedelta(days=8)
        db.session.commit()
    _open_case(client, "much later", "other")
    assert _case(app).is_repeat is False


def test_messages_need_text(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    response = _open_case(client, "   ")
    assert response.status_code == 400 and "Please write a message" in response.text


def test_cases_of_others_are_404(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client)
    case_id = _case(app).id
    with app.app_context():
        factories.customer("nosy@example.com")
    other = app.test_client()
    sign_in_customer(app, other, "nosy@example.com")
    assert other.get(f"/cases/{case_id}").status_code == 404


def _inbound_email(client, app, sender, text, message_id, key=None):
    return client.post(
        "/api/inbound/email",
        json={"from": sender, "subject": "Help", "text": text, "message_id": message_id},
        headers={"X-Inbound-Key": key or app.config["INBOUND_EMAIL_KEY"]},
    )


def _inbound_sms(client, app, sender, body, sid, key=None):
    from urllib.parse import urlencode

    raw = urlencode({"From": sender, "Body": body, "MessageSid": sid}).encode()
    signature = hmac.new((key or app.config["INBOUND_SMS_KEY"]).encode(), raw, hashlib.sha256).hexdigest()
    return client.post(
        "/api/inbound/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Signature": signature},
    )


def test_inbound_channels_attach_to_the_right_customer_and_case(app, client, customer_sub):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Where is my order?")
    portal_case = _case(app).id
    api = app.test_client()
    email = _inbound_email(api, app, "Hana <HelpMe@example.com>", "Any news?", "m-1")
    assert email.status_code == 200 and email.json["case"] == portal_case
    assert _inbound_email(api, app, "Hana <helpme@example.com>", "Any news?", "m-1").json["case"] == portal_case
    sms = _inbound_sms(api, app, "+34600123456", "Texting too", "SM1")
    assert sms.json["case"] == portal_case
    social = api.post(
        "/api/inbound/social",
        json={"handle": "@Hana", "text": "and here", "id": "dm-1"},
        headers={"X-Inbound-Key": app.config["INBOUND_SOCIAL_KEY"]},
    )
    assert social.json["case"] == portal_case
    stranger = _inbound_email(api, app, "someone@else.example", "Who are you?", "m-2")
    assert stranger.json["case"] != portal_case
    with app.app_context():
        case = db.session.get(Case, portal_case)
        assert [m.channel.value for m in case.messages] == ["portal", "email", "sms", "social"]
        unknown = db.session.get(Case, stranger.json["case"])
        assert unknown.customer_id is None and unknown.sender == "someone@else.example"
    assert _inbound_email(api, app, "x@example.com", "hi", "m-3", key="wrong").status_code == 403
    assert _inbound_sms(api, app, "+1555", "hi", "SM2", key="wrong").status_code == 403
    assert (
        api.post("/api/inbound/email", json={}, headers={"X-Inbound-Key": app.config["INBOUND_EMAIL_KEY"]}).status_code
        == 400
    )


def test_agent_replies_on_the_case_channel_and_customer_replies_reopen(app, client, customer_sub, agent):
    api = app.test_client()
    sms_case = _inbound_sms(api, app, "+34 600 123 456", "My box is wet", "SM9").json["case"]
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{sms_case}")
    assert page.status_code == 200 and "My box is wet" in page.text
    fields = form_fields(page.text, "reply-form")
    sent = console.post(f"/console/cases/{sms_case}/reply", data={**fields, "body": "Sorry! A new box is on its way."})
    assert sent.status_code == 302
    with app.app_context():
        outbound = db.session.scalar(select(OutboundMessage))
        assert (outbound.recipient, outbound.sent_at) == ("+34 600 123 456", None)
    assert (
        app.test_cli_runner().invoke(args=["jobs", "run", "outbound-messages"]).output.strip() == "outbound-messages: 1"
    )
    assert _case(app).status is CaseStatus.WAITING and _case(app).first_response_at is not None
    # A saved reply, used when the box is left empty, in the customer's words and name.
    console.post(f"/console/cases/{sms_case}/reply", data={**fields, "saved_reply": "skip_done", "body": ""})
    with app.app_context():
        assert (
            "Hi Hana, done: I have skipped that order"
            in db.session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id.desc())).first()
        )
    # The customer answers in the portal thread: the case reopens, and they got the reply by email.
    sign_in_customer(app, client, "helpme@example.com")
    thread = client.get(f"/cases/{sms_case}")
    assert "A new box is on its way" in thread.text
    client.post(f"/cases/{sms_case}", data={**form_fields(thread.text, "reply-form"), "body": "Thanks!"})
    assert _case(app).status is CaseStatus.REOPENED
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Another question")
    portal_case = _case(app).id
    page = console.get(f"/console/cases/{portal_case}")
    console.post(
        f"/console/cases/{portal_case}/reply", data={**form_fields(page.text, "reply-form"), "body": "Answered"}
    )
    with app.app_context():
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "case_reply"))
        assert mail.to_address == "helpme@example.com" and "Answered" in mail.body_text
        db.session.get(Case, portal_case).status = CaseStatus.RESOLVED
        db.session.commit()
    answer = api.post(
        "/api/inbound/email",
        json={
            "from": "helpme@example.com",
            "text": "One more thing",
            "message_id": "m-9",
            "subject": f"Re: A reply to your message (case {portal_case})",
        },
        headers={"X-Inbound-Key": app.config["INBOUND_EMAIL_KEY"]},
    )
    assert answer.json["case"] == portal_case
    with app.app_context():
        assert db.session.get(Case, portal_case).status is CaseStatus.REOPENED


def test_internal_notes_are_not_shown_to_the_customer(app, client, customer_sub, agent):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Question")
    case_id = _case(app).id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_id}")
    console.post(
        f"/console/cases/{case_id}/note", data={**form_fields(page.text, "note-form"), "body": "Customer sounds upset"}
    )
    assert "Customer sounds upset" in console.get(f"/console/cases/{case_id}").text
    assert "Customer sounds upset" not in client.get(f"/cases/{case_id}").text


def test_queue_filters_claim_and_assign(app, client, customer_sub, agent):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Portal question")
    portal_case = _case(app).id
    sms_case = _inbound_sms(app.test_client(), app, "+15550001", "sms question", "SM7").json["case"]
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    queue = console.get("/console/cases").text
    assert f"/console/cases/{portal_case}" in queue and f"/console/cases/{sms_case}" in queue
    only_sms = console.get("/console/cases?status=open&channel=sms").text
    assert f"/console/cases/{sms_case}" in only_sms and f"/console/cases/{portal_case}" not in only_sms
    page = console.get(f"/console/cases/{portal_case}")
    console.post(f"/console/cases/{portal_case}/assign", data={"csrf_token": csrf_token(page.text), "claim": "1"})
    mine = console.get("/console/cases?status=open&assignee=me").text
    assert f"/console/cases/{portal_case}" in mine and f"/console/cases/{sms_case}" not in mine
    nobody = console.get("/console/cases?status=open&assignee=none").text
    assert f"/console/cases/{sms_case}" in nobody and f"/console/cases/{portal_case}" not in nobody
    with app.app_context():
        other = factories.staff(StaffRole.AGENT, "other@staff.example").id
    console.post(f"/console/cases/{sms_case}/assign", data={"csrf_token": csrf_token(page.text), "assignee": other})
    assert _case(app).assignee_id == other


def test_first_response_clock_in_business_hours(app):
    with app.app_context():
        case = Case(
            channel=Channel.EMAIL,
            issue_type="other",
            subject="x",
            snapshot={},
            created_at=datetime(2030, 1, 4, 15, 0, tzinfo=UTC),
        )  # Friday 16:00 in Madrid
        case.first_response_at = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # Monday 10:00
        clock = response_times.response_clock(case)
        assert clock.calendar_seconds == 66 * 3600
        assert clock.business_seconds == 2 * 3600  # one hour on Friday, one on Monday
        assert not clock.breached
        case.first_response_at = None
        late = response_times.response_clock(case, now=datetime(2030, 1, 7, 13, 30, tzinfo=UTC))
        # Friday 16:00-17:00 and Monday 09:00-14:30 in Madrid.
        assert late.business_seconds == int(6.5 * 3600) and late.breached and not late.responded


def test_breached_filter(app, client, customer_sub, agent):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Old question")
    with app.app_context():
        case = db.session.scalar(select(Case))
        case.created_at = case.created_at - timedelta(days=14)
        db.session.commit()
        case_id = case.id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    assert f"/console/cases/{case_id}" in console.get("/console/cases?status=open&breached=y").text


def test_acting_on_behalf_uses_the_same_services(app, client, customer_sub, agent):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Please pause me")
    case_id = _case(app).id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_id}").text
    pause = f"/console/cases/{case_id}/subscriptions/{customer_sub}/pause"
    assert f'href="{pause}"' in page
    preview, done = run_action(console, pause, {"length": "2"})
    assert "What changes" in preview.text and "Skip 2 deliveries" in console.get(pause).text
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Subscription, customer_sub).status is SubscriptionStatus.PAUSED
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.pause"))
        assert (event.actor_type.value, event.actor_label) == ("staff", "agent@staff.example")
    # The same confirm again: the subscription changed since that page, so it is refused, clearly.
    stale = console.post(pause, data=form_fields(preview.text, "actions-row"))
    assert stale.status_code == 409 and "changed meanwhile" in stale.text
    with app.app_context():
        first_end = db.session.get(Subscription, customer_sub).paused_until
    # Pausing a paused subscription extends the pause from its end, through the same rule.
    again, extended = run_action(console, pause, {"length": "1"})
    assert again.status_code == 200 and extended.status_code == 302
    with app.app_context():
        assert db.session.get(Subscription, customer_sub).paused_until > first_end
    assert "Paused" in client.get("/activity").text


def test_credit_limit_and_manager_approval(app, client, customer_sub, agent):
    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Late again")
    case_id = _case(app).id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_id}")
    fields = form_fields(page.text, "credit-form")
    assert (
        console.post(
            f"/console/cases/{case_id}/credit", data={**fields, "amount": "15.00", "reason": "late"}
        ).status_code
        == 302
    )
    console.post(f"/console/cases/{case_id}/credit", data={**fields, "amount": "10.00", "reason": "very late"})
    with app.app_context():
        statuses = [
            (r.amount_minor, r.status.value)
            for r in db.session.scalars(select(CreditRequest).order_by(CreditRequest.id))
        ]
        assert statuses == [(1500, "approved"), (1000, "pending")]
        assert sum(db.session.scalars(select(CreditEntry.amount_minor))) == 1500
    assert console.get("/console/approvals").status_code == 403
    with app.app_context():
        factories.staff(StaffRole.MANAGER, "boss@staff.example")
    manager = app.test_client()
    sign_in_staff(manager, "boss@staff.example")
    approvals = manager.get("/console/approvals")
    # Who asked, for whom, on which case, how much, why and when.
    for shown in ("agent person", "Hana Help", f"#{case_id} Late again", "€10.00", "very late", "1/7/30"):
        assert shown in approvals.text, shown
    with app.app_context():
        pending_id = db.session.scalar(select(CreditRequest.id).where(CreditRequest.status == "pending"))
    manager.post(
        "/console/approvals",
        data={"csrf_token": csrf_token(approvals.text), "request_id": pending_id, "decision": "approve"},
    )
    again = manager.post(
        "/console/approvals",
        data={"csrf_token": csrf_token(approvals.text), "request_id": pending_id, "decision": "approve"},
    )
    assert again.status_code == 400
    with app.app_context():
        assert sum(db.session.scalars(select(CreditEntry.amount_minor))) == 2500
    # The agent who asked reads the outcome on the case.
    assert "Credit of €10.00 (very late) approved by manager person." in console.get(f"/console/cases/{case_id}").text
    report = manager.get("/console/reports/credits").text
    assert "€25.00" in report and "agent person" in report


def test_swap_and_address_on_behalf(app, client, customer_sub, agent):
    from portal.models import Variant

    sign_in_customer(app, client, "helpme@example.com")
    _open_case(client, "Wrong size and I moved")
    case_id = _case(app).id
    with app.app_context():
        sub = db.session.get(Subscription, customer_sub)
        bigger = Variant(
            product_id=sub.items[0].variant.product_id, name="1 kg", sku="BIG-OB", price_minor=3900, currency="EUR"
        )
        db.session.add(bigger)
        ended = factories.subscription(sub.customer, status=SubscriptionStatus.CANCELLED)
        db.session.commit()
        item_id, bigger_id, ended_id = sub.items[0].id, bigger.id, ended.id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_id}")
    # The address can move every live subscription or one of them; a cancelled one is not offered.
    assert f'<option value="{customer_sub}">' in page.text and f'<option value="{ended_id}">' not in page.text
    swap = f"/console/cases/{case_id}/subscriptions/{customer_sub}/swap"
    _, swapped = run_action(console, swap, {"item_id": item_id, "variant_id": bigger_id, "quantity": 1})
    assert swapped.status_code == 302
    fields = form_fields(page.text, "address-form")
    bad = console.post(
        f"/console/cases/{case_id}/address",
        data={**fields, "name": "Hana", "line1": "Neue Str. 1", "postal_code": "1", "city": "Berlin", "country": "DE"},
    )
    assert bad.status_code == 400 and "e.g. 10115" in bad.text
    moved = console.post(
        f"/console/cases/{case_id}/address",
        data={
            **fields,
            "name": "Hana",
            "line1": "Neue Str. 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
            "subscription_id": "0",
        },
    )
    assert moved.status_code == 302
    with app.app_context():
        sub = db.session.get(Subscription, customer_sub)
        assert sub.items[0].variant_id == bigger_id and sub.shipping_address.city == "Berlin"
        actors = {
            e.action: e.actor_label
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(["subscription.swap", "subscription.address"]))
            )
        }
        assert actors == {"subscription.swap": "agent@staff.example", "subscription.address": "agent@staff.example"}


def test_case_from_a_declined_payment_carries_the_failed_order(app, client, customer_sub):
    from portal.models import Order, OrderStatus

    with app.app_context():
        order = db.session.scalar(
            select(Order).where(Order.subscription_id == customer_sub).order_by(Order.scheduled_for)
        )
        order.status, order.failure_code = OrderStatus.FAILED, "card_declined"
        db.session.commit()
        order_id = order.id
    sign_in_customer(app, client, "helpme@example.com")
    page = client.get("/payment")
    assert 'href="/help?topic=payment&amp;from=/payment"' in page.text
    _open_case(client, "My card keeps failing", "payment", "/payment")
    snap = _case(app).snapshot
    assert snap["payment"]["failed_orders"][0]["id"] == order_id
    assert snap["payment"]["failed_orders"][0]["failure_code"] == "card_declined"
    assert snap["source_page"] == "/payment"


def test_merchant_sets_the_agent_credit_limit(app, customer_sub, agent):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "owner@staff.example")
    admin = app.test_client()
    sign_in_staff(admin, "owner@staff.example")
    page = admin.get("/admin/policies")
    assert 'value="20.00"' in page.text
    assert (
        admin.post(
            "/admin/policies", data={**form_fields(page.text, "narrow"), "agent_credit_limit": "5.00"}
        ).status_code
        == 302
    )
    with app.app_context():
        case = inbox.receive(Channel.EMAIL, "helpme@example.com", "late", "email:limit")
        from portal.services import credits

        staff = db.session.get(factories.StaffUser, agent)
        assert credits.request_credit(staff, case, 600, "late").status.value == "pending"


def test_refund_skip_and_cancel_on_behalf(app, due, agent):
    from portal.models import Order, OrderStatus
    from portal.services import payments

    sub_id = due()
    with app.app_context():
        payments.run_renewals()
        paid = db.session.scalar(select(Order.id).where(Order.status == OrderStatus.PAID))
        case_id = inbox.receive(Channel.EMAIL, "payer@example.com", "Bag was torn", "email:refund").id
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_id}")
    refunded = console.post(
        f"/console/cases/{case_id}/refund",
        data={**form_fields(page.text, "refund-form"), "order_id": paid, "amount": "3.50", "reason": "torn bag"},
    )
    assert refunded.status_code == 302
    skip = re.search(rf"/console/cases/{case_id}/subscriptions/{sub_id}/orders/\d+/skip", page.text).group(0)
    assert run_action(console, skip)[1].status_code == 302
    cancel = f"/console/cases/{case_id}/subscriptions/{sub_id}/cancel"
    fields = {**form_fields(console.get(cancel).text, "cancel-form"), "reason": "too_expensive", "mode": "now"}
    preview = console.post(cancel, data=fields)
    assert preview.status_code == 200 and "What changes" in preview.text
    assert console.post(cancel, data=form_fields(preview.text, "actions-row")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Payment.refunded_minor)) == 350
        assert db.session.get(Subscription, sub_id).status is SubscriptionStatus.CANCELLED
        done = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_label == "agent@staff.example")))
        assert {"payment.refunded", "subscription.skip", "subscription.cancel"} <= done


def test_queue_pages_keep_their_filters_and_refuse_no_page_number(app, agent):
    with app.app_context():
        for n in range(case_queue.QUEUE_PAGE_SIZE + 2):
            customer = factories.customer(f"paged{n}@example.com", name=f"Paged {n}")
            handoff.open_case(Actor.for_customer(customer), customer, issue_type="other", message="Hi", source_page="/")
        ids = list(db.session.scalars(select(Case.id).order_by(Case.created_at, Case.id)))
    sms_case = _inbound_sms(app.test_client(), app, "+15550001", "sms question", "SM8").json["case"]
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    first = console.get("/console/cases?status=open&channel=portal").text
    shown = [int(n) for n in re.findall(r'href="/console/cases/(\d+)"', first)]
    assert shown == ids[: case_queue.QUEUE_PAGE_SIZE]
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert next_link == "/console/cases?status=open&channel=portal&page=2"
    assert 'rel="prev"' not in first
    second = console.get(next_link).text
    assert [int(n) for n in re.findall(r'href="/console/cases/(\d+)"', second)] == ids[case_queue.QUEUE_PAGE_SIZE :]
    assert f"/console/cases/{sms_case}" not in second and 'rel="next"' not in second
    assert 'rel="prev" href="/console/cases?status=open&amp;channel=portal&amp;page=1"' in second
    for hostile in ("0", "-1", "abc", "99999999999", "1" * 40):
        answer = console.get(f"/console/cases?channel=portal&page={hostile}")
        assert answer.status_code == 200, hostile
    assert f"/console/cases/{ids[0]}" in console.get("/console/cases?page=abc").text
    assert "/console/cases/" not in console.get("/console/cases?page=99999999999").text.split("<tbody>")[1]
