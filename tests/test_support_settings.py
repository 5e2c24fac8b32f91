"""Support settings the merchant edits: saved replies with placeholders in every language, the tone
guidelines beside them, business hours and the first-response target."""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Case, CaseMessage, Channel, Order, OrderStatus, SavedReply, StaffRole
from portal.services import inbox, response_times, subscriptions, support_settings
from portal.services.actors import Actor
from portal.services.support_settings import InvalidSupportSetting
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, run_together, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")
ADMIN = Actor.system("test")


@pytest.fixture
def case_for(app):
    """A case from a customer in `locale`, with an upcoming order unless told otherwise."""

    made = itertools.count()

    def make(locale: str = "en", with_order: bool = True) -> int:
        n = next(made)
        with app.app_context():
            customer = factories.customer(f"hana{n}@example.com", name="Hana Help", locale=locale)
            if with_order:
                factories.subscription(customer, next_order_date=TODAY + timedelta(days=9))
                subscriptions.roll_forward()
            return inbox.receive(Channel.EMAIL, customer.email, "Hello", f"email:{n}").id

    return make


def _texts(en: str, es: str = "", de: str = "", title: str = "Next order") -> dict:
    return {
        "en": {"title": title, "body": en},
        "es": {"title": "", "body": es},
        "de": {"title": "", "body": de},
    }


def _render(app, key: str, case_id: int) -> str:
    with app.app_context():
        return support_settings.text(key, db.session.get(Case, case_id))


# --- the service -----------------------------------------------------------------------------------------


def test_the_defaults_are_todays_replies_in_the_customers_language(app, case_for):
    case_id = case_for("es")
    assert _render(app, "skip_done", case_id).startswith("Hola, Hana: hecho, he omitido ese pedido.")
    with app.app_context():
        assert [r.key for r in support_settings.replies()] == ["card_updated", "skip_done", "delivery_sorry"]
        assert db.session.scalar(select(func.count()).select_from(SavedReply)) == 0


def test_placeholders_are_filled_in_the_customers_language(app, case_for):
    with app.app_context():
        support_settings.save_reply(
            ADMIN,
            None,
            new_key="next_order",
            texts=_texts(
                "Hi {first_name}, your next order is on {next_order}.",
                de="Hallo {first_name}, deine nächste Bestellung kommt am {next_order}.",
            ),
            position=9,
        )
    assert _render(app, "next_order", case_for("en")) == "Hi Hana, your next order is on January 16, 2030."
    assert (
        _render(app, "next_order", case_for("de")) == "Hallo Hana, deine nächste Bestellung kommt am 16. Januar 2030."
    )
    # An empty translation falls back to the default language, whose placeholders are still filled.
    assert _render(app, "next_order", case_for("es")) == "Hi Hana, your next order is on 16 de enero de 2030."
    assert _render(app, "next_order", case_for("de", with_order=False)) == (
        "Hallo Hana, deine nächste Bestellung kommt am noch nicht geplant."
    )


def test_a_skipped_or_past_order_is_not_the_next_one(app, case_for):
    case_id = case_for("en")
    with app.app_context():
        support_settings.save_reply(ADMIN, None, new_key="when", texts=_texts("Next: {next_order}"), position=0)
        customer_id = db.session.get(Case, case_id).customer_id
        for order in db.session.scalars(select(Order).where(Order.customer_id == customer_id)):
            order.status = OrderStatus.SKIPPED
        db.session.commit()
    assert _render(app, "when", case_id) == "Next: not planned yet"


@pytest.mark.parametrize(
    "body",
    [
        "Hi {",
        "Hi }",
        "{__class__}",
        "{first_name.__class__}",
        "{0}",
        "{}",
        "{{first_name}}",
        "{ first_name }",
        "{name}",
    ],
)
def test_unknown_placeholders_and_broken_braces_are_refused_and_nothing_is_saved(app, body):
    with app.test_request_context():
        with pytest.raises(InvalidSupportSetting) as refused:
            support_settings.save_reply(ADMIN, None, new_key="hostile", texts=_texts("Fine", es=body), position=0)
        assert refused.value.field == "body_es"
        assert str(refused.value.message).startswith("Español: ")
        assert db.session.scalar(select(func.count()).select_from(SavedReply)) == 0
        assert [r.key for r in support_settings.replies()] == ["card_updated", "skip_done", "delivery_sorry"]


