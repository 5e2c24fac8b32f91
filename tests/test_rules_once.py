"""Each shared rule has one home: these tests reach it from two callers and expect one answer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Case,
    Channel,
    Customer,
    Order,
    OrderStatus,
    StaffRole,
    StaffUser,
    Subscription,
    SubscriptionStatus,
)
from portal.services import addresses, cancel_reasons, cancellation, customers, inbox, staff, subscriptions
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.passwords import MIN_LENGTH, WeakPassword
from portal.services.payments import cards
from portal.services.subscriptions import schedule
from portal.services.subscriptions.rules import (
    CANCEL_MODES,
    DISCOUNT_ORDERS_RANGE,
    DISCOUNT_PERCENT_RANGE,
    LIVE_STATUSES,
    MAX_QUANTITY,
)
from tests import factories
from tests.helpers import TODAY, csrf_token, form_fields, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def subscriber(app, client):
    with app.app_context():
        customer = factories.customer("rules@example.com", name="Rui Rules")
        sub = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        sub_id = sub.id
    sign_in_customer(app, client, "rules@example.com")
    return sub_id


def test_quantity_limit_is_the_same_for_subscriber_and_agent(app, client, subscriber):
    page = client.get(f"/subscriptions/{subscriber}/swap")
    too_many = client.post(
        f"/subscriptions/{subscriber}/swap",
        data={**form_fields(page.text, "action-form"), "quantity": str(MAX_QUANTITY + 1)},
    )
    assert too_many.status_code == 400 and f"Choose a quantity from 1 to {MAX_QUANTITY}." in too_many.text
    with app.app_context():
        factories.staff(StaffRole.AGENT, "quantity-agent@staff.example")
        customer = db.session.scalar(select(Customer).where(Customer.email == "rules@example.com"))
        case = Case(
            customer_id=customer.id,
            sender=customer.email,
            channel="portal",
            issue_type="other",
            subject="Help",
            snapshot={},
        )
        db.session.add(case)
        db.session.commit()
        case_id = case.id
    console = app.test_client()
    sign_in_staff(console, "quantity-agent@staff.example")
    swap = f"/console/cases/{case_id}/subscriptions/{subscriber}/swap"
    fields = form_fields(console.get(swap).text, "action-form")
    refused = console.post(swap, data={**fields, "quantity": str(MAX_QUANTITY + 1)})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Subscription, subscriber).items[0].quantity == 1


def test_password_minimum_holds_in_the_services_whoever_calls(app):
    with app.app_context():
        admin = factories.staff(StaffRole.ADMIN)
        with pytest.raises(WeakPassword):
            staff.create_staff(
                Actor.for_staff(admin),
                email="new@staff.example",
                name="New",
                role=StaffRole.AGENT,
                password="x" * (MIN_LENGTH - 1),
            )
        customer = factories.customer("pw-rule@example.com")
        with pytest.raises(WeakPassword):
            customers.set_password(customer, None, "short", session_token="none")
        assert db.session.get(Customer, customer.id).password_hash is None


def test_a_national_phone_number_matches_the_international_one(app, client, subscriber):
    page = client.get("/profile")
    saved = client.post(
        "/profile",
        data={"csrf_token": csrf_token(page.text), "name": "Rui Rules", "phone": "600 000 001", "locale": "en"},
    )
    assert saved.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(select(Customer.phone_normalized).where(Customer.email == "rules@example.com"))
            == "+34600000001"
        )
        from portal.models import Channel
        from portal.services import inbox

        case = inbox.receive(Channel.SMS, "+34 600 000 001", "Is my box coming?", "sms:rules-1")
        assert db.session.get(Customer, case.customer_id).email == "rules@example.com"


def test_email_addresses_match_however_they_are_written(app, subscriber):
    from portal.models import Channel
    from portal.services import auth, inbox

    with app.app_context():
        assert auth.find_customer_by_email("  RULES@Example.com ").email == "rules@example.com"
        case = inbox.receive(Channel.EMAIL, "Rules@EXAMPLE.com", "Hello", "email:rules-1", subject="Hi")
        assert case.customer_id == auth.find_customer_by_email("rules@example.com").id


def test_address_lengths_agree_between_the_form_and_the_service(app, client, subscriber):
    page = client.get(f"/subscriptions/{subscriber}/address")
    fields = {**form_fields(page.text, "address-form"), "city": "x" * 101}
    assert client.post(f"/subscriptions/{subscriber}/address", data=fields).status_code == 400
    from portal.services import addresses

    with app.app_context(), pytest.raises(addresses.InvalidAddress) as refused:
        addresses.validate(
            addresses.AddressInput(
                name="A", line1="B 1", line2="", city="x" * 101, region="", postal_code="28013", country="ES"
            )
        )
    assert set(refused.value.errors) == {"city"}


def test_what_a_status_allows_is_what_the_page_offers(app, client, subscriber):
    with app.app_context():
        sub = db.session.get(Subscription, subscriber)
        sub.status = SubscriptionStatus.CANCELLED
        db.session.commit()
    page = client.get(f"/subscriptions/{subscriber}").text
    assert "Reactivate" in page and "Pause deliveries" not in page and "Change address" not in page
    fields = form_fields(client.get(f"/subscriptions/{subscriber}/reactivate").text, "actions-row")
    assert client.post(f"/subscriptions/{subscriber}/pause", data={**fields, "length": "1"}).status_code == 422


def test_the_role_hierarchy_decides_the_console_navigation(app):
    with app.app_context():
        for role in StaffRole:
            factories.staff(role, f"{role.value}-nav@staff.example")
    seen = {}
    for role in StaffRole:
        browser = app.test_client()
        sign_in_staff(browser, f"{role.value}-nav@staff.example")
        page = browser.get("/console/").text
        seen[role] = ("/console/approvals" in page, "/admin/staff" in page)
    assert seen == {StaffRole.AGENT: (False, False), StaffRole.MANAGER: (True, False), StaffRole.ADMIN: (True, True)}


def test_the_case_page_offers_what_its_posts_accept(app, subscriber):
    """The console's choices (who a case can go to, which orders can be refunded) are the same
    for the page and for the post: what the page does not offer, the post refuses."""
    with app.app_context():
        customer = db.session.get(Subscription, subscriber).customer
        paid = factories.order(
            customer.subscriptions[0], status=OrderStatus.PAID, scheduled_for=TODAY - timedelta(days=20)
        )
        failed = factories.order(
            customer.subscriptions[0], status=OrderStatus.FAILED, scheduled_for=TODAY - timedelta(days=1)
        )
        factories.staff(StaffRole.AGENT, "console@example.com")
        gone = factories.staff(StaffRole.AGENT, "gone@example.com")
        gone.active = False
        db.session.commit()
        ids = {"paid": paid.id, "failed": failed.id, "gone": gone.id}
        case_id = inbox.receive(Channel.EMAIL, "rules@example.com", "Question", "email:context").id
    console = app.test_client()
    sign_in_staff(console, "console@example.com")
    page = console.get(f"/console/cases/{case_id}").text
    assert _option_values(page, "assign-form", "assignee") == {"0", str(console_staff_id(app))}
    assert _option_values(page, "refund-form", "order_id") == {str(ids["paid"])}

    token = csrf_token(page)
    assigned = console.post(f"/console/cases/{case_id}/assign", data={"csrf_token": token, "assignee": ids["gone"]})
    refunded = console.post(
        f"/console/cases/{case_id}/refund",
        data={"csrf_token": token, "order_id": ids["failed"], "amount": "1.00", "reason": "never came"},
    )
    # An inactive agent is no one a case can go to (404); an unpaid order is no refund choice (400).
    assert (assigned.status_code, refunded.status_code) == (404, 400)
    with app.app_context():
        assert db.session.get(Case, case_id).assignee_id is None
        assert (
            db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "payment.refunded")) == 0
        )


def console_staff_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.email == "console@example.com"))


def _option_values(html: str, form_class: str, field: str) -> set[str]:
    form = re.split(rf'class="[^"]*\b{form_class}\b', html, maxsplit=1)[1].split("</form>", 1)[0]
    select_html = form.split(f'name="{field}"', 1)[1].split("</select>", 1)[0]
    return set(re.findall(r'<option[^>]*value="([^"]*)"', select_html))


@pytest.mark.parametrize(
    ("percent", "orders", "allowed"),
    [
        (DISCOUNT_PERCENT_RANGE[1], DISCOUNT_ORDERS_RANGE[1], True),
        (DISCOUNT_PERCENT_RANGE[1] + 1, DISCOUNT_ORDERS_RANGE[0], False),
        (DISCOUNT_PERCENT_RANGE[0], DISCOUNT_ORDERS_RANGE[1] + 1, False),
    ],
)
def test_discount_bounds_are_the_same_for_the_merchant_and_the_subscription(app, subscriber, percent, orders, allowed):
    """The admin's reason offers and a discount on a subscription accept and refuse the same values."""
    offer = {"type": "discount", "percent": percent, "orders": orders}
    with app.app_context():
        admin = Actor.system("admin-test")
        sub = db.session.get(Subscription, subscriber)
        outcomes = []
        for attempt in (
            lambda: cancel_reasons.save_reason(
                admin,
                code="too_expensive",
                labels={"en": "Too expensive", "es": "Demasiado caro", "de": "Zu teuer"},
                position=0,
                enabled=True,
                offers=[offer],
            ),
            lambda: subscriptions.apply(admin, sub, "discount", sub.version, percent=percent, orders=orders),
        ):
            try:
                attempt()
            except DomainError as error:
                outcomes.append(error.code)
            else:
                outcomes.append("ok")
            db.session.expire_all()
    assert outcomes == (["ok", "ok"] if allowed else ["invalid_offer", "invalid_discount"])


