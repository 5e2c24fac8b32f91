"""The cancel flow: reasons, fitting offers, confirmation, outcomes, and the merchant's settings."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AttemptOutcome,
    CancelAttempt,
    DiscountGrant,
    Order,
    OrderStatus,
    StaffRole,
    Subscription,
    SubscriptionStatus,
    Variant,
    utcnow,
)
from portal.services import policy, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def sub(app):
    with app.app_context():
        customer = factories.customer("leaving@example.com", locale="en")
        made = factories.subscription(customer, price_minor=1200, next_order_date=date(2030, 1, 17))
        subscriptions.roll_forward()
        return made.id


@pytest.fixture
def client_in(app, client, sub):
    sign_in_customer(app, client, "leaving@example.com")
    return client


def _give_reason(client, sub_id, reason, details=""):
    page = client.get(f"/subscriptions/{sub_id}/cancel")
    return client.post(
        f"/subscriptions/{sub_id}/cancel",
        data={"csrf_token": csrf_token(page.text), "reason": reason, "details": details},
    )


def _attempt(app) -> CancelAttempt:
    with app.app_context():
        return db.session.scalar(select(CancelAttempt).order_by(CancelAttempt.id.desc()))


def _subscription(app, sub_id) -> Subscription:
    with app.app_context():
        found = db.session.get(Subscription, sub_id)
        db.session.expunge(found)
        return found


def _upcoming(app, sub_id):
    with app.app_context():
        return [
            (o.scheduled_for, o.status.value, o.total_minor)
            for o in db.session.scalars(
                select(Order)
                .where(Order.subscription_id == sub_id, Order.status.in_([OrderStatus.SCHEDULED, OrderStatus.SKIPPED]))
                .order_by(Order.scheduled_for)
            )
        ]


def _offer_forms(page_text):
    return [
        form_fields(page_text.split('<form method="post" class="card offer">')[i], "card")
        for i in range(1, page_text.count('class="card offer"') + 1)
    ]


def _post_offer(client, response, offer_index=None, decline=False):
    page = client.get(response.location)
    data = {"csrf_token": csrf_token(page.text), "version": form_fields(page.text, "offer")["version"]}
    data.update({"decline": "1"} if decline else {"offer": str(offer_index)})
    return client.post(response.location, data=data)


def _confirm(client, location, mode, on_date=""):
    page = client.get(location)
    fields = form_fields(page.text, "confirm-form")
    return client.post(location, data={**fields, "mode": mode, "on_date": on_date})


def test_cancel_is_on_every_subscription_page(app, client_in, sub):
    assert f'href="/subscriptions/{sub}/cancel"' in client_in.get(f"/subscriptions/{sub}").text
    assert f'href="/subscriptions/{sub}/cancel"' in client_in.get("/").text


def test_reason_is_required(client_in, sub):
    response = _give_reason(client_in, sub, "")
    assert response.status_code == 400 and "Please choose a reason." in response.text
    assert _give_reason(client_in, sub, "made_up").status_code == 400


def test_offers_fit_the_reason_and_cancelling_is_as_prominent(app, client_in, sub):
    response = _give_reason(client_in, sub, "not_using", "Too busy lately")
    assert response.status_code == 302 and response.location.endswith("/offers")
    page = client_in.get(response.location).text
    assert "Pause for 1 delivery" in page and "Skip only the order of Jan 17, 2030" in page
    assert page.count('class="button">') == 3  # two offers and "No thanks, cancel", styled alike
    assert "No thanks, cancel" in page
    attempt = _attempt(app)
    assert attempt.reason_code == "not_using" and attempt.reason_text == "Too busy lately"
    assert [o["type"] for o in attempt.offers_shown] == ["pause", "skip"]
    assert attempt.plan["price_minor"] == 1200 and attempt.tenure_days == 0


def test_taking_the_pause_offer_saves_the_subscription(app, client_in, sub):
    response = _give_reason(client_in, sub, "not_using")
    accepted = _post_offer(client_in, response, offer_index=0)
    assert accepted.status_code == 302
    assert _subscription(app, sub).status is SubscriptionStatus.PAUSED
    attempt = _attempt(app)
    assert (attempt.outcome, attempt.offer_taken) == (AttemptOutcome.SAVED, "pause")


def test_discount_offer_and_its_cooldown(app, client_in, sub):
    response = _give_reason(client_in, sub, "too_expensive")
    page = client_in.get(response.location).text
    assert "20% off your next 2 orders" in page and "Get it less often: Every 4 weeks" in page
    assert "€9.60" in page  # the next payment with the discount
    _post_offer(client_in, response, offer_index=0)
    assert [total for _, _, total in _upcoming(app, sub)] == [960, 960, 1200]
    with app.app_context():
        grant = db.session.scalar(select(DiscountGrant))
        assert (grant.percent, grant.orders) == (20, 2)
    # Asking again soon: the discount is not offered a second time.
    again = _give_reason(client_in, sub, "too_expensive")
    assert [o["type"] for o in _attempt(app).offers_shown] == ["frequency"]
    assert "% off" not in client_in.get(again.location).text
    with app.app_context():
        db.session.scalar(select(DiscountGrant)).created_at = utcnow() - timedelta(days=101)
        db.session.commit()
    _give_reason(client_in, sub, "too_expensive")
    assert [o["type"] for o in _attempt(app).offers_shown] == ["discount", "frequency"]


def test_decline_then_cancel_now_and_reactivate_in_one_click(app, client_in, sub):
    response = _give_reason(client_in, sub, "switching")
    declined = _post_offer(client_in, response, decline=True)
    assert declined.status_code == 302 and declined.location.endswith("/confirm")
    done = _confirm(client_in, declined.location, "now")
    # The confirmation asks to rate the change just made.
    assert done.status_code == 302 and done.location.split("?")[0].endswith("/done") and "rated=" in done.location
    cancelled = _subscription(app, sub)
    assert cancelled.status is SubscriptionStatus.CANCELLED and cancelled.cancelled_at is not None
    assert _upcoming(app, sub) == []
    attempt = _attempt(app)
    assert (attempt.outcome, attempt.cancel_mode, attempt.cancel_on) == (AttemptOutcome.CANCELLED, "now", TODAY)
    page = client_in.get(done.location)
    assert "Your subscription is cancelled" in page.text
    with app.app_context():
        from portal.models import OutboxEmail

        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "subscription_changed"))
        assert "Cancelled the subscription" in email.subject
    undo = form_fields(page.text, "undo-form")
    assert client_in.post(f"/subscriptions/{sub}/reactivate", data=undo).status_code == 302
    assert _subscription(app, sub).status is SubscriptionStatus.ACTIVE


def test_cancel_when_the_paid_period_ends_then_keep(app, client_in, sub):
    response = _give_reason(client_in, sub, "moving")
    declined = _post_offer(client_in, response, decline=True)
    page = client_in.get(declined.location).text
    assert "When the period already paid ends, on Jan 17, 2030" in page
    # The last step shows what each choice does to the upcoming orders, recording nothing.
    table = page[page.index("What each choice changes") : page.index("confirm-form")]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>(\d+)</td></tr>', table)
    assert rows == [
        ("Now (orders already being prepared still arrive)", "None", "3"),
        ("When the period already paid ends, on Jan 17, 2030", "None", "3"),
    ]
    done = _confirm(client_in, declined.location, "period_end")
    assert done.status_code == 302
    ending = _subscription(app, sub)
    assert ending.status is SubscriptionStatus.ACTIVE and ending.cancel_at == date(2030, 1, 17)
    assert _upcoming(app, sub) == []
    assert "Your subscription ends on Jan 17, 2030" in client_in.get(done.location).text
    assert "Keep my subscription" in client_in.get(f"/subscriptions/{sub}").text
    _, confirm = _keep(client_in, sub)
    assert confirm.status_code == 302
    assert _subscription(app, sub).cancel_at is None
    assert [when for when, _, _ in _upcoming(app, sub)] == [date(2030, 1, 17), date(2030, 1, 31), date(2030, 2, 14)]


def _keep(client, sub_id):
    from tests.helpers import run_action

    return run_action(client, f"/subscriptions/{sub_id}/keep")


def test_cancel_on_a_date_and_the_job_ends_it(app, client_in, sub, calendar):
    response = _give_reason(client_in, sub, "other")
    declined = _post_offer(client_in, response, decline=True)
    too_late = _confirm(client_in, declined.location, "date", "2031-06-01")
    assert too_late.status_code == 422
    missing = _confirm(client_in, declined.location, "date", "")
    assert missing.status_code == 400 and "Choose the date to end on." in missing.text
    assert _confirm(client_in, declined.location, "date", "2030-02-01").status_code == 302
    assert [when for when, _, _ in _upcoming(app, sub)] == [date(2030, 1, 17), date(2030, 1, 31)]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "run", "cancellations"]).output.strip() == "cancellations: 0"
    calendar.move_to(date(2030, 2, 1))
    assert runner.invoke(args=["jobs", "run", "cancellations"]).output.strip() == "cancellations: 1"
    assert runner.invoke(args=["jobs", "run", "cancellations"]).output.strip() == "cancellations: 0"
    assert _subscription(app, sub).status is SubscriptionStatus.CANCELLED


def test_talk_to_a_person_offer_opens_a_case_with_the_reason(app, client_in, sub):
    from portal.models import Case

    response = _give_reason(client_in, sub, "delivery_problems", "Box arrived crushed twice")
    handed = _post_offer(client_in, response, offer_index=0)
    assert handed.status_code == 302 and "/help?" in handed.location and "topic=cancel" in handed.location
    assert _attempt(app).outcome is AttemptOutcome.HANDED_OFF
    assert _subscription(app, sub).status is SubscriptionStatus.ACTIVE
    form = client_in.get(handed.location)
    fields = form_fields(form.text, "help-form")
    opened = client_in.post("/help", data={**fields, "message": "Please call me about the boxes."})
    assert opened.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert case.issue_type == "cancel"
        assert case.snapshot["cancel"]["reason"] == "delivery_problems"
        assert case.snapshot["cancel"]["details"] == "Box arrived crushed twice"
        assert [o["type"] for o in case.snapshot["cancel"]["offers_shown"]] == ["talk"]


def test_simple_cancellation_mode(app, client_in, sub):
    with app.app_context():
        policy.update(Actor.system("test"), simple_cancellation=True)
    response = _give_reason(client_in, sub, "")
    assert response.status_code == 302 and response.location.endswith("/confirm")
    assert _attempt(app).offers_shown == []
    assert _confirm(client_in, response.location, "now").status_code == 302
    assert _subscription(app, sub).status is SubscriptionStatus.CANCELLED


def test_no_step_can_be_skipped(app, client_in, sub):
    response = _give_reason(client_in, sub, "not_using")
    offers_url = response.location
    confirm_url = offers_url.replace("/offers", "/confirm")
    token = csrf_token(client_in.get(offers_url).text)
    # Straight to confirm while offers are still open: sent back to the start, nothing changes.
    jumped = client_in.post(confirm_url, data={"csrf_token": token, "mode": "now", "version": "1"})
    assert jumped.status_code == 303 and jumped.location.endswith(f"/subscriptions/{sub}/cancel")
    assert client_in.get(confirm_url).status_code == 303
    assert _subscription(app, sub).status is SubscriptionStatus.ACTIVE
    # An attempt that does not exist, or is someone else's, is not found.
    assert (
        client_in.post(
            f"/subscriptions/{sub}/cancel/999/confirm", data={"csrf_token": token, "mode": "now"}
        ).status_code
        == 404
    )
    # Once cancelled, the old offers cannot be taken to undo the record.
    declined = _post_offer(client_in, response, decline=True)
    _confirm(client_in, declined.location, "now")
    replay = client_in.post(offers_url, data={"csrf_token": token, "offer": "0", "version": "9"})
    assert replay.status_code == 303
    assert _attempt(app).outcome is AttemptOutcome.CANCELLED


def test_attempts_of_others_are_404(app, client, sub):
    with app.app_context():
        factories.subscription(factories.customer("other@example.com"))
    owner = app.test_client()
    sign_in_customer(app, owner, "leaving@example.com")
    attempt_url = _give_reason(owner, sub, "not_using").location
    sign_in_customer(app, client, "other@example.com")
    assert client.get(attempt_url).status_code == 404
    assert client.get(f"/subscriptions/{sub}/cancel").status_code == 404


def test_abandoned_after_a_day_and_saves_checked_after_thirty_days(app, client_in, sub):
    _give_reason(client_in, sub, "not_using")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "run", "cancel-follow-up"]).output.strip() == "cancel-follow-up: 0"
    with app.app_context():
        attempt = db.session.scalar(select(CancelAttempt))
        attempt.updated_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    assert runner.invoke(args=["jobs", "run", "cancel-follow-up"]).output.strip() == "cancel-follow-up: 1"
    assert _attempt(app).outcome is AttemptOutcome.ABANDONED

    saved = _give_reason(client_in, sub, "not_using")
    _post_offer(client_in, saved, offer_index=1)  # skip the next order
    with app.app_context():
        attempt = db.session.scalar(select(CancelAttempt).order_by(CancelAttempt.id.desc()))
        assert attempt.outcome is AttemptOutcome.SAVED
        attempt.finished_at = utcnow() - timedelta(days=29)
        db.session.commit()
    assert runner.invoke(args=["jobs", "run", "cancel-follow-up"]).output.strip() == "cancel-follow-up: 0"
    with app.app_context():
        db.session.scalar(select(CancelAttempt).order_by(CancelAttempt.id.desc())).finished_at = utcnow() - timedelta(
            days=31
        )
        db.session.commit()
    runner.invoke(args=["jobs", "run", "cancel-follow-up"])
    assert _attempt(app).save_verified is True


def test_a_save_that_cancels_later_is_not_counted(app, client_in, sub):
    saved = _give_reason(client_in, sub, "not_using")
    _post_offer(client_in, saved, offer_index=1)
    later = _give_reason(client_in, sub, "other")
    _confirm(client_in, _post_offer(client_in, later, decline=True).location, "now")
    with app.app_context():
        first = db.session.scalar(select(CancelAttempt).order_by(CancelAttempt.id))
        first.finished_at = utcnow() - timedelta(days=31)
        db.session.commit()
    app.test_cli_runner().invoke(args=["jobs", "run", "cancel-follow-up"])
    with app.app_context():
        assert db.session.scalar(select(CancelAttempt).order_by(CancelAttempt.id)).save_verified is False


def test_merchant_edits_reasons_in_every_language(app, client):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "boss@example.com")
        customer = factories.customer("es-leaver@example.com", locale="es")
        sub_id = factories.subscription(customer).id
    admin = app.test_client()
    sign_in_staff(admin, "boss@example.com")
    page = admin.get("/admin/cancellation")
    assert page.status_code == 200 and "too_expensive" in page.text
    new = {
        "csrf_token": csrf_token(page.text),
        "prefix": "new",
        "new-code": "too_strong",
        "new-position": "0",
        "new-enabled": "y",
        "new-label_en": "Too strong for me",
        "new-label_es": "",
        "new-label_de": "Zu stark",
        "new-offers": ["swap", "talk"],
    }
    missing = admin.post("/admin/cancellation", data=new)
    assert missing.status_code == 400 and "every language: es" in missing.text
    assert admin.post("/admin/cancellation", data={**new, "new-label_es": "Demasiado fuerte"}).status_code == 302
    too_many = admin.post("/admin/cancellation", data={**new, "new-offers": ["swap", "talk", "pause"]})
    assert too_many.status_code == 400
    disable = {
        "csrf_token": csrf_token(page.text),
        "prefix": "r-other",
        "r-other-code": "other",
        "r-other-position": "9",
        "r-other-label_en": "Something else",
        "r-other-label_es": "Otra cosa",
        "r-other-label_de": "Etwas anderes",
        "r-other-offers": ["talk"],
    }
    assert admin.post("/admin/cancellation", data=disable).status_code == 302
    customer_client = app.test_client()
    sign_in_customer(app, customer_client, "es-leaver@example.com")
    form = customer_client.get(f"/subscriptions/{sub_id}/cancel").text
    assert "Demasiado fuerte" in form and "Cuesta demasiado" in form
    assert "Otra cosa" not in form
    manager = app.test_client()
    with app.app_context():
        factories.staff(StaffRole.MANAGER, "m@example.com")
    sign_in_staff(manager, "m@example.com")
    assert manager.get("/admin/cancellation").status_code == 403


def test_a_swap_offer_is_another_product_that_costs_no_more(app, client_in, sub):
    with app.app_context():
        current = db.session.get(Subscription, sub).items[0].variant
        bigger = Variant(product_id=current.product_id, name="1 kg", sku="SAME-1K", price_minor=3900, currency="EUR")
        dearer, cheaper = factories.variant(price_minor=1300), factories.variant(price_minor=1100)
        db.session.add(bigger)
        db.session.commit()
        policy.set_swap_targets(Actor.system("test"), current.product, {dearer.product_id, cheaper.product_id})
        cheaper_name, cheaper_id = cheaper.display_name, cheaper.id
    response = _give_reason(client_in, sub, "did_not_like")
    page = " ".join(client_in.get(response.location).text.split())
    assert f"Try {cheaper_name} instead" in page
    assert "€11.00 per delivery instead of €12.00." in page
    assert "Your next payment is €11.00 on Jan 17, 2030." in page
    assert _attempt(app).offers_shown[0]["variant_id"] == cheaper_id
    with app.app_context():
        db.session.delete(db.session.get(Variant, cheaper_id))
        db.session.commit()
    # Only a bigger size of the same coffee or a dearer one is left: no swap is offered.
    again = _give_reason(client_in, sub, "did_not_like")
    assert [o["type"] for o in _attempt(app).offers_shown] == ["talk"]
    assert "Try " not in client_in.get(again.location).text


def test_each_offer_says_plainly_what_it_costs(app, client_in, sub):
    response = _give_reason(client_in, sub, "not_using")
    page = " ".join(client_in.get(response.location).text.split())
    assert "No deliveries and nothing to pay until Jan 31, 2030." in page
    assert "Nothing to pay on Jan 17, 2030. Your next payment is €12.00 on Jan 31, 2030." in page
    assert "— ·" not in page and "Next order: —" not in page