def test_percent_formats_are_plain_text(app, case_for):
    case_id = case_for("en")
    with app.app_context():
        support_settings.save_reply(
            ADMIN, None, new_key="percent", texts=_texts("Hi %(name)s %s %d {first_name}"), position=0
        )
    assert _render(app, "percent", case_id) == "Hi %(name)s %s %d Hana"
    # What is filled in is not read again for placeholders.
    assert support_settings.render("{first_name} {next_order}", {"first_name": "{next_order}", "next_order": "x"}) == (
        "{next_order} x"
    )


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=80))
def test_rendering_never_raises(body):
    rendered = support_settings.render(body, {"first_name": "Hana", "next_order": "soon"})
    assert isinstance(rendered, str)
    assert "{first_name}" not in rendered or "{first_name}" not in body.replace("{first_name}", "")


def test_the_first_edit_keeps_the_other_defaults_and_deleting_all_leaves_none(ctx):
    support_settings.save_reply(
        ADMIN, "skip_done", new_key="skip_done", texts=_texts("Skipped, {first_name}.", title="Skip"), position=1
    )
    replies = {r.key: r for r in support_settings.replies()}
    assert set(replies) == {"card_updated", "skip_done", "delivery_sorry"}
    assert replies["card_updated"].texts["de"]["title"] == "Karte aktualisiert, Bestellung bezahlt"
    assert replies["skip_done"].text("es") == {"title": "Skip", "body": "Skipped, {first_name}."}
    for key in list(replies):
        support_settings.delete_reply(ADMIN, key)
    assert support_settings.replies() == []
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["policy.saved_reply_saved"] + ["policy.saved_reply_deleted"] * 3


def test_business_hours_and_target_shift_the_clock(ctx):
    friday_four = datetime(2030, 1, 4, 15, 0, tzinfo=UTC)  # 16:00 in Madrid
    monday_ten = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    case = Case(channel=Channel.EMAIL, issue_type="other", subject="x", snapshot={}, created_at=friday_four)
    assert response_times.business_seconds(friday_four, monday_ten) == 2 * 3600
    assert not response_times.response_clock(case, now=monday_ten).breached
    support_settings.save_hours(ADMIN, days={0, 1, 2, 3, 4, 5}, start=8, end=20, target_hours=2)
    # Friday 16:00-20:00, Saturday 08:00-20:00, Monday 08:00-10:00.
    assert response_times.business_seconds(friday_four, monday_ten) == (4 + 12 + 2) * 3600
    assert response_times.first_response_target_hours() == 2
    assert response_times.response_clock(case, now=friday_four + timedelta(hours=3)).breached
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.support_hours_saved"))
    assert event.before["target_hours"] == 4 and event.after == {
        "days": [0, 1, 2, 3, 4, 5],
        "start": 8,
        "end": 20,
        "target_hours": 2,
    }


def test_open_until_midnight_counts_to_the_end_of_the_day(ctx):
    support_settings.save_hours(ADMIN, days=set(range(7)), start=0, end=24, target_hours=4)
    start = datetime(2030, 1, 4, 23, 0, tzinfo=UTC)  # Saturday 00:00 in Madrid
    assert response_times.business_seconds(start, start + timedelta(days=9)) == 9 * 24 * 3600


@pytest.mark.parametrize(
    "values",
    [
        {"days": set(), "start": 9, "end": 17, "target_hours": 4},
        {"days": {7}, "start": 9, "end": 17, "target_hours": 4},
        {"days": {0}, "start": 17, "end": 9, "target_hours": 4},
        {"days": {0}, "start": 9, "end": 25, "target_hours": 4},
        {"days": {0}, "start": 9, "end": 17, "target_hours": 0},
    ],
)
def test_impossible_hours_are_refused(ctx, values):
    with pytest.raises(InvalidSupportSetting):
        support_settings.save_hours(ADMIN, **values)
    db.session.rollback()
    assert support_settings.get().hours.days == frozenset(range(5))


def test_tone_guidelines_fall_back_to_the_default_language_then_the_default_wording(ctx):
    assert support_settings.tone_guidelines("de").startswith("Herzlich und schlicht.")
    support_settings.save_tone(ADMIN, {"en": "Short and kind.", "es": "", "de": "Kurz und freundlich."})
    assert support_settings.tone_guidelines("de") == "Kurz und freundlich."
    assert support_settings.tone_guidelines("es") == "Short and kind."


