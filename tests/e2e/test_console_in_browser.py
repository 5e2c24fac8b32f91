"""An agent's journey on a laptop (1366 px) and the subscriber's history on a phone (390 px):
find the case, read the context, act on behalf with a preview, reply with a saved reply, give a
credit and get it approved; axe finds no violations on the way."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Customer, StaffRole, Subscription, SubscriptionStatus
from portal.services import handoff, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.e2e.test_portal_in_browser import assert_accessible, open_menu
from tests.helpers import sign_in_url

pytestmark = pytest.mark.e2e
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def handed_off(app):
    with app.test_request_context():
        customer = factories.customer("journey@example.com", name="Jo Journey", locale="es")
        sub = factories.subscription(customer, next_order_date=date.today() + timedelta(days=10))
        subscriptions.roll_forward()
        customer = db.session.get(Customer, customer.id)
        case = handoff.open_case(
            Actor.for_customer(customer),
            customer,
            issue_type="subscription",
            message="Please move my next delivery a week later. " + "x" * 20000,
            source_page=f"/subscriptions/{sub.id}",
        )
        factories.staff(StaffRole.AGENT, "agent@journey.example")
        factories.staff(StaffRole.MANAGER, "boss@journey.example")
        return {"case": case.id, "subscription": sub.id}


def _staff_page(browser, live_server, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(factories.STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/cases")
    return context, page


def test_agent_journey_on_a_laptop(app, browser, live_server, handed_off):
    context, page = _staff_page(browser, live_server, "agent@journey.example", LAPTOP)
    assert_accessible(page)
    # A 20,000-character message does not push the queue wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    page.get_by_role("link", name=re.compile(r"#\d+ Please move")).click()
    expect(page.get_by_role("heading", name="Context when the customer asked")).to_be_visible()
    expect(page.locator(".case-side")).to_contain_text("Español")
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    # The conversation and the context sit side by side.
    main_box = page.locator(".case-main").bounding_box()
    side_box = page.locator(".case-side").bounding_box()
    assert side_box["x"] > main_box["x"] + main_box["width"] - 1
    assert_accessible(page)

    page.locator("summary", has_text="Roast").click()
    page.get_by_role("link", name="Move the next order").click()
    assert_accessible(page)
    page.get_by_label("New date for your next order").fill((date.today() + timedelta(days=17)).isoformat())
    page.get_by_role("button", name="See what changes").click()
    expect(page.get_by_role("heading", name="What changes")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm for the customer").click()
    expect(page.get_by_role("status")).to_contain_text("Done for the customer")

    page.get_by_label("Saved reply").select_option(label="Skipped for you")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent.")
    expect(page.locator(".conversation")).to_contain_text("Hola, Jo")

    page.locator("summary", has_text="Credit or refund").click()
    page.get_by_label("Amount").first.fill("30.00")
    page.locator(".credit-form").get_by_label("Reason").fill("Late twice")
    page.get_by_role("button", name="Give credit").click()
    expect(page.get_by_role("status")).to_contain_text("a manager has to approve it")
    context.close()

    context, page = _staff_page(browser, live_server, "boss@journey.example", LAPTOP)
    page.goto(f"{live_server}/console/approvals")
    expect(page.locator("table.approvals")).to_contain_text("Jo Journey")
    expect(page.locator("table.approvals")).to_contain_text("Late twice")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.locator("table.approvals")).to_contain_text("Nothing is waiting.")
    page.goto(f"{live_server}/console/cases/{handed_off['case']}")
    expect(page.locator(".conversation")).to_contain_text("approved by manager person")
    context.close()


def test_cancelling_on_behalf_chooses_the_reason_and_the_end_with_a_preview(app, browser, live_server, handed_off):
    context, page = _staff_page(browser, live_server, "agent@journey.example", PHONE)
    page.goto(f"{live_server}/console/cases/{handed_off['case']}")
    page.locator("summary", has_text="Roast").click()
    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_role("heading", name="Cancel subscription")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.get_by_role("button", name="See what changes").click()
    expect(page.locator(".cancel-form")).to_contain_text("Choose")  # no end chosen: asked, nothing done
    assert_accessible(page)
    page.get_by_label("Reason the customer gave").select_option(index=1)
    page.get_by_label(re.compile("^Now")).check()
    page.get_by_role("button", name="See what changes").click()
    expect(page.get_by_role("heading", name="What changes")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm for the customer").click()
    expect(page.get_by_role("status")).to_contain_text("Done for the customer")
    with app.app_context():
        sub = db.session.get(Subscription, handed_off["subscription"])
        assert sub.status is SubscriptionStatus.CANCELLED
    context.close()


def test_case_page_and_history_on_a_phone(app, browser, live_server, handed_off):
    context, page = _staff_page(browser, live_server, "agent@journey.example", PHONE)
    page.goto(f"{live_server}/console/cases/{handed_off['case']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    context.close()

    context = browser.new_context(viewport=PHONE, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(live_server + sign_in_url(app, "journey@example.com"))
    page.get_by_role("button").first.click()
    page.wait_for_url(f"{live_server}/")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < PHONE["height"] * 0.15
    open_menu(page)
    page.get_by_role("link", name="Actividad").click()
    expect(page.locator("main")).to_contain_text("Pidió hablar con una persona")
    assert_accessible(page)
    context.close()