def test_the_two_offer_limit_is_the_admin_form_label_and_the_service_refusal(app):
    from portal.admin.forms import cancel_reason_form

    offers = [{"type": "pause"}, {"type": "skip"}, {"type": "talk"}]
    with app.test_request_context():
        assert str(cancel_reason_form(meta={"csrf": False}).offers.label.text) == "Offers (at most 2)"
        save = {
            "code": "moving",
            "labels": {"en": "Moving", "es": "Me mudo", "de": "Umzug"},
            "position": 0,
            "enabled": True,
        }
        cancel_reasons.save_reason(Actor.system("admin-test"), **save, offers=offers[:2])
        with pytest.raises(DomainError) as refused:
            cancel_reasons.save_reason(Actor.system("admin-test"), **save, offers=offers)
    assert refused.value.code == "too_many_offers"


def test_shipped_languages_are_the_profile_choices_the_footer_and_the_reason_labels(app, client, subscriber):
    from portal.admin.forms import cancel_reason_form

    profile = client.get("/profile").text
    # Signed-in subscribers choose in their profile; everyone else in the footer.
    footer = app.test_client().get("/login").text.split('class="language-form"', 1)[1]
    for form_html in (profile, footer):
        choices = form_html.split('name="locale"', 1)[1].split("</select>", 1)[0]
        assert re.findall(r'<option[^>]*value="(\w+)"[^>]*>([^<]+)</option>', choices) == [
            ("en", "English"),
            ("es", "Español"),
            ("de", "Deutsch"),
        ]
    with app.test_request_context():
        labels = [field.name for field in cancel_reason_form(meta={"csrf": False}).label_fields]
    assert labels == ["label_en", "label_es", "label_de"]