def test_the_queue_reads_the_hours_once(app, client, case_for):
    """Business seconds are counted per row; the hours behind them are read once per request."""
    from tests.test_query_counts import counting

    for n in range(3):
        case_for("en", with_order=bool(n % 2))
    with app.app_context():
        factories.staff(StaffRole.AGENT, "agent@staff.example")
        support_settings.save_hours(ADMIN, days={0, 1, 2, 3, 4}, start=9, end=18, target_hours=4)
    sign_in_staff(client, "agent@staff.example")
    client.get("/console/cases")
    with app.app_context(), counting() as statements:
        assert client.get("/console/cases").status_code == 200
    assert sum("merchant_policies" in statement for statement in statements) <= 1


# --- the admin pages -------------------------------------------------------------------------------------


@pytest.fixture
def admin(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "admin@staff.example")
        factories.staff(StaffRole.AGENT, "agent@staff.example")
    client = app.test_client()
    sign_in_staff(client, "admin@staff.example")
    return client


def _reply_post(page: str, prefix: str, **texts) -> dict:
    """The reply form as a browser posts it: its inputs, and its text areas as the page filled them."""
    fields = form_fields(page, prefix)
    for code in ("en", "es", "de"):
        name = f"{prefix}-body_{code}"
        found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        fields[name] = html.unescape(found.group(1)).removeprefix("\r\n").removeprefix("\n") if found else ""
    return {**fields, **texts}


def test_an_agent_may_not_edit_support_settings(app, admin):
    agent = app.test_client()
    sign_in_staff(agent, "agent@staff.example")
    token = csrf_token(agent.get("/console/password").text)
    assert agent.get("/admin/replies").status_code == 403
    assert agent.get("/admin/support-hours").status_code == 403
    assert agent.post("/admin/replies", data={"csrf_token": token, "prefix": "new"}).status_code == 403
    assert agent.post("/admin/replies/skip_done/delete", data={"csrf_token": token}).status_code == 403
    assert agent.post("/admin/replies/tone", data={"csrf_token": token}).status_code == 403


def test_the_admin_edits_a_reply_beside_the_tone_guidelines(app, admin):
    page = admin.get("/admin/replies")
    assert page.status_code == 200
    assert "Tone guidelines" in page.text and "Warm and plain." in page.text
    # Read first on a phone; CSS puts them beside the replies on a wider screen.
    assert page.text.index("Warm and plain.") < page.text.index('class="reply-form')
    data = _reply_post(
        page.text,
        "r-skip_done",
        **{
            "r-skip_done-title_en": "Skipped",
            "r-skip_done-body_en": "Done, {first_name}: skipped. Next: {next_order}.",
            "r-skip_done-body_es": "Hecho, {first_name}.",
        },
    )
    assert admin.post("/admin/replies", data=data).status_code == 302
    with app.app_context():
        reply = support_settings.reply("skip_done")
        assert reply.text("es") == {"title": "Omitido por ti", "body": "Hecho, {first_name}."}
        assert reply.text("de")["body"].startswith("Hallo {first_name}, erledigt")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.saved_reply_saved"))
        assert event.actor_type.value == "staff" and event.after["texts"]["en"]["title"] == "Skipped"


def test_a_bad_placeholder_is_a_400_with_its_reason_and_nothing_is_saved(app, admin):
    page = admin.get("/admin/replies", headers={"Accept-Language": "es"}).text
    data = _reply_post(page, "r-card_updated", **{"r-card_updated-body_de": "Hallo {vorname}"})
    refused = admin.post("/admin/replies", data=data, headers={"Accept-Language": "es"})
    assert refused.status_code == 400
    assert "«{vorname}» no es un marcador" in refused.text
    assert "Hallo {vorname}" in refused.text  # what was typed stays in the form
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedReply)) == 0
        assert db.session.scalar(select(func.count()).where(AuditEvent.action.like("policy.%"))) == 0


def test_the_admin_adds_and_deletes_a_reply(app, admin):
    page = admin.get("/admin/replies").text
    data = _reply_post(page, "new", **{"new-key": "thank you", "new-title_en": "Thanks", "new-body_en": "Thank you!"})
    refused = admin.post("/admin/replies", data=data)
    assert refused.status_code == 400 and "lowercase letters" in refused.text
    data["new-key"] = "thanks"
    assert admin.post("/admin/replies", data=data).status_code == 302
    page = admin.get("/admin/replies").text
    assert "Thank you!" in page
    assert admin.post("/admin/replies/thanks/delete", data=form_fields(page, "delete-thanks")).status_code == 302
    assert admin.post("/admin/replies/thanks/delete", data=form_fields(page, "delete-thanks")).status_code == 404
    with app.app_context():
        assert [r.key for r in support_settings.replies()] == ["card_updated", "skip_done", "delivery_sorry"]


