"""Server-side sessions: sign-out, password and role changes end them for real."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import StaffRole, UserSession
from tests import factories
from tests.helpers import csrf_token, sign_in_customer, sign_in_staff


def _copy_cookies(source, target) -> None:
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _sessions(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(UserSession)
        for column, value in where.items():
            query = query.where(getattr(UserSession, column) == value)
        return db.session.scalar(query)


def test_logout_makes_a_copied_cookie_useless(app, client):
    with app.app_context():
        factories.customer("leaver@example.com")
    sign_in_customer(app, client, "leaver@example.com")
    stolen = app.test_client()
    _copy_cookies(client, stolen)
    assert stolen.get("/").status_code == 200
    page = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert _sessions(app) == 0
    assert client.get("/").status_code == 302
    assert stolen.get("/").status_code == 302


def test_logout_needs_csrf(app, client):
    with app.app_context():
        factories.customer("stay@example.com")
    sign_in_customer(app, client, "stay@example.com")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_password_change_signs_out_other_browsers_only(app):
    with app.app_context():
        member = factories.staff(StaffRole.AGENT, "pwchange@example.com")
        member_id = member.id
    laptop, phone = app.test_client(), app.test_client()
    sign_in_staff(laptop, "pwchange@example.com")
    sign_in_staff(phone, "pwchange@example.com")
    assert _sessions(app, staff_user_id=member_id) == 2
    page = laptop.get("/console/password")
    response = laptop.post(
        "/console/password",
        data={
            "csrf_token": csrf_token(page.text),
            "current_password": factories.STAFF_PASSWORD,
            "new_password": "an entirely new secret",
            "confirm_password": "an entirely new secret",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/console/").status_code == 200
    assert phone.get("/console/").status_code == 302
    assert _sessions(app, staff_user_id=member_id) == 1
    assert sign_in_staff(app.test_client(), "pwchange@example.com").status_code == 400
    assert sign_in_staff(app.test_client(), "pwchange@example.com", "an entirely new secret").status_code == 302


def test_wrong_current_password_changes_nothing(app, client):
    with app.app_context():
        factories.staff(StaffRole.AGENT, "careful@example.com")
    sign_in_staff(client, "careful@example.com")
    page = client.get("/console/password")
    response = client.post(
        "/console/password",
        data={
            "csrf_token": csrf_token(page.text),
            "current_password": "guess",
            "new_password": "an entirely new secret",
            "confirm_password": "an entirely new secret",
        },
    )
    assert response.status_code == 400
    assert sign_in_staff(app.test_client(), "careful@example.com").status_code == 302


def test_role_change_ends_that_members_sessions(app):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "boss@example.com")
        member = factories.staff(StaffRole.MANAGER, "demoted@example.com")
        member_id = member.id
    admin, demoted = app.test_client(), app.test_client()
    sign_in_staff(admin, "boss@example.com")
    sign_in_staff(demoted, "demoted@example.com")
    assert demoted.get("/console/").status_code == 200
    page = admin.get("/admin/staff")
    response = admin.post(
        f"/admin/staff/{member_id}/role",
        data={
            f"m{member_id}-csrf_token": csrf_token(page.text),
            f"m{member_id}-role": "agent",
        },
    )
    assert response.status_code == 302
    assert demoted.get("/console/").status_code == 302
    assert admin.get("/console/").status_code == 200
    with app.app_context():
        assert db.session.get(factories.StaffUser, member_id).role is StaffRole.AGENT


def test_last_admin_cannot_be_demoted(app, client):
    with app.app_context():
        only = factories.staff(StaffRole.ADMIN, "only@example.com")
        only_id = only.id
    sign_in_staff(client, "only@example.com")
    page = client.get("/admin/staff")
    response = client.post(
        f"/admin/staff/{only_id}/role",
        data={
            f"m{only_id}-csrf_token": csrf_token(page.text),
            f"m{only_id}-role": "agent",
        },
    )
    assert response.status_code == 409
    assert "last active admin" in response.text
    with app.app_context():
        assert db.session.get(factories.StaffUser, only_id).role is StaffRole.ADMIN


def test_bad_role_value_is_a_400(app, client):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "chief@example.com")
        other = factories.staff(StaffRole.AGENT)
        other_id = other.id
    sign_in_staff(client, "chief@example.com")
    page = client.get("/admin/staff")
    response = client.post(
        f"/admin/staff/{other_id}/role",
        data={
            f"m{other_id}-csrf_token": csrf_token(page.text),
            f"m{other_id}-role": "emperor",
        },
    )
    assert response.status_code == 400


def test_admin_adds_staff_member(app, client):
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "hiring@example.com")
    sign_in_staff(client, "hiring@example.com")
    page = client.get("/admin/staff")
    data = {
        "csrf_token": csrf_token(page.text),
        "name": "New Agent",
        "email": "New@Example.com",
        "role": "agent",
        "password": "a proper password",
    }
    assert client.post("/admin/staff", data=data).status_code == 302
    assert sign_in_staff(app.test_client(), "new@example.com", "a proper password").status_code == 302
    again = client.post("/admin/staff", data=data)
    assert again.status_code == 409
    assert "already exists" in again.text


def test_expired_session_is_signed_out(app, client):
    from datetime import timedelta

    from portal.models import utcnow

    with app.app_context():
        factories.customer("expiring@example.com")
    sign_in_customer(app, client, "expiring@example.com")
    assert client.get("/").status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(UserSession))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/").status_code == 302


def _set_password(client, **fields):
    page = client.get("/password")
    return client.post("/password", data={"csrf_token": csrf_token(page.text), **fields})


def test_subscriber_sets_a_password_and_other_browsers_sign_out(app):
    with app.app_context():
        factories.customer("optional@example.com")
    phone, laptop = app.test_client(), app.test_client()
    sign_in_customer(app, phone, "optional@example.com")
    sign_in_customer(app, laptop, "optional@example.com")
    short = _set_password(phone, new_password="short", confirm_password="short")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    done = _set_password(phone, new_password="my own passphrase", confirm_password="my own passphrase")
    assert done.status_code == 302
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302
    # A password now exists, so changing it needs the current one.
    wrong = _set_password(
        phone, current_password="nope", new_password="another passphrase", confirm_password="another passphrase"
    )
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    fresh = app.test_client()
    page = fresh.get("/login")
    signed_in = fresh.post(
        "/login/password",
        data={
            "pw-csrf_token": csrf_token(page.text),
            "pw-email": "optional@example.com",
            "pw-password": "my own passphrase",
        },
    )
    assert signed_in.status_code == 302
