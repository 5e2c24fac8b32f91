"""Help before handoff: answers where a question is likely, each showing recorded with its outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import HelpAnswer, HelpAnswerView, StaffRole, Subscription
from portal.services import help_answers, policy, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def shop(app):
    with app.app_context():
        help_answers.load_defaults()
        db.session.commit()
        customer = factories.customer("helped@example.com", locale="es")
        sub = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        return sub.id


@pytest.fixture
def signed_in(app, client, shop):
    sign_in_customer(app, client, "helped@example.com")
    return client


def _views(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(HelpAnswer.texts, HelpAnswerView.place).join(HelpAnswer).order_by(HelpAnswerView.id)
        ).all()
        return [(texts["en"]["title"], place) for texts, place in rows]


def test_help_page_shows_answers_before_the_form_in_the_subscribers_language(app, signed_in):
    page = signed_in.get("/help?topic=payment").text
    assert "Mi pago ha fallado. ¿Y ahora qué?" in page
    assert page.index("Mi pago ha fallado") < page.index('class="card narrow help-form"')
    assert _views(app) == [("My payment failed. What now?", "help")]


def test_answers_can_be_searched(app, signed_in):
    found = signed_in.get("/help?q=dirección").text
    assert "¿Cómo cambio mi dirección o mi correo?" in found
    nothing = signed_in.get("/help?q=zzzz").text
    assert "Ninguna respuesta coincide con «zzzz»" in nothing


def test_the_answer_for_a_refusal_shows_beside_it(app, signed_in, shop):
    with app.app_context():
        policy.update(Actor.system("test"), max_consecutive_skips=0)
    with app.app_context():
        order_id = subscriptions.next_skippable(db.session.get(Subscription, shop)).id
    refused = signed_in.get(f"/subscriptions/{shop}/orders/{order_id}/skip")  # the preview is refused
    assert refused.status_code == 422
    assert "Quiero saltarme más pedidos de los que puedo" in refused.text
    assert _views(app) == [("I want to skip more orders than I can", "refusal")]


def test_the_cancel_flow_shows_answers_first(app, signed_in, shop):
    page = signed_in.get(f"/subscriptions/{shop}/cancel").text
    assert "¿Puedo parar un tiempo en lugar de cancelar?" in page
    assert _views(app) == [("Can I stop for a while instead of cancelling?", "cancel")]


def test_deflection_counts_who_still_asked_for_a_person(app, signed_in, calendar):
    signed_in.get("/help?topic=payment")
    fields = form_fields(signed_in.get("/help?topic=payment").text, "help-form")
    signed_in.post("/help", data={**fields, "topic": "payment", "message": "It still fails"})
    calendar.move_to(TODAY + timedelta(days=3))
    sign_in_customer(app, signed_in, "helped@example.com")
    signed_in.get("/help?topic=payment")
    with app.app_context():
        [figures] = [f for f in help_answers.all_answers() if f.shown]
        assert (figures.shown, figures.handed_off) == (3, 2)
        assert figures.deflection_rate == pytest.approx(1 / 3)


def test_merchant_edits_answers_in_every_language(app, shop):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "helpdesk@example.com")
    admin = app.test_client()
    sign_in_staff(admin, "helpdesk@example.com")
    page = admin.get("/admin/help")
    assert page.status_code == 200 and "My payment failed. What now?" in page.text
    new = {
        "csrf_token": csrf_token(page.text),
        "prefix": "new",
        "new-topic": "delivery",
        "new-position": "0",
        "new-enabled": "y",
        "new-refusal_codes": "",
        "new-title_en": "Where is my box?",
        "new-body_en": "Track it from the email we sent.",
        "new-title_es": "",
        "new-body_es": "",
        "new-title_de": "Wo ist mein Paket?",
        "new-body_de": "Verfolge es über unsere E-Mail.",
    }
    refused = admin.post("/admin/help", data=new)
    assert refused.status_code == 400 and "in every language" in refused.text
    saved = admin.post(
        "/admin/help",
        data={**new, "new-title_es": "¿Dónde está mi caja?", "new-body_es": "Síguela desde nuestro correo."},
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HelpAnswer)) == len(help_answers.DEFAULT_ANSWERS) + 1
    assert admin.post("/admin/help", data={**new, "prefix": "a99999999999"}).status_code == 404
