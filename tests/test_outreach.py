"""Proactive messages: each sent once at the right time, not when it no longer applies or is not
wanted, links that land on the right confirm page, and one-click unsubscribe without signing in."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    ActionLink,
    AuditEvent,
    Customer,
    MessageOptOut,
    Order,
    OrderStatus,
    OutboxEmail,
    OutreachSend,
    PaymentMethod,
    StaffRole,
    Subscription,
    SubscriptionStatus,
)
from portal.services import notifications, outreach, outreach_jobs, subscriptions
from portal.services.actors import Actor
from portal.services.payments import cards, ledger
from portal.services.uow import unit_of_work
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, run_together, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")

FIRST_ORDER = TODAY + timedelta(days=10)  # 17 January 2030
REMINDER_DAY = FIRST_ORDER - timedelta(days=3)  # the default: three days before


@pytest.fixture
def sub(app):
    with app.app_context():
        customer = factories.customer("reminded@example.com", name="Rita")
        made = factories.subscription(customer, price_minor=1200, next_order_date=FIRST_ORDER)
        subscriptions.roll_forward()
        return made.id


def _emails(app, kind: str) -> list[OutboxEmail]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)))
        db.session.expunge_all()
        return found


def _first_order_id(app, sub_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Order.id).where(Order.subscription_id == sub_id, Order.scheduled_for == FIRST_ORDER)
        )


def _run(app, job) -> int:
    with app.app_context():
        return job()


def _links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _target(app, url: str) -> str:
    """The page a link in an email opens: kept with the link, never readable in its URL."""
    link_id = int(re.fullmatch(r"/l/(\d+)/[^/]+", urlsplit(url).path).group(1))
    with app.app_context():
        return db.session.get(ActionLink, link_id).next_path


def _act(app, sub_id: int, action: str, **params) -> None:
    with app.app_context():
        found = db.session.get(Subscription, sub_id)
        subscriptions.apply(Actor.system("test"), found, action, found.version, **params)


# --- the upcoming order reminder -------------------------------------------------------------------


def test_order_reminder_goes_out_once_three_days_before(app, sub, calendar, smtp):
    with app.app_context(), unit_of_work():
        ledger.add_credit(Actor.system("test"), db.session.get(Customer, 1), 500, "EUR", "goodwill")
    for day in (TODAY, REMINDER_DAY - timedelta(days=1)):
        calendar.move_to(day)
        assert _run(app, outreach_jobs.order_reminders) == 0
    calendar.move_to(REMINDER_DAY)
    assert _run(app, outreach_jobs.order_reminders) == 1
    assert _run(app, outreach_jobs.order_reminders) == 0  # a rerun sends nothing more
    calendar.move_to(REMINDER_DAY + timedelta(days=1))
    assert _run(app, outreach_jobs.order_reminders) == 0  # nor the next day's run
    with app.app_context():
        assert notifications.deliver_pending() == 1
    [message] = smtp.messages
    assert message["To"] == "reminded@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Your order of Jan 17, 2030:" in text
    assert "Total: €12.00" in text
    assert "Your credit pays €5.00 of it: you pay €7.00." in text
    assert "Test Street" in text and "Visa ending in 4242" in text
    assert len(_links(text)) == 7  # skip, swap, reschedule, pause, address, preferences, unsubscribe
    html = message.get_body(("html",)).get_content()
    assert "Skip this order</a>" in html and "€12.00" in html
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<") and "/unsubscribe/" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_reminder_is_in_the_subscribers_language(app, calendar):
    with app.app_context():
        customer = factories.customer("es@example.com", name="Elena", locale="es")
        factories.subscription(customer, next_order_date=FIRST_ORDER)
        subscriptions.roll_forward()
    calendar.move_to(REMINDER_DAY)
    assert _run(app, outreach_jobs.order_reminders) == 1
    [email] = _emails(app, "order_reminder")
    assert email.locale == "es" and email.subject == "Tu próximo pedido sale pronto"
    assert "Hola, Elena:" in email.body_text and "Saltar este pedido:" in email.body_text


@pytest.mark.parametrize(
    "resolved",
    ["order skipped", "paused", "cancelled", "ends before", "preference off", "merchant turned it off"],
)
def test_no_reminder_when_it_no_longer_applies_or_is_not_wanted(app, sub, calendar, resolved):
    order_id = _first_order_id(app, sub)
    if resolved == "order skipped":
        _act(app, sub, "skip", order_id=order_id)
    elif resolved == "paused":
        _act(app, sub, "pause", cycles=1)
    elif resolved == "cancelled":
        _act(app, sub, "cancel", mode="now")
    elif resolved == "ends before":
        _act(app, sub, "cancel", mode="date", on_date=FIRST_ORDER)
    elif resolved == "preference off":
        with app.app_context():
            outreach.set_preferences(Actor.system("test"), db.session.get(Customer, 1), {"card_expiring"})
    else:
        with app.app_context():
            outreach.save_setting(Actor.system("test"), "order_reminder", enabled=False, days_before=3, texts={})
    calendar.move_to(REMINDER_DAY)
    assert _run(app, outreach_jobs.order_reminders) == 0
    assert _emails(app, "order_reminder") == []


def test_a_link_in_the_reminder_acts_on_that_order_through_its_confirm_page(app, sub, calendar, client):
    calendar.move_to(REMINDER_DAY)
    _run(app, outreach_jobs.order_reminders)
    [email] = _emails(app, "order_reminder")
    skip_link = _path(_links(email.body_text)[0])
    order_id = _first_order_id(app, sub)
    # Opening the link only asks to continue (mail scanners open links).
    landing = client.get(skip_link)
    assert landing.status_code == 200
    signed_in = client.post(skip_link, data={"csrf_token": csrf_token(landing.text)})
    assert signed_in.status_code == 302
    assert signed_in.location == f"/subscriptions/{sub}/orders/{order_id}/skip"
    confirm_page = client.get(signed_in.location)
    assert confirm_page.status_code == 200 and "Jan 17, 2030" in confirm_page.text
    with app.app_context():
        assert db.session.get(Order, order_id).status is OrderStatus.SCHEDULED  # nothing yet
    done = client.post(signed_in.location, data=form_fields(confirm_page.text, "actions-row"))
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).status is OrderStatus.SKIPPED
    # The link signs in once; used again, it offers a fresh copy instead.
    assert client.post(skip_link, data={"csrf_token": csrf_token(landing.text)}).status_code == 410


def test_the_merchant_sets_the_timing_but_never_inside_the_cut_off(app, sub, calendar):
    with app.app_context():
        with pytest.raises(outreach.InvalidSetting):
            outreach.save_setting(Actor.system("test"), "order_reminder", enabled=True, days_before=2, texts={})
        outreach.save_setting(Actor.system("test"), "order_reminder", enabled=True, days_before=5, texts={})
    calendar.move_to(FIRST_ORDER - timedelta(days=5))
    assert _run(app, outreach_jobs.order_reminders) == 1


@pytest.mark.postgres
def test_two_workers_send_each_reminder_once(app, calendar):
    with app.app_context():
        for n in range(12):
            customer = factories.customer(f"many{n}@example.com")
            factories.subscription(customer, next_order_date=FIRST_ORDER)
        subscriptions.roll_forward()
    calendar.move_to(REMINDER_DAY)
    run_together(app, outreach_jobs.order_reminders, 2)
    run_together(app, outreach_jobs.order_reminders, 2)  # and the next round, again two at once
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutreachSend)) == 12
        recipients = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.kind == "order_reminder"))
        assert sorted(recipients) == sorted(f"many{n}@example.com" for n in range(12))


# --- card expiring ------------------------------------------------------------------------------------


@pytest.fixture
def expiring(app):
    """The card expires at the end of January 2030; the order after that is on 3 February."""
    with app.app_context():
        customer = factories.customer("card@example.com")
        card = db.session.scalar(select(PaymentMethod))
        card.exp_month, card.exp_year = 1, 2030
        db.session.commit()
        made = factories.subscription(customer, next_order_date=date(2030, 2, 3))
        subscriptions.roll_forward()
        return made.id


def test_card_notices_in_its_last_month_and_a_week_before_a_charge_it_cannot_pay(app, expiring, calendar):
    assert _run(app, outreach_jobs.card_notices) == 1  # January: its last month
    assert _run(app, outreach_jobs.card_notices) == 0
    calendar.move_to(date(2030, 1, 26))
    assert _run(app, outreach_jobs.card_notices) == 0  # the charge is eight days away
    calendar.move_to(date(2030, 1, 27))
    assert _run(app, outreach_jobs.card_notices) == 1
    assert _run(app, outreach_jobs.card_notices) == 0
    first, second = _emails(app, "card_expiring")
    assert "Visa ending in 4242 works until Jan 31, 2030." in first.body_text
    assert "will not go through" not in first.body_text
    assert "Your next payment of €12.00 on Feb 3, 2030 will not go through with it." in second.body_text
    assert _target(app, _links(second.body_text)[0]) == "/payment"


def test_no_second_card_notice_once_the_card_is_replaced(app, expiring, calendar):
    assert _run(app, outreach_jobs.card_notices) == 1
    with app.app_context():
        customer = db.session.get(Customer, 1)
        new = PaymentMethod(
            customer=customer, stripe_payment_method_id="pm_new", brand="visa", last4="1111", exp_month=5, exp_year=2033
        )
        db.session.add(new)
        db.session.commit()
        cards.set_default_card(Actor.for_customer(customer), customer, new.id)
    calendar.move_to(date(2030, 1, 27))
    assert _run(app, outreach_jobs.card_notices) == 0


def test_no_card_notice_for_a_cancelled_subscription(app, expiring):
    _act(app, expiring, "cancel", mode="now")
    assert _run(app, outreach_jobs.card_notices) == 0


# --- pause ending -------------------------------------------------------------------------------------


PAUSE_END = date(2030, 2, 1)


@pytest.fixture
def paused(app, sub):
    _act(app, sub, "pause", until=PAUSE_END)
    return sub


def test_pause_reminder_a_week_before_and_its_extend_link(app, paused, calendar, client):
    calendar.move_to(PAUSE_END - timedelta(days=8))
    assert _run(app, outreach_jobs.pause_reminders) == 0
    calendar.move_to(PAUSE_END - timedelta(days=7))
    assert _run(app, outreach_jobs.pause_reminders) == 1
    assert _run(app, outreach_jobs.pause_reminders) == 0
    [email] = _emails(app, "pause_ending")
    assert "Deliveries start again on Feb 1, 2030, at €12.00 per delivery." in email.body_text
    extend, resume = (_path(url) for url in _links(email.body_text)[:2])
    assert _target(app, resume) == f"/subscriptions/{paused}/resume"
    landing = client.get(extend)
    signed_in = client.post(extend, data={"csrf_token": csrf_token(landing.text)})
    assert signed_in.location == f"/subscriptions/{paused}/pause"
    form_page = client.get(signed_in.location)
    assert "Extend the pause" in form_page.text
    fields = {**form_fields(form_page.text, "action-form"), "length": "date", "until": "2030-02-15"}
    preview = client.post(signed_in.location, data=fields)
    assert preview.status_code == 200, preview.text
    assert client.post(signed_in.location, data=form_fields(preview.text, "actions-row")).status_code == 302
    with app.app_context():
        assert db.session.get(Subscription, paused).paused_until == date(2030, 2, 15)
    # The longer pause has its own reminder, a week before its new end.
    calendar.move_to(date(2030, 2, 8))
    assert _run(app, outreach_jobs.pause_reminders) == 1


@pytest.mark.parametrize("resolved", ["resumed", "cancelled"])
def test_no_pause_reminder_once_resumed_or_cancelled(app, paused, calendar, resolved):
    _act(
        app,
        paused,
        "resume" if resolved == "resumed" else "cancel",
        **({} if resolved == "resumed" else {"mode": "now"}),
    )
    calendar.move_to(PAUSE_END - timedelta(days=7))
    assert _run(app, outreach_jobs.pause_reminders) == 0


# --- unsubscribe and preferences ------------------------------------------------------------------------


def _unsubscribe_path(app) -> str:
    [email] = _emails(app, "order_reminder")
    return _path(email.unsubscribe_url)


def test_one_click_unsubscribe_works_without_signing_in_and_is_honoured(app, sub, calendar, client):
    calendar.move_to(REMINDER_DAY)
    _run(app, outreach_jobs.order_reminders)
    path = _unsubscribe_path(app)
    confirm = client.get(path)
    assert confirm.status_code == 200 and "reminded@example.com" in confirm.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MessageOptOut)) == 0  # a GET changes nothing
    # What a mail client sends (RFC 8058): no session, no CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no longer get" in done.text
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # twice is fine
    with app.app_context():
        assert outreach.opted_out(1) == {"order_reminder"}
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "profile.unsubscribed")) == 1
    # The next order's reminder is not sent.
    calendar.move_to(FIRST_ORDER + timedelta(days=11))
    assert _run(app, outreach_jobs.order_reminders) == 0


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "WzEsICJvcmRlcl9yZW1pbmRlciJd.forged"])
def test_a_bad_unsubscribe_token_is_refused(client, app, token):
    assert client.get(f"/unsubscribe/{token}").status_code == 400
    assert client.post(f"/unsubscribe/{token}").status_code == 400


def test_notices_subscribers_need_have_no_unsubscribe(app, sub):
    with app.app_context():
        token = outreach.unsubscribe_token(db.session.get(Customer, 1), "catalog_change")
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 400


def test_subscribers_choose_their_emails_on_the_profile(app, sub, client, calendar):
    sign_in_customer(app, client, "reminded@example.com")
    page = client.get("/profile")
    fields = form_fields(page.text, "messages-form")
    assert fields["messages-wanted"]  # every optional email is on at first
    response = client.post(
        "/profile/messages",
        data={"messages-csrf_token": fields["messages-csrf_token"], "messages-wanted": "card_expiring"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert outreach.wanted(1) == {"card_expiring"}
    hostile = client.post(
        "/profile/messages",
        data={"messages-csrf_token": fields["messages-csrf_token"], "messages-wanted": "payment_failed"},
    )
    assert hostile.status_code == 400
    calendar.move_to(REMINDER_DAY)
    assert _run(app, outreach_jobs.order_reminders) == 0


# --- the merchant's side ----------------------------------------------------------------------------------


@pytest.fixture
def admin(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "boss@example.com")
    client = app.test_client()
    sign_in_staff(client, "boss@example.com")
    return client


def test_merchant_edits_a_message_per_language_with_a_preview(app, admin, sub, calendar):
    page = admin.get("/admin/messages")
    assert page.status_code == 200 and "Upcoming order reminder" in page.text
    fields = form_fields(
        page.text.split('id="message-order_reminder"')[0]
        + page.text.split('id="message-order_reminder"')[1].split("</form>")[0],
        "message-form",
    )
    fields = {k: v for k, v in fields.items() if k.startswith("order_reminder-") or k == "prefix"}
    fields.update(
        {
            "prefix": "order_reminder",
            "order_reminder-subject_es": "¡Tu café llega pronto!",
            "order_reminder-preview_locale": "es",
            "preview": "1",
        }
    )
    preview = admin.post("/admin/messages", data=fields)
    assert preview.status_code == 200
    assert "¡Tu café llega pronto!" in preview.text and "Hola, Alex Example:" in preview.text
    with app.app_context():
        assert outreach.setting("order_reminder").texts == {}  # a preview saves nothing
    del fields["preview"]
    assert admin.post("/admin/messages", data={**fields, "order_reminder-days_before": "1"}).status_code == 400
    assert admin.post("/admin/messages", data=fields).status_code == 302
    with app.app_context():
        db.session.get(Customer, 1).locale = "es"
        db.session.commit()
    calendar.move_to(REMINDER_DAY)
    _run(app, outreach_jobs.order_reminders)
    [email] = _emails(app, "order_reminder")
    assert email.subject == "¡Tu café llega pronto!"


def test_a_price_change_tells_subscribers_with_their_choices_then_applies(app, admin, sub, calendar):
    with app.app_context():
        current = db.session.get(Subscription, sub).items[0].variant
        other = factories.variant(price_minor=1100)
        from portal.services import policy

        policy.set_swap_targets(Actor.system("test"), current.product, {other.product_id})
        variant_id, other_name = current.id, other.display_name
    page = admin.get("/admin/catalog-changes")
    data = {
        "csrf_token": csrf_token(page.text),
        "variant_id": str(variant_id),
        "kind": "price",
        "new_price": "13.50",
        "effective_on": "2030-01-10",
    }
    too_soon = admin.post("/admin/catalog-changes", data=data)
    assert too_soon.status_code == 400 and "choose Jan 21, 2030 or later" in too_soon.text
    assert admin.post("/admin/catalog-changes", data={**data, "effective_on": "2030-02-14"}).status_code == 302
    from portal.services import catalog_changes

    assert _run(app, catalog_changes.run) == 1
    assert _run(app, catalog_changes.run) == 0
    [email] = _emails(app, "catalog_change")
    assert "From Feb 14, 2030," in email.body_text and "costs €13.50 instead of €12.00" in email.body_text
    assert f"- {other_name}: €11.00" in email.body_text
    assert email.unsubscribe_url is None
    # Three days before the date (the cut-off is two), the orders from then on take the new price.
    calendar.move_to(date(2030, 2, 10))
    assert _run(app, catalog_changes.run) == 0
    calendar.move_to(date(2030, 2, 11))
    assert _run(app, catalog_changes.run) == 1
    assert _run(app, catalog_changes.run) == 0
    with app.app_context():
        subscription = db.session.get(Subscription, sub)
        assert subscription.items[0].unit_price_minor == 1350
        totals = {
            o.scheduled_for: o.total_minor
            for o in db.session.scalars(
                select(Order).where(Order.subscription_id == sub, Order.status == OrderStatus.SCHEDULED)
            )
        }
        assert totals[date(2030, 2, 14)] == 1350


def test_a_discontinued_product_is_announced_and_then_no_longer_offered(app, sub, calendar):
    from portal.services import catalog_changes

    with app.app_context():
        variant = db.session.get(Subscription, sub).items[0].variant
        catalog_changes.announce(Actor.system("test"), variant.id, "discontinued", date(2030, 2, 1))
        variant_id = variant.id
    assert _run(app, catalog_changes.run) == 1
    [email] = _emails(app, "catalog_change")
    assert "From Feb 1, 2030, we no longer sell" in email.body_text
    calendar.move_to(date(2030, 1, 29))
    _run(app, catalog_changes.run)
    with app.app_context():
        from portal.models import Variant

        assert db.session.get(Variant, variant_id).active is False
        assert db.session.get(Subscription, sub).status is SubscriptionStatus.ACTIVE