@pytest.mark.parametrize(("typed", "minor"), [("1250", 1250), ("12.50", None)])
def test_yen_become_minor_units_alike_in_the_console_credit_and_the_admin_limit(app, monkeypatch, typed, minor):
    from werkzeug.datastructures import MultiDict

    from portal.admin.forms import PolicyForm
    from portal.console.forms import CreditForm

    monkeypatch.setitem(app.config, "MERCHANT_CURRENCY", "JPY")
    seen = []
    with app.test_request_context():
        for form, field in (
            (CreditForm(MultiDict({"amount": typed, "reason": "late"}), meta={"csrf": False}), "amount"),
            (PolicyForm(MultiDict({"agent_credit_limit": typed}), meta={"csrf": False}), "agent_credit_limit"),
        ):
            form.validate()
            seen.append(None if form[field].errors else form[field].data)
    assert seen == [minor, minor]


def test_email_links_and_the_cli_session_link_are_under_the_public_base_url(app, monkeypatch, subscriber):
    from portal.models import OutboxEmail
    from portal.services import auth

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.shop.example/account")
    with app.app_context():
        auth.request_login_link("rules@example.com", "en", Actor.system("test"))
        assert auth.send_requested_links() == 1
        body = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first().body_text
    emailed = re.search(r"https?://\S+", body).group(0)
    printed = app.test_cli_runner().invoke(args=["portal-session", "rules@example.com"]).output.strip()
    for url in (emailed, printed):
        assert re.fullmatch(r"https://portal\.shop\.example/account/login/t/[^/?\s]+(\?\S*)?", url), url


def test_two_different_emails_to_a_spanish_customer_are_both_in_spanish(app, subscriber):
    from portal.models import OutboxEmail
    from portal.services import profile

    with app.app_context():
        sub = db.session.get(Subscription, subscriber)
        sub.customer.locale = "es"
        db.session.commit()
        profile.request_email_change(Actor.for_customer(sub.customer), sub.customer, "rui.new@example.com")
        sub = db.session.get(Subscription, subscriber)
        subscriptions.apply(Actor.for_customer(sub.customer), sub, "pause", sub.version, cycles=1)
        sent = {(email.kind, email.to_address): email.locale for email in db.session.scalars(select(OutboxEmail))}
    assert sent == {
        ("email_change_notice", "rules@example.com"): "es",
        ("email_change_confirm", "rui.new@example.com"): "es",
        ("subscription_changed", "rules@example.com"): "es",
    }