def test_the_admin_saves_tone_guidelines(app, admin):
    fields = form_fields(admin.get("/admin/replies").text, "tone-form")
    fields.update({"tone-tone_en": "Short and kind.", "tone-tone_es": "", "tone-tone_de": "x" * 2001})
    refused = admin.post("/admin/replies/tone", data=fields)
    assert refused.status_code == 400
    fields["tone-tone_de"] = "Kurz und freundlich."
    assert admin.post("/admin/replies/tone", data=fields).status_code == 302
    assert "Kurz und freundlich." in admin.get("/admin/replies", headers={"Accept-Language": "de"}).text
    with app.app_context():
        assert support_settings.get().tone == {"en": "Short and kind.", "de": "Kurz und freundlich."}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.tone_guidelines_saved"))
        assert (event.before, event.after) == ({}, {"en": "Short and kind.", "de": "Kurz und freundlich."})


def test_the_admin_sets_business_hours_and_target(app, admin):
    page = admin.get("/admin/support-hours").text
    fields = form_fields(page, "hours-form")
    bad = {**fields, "days": ["0", "1"], "start": "18", "end": "9", "target_hours": "4"}
    refused = admin.post("/admin/support-hours", data=bad)
    assert refused.status_code == 400 and "Support must open before it closes" in refused.text
    assert admin.post("/admin/support-hours", data={**bad, "days": []}).status_code == 400
    good = {**bad, "start": "8", "end": "20", "target_hours": "6"}
    assert admin.post("/admin/support-hours", data=good).status_code == 302
    with app.app_context():
        current = support_settings.get()
        assert (current.hours, current.first_response_target_hours) == (
            support_settings.BusinessHours(frozenset({0, 1}), 8, 20),
            6,
        )
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("policy.%"))).all()
        assert actions == ["policy.support_hours_saved"]
    assert 'value="6"' in admin.get("/admin/support-hours").text


# --- the console's picker -----------------------------------------------------------------------------------


def test_the_console_picker_uses_the_merchants_reply_in_the_customers_language(app, admin, case_for):
    case_id = case_for("de")
    page = admin.get("/admin/replies").text
    data = _reply_post(
        page,
        "r-card_updated",
        **{
            "r-card_updated-title_en": "Card is fine",
            "r-card_updated-title_de": "Karte ist gut",
            "r-card_updated-body_de": "Danke, {first_name}! Bis zum {next_order}.",
        },
    )
    assert admin.post("/admin/replies", data=data).status_code == 302
    agent = app.test_client()
    sign_in_staff(agent, "agent@staff.example")
    # Titled in the agent's language; what is sent is in the customer's.
    case_page = agent.get(f"/console/cases/{case_id}").text
    assert '<option value="card_updated">Card is fine</option>' in case_page
    german_agent = agent.get(f"/console/cases/{case_id}", headers={"Accept-Language": "de"}).text
    assert '<option value="card_updated">Karte ist gut</option>' in german_agent
    fields = form_fields(case_page, "reply-form")
    sent = agent.post(f"/console/cases/{case_id}/reply", data={**fields, "saved_reply": "card_updated", "body": ""})
    assert sent.status_code == 302
    with app.app_context():
        bodies = db.session.scalars(select(CaseMessage.body)).all()
    assert "Danke, Hana! Bis zum 16. Januar 2030." in bodies


@pytest.mark.postgres
@pytest.mark.parametrize("keys", [("first", "second"), ("same", "same")])
def test_two_tabs_saving_replies_at_once_take_turns(app, keys):
    """The first edit makes the policy row and the merchant's own replies once; the same short
    name saved from two tabs is one reply, the other tab told why."""
    refused = []

    def save(key):
        try:
            support_settings.save_reply(ADMIN, None, new_key=key, texts=_texts("Hi"), position=0)
        except support_settings.InvalidSupportSetting as error:
            refused.append(error.field)

    names = iter(keys)
    run_together(app, lambda: save(next(names)), 2)
    with app.app_context():
        stored = [reply.key for reply in support_settings.replies()]
        assert sorted(stored) == sorted({*keys, *(key for key, _title, _body in support_settings.DEFAULT_REPLIES)})
    assert refused == ([] if keys[0] != keys[1] else ["key"])
