"""Signing in through the real flows, as a browser would."""
from __future__ import annotations

from urllib.parse import urlsplit

from portal.services import auth
from portal.services.actors import Actor
from tests.conftest import csrf_token
from tests.factories import STAFF_PASSWORD


def sign_in_url(app, email: str, next_path: str | None = None) -> str:
    with app.app_context():
        customer = auth.find_customer_by_email(email)
        url = auth.create_portal_session_url(customer, Actor.system("test"), next_path)
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_customer(app, client, email: str) -> None:
    path = sign_in_url(app, email)
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text


def sign_in_staff(client, email: str, password: str = STAFF_PASSWORD):
    page = client.get("/staff/login")
    return client.post("/staff/login", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password,
    })
