"""The case page as a live chat: the agent's reply appears on the subscriber's phone and the
subscriber's answer on the agent's laptop, neither page reloading; without JavaScript the form
still posts and a reload shows the thread. axe finds no violations on either page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Customer, StaffRole
from portal.services import handoff
from portal.services.actors import Actor
from tests import factories
from tests.e2e.test_console_in_browser import LAPTOP, PHONE, _staff_page
from tests.e2e.test_portal_in_browser import assert_accessible
from tests.helpers import sign_in_url

pytestmark = pytest.mark.e2e
# Polls run every few seconds; an assertion waits for more than one round.
WAIT = 10000


@pytest.fixture
def chat_case(app):
    with app.test_request_context():
        customer = factories.customer("live@example.com", name="Lee Live")
        customer = db.session.get(Customer, customer.id)
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="delivery", message="Where is my box?", source_page=None
        )
        factories.staff(StaffRole.AGENT, "agent@live.example")
        return case.id


def _subscriber_page(browser, app, live_server, **options):
    context = browser.new_context(viewport=PHONE, locale="en-GB", **options)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(live_server + sign_in_url(app, "live@example.com"))
    page.get_by_role("button", name="Continue to my account").click()
    page.wait_for_url(f"{live_server}/")
    return context, page


def _console_errors(page) -> list[str]:
    """What the browser reports as errors (a script the CSP blocked would be one)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_messages_appear_on_both_sides_without_a_reload(app, browser, live_server, chat_case):
    customer_context, subscriber = _subscriber_page(browser, app, live_server)
    subscriber_errors = _console_errors(subscriber)
    subscriber.goto(f"{live_server}/cases/{chat_case}")
    thread = subscriber.get_by_role("list", name="Conversation")
    expect(thread.get_by_role("listitem")).to_have_count(1)
    assert_accessible(subscriber)

    agent_context, agent = _staff_page(browser, live_server, "agent@live.example", LAPTOP)
    agent_errors = _console_errors(agent)
    agent.goto(f"{live_server}/console/cases/{chat_case}")
    conversation = agent.locator(".conversation")
    assert_accessible(agent)
    # A reload would clear these.
    subscriber.evaluate("window.sameDocument = true")
    agent.evaluate("window.sameDocument = true")

    agent.get_by_label("Reply to the customer").fill("It arrives on <b>Thursday</b>.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator(".flash-region")).to_have_text("Reply sent.", timeout=WAIT)
    expect(agent.get_by_label("Reply to the customer")).to_have_value("")
    expect(conversation.get_by_role("listitem").last).to_contain_text("It arrives on <b>Thursday</b>.", timeout=WAIT)

    newest = thread.get_by_role("listitem").last
    expect(newest).to_contain_text("It arrives on <b>Thursday</b>.", timeout=WAIT)
    expect(newest).to_contain_text("Support")
    # The text stays text: nothing in it became markup.
    expect(thread.locator("b")).to_have_count(0)
    assert_accessible(subscriber)

    subscriber.get_by_label("Your reply").fill("Thursday is fine, thanks")
    subscriber.get_by_role("button", name="Send").click()
    expect(subscriber.locator(".flash-region")).to_have_text("Your message is sent.", timeout=WAIT)
    expect(thread.get_by_role("listitem").last).to_contain_text("Thursday is fine, thanks", timeout=WAIT)
    expect(subscriber.get_by_label("Your reply")).to_have_value("")
    expect(thread.get_by_role("listitem")).to_have_count(3)

    answer = conversation.get_by_role("listitem").last
    expect(answer).to_contain_text("Thursday is fine, thanks", timeout=WAIT)
    expect(answer).to_contain_text("Customer · Chat")
    expect(conversation.get_by_role("listitem")).to_have_count(3)
    assert_accessible(agent)

    assert subscriber.evaluate("window.sameDocument") and agent.evaluate("window.sameDocument")
    assert subscriber_errors == [] and agent_errors == []
    customer_context.close()
    agent_context.close()


def test_the_case_page_works_without_javascript(app, browser, live_server, chat_case):
    context, page = _subscriber_page(browser, app, live_server, java_script_enabled=False)
    page.goto(f"{live_server}/cases/{chat_case}")
    page.get_by_label("Your reply").fill("Written without scripts")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash-region")).to_have_text("Your message is sent.")
    expect(page.get_by_role("list", name="Conversation").get_by_role("listitem").last).to_contain_text(
        "Written without scripts"
    )
    context.close()
