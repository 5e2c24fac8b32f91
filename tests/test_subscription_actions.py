"""Self-serve actions through the real pages: form, preview of the impact, confirm, record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    IntervalUnit,
    Order,
    OrderStatus,
    OutboxEmail,
    Outcome,
    Subscription,
    SubscriptionStatus,
    Variant,
)
from portal.services import actions, policy, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, form_fields, run_action, sign_in_customer

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def sub(app):
    """An active fortnightly subscription whose next order is ten days away, signed in."""
    with app.app_context():
        customer = factories.customer("sub@example.com", locale="en")
        made = factories.subscription(customer, price_minor=1200, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        return made.id


@pytest.fixture
def signed_in(app, client, sub):
    sign_in_customer(app, client, "sub@example.com")
    return client


def _sub(app, sub_id) -> Subscription:
    return db.session.get(Subscription, sub_id)


def _upcoming(app, sub_id) -> list[tuple[date, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(Order)
            .where(Order.subscription_id == sub_id, Order.status.in_([OrderStatus.SCHEDULED, OrderStatus.SKIPPED]))
            .order_by(Order.scheduled_for)
        )
        return [(row.scheduled_for, row.status.value) for row in rows]


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _emails(app) -> list[OutboxEmail]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "subscription_changed")))


def test_schedule_is_filled_from_next_order_date(app, sub):
    assert _upcoming(app, sub) == [
        (date(2030, 1, 17), "scheduled"),
        (date(2030, 1, 31), "scheduled"),
        (date(2030, 2, 14), "scheduled"),
    ]


def test_pause_for_cycles_shows_impact_then_applies_once(app, signed_in, sub):
    preview, confirm = run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "2"})
    assert "Jan 17, 2030" in preview.text  # next order now
    assert "Feb 14, 2030" in preview.text  # resume date after two skipped deliveries
    assert "Paused" in preview.text
    assert confirm.status_code == 302
    with app.app_context():
        paused = _sub(app, sub)
        assert paused.status is SubscriptionStatus.PAUSED
        assert paused.paused_until == date(2030, 2, 14)
        assert paused.next_order_date == date(2030, 2, 14)
    assert _upcoming(app, sub) == []
    [event] = _events(app, "subscription.pause")
    assert event.outcome is Outcome.SUCCESS and event.actor_type.value == "customer"
    assert event.before["status"] == "active" and event.after["status"] == "paused"
    assert event.after["cycles"] == 2
    [email] = _emails(app)
    assert email.to_address == "sub@example.com"
    assert "Paused the subscription" in email.subject
    assert "Feb 14, 2030" in email.body_text
    page = signed_in.get(f"/subscriptions/{sub}").text
    assert "Done: Paused the subscription." in page


def test_pause_until_a_date_and_its_limit(app, signed_in, sub):
    too_far = (TODAY + timedelta(days=91)).isoformat()
    refused, _ = run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "date", "until": too_far})
    assert refused.status_code == 422
    assert "no later than Apr 7, 2030" in refused.text and "talk to us" in refused.text
    [failure] = _events(app, "subscription.pause")
    assert failure.outcome is Outcome.FAILURE and failure.error_code == "pause_date_out_of_range"
    assert failure.after["step"] == "preview"
    _, confirm = run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "date", "until": "2030-03-01"})
    assert confirm.status_code == 302
    with app.app_context():
        assert _sub(app, sub).paused_until == date(2030, 3, 1)


def test_pause_needs_a_choice_and_a_date_for_date_pauses(signed_in, sub):
    page = signed_in.get(f"/subscriptions/{sub}/pause")
    fields = form_fields(page.text, "action-form")
    assert signed_in.post(f"/subscriptions/{sub}/pause", data=fields).status_code == 400
    no_date = signed_in.post(f"/subscriptions/{sub}/pause", data={**fields, "length": "date"})
    assert no_date.status_code == 400 and "Choose the date to resume on." in no_date.text
    not_offered = signed_in.post(f"/subscriptions/{sub}/pause", data={**fields, "length": "9"})
    assert not_offered.status_code == 400


def test_auto_resume_job_is_idempotent(app, signed_in, sub, calendar):
    run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "1"})
    with app.app_context():
        resume_on = _sub(app, sub).paused_until
    assert app.test_cli_runner().invoke(args=["jobs", "run", "auto-resume"]).output.strip() == "auto-resume: 0"
    calendar.move_to(resume_on)
    assert app.test_cli_runner().invoke(args=["jobs", "run", "auto-resume"]).output.strip() == "auto-resume: 1"
    assert app.test_cli_runner().invoke(args=["jobs", "run", "auto-resume"]).output.strip() == "auto-resume: 0"
    with app.app_context():
        resumed = _sub(app, sub)
        assert resumed.status is SubscriptionStatus.ACTIVE and resumed.paused_until is None
        assert resumed.next_order_date == resume_on
    assert [when for when, _ in _upcoming(app, sub)] == [
        resume_on,
        resume_on + timedelta(weeks=2),
        resume_on + timedelta(weeks=4),
    ]
    [event] = _events(app, "subscription.auto_resume")
    assert event.actor_type.value == "job"
    assert len(_emails(app)) == 2


def test_resume_now(app, signed_in, sub):
    run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "3"})
    preview, confirm = run_action(signed_in, f"/subscriptions/{sub}/resume")
    assert "Jan 10, 2030" in preview.text  # the first date after the two-day cut-off
    assert confirm.status_code == 302
    with app.app_context():
        assert _sub(app, sub).status is SubscriptionStatus.ACTIVE
        assert _sub(app, sub).next_order_date == date(2030, 1, 10)


def _order_id(app, sub_id, when: date) -> int:
    with app.app_context():
        return db.session.scalar(select(Order.id).where(Order.subscription_id == sub_id, Order.scheduled_for == when))


def test_skip_any_upcoming_order_and_unskip(app, signed_in, sub):
    second = _order_id(app, sub, date(2030, 1, 31))
    _, confirm = run_action(signed_in, f"/subscriptions/{sub}/orders/{second}/skip")
    assert confirm.status_code == 302
    assert _upcoming(app, sub)[1] == (date(2030, 1, 31), "skipped")
    with app.app_context():
        assert _sub(app, sub).next_order_date == date(2030, 1, 17)
    first = _order_id(app, sub, date(2030, 1, 17))
    run_action(signed_in, f"/subscriptions/{sub}/orders/{first}/skip")
    with app.app_context():
        assert _sub(app, sub).next_order_date == date(2030, 2, 14)
    _, confirm = run_action(signed_in, f"/subscriptions/{sub}/orders/{second}/unskip")
    assert confirm.status_code == 302
    assert _upcoming(app, sub) == [
        (date(2030, 1, 17), "skipped"),
        (date(2030, 1, 31), "scheduled"),
        (date(2030, 2, 14), "scheduled"),
    ]
    assert second == _order_id(app, sub, date(2030, 1, 31))  # the order kept its id


def test_consecutive_skip_limit(app, signed_in, sub):
    for when in (date(2030, 1, 17), date(2030, 1, 31)):
        run_action(signed_in, f"/subscriptions/{sub}/orders/{_order_id(app, sub, when)}/skip")
    third = _order_id(app, sub, date(2030, 2, 14))
    refused = signed_in.get(f"/subscriptions/{sub}/orders/{third}/skip")
    assert refused.status_code == 422
    assert "at most 2 orders in a row" in refused.text and "pause your subscription instead" in refused.text
    failures = [e for e in _events(app, "subscription.skip") if e.outcome is Outcome.FAILURE]
    assert [e.error_code for e in failures] == ["too_many_skips"]


def test_order_inside_the_cut_off_is_locked(app, client):
    with app.app_context():
        factories.subscription(factories.customer("soon@example.com"), next_order_date=TODAY + timedelta(days=2))
        subscriptions.roll_forward()
        sub_id = db.session.scalar(select(Subscription.id))
    sign_in_customer(app, client, "soon@example.com")
    locked = _order_id(app, sub_id, TODAY + timedelta(days=2))
    refused = client.get(f"/subscriptions/{sub_id}/orders/{locked}/skip")
    assert refused.status_code == 422 and "already being prepared" in refused.text
    assert "Being prepared" in client.get(f"/subscriptions/{sub_id}").text
    move = client.get(f"/subscriptions/{sub_id}/reschedule")
    moved = client.post(
        f"/subscriptions/{sub_id}/reschedule", data={**form_fields(move.text, "action-form"), "new_date": "2030-01-20"}
    )
    assert moved.status_code == 422 and "can no longer be moved" in moved.text


def test_swap_variant_shows_new_price_and_keeps_locked_order(app, client):
    with app.app_context():
        customer = factories.customer("swap@example.com")
        sub = factories.subscription(customer, price_minor=1200, next_order_date=TODAY + timedelta(days=1))
        product = sub.items[0].variant.product
        bigger = Variant(name="1 kg", sku="BIG-1", price_minor=3900, currency="EUR")
        db.session.add(bigger)
        bigger.product = product
        other = factories.variant(price_minor=1500)
        db.session.commit()
        subscriptions.roll_forward()
        sub_id, bigger_id, other_id, other_product_id = sub.id, bigger.id, other.id, other.product_id
        item_id = sub.items[0].id
    sign_in_customer(app, client, "swap@example.com")
    preview, confirm = run_action(
        client, f"/subscriptions/{sub_id}/swap", {"item_id": item_id, "variant_id": bigger_id, "quantity": 2}
    )
    assert "€12.00" in preview.text and "€78.00" in preview.text
    assert confirm.status_code == 302
    with app.app_context():
        changed = _sub(app, sub_id)
        assert [(i.variant_id, i.quantity, i.unit_price_minor) for i in changed.items] == [(bigger_id, 2, 3900)]
        orders = db.session.scalars(
            select(Order).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for)
        ).all()
        # Tomorrow's order is inside the cut-off and ships as it was.
        assert [o.total_minor for o in orders] == [1200, 7800, 7800]
    # Another product is refused until the merchant allows it.
    page = client.get(f"/subscriptions/{sub_id}/swap")
    fields = {**form_fields(page.text, "action-form"), "variant_id": other_id, "quantity": 1}
    assert client.post(f"/subscriptions/{sub_id}/swap", data=fields).status_code == 400
    with app.app_context():
        policy.set_swap_targets(Actor.system("test"), _sub(app, sub_id).items[0].variant.product, {other_product_id})
    page = client.get(f"/subscriptions/{sub_id}/swap")
    fields = {**form_fields(page.text, "action-form"), "variant_id": other_id, "quantity": 1}
    preview = client.post(f"/subscriptions/{sub_id}/swap", data=fields)
    assert preview.status_code == 200 and "€15.00" in preview.text


def test_change_frequency(app, signed_in, sub):
    preview, confirm = run_action(signed_in, f"/subscriptions/{sub}/frequency", {"interval": "4w"})
    assert "Mar 14, 2030" in preview.text  # the third order, four weeks after the second
    assert confirm.status_code == 302
    with app.app_context():
        changed = _sub(app, sub)
        assert (changed.interval_unit, changed.interval_count) == (IntervalUnit.WEEK, 4)
    assert [when for when, _ in _upcoming(app, sub)] == [date(2030, 1, 17), date(2030, 2, 14), date(2030, 3, 14)]
    page = signed_in.get(f"/subscriptions/{sub}/frequency")
    same = signed_in.post(
        f"/subscriptions/{sub}/frequency", data={**form_fields(page.text, "action-form"), "interval": "4w"}
    )
    assert same.status_code == 422 and "already your delivery frequency" in same.text
    offered = signed_in.post(
        f"/subscriptions/{sub}/frequency", data={**form_fields(page.text, "action-form"), "interval": "3w"}
    )
    assert offered.status_code == 400


def test_reschedule_within_window(app, signed_in, sub):
    page = signed_in.get(f"/subscriptions/{sub}/reschedule")
    assert 'min="2030-01-10"' in page.text and 'max="2030-03-08"' in page.text
    fields = form_fields(page.text, "action-form")
    for outside in ("2030-01-09", "2030-03-09"):
        refused = signed_in.post(f"/subscriptions/{sub}/reschedule", data={**fields, "new_date": outside})
        assert refused.status_code == 422 and "Choose a date from Jan 10, 2030 to Mar 8, 2030." in refused.text
    _, confirm = run_action(signed_in, f"/subscriptions/{sub}/reschedule", {"new_date": "2030-01-24"})
    assert confirm.status_code == 302
    assert [when for when, _ in _upcoming(app, sub)] == [date(2030, 1, 24), date(2030, 2, 7), date(2030, 2, 21)]
    bad = signed_in.post(f"/subscriptions/{sub}/reschedule", data={**fields, "new_date": "not-a-date"})
    assert bad.status_code == 400


def test_order_now(app, signed_in, sub):
    preview, confirm = run_action(signed_in, f"/subscriptions/{sub}/order_now")
    assert "Jan 7, 2030" in preview.text
    assert confirm.status_code == 302
    with app.app_context():
        dates = db.session.scalars(
            select(Order.scheduled_for)
            .where(Order.subscription_id == sub, Order.scheduled_for >= TODAY)
            .order_by(Order.scheduled_for)
        ).all()
    # Today's order is charged at once (see test_payments); the rest follow from today.
    assert dates[:3] == [TODAY, date(2030, 1, 21), date(2030, 2, 4)]
    again = signed_in.get(f"/subscriptions/{sub}/order_now")
    assert again.status_code == 422 and "You already have an order today" in again.text


def test_reactivate_cancelled(app, client):
    with app.app_context():
        factories.subscription(factories.customer("back@example.com"), status=SubscriptionStatus.CANCELLED)
        sub_id = db.session.scalar(select(Subscription.id))
    sign_in_customer(app, client, "back@example.com")
    assert "Reactivate" in client.get(f"/subscriptions/{sub_id}").text
    _, confirm = run_action(client, f"/subscriptions/{sub_id}/reactivate")
    assert confirm.status_code == 302
    with app.app_context():
        assert _sub(app, sub_id).status is SubscriptionStatus.ACTIVE
    assert _upcoming(app, sub_id)[0] == (date(2030, 1, 10), "scheduled")
    refused = client.get(f"/subscriptions/{sub_id}/reactivate")
    assert refused.status_code == 422 and "not cancelled" in refused.text


def test_double_submitted_confirm_applies_once(app, signed_in, sub):
    page = signed_in.get(f"/subscriptions/{sub}/pause")
    preview = signed_in.post(
        f"/subscriptions/{sub}/pause", data={**form_fields(page.text, "action-form"), "length": "1"}
    )
    confirm_fields = form_fields(preview.text, "actions-row")
    assert signed_in.post(f"/subscriptions/{sub}/pause", data=confirm_fields).status_code == 302
    second = signed_in.post(f"/subscriptions/{sub}/pause", data=confirm_fields)
    assert second.status_code == 409
    assert "changed meanwhile" in second.text
    assert "Resumes on" in second.text  # the current state is shown
    assert len([e for e in _events(app, "subscription.pause") if e.outcome is Outcome.SUCCESS]) == 1
    assert len(_emails(app)) == 1


def test_other_customers_ids_are_404_on_every_action(app, client, sub):
    with app.app_context():
        factories.subscription(factories.customer("intruder@example.com"))
        victim_order = _order_id(app, sub, date(2030, 1, 17))
    sign_in_customer(app, client, "intruder@example.com")
    from tests.helpers import csrf_token

    token = csrf_token(client.get("/").text)
    paths = [
        f"/subscriptions/{sub}/{action}"
        for action in ("pause", "resume", "swap", "frequency", "reschedule", "order_now", "reactivate", "address")
    ]
    paths += [f"/subscriptions/{sub}/orders/{victim_order}/skip", f"/subscriptions/{sub}/orders/{victim_order}/unskip"]
    for path in paths:
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"csrf_token": token, "step": "confirm", "version": "1"}).status_code == 404, path
    with app.app_context():
        assert _sub(app, sub).status is SubscriptionStatus.ACTIVE
    # An order of one's own, addressed through another subscription's URL, is no way in either.
    with app.app_context():
        own_sub = db.session.scalar(select(Subscription.id).where(Subscription.id != sub))
    assert client.get(f"/subscriptions/{own_sub}/orders/{victim_order}/skip").status_code == 404


def test_unknown_action_is_404(signed_in, sub):
    assert signed_in.get(f"/subscriptions/{sub}/explode").status_code == 404


def test_activity_page_shows_who_did_what(app, signed_in, sub, calendar):
    run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "1"})
    calendar.move_to(date(2030, 3, 1))
    app.test_cli_runner().invoke(args=["jobs", "run", "auto-resume"])
    sign_in_customer(app, signed_in, "sub@example.com")  # two months on, the old session has expired
    with app.app_context():
        product = _sub(app, sub).items[0].variant.product.name
    page = signed_in.get("/activity").text
    assert f"Paused {product} until Jan 31, 2030" in page
    assert f"{product} resumed as planned; next order on Mar 1, 2030" in page
    assert "You" in page and "Automatically" in page


def test_confirmation_email_is_sent_in_the_customers_language(app, client, smtp):
    with app.app_context():
        factories.subscription(
            factories.customer("es@example.com", locale="es"), next_order_date=TODAY + timedelta(days=10)
        )
        subscriptions.roll_forward()
        sub_id = db.session.scalar(select(Subscription.id))
    sign_in_customer(app, client, "es@example.com")
    run_action(client, f"/subscriptions/{sub_id}/pause", {"length": "1"})
    assert app.test_cli_runner().invoke(args=["jobs", "run", "outbox"]).output.strip() == "outbox: 1"
    [message] = smtp.messages
    assert message["Subject"] == "Tu suscripción: Suscripción pausada"
    assert "31 ene 2030" in message.get_body(("plain",)).get_content()


def test_month_arithmetic_clamps_to_the_month_end():
    from portal.services.subscriptions.schedule import add_interval

    assert add_interval(date(2030, 1, 31), IntervalUnit.MONTH, 1) == date(2030, 2, 28)
    assert add_interval(date(2032, 1, 31), IntervalUnit.MONTH, 1) == date(2032, 2, 29)
    assert add_interval(date(2030, 11, 30), IntervalUnit.MONTH, 3) == date(2031, 2, 28)


def test_dashboard_offers_each_action_in_one_tap(app, signed_in, sub):
    page = signed_in.get("/").text
    first = _order_id(app, sub, date(2030, 1, 17))
    for path in (
        f"/subscriptions/{sub}/orders/{first}/skip",
        f"/subscriptions/{sub}/pause",
        f"/subscriptions/{sub}/swap",
        f"/subscriptions/{sub}/frequency",
        f"/subscriptions/{sub}/reschedule",
        f"/subscriptions/{sub}/order_now",
        f"/subscriptions/{sub}/address",
    ):
        assert f'href="{path}"' in page, path
    assert "Skip the order of Jan 17, 2030" in page


def test_pause_preview_shows_when_deliveries_resume(signed_in, sub):
    preview, _ = run_action(signed_in, f"/subscriptions/{sub}/pause", {"length": "1"})
    assert "Resumes on" in preview.text
    assert "None until deliveries resume on Jan 31, 2030" in preview.text
    assert ">None<" not in preview.text


def test_schedule_job_adds_nothing_before_an_end_at_the_paid_period(app, signed_in, sub, calendar):
    run_action(signed_in, f"/subscriptions/{sub}/reschedule", {"new_date": "2030-01-25"})
    with app.app_context():
        subscription = _sub(app, sub)
        actions.perform(Actor.system("test"), subscription, "cancel", subscription.version, mode="period_end")
    assert _upcoming(app, sub) == []
    for day in (TODAY, TODAY + timedelta(days=3), TODAY + timedelta(days=10)):
        calendar.move_to(day)
        with app.app_context():
            assert subscriptions.roll_forward() == 0
        assert _upcoming(app, sub) == []


def test_keep_after_a_cancel_on_a_date_leaves_a_skipped_order_skipped(app, signed_in, sub):
    skipped_id = _order_id(app, sub, date(2030, 1, 31))
    run_action(signed_in, f"/subscriptions/{sub}/orders/{skipped_id}/skip")
    with app.app_context():
        subscription = _sub(app, sub)
        actions.perform(
            Actor.system("test"), subscription, "cancel", subscription.version, mode="date", on_date=date(2030, 1, 20)
        )
    run_action(signed_in, f"/subscriptions/{sub}/keep")
    assert _upcoming(app, sub) == [
        (date(2030, 1, 17), "scheduled"),
        (date(2030, 1, 31), "skipped"),
        (date(2030, 2, 14), "scheduled"),
    ]


def test_reactivating_after_cancelling_while_an_order_is_prepared(app, client):
    with app.app_context():
        customer = factories.customer("prep@example.com")
        made = factories.subscription(customer, next_order_date=TODAY + timedelta(days=1))
        subscriptions.roll_forward()
        sub_id = made.id
        subscription = _sub(app, sub_id)
        actions.perform(Actor.system("test"), subscription, "cancel", subscription.version, mode="now")
        subscription = _sub(app, sub_id)
        actions.perform(Actor.system("test"), subscription, "reactivate", subscription.version)
    # The order being prepared ships; the next comes one fortnight later, not three days.
    assert [when for when, _ in _upcoming(app, sub_id)] == [date(2030, 1, 8), date(2030, 1, 22), date(2030, 2, 5)]
