"""Shipped catalogues are complete; language comes from the customer, then the browser."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.formatting import local_date, money
from tests import factories
from tests.helpers import csrf_token, sign_in_customer

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Extract from the source now, so a string added without a translation is caught."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def _catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_extraction_reads_code_templates_and_emails(extracted):
    assert {
        "Pause deliveries",
        "Skip to content",
        "Your sign-in link for %(merchant)s",
        ("Every week", "Every %(num)d weeks"),
    } <= extracted


@pytest.mark.parametrize("locale", ["en", "es", "de"])
def test_catalogue_holds_exactly_the_strings_in_use(extracted, locale):
    present = {message.id for message in _catalogue(locale) if message.id}
    assert sorted(map(str, extracted - present)) == [], "strings without a catalogue entry"
    assert sorted(map(str, present - extracted)) == [], "catalogue entries no longer in use"


@pytest.mark.parametrize("locale", ["es", "de"])
def test_catalogue_is_translated(extracted, locale):
    untranslated = []
    for message in _catalogue(locale):
        if not message.id or message.id not in extracted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
    assert untranslated == []


def test_customer_locale_wins_over_browser(app, client):
    with app.app_context():
        factories.subscription(factories.customer("erin@example.com", locale="es"))
    sign_in_customer(app, client, "erin@example.com")
    page = client.get("/", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in page.text
    assert "Suscripciones" in page.text


def test_browser_language_for_visitors(client):
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in page.text
    assert "Anmeldelink per E-Mail senden" in page.text
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).text


def test_visitor_can_choose_a_language(client):

    page = client.get("/login")
    response = client.post("/language", data={"csrf_token": csrf_token(page.text), "locale": "es", "next": "/login"})
    assert response.status_code == 302 and response.location == "/login"
    assert "Envíame un enlace de acceso" in client.get("/login").text
    client.post("/language", data={"csrf_token": csrf_token(page.text), "locale": "xx", "next": "https://evil.example"})
    assert '<html lang="es">' in client.get("/login").text


def test_money_and_dates_follow_the_locale(app):
    with app.test_request_context():
        with force_locale("de"):
            assert money(123456, "EUR") == "1.234,56\xa0€"
            assert local_date(date(2026, 3, 5)) == "05.03.2026"
        with force_locale("en"):
            assert money(1200, "USD") == "$12.00"
            assert money(500, "JPY") == "¥500"  # no minor unit
            assert local_date(date(2026, 3, 5)) == "Mar 5, 2026"
        with force_locale("es"):
            assert money(1200, "EUR") == "12,00\xa0€"


def test_datetimes_are_shown_in_the_merchant_timezone(app):
    from datetime import datetime

    with app.test_request_context(), force_locale("en"):
        # 23:30 UTC on 31 Dec is already 1 Jan in Madrid.
        shown = local_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "short")
        assert shown.startswith("1/1/27")
