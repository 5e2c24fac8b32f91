"""Shipping address, profile, email change, merchant policies and the development mail page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Customer, OutboxEmail, StaffRole, Subscription
from portal.services import policy, subscriptions
from tests import factories
from tests.helpers import csrf_token, form_fields, production_environment, sign_in_customer, sign_in_staff

ADDRESS = {
    "name": "Ana Ruiz",
    "line1": "Calle Luna 5",
    "line2": "",
    "postal_code": "41001",
    "city": "Sevilla",
    "region": "",
    "country": "ES",
}


@pytest.fixture
def two_subs(app, client):
    with app.app_context():
        customer = factories.customer("home@example.com")
        ids = [factories.subscription(customer).id, factories.subscription(customer).id]
    sign_in_customer(app, client, "home@example.com")
    return ids


def _preview_address(client, path, **overrides):
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(page.text), **ADDRESS, **overrides})


def _post_address(client, path, **overrides):
    """Enter the address, then confirm what the preview carried over."""
    preview = _preview_address(client, path, **overrides)
    if preview.status_code != 200:
        return preview
    return client.post(path, data={**form_fields(preview.text, "address-confirm"), "confirm": "1"})


def _addresses(app, ids):
    with app.app_context():
        return [db.session.get(Subscription, i).shipping_address.line1 for i in ids]


def test_address_for_one_subscription(app, client, two_subs):
    first, second = two_subs
    response = _post_address(client, f"/subscriptions/{first}/address")
    assert response.status_code == 302
    assert _addresses(app, two_subs) == ["Calle Luna 5", _addresses(app, [second])[0]]
    assert _addresses(app, [second])[0] != "Calle Luna 5"
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "address_changed"))
        assert "Calle Luna 5" in email.body_text and "Spain" in email.body_text


def test_address_for_all_subscriptions(app, client, two_subs):
    assert _post_address(client, f"/subscriptions/{two_subs[0]}/address", apply_to_all="y").status_code == 302
    assert _addresses(app, two_subs) == ["Calle Luna 5", "Calle Luna 5"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subscription.address")).all()
        assert sorted(e.subject_id for e in events) == sorted(two_subs)


@pytest.mark.parametrize(
    "overrides, field_message",
    [
        ({"postal_code": "4100"}, "e.g. 28013"),
        ({"country": "DE", "postal_code": "ABCDE"}, "e.g. 10115"),
        ({"country": "US", "postal_code": "94103", "region": ""}, "Enter the state."),
        ({"line1": "  "}, "Enter the street and number."),
        ({"country": "JP"}, "Not a valid choice"),
    ],
)
def test_address_is_validated_per_country(app, client, two_subs, overrides, field_message):
    before = _addresses(app, two_subs)
    response = _post_address(client, f"/subscriptions/{two_subs[0]}/address", **overrides)
    assert response.status_code == 400
    assert field_message in response.text
    assert 'aria-invalid="true"' in response.text
    assert _addresses(app, two_subs) == before


def test_postal_codes_are_normalised(app, client):
    with app.app_context():
        sub_id = factories.subscription(factories.customer("uk@example.com")).id
    sign_in_customer(app, client, "uk@example.com")
    response = _post_address(
        client, f"/subscriptions/{sub_id}/address", country="GB", postal_code="sw1a 1aa", city="  London "
    )
    assert response.status_code == 302
    with app.app_context():
        address = db.session.get(Subscription, sub_id).shipping_address
        assert (address.postal_code, address.city) == ("SW1A 1AA", "London")


def test_same_address_twice_applies_once(app, client, two_subs):
    assert _post_address(client, f"/subscriptions/{two_subs[0]}/address").status_code == 302
    again = _post_address(client, f"/subscriptions/{two_subs[0]}/address")
    assert again.status_code == 409 and "already the shipping address" in again.text
    with app.app_context():
        assert len(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "address_changed")).all()) == 1


def test_address_preview_changes_nothing_until_confirmed(app, client, two_subs):
    before = _addresses(app, two_subs)
    path = f"/subscriptions/{two_subs[0]}/address"
    preview = _preview_address(client, path, apply_to_all="y")
    assert preview.status_code == 200
    assert "Check the new address" in preview.text and "Calle Luna 5" in preview.text
    assert preview.text.count('class="changed"') == 2  # both subscriptions move
    assert _addresses(app, two_subs) == before
    with app.app_context():
        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subscription.address")).all()
        assert not db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "address_changed")).all()
    carried = form_fields(preview.text, "address-confirm")
    back = client.post(path, data={**carried, "back": "1"})
    assert back.status_code == 200 and 'value="Calle Luna 5"' in back.text
    assert _addresses(app, two_subs) == before
    assert client.post(path, data={**carried, "confirm": "1"}).status_code == 302
    assert client.post(path, data={**carried, "confirm": "1"}).status_code == 409  # the resubmit applies once
    assert _addresses(app, two_subs) == ["Calle Luna 5", "Calle Luna 5"]
    with app.app_context():
        assert len(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "address_changed")).all()) == 1


@pytest.mark.parametrize(
    "overrides",
    [{"line1": "x" * 500}, {"country": "<script>"}, {"postal_code": "' OR 1=1 --"}, {"name": ""}],
)
def test_hostile_address_is_refused_at_the_preview(app, client, two_subs, overrides):
    path = f"/subscriptions/{two_subs[0]}/address"
    response = _preview_address(client, path, **overrides)
    assert response.status_code == 400 and "Check the new address" not in response.text
    hostile_confirm = client.post(
        path, data={"csrf_token": csrf_token(client.get(path).text), **ADDRESS, **overrides, "confirm": "1"}
    )
    assert hostile_confirm.status_code == 400
    assert "Calle Luna 5" not in _addresses(app, two_subs)


def test_profile_update(app, client, two_subs):
    page = client.get("/profile")
    data = {"csrf_token": csrf_token(page.text), "name": "  Home  Owner ", "phone": "+34 600 111 222", "locale": "de"}
    assert client.post("/profile", data=data).status_code == 302
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "home@example.com"))
        assert (customer.name, customer.phone, customer.locale) == ("Home Owner", "+34 600 111 222", "de")
    assert "Meine Abos" in client.get("/").text  # the new language applies at once
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "profile_updated"))
        assert email.subject == "Deine Daten wurden geändert" and "Home Owner" in email.body_text
    bad = client.post("/profile", data={**data, "phone": "call me"})
    assert bad.status_code == 400


def test_email_change_needs_the_link_from_the_new_address(app, client, two_subs):
    page = client.get("/profile")
    token = csrf_token(page.text)
    assert (
        client.post("/profile/email", data={"email-csrf_token": token, "email-email": "New@Example.com"}).status_code
        == 302
    )
    with app.app_context():
        mails = {m.kind: m for m in db.session.scalars(select(OutboxEmail))}
        assert mails["email_change_confirm"].to_address == "new@example.com"
        assert mails["email_change_notice"].to_address == "home@example.com"
        link = next(line for line in mails["email_change_confirm"].body_text.splitlines() if "/profile/email/" in line)
        assert db.session.scalar(
            select(Customer.email).where(Customer.name == "Test Customer", Customer.email.like("home%"))
        )
    path = link.strip().replace(app.config["PUBLIC_BASE_URL"], "")
    confirm_page = client.get(path)
    assert confirm_page.status_code == 200 and "new@example.com" in confirm_page.text
    with app.app_context():
        assert db.session.scalar(select(Customer).where(Customer.email == "home@example.com")) is not None
    assert client.post(path, data={"csrf_token": csrf_token(confirm_page.text)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Customer).where(Customer.email == "new@example.com")) is not None
    assert client.get(path).status_code == 400  # used up


def test_sign_in_links_cannot_change_email_and_back(app, client, two_subs):
    from tests.helpers import sign_in_url

    sign_in_path = sign_in_url(app, "home@example.com")
    token = sign_in_path.rsplit("/", 1)[1]
    assert client.get(f"/profile/email/{token}").status_code == 400


def test_admin_edits_policies_and_they_apply(app, fixed_today):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "owner@example.com")
        factories.staff(StaffRole.MANAGER, "mgr@example.com")
        sub_id = factories.subscription(factories.customer("ruled@example.com"), next_order_date=date(2030, 1, 17)).id
        subscriptions.roll_forward()
    admin = app.test_client()
    sign_in_staff(admin, "owner@example.com")
    page = admin.get("/admin/policies")
    assert 'value="1w, 2w, 4w, 6w, 1m"' in page.text
    fields = form_fields(page.text, "narrow")
    bad = admin.post("/admin/policies", data={**fields, "allowed_intervals": "2w, fortnightly"})
    assert bad.status_code == 400 and "is not a frequency" in bad.text
    ok = admin.post("/admin/policies", data={**fields, "max_consecutive_skips": "0", "order_cutoff_days": "12"})
    assert ok.status_code == 302
    with app.app_context():
        assert policy.get().max_consecutive_skips == 0
    manager = app.test_client()
    sign_in_staff(manager, "mgr@example.com")
    assert manager.get("/admin/policies").status_code == 403

    customer = app.test_client()
    sign_in_customer(app, customer, "ruled@example.com")
    with app.app_context():
        from portal.models import Order

        first = db.session.scalar(select(Order.id).where(Order.scheduled_for == date(2030, 1, 17)))
        later = db.session.scalar(select(Order.id).where(Order.scheduled_for == date(2030, 1, 31)))
    locked = customer.get(f"/subscriptions/{sub_id}/orders/{first}/skip")
    assert locked.status_code == 422 and "already being prepared" in locked.text  # 12-day cut-off
    no_skips = customer.get(f"/subscriptions/{sub_id}/orders/{later}/skip")
    assert no_skips.status_code == 422 and "at most 0 orders in a row" in no_skips.text


def test_admin_sets_swap_targets(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "cat@example.com")
        first, second = factories.variant().product, factories.variant().product
        first_id, second_id = first.id, second.id
    admin = app.test_client()
    sign_in_staff(admin, "cat@example.com")
    page = admin.get("/admin/products")
    response = admin.post(
        f"/admin/products/{first_id}/swaps",
        data={f"p{first_id}-csrf_token": csrf_token(page.text), f"p{first_id}-targets": [str(second_id)]},
    )
    assert response.status_code == 302
    with app.app_context():
        assert policy.swap_targets(first_id) == {first_id, second_id}
    bad = admin.post(
        f"/admin/products/{first_id}/swaps",
        data={f"p{first_id}-csrf_token": csrf_token(page.text), f"p{first_id}-targets": ["99999"]},
    )
    assert bad.status_code == 400


def test_dev_mail_page_only_when_enabled(app, database_url):
    assert app.test_client().get("/dev/mail").status_code == 404
    dev = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, DEV_MAIL_PAGE=True)
    with dev.app_context():
        factories.customer("mail@example.com")
        from portal.services import auth
        from portal.services.actors import Actor

        auth.request_login_link("mail@example.com", "en", Actor.system("test"))
        auth.send_requested_links()  # what the worker does
        email_id = db.session.scalar(select(OutboxEmail.id))
    client = dev.test_client()
    listing = client.get("/dev/mail")
    assert listing.status_code == 200 and "mail@example.com" in listing.text
    message = client.get(f"/dev/mail/{email_id}")
    assert '<a href="http://localhost/login/t/' in message.text


def test_production_has_no_dev_mail_page(monkeypatch, database_url):
    for name, value in production_environment(database_url).items():
        monkeypatch.setenv(name, value)
    production = create_app("production")
    assert "dev.mail" not in production.view_functions
