"""The console case page reads like the subscriber's pages: context formatted and translated,
attempts in words, no "You" for the customer; and no page in any language shows raw codes."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import CancelAttempt, Case, Customer, StaffRole, StaffUser, Subscription
from portal.services import credits, handoff, inbox, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, form_fields, run_action, sign_in_customer, sign_in_staff

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def case_world(app, client):
    """A Spanish-speaking subscriber who tried to move her order too far, then asked for help."""
    with app.app_context():
        customer = factories.customer("rosa@example.com", name="Rosa Ruiz", locale="es")
        sub = factories.subscription(customer, price_minor=1200, next_order_date=TODAY + timedelta(days=10))
        subscriptions.roll_forward()
        sub_id = sub.id
        agent_id = factories.staff(StaffRole.AGENT, "agent@staff.example").id
        factories.staff(StaffRole.MANAGER, "boss@staff.example")
        factories.staff(StaffRole.ADMIN, "admin@staff.example")
    sign_in_customer(app, client, "rosa@example.com")
    path = f"/subscriptions/{sub_id}/reschedule"
    refused, _ = run_action(client, path, {"new_date": (TODAY + timedelta(days=200)).isoformat()})
    assert refused.status_code == 422
    with app.test_request_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "rosa@example.com"))
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="subscription", message="x" * 9000, source_page=path
        )
        agent = db.session.get(StaffUser, agent_id)
        inbox.reply(agent, case, "We are on it")
        credits.request_credit(agent, case, 5000, "Goodwill")
        return {"case": case.id, "subscription": sub_id, "customer": customer.id}


def test_case_context_is_formatted_and_translated(app, case_world):
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    page = console.get(f"/console/cases/{case_world['case']}", headers={"Accept-Language": "en"}).text
    assert "Español" in page  # the customer's language
    assert "Tried to move the next order to Jul 26, 2030 (at the preview); refused: outside the dates" in page
    assert "Jan 17, 2030" in page and "Every 2 weeks" in page and "Active" in page
    assert "Changing my subscription" in page  # the topic, in words
    # The customer's own actions are the customer's, not "You".
    activity = page[page.index('id="activity-heading"') :]
    assert "· Customer</p>" in activity and "· You</p>" not in activity


def test_a_very_long_message_keeps_the_queue_a_table(app, case_world):
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    queue = console.get("/console/cases").text
    assert '<table class="queue">' in queue
    for column in ("Subject", "Customer", "Channel", "Topic", "Waiting", "Target", "Assignee"):
        assert f">{column}</th>" in queue


class _Text(HTMLParser):
    """The text a person reads: no markup, attributes, styles or scripts, nor what a form field holds
    for editing (a text area's words, like an input's value, are the merchant's own, placeholders too)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "textarea"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "textarea"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


RAW = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # an ISO date
    re.compile(r"\b(subscription|case|cancel|payment|auth|profile|policy|address)\.[a-z_]+\b"),  # an action code
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # a snake_case code (too_expensive, date_out_of_window)
    re.compile(r"\b\d+ (week|month)\b"),  # a stored interval
]
BARE_CODES = {
    "active",
    "paused",
    "cancelled",
    "scheduled",
    "skipped",
    "paid",
    "failed",
    "portal",
    "email",
    "new",
    "open",
}


def _raw_codes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    found = [part for part in parser.parts if part in BARE_CODES]
    for text in parser.parts:
        found += [match.group(0) for pattern in RAW for match in pattern.finditer(text)]
    return found


@pytest.mark.parametrize("locale", ["en", "es", "de"])
def test_no_page_shows_raw_codes_or_iso_dates(app, client, case_world, locale):
    with app.app_context():
        db.session.get(Customer, case_world["customer"]).locale = locale
        db.session.commit()
    case, sub = case_world["case"], case_world["subscription"]
    portal_pages = ["/", f"/subscriptions/{sub}", "/activity", "/payment", "/profile", "/cases", f"/cases/{case}"]
    staff_pages = {
        "agent@staff.example": [
            "/console/cases",
            f"/console/cases/{case}",
            f"/console/customers/{case_world['customer']}",
            f"/console/cases/{case}/subscriptions/{sub}/pause",
            f"/console/cases/{case}/subscriptions/{sub}/cancel",
        ],
        "boss@staff.example": ["/console/approvals", "/console/reports/credits"],
        "admin@staff.example": ["/admin/policies", "/admin/staff", "/admin/replies", "/admin/support-hours"],
    }
    found = {}
    for path in portal_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        found[path] = _raw_codes(response.text)
    for email, paths in staff_pages.items():
        console = app.test_client()
        sign_in_staff(console, email)
        for path in paths:
            response = console.get(path, headers={"Accept-Language": locale})
            assert response.status_code == 200, path
            assert f'lang="{locale}"' in response.text
            found[path] = _raw_codes(response.text)
    assert {path: codes for path, codes in found.items() if codes} == {}


def test_the_agent_cancels_for_the_customer_with_reason_and_end(app, case_world):
    console = app.test_client()
    sign_in_staff(console, "agent@staff.example")
    cancel = f"/console/cases/{case_world['case']}/subscriptions/{case_world['subscription']}/cancel"
    form = console.get(cancel).text
    assert "When the period already paid ends" in form and "On a date I choose" in form
    fields = {**form_fields(form, "cancel-form"), "reason": "too_expensive", "mode": "period_end"}
    preview = console.post(cancel, data=fields)
    assert preview.status_code == 200 and "What changes" in preview.text
    assert console.post(cancel, data=form_fields(preview.text, "actions-row")).status_code == 302
    with app.app_context():
        subscription = db.session.get(Subscription, case_world["subscription"])
        assert subscription.cancel_at is not None and subscription.status.value == "active"
        assert db.session.scalar(select(Case.id)) == case_world["case"]
        # "It costs too much" has a discount offer, but the customer never saw it.
        attempt = db.session.scalar(select(CancelAttempt))
        assert (attempt.reason_code, attempt.offers_shown, attempt.outcome.value) == ("too_expensive", [], "cancelled")
