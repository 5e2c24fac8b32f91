"""What tests share: signing in through the real flows, reading forms as a browser would, free
ports and waiting, and the calendar the tests live in."""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import date, datetime
from datetime import time as clock_time
from html.parser import HTMLParser
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import time_machine

from portal.extensions import db
from portal.services import auth
from portal.services.actors import Actor
from tests.factories import STAFF_PASSWORD


def production_environment(database_url: str) -> dict[str, str]:
    """What production needs to start: its own secrets (none of the public defaults)."""
    return {
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": "sk_test_" + "s" * 24,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "p" * 24,
    }


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


def link_path(text: str, label: str | None = None) -> str:
    """The path of the one-action link in an email's text (the first, or the one after `label`)."""
    start = text.index(label) if label else 0
    match = re.search(r"https?://[^/\s]+(/l/\d+/[\w-]+)", text[start:])
    assert match, "no action link in the email"
    return match.group(1)


def follow_link(client, path: str):
    """Open an emailed link and press its button, as a subscriber would: the POST's response."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data=form_fields(page.text, "actions-row"))


def sign_in_staff(client, email: str, password: str = STAFF_PASSWORD):
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={
            "csrf_token": csrf_token(page.text),
            "email": email,
            "password": password,
        },
    )


class _FormFields(HTMLParser):
    """The inputs of the form with the given class, as a browser would submit them."""

    def __init__(self, form_class: str):
        super().__init__()
        self.form_class, self.inside, self.fields, self.select = form_class, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.form_class in (attrs.get("class") or "").split():
            self.inside = True
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and ("selected" in attrs or self.select not in self.fields):
            # The selected option, or else the first one, as a browser would send.
            self.fields[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_fields(html: str, form_class: str) -> dict:
    parser = _FormFields(form_class)
    parser.feed(html)
    assert parser.fields, f"no form .{form_class} on the page"
    return parser.fields


def run_action(client, path: str, data: dict | None = None):
    """Open the action, ask for the preview, confirm it. Returns (preview, confirm) responses."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    if data is None:  # actions without a form show their preview straight away
        preview = page
    else:
        fields = {**form_fields(page.text, "action-form"), **data}
        preview = client.post(path, data=fields)
        if preview.status_code != 200:
            return preview, None
    confirm = client.post(path, data=form_fields(preview.text, "actions-row"))
    return preview, confirm


# --- pages and servers --------------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    match = re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# --- the calendar -------------------------------------------------------------------------------------

TODAY = date(2030, 1, 7)
MERCHANT_TIME = clock_time(10, 0)


def at_ten(day: date) -> datetime:
    """10:00 on `day` in the merchant's timezone: the same day in UTC as in the shop."""
    return datetime.combine(day, MERCHANT_TIME, tzinfo=ZoneInfo("Europe/Madrid"))


class Calendar:
    def __init__(self, traveller):
        self.traveller = traveller

    def move_to(self, day: date) -> None:
        self.traveller.move_to(at_ten(day))


def real_year() -> int:
    """This year outside the frozen clock: card expiry dates are checked by the payment provider."""
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.datetime.datetime.now().year
    return datetime.now().year


def run_together(app, work, count: int) -> None:
    """Run `work` in `count` threads, each with its own app context, released at one instant."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                work()
            except BaseException as error:  # a worker that crashed is a failure of the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