def _case_for(email: str) -> int:
    """An email case from the customer, worked by console@example.com."""
    factories.staff(StaffRole.AGENT, "console@example.com")
    return inbox.receive(Channel.EMAIL, email, "Question", f"email:{email}").id


def _radio_values(html: str, form_class: str, field: str) -> list[str]:
    form = re.split(rf'class="[^"]*\b{form_class}\b', html, maxsplit=1)[1].split("</form>", 1)[0]
    return re.findall(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', form)


def test_cancel_modes_are_the_same_for_the_subscriber_and_the_agent(app, client, subscriber):
    with app.app_context():
        sub = db.session.get(Subscription, subscriber)
        # A paid period still running is what offers "when the period ends".
        factories.order(sub, status=OrderStatus.PAID, scheduled_for=TODAY - timedelta(days=3))
        expected = [mode for mode, _ends in cancellation.end_choices(db.session.get(Subscription, subscriber))]
        case_id = _case_for("rules@example.com")
    assert expected == list(CANCEL_MODES)
    reason_page = client.get(f"/subscriptions/{subscriber}/cancel")
    offers = client.post(
        f"/subscriptions/{subscriber}/cancel", data={"csrf_token": csrf_token(reason_page.text), "reason": "moving"}
    )
    offer_page = client.get(offers.location).text
    declined = client.post(
        offers.location,
        data={
            "csrf_token": csrf_token(offer_page),
            "version": form_fields(offer_page, "offer")["version"],
            "decline": "1",
        },
    )
    subscriber_modes = _radio_values(client.get(declined.location).text, "confirm-form", "mode")
    console = app.test_client()
    sign_in_staff(console, "console@example.com")
    agent_page = console.get(f"/console/cases/{case_id}/subscriptions/{subscriber}/cancel").text
    assert subscriber_modes == _radio_values(agent_page, "cancel-form", "mode") == expected
    made_up = {**form_fields(agent_page, "cancel-form"), "reason": "moving", "mode": "tomorrow"}
    refused = console.post(f"/console/cases/{case_id}/subscriptions/{subscriber}/cancel", data=made_up)
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Subscription, subscriber).status is SubscriptionStatus.ACTIVE


def test_live_means_the_same_for_an_address_change_and_the_cards(app, subscriber):
    """Active and paused subscriptions are live: a new address moves them and a card pays them."""
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "rules@example.com"))
        for status in SubscriptionStatus:
            factories.subscription(customer, status=status)
        customer = db.session.get(Customer, customer.id)
        live = {sub.id for sub in customer.subscriptions if sub.status in LIVE_STATUSES}
        new_address = addresses.AddressInput("Rui Rules", "1 New Street", "", "Sevilla", "", "41001", "ES")
        moved = {moved.subscription.id for moved in addresses.preview_address_change(customer, new_address, None).moved}
        paid_by_a_card = {sub.id for uses in cards.card_uses(customer).values() for sub in uses}
        assert moved == paid_by_a_card == live
        assert {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED} == {
            db.session.get(Subscription, sub_id).status for sub_id in live
        }


def test_an_order_is_priced_alike_in_the_preview_the_order_rows_and_the_scale_data(app, subscriber, localstripe):
    with app.app_context():
        admin = Actor.system("pricing-test")
        sub = db.session.get(Subscription, subscriber)
        sub.items[0].quantity = 3
        db.session.commit()
        impact = subscriptions.preview(admin, sub, "discount", percent=15, orders=2)
        subscriptions.apply(admin, sub, "discount", sub.version, percent=15, orders=2)
        rows = db.session.scalars(
            select(Order)
            .where(Order.subscription_id == subscriber, Order.status == OrderStatus.SCHEDULED)
            .order_by(Order.scheduled_for)
        ).all()
        previewed = [(o.scheduled_for, o.total_minor) for o in impact.orders_after if not o.skipped]
        assert previewed == [(row.scheduled_for, row.total_minor) for row in rows]
        assert [row.discount_minor for row in rows][:3] == [3 * 1200 * 15 // 100] * 2 + [0]
        for row in rows:
            assert (row.subtotal_minor, row.total_minor) == schedule.order_total(row.lines, row.discount_minor)
    assert app.test_cli_runner().invoke(args=["demo-data", "--scale", "5"]).exit_code == 0
    with app.app_context():
        loaded = db.session.scalars(select(Order).where(Order.subscription_id != subscriber)).all()
        assert loaded
        for row in loaded:
            assert (row.subtotal_minor, row.total_minor) == schedule.order_total(
                row.lines, row.discount_minor, row.shipping_minor
            )
