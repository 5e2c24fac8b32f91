"""A subscriber on a phone: sign in from the email, read the dashboard; axe finds no violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.models import OrderStatus, StaffRole
from portal.services import auth, notifications
from tests import factories
from tests.billing import CARD_EXPIRY_YEAR

pytestmark = pytest.mark.e2e
axe = Axe()


def assert_accessible(page) -> None:
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()


def open_menu(page) -> None:
    """Below the stylesheet's 48rem breakpoint (a phone) the header's links fold into a menu."""
    if not page.evaluate("matchMedia('(min-width: 48rem)').matches"):
        page.locator(".nav-menu > summary").click()


@pytest.fixture
def subscriber(app):
    with app.app_context():
        customer = factories.customer("phone@example.com", name="Pat Phone")
        subscription = factories.subscription(customer)
        factories.order(subscription, status=OrderStatus.SCHEDULED)
        factories.order(
            subscription, status=OrderStatus.FAILED, scheduled_for=subscription.next_order_date.replace(year=2020)
        )
        return subscription.id


def test_sign_in_from_email_on_a_phone(app, live_server, smtp, page, subscriber):
    page.goto(f"{live_server}/login")
    assert_accessible(page)
    page.get_by_label("Email address").first.fill("phone@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url("**/login/sent")
    assert_accessible(page)

    with app.app_context():
        auth.send_requested_links()
        assert notifications.deliver_pending() == 1
    body = smtp.messages[0].get_body(("plain",)).get_content()
    link = next(line.strip() for line in body.splitlines() if "/login/t/" in line)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Continue to my account").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Pat Phone")
    expect(page.get_by_role("alert")).to_be_visible()  # the failed-payment banner
    assert_accessible(page)

    page.get_by_role("link", name="View details").click()
    page.wait_for_url(f"**/subscriptions/{subscriber}")
    assert_accessible(page)

    open_menu(page)
    assert_accessible(page)
    page.get_by_role("link", name="Password").click()
    assert_accessible(page)

    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


def test_keyboard_reaches_the_content_first(live_server, page):
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_pages_work_without_javascript(browser, live_server, subscriber):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("button", name="Anmeldelink per E-Mail senden")).to_be_visible()
    context.close()


def test_staff_pages_are_accessible(app, live_server, page):
    from portal.models import Channel
    from portal.services import inbox

    with app.app_context():
        factories.staff(StaffRole.ADMIN, "a11y@example.com")
        customer_id = factories.customer("seen@example.com").id
        case_id = inbox.receive(Channel.EMAIL, "seen@example.com", "Where is my coffee?", "email:a11y").id
    page.goto(f"{live_server}/staff/login")
    assert_accessible(page)
    page.get_by_label("Email address").fill("a11y@example.com")
    page.get_by_label("Password").fill(factories.STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/cases")
    for path in (
        "/console/?q=seen",
        f"/console/customers/{customer_id}",
        "/admin/staff",
        "/console/password",
        "/console/cases",
        f"/console/cases/{case_id}",
        "/console/approvals",
        "/console/reports/credits",
        "/admin/policies",
        "/admin/products",
        "/admin/cancellation",
        "/admin/integrations",
        "/admin/help",
        "/admin/messages",
        "/admin/catalog-changes",
        "/admin/replies",
        "/admin/support-hours",
        "/api/v1/reference",
    ):
        page.goto(live_server + path)
        assert_accessible(page)


def _subscriber_with_schedule(app, email: str) -> int:
    from datetime import date, timedelta

    from portal.services import subscriptions

    with app.app_context():
        sub = factories.subscription(factories.customer(email), next_order_date=date.today() + timedelta(days=10))
        subscriptions.roll_forward()
        return sub.id


def _sign_in(page, app, live_server, email: str) -> None:
    from tests.helpers import sign_in_url

    page.goto(live_server + sign_in_url(app, email))
    page.get_by_role("button", name="Continue to my account").click()


def _pause_one_delivery(page, live_server, sub_id: int, check=lambda page: None) -> None:
    page.goto(f"{live_server}/subscriptions/{sub_id}")
    check(page)
    page.get_by_role("link", name="Pause deliveries").click()
    check(page)
    page.get_by_label("Skip 1 delivery").check()
    page.get_by_role("button", name="See what changes").click()
    expect(page.get_by_role("heading", name="What changes")).to_be_visible()
    check(page)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Paused the subscription.")
    check(page)


def test_pause_from_a_phone_without_javascript(app, browser, live_server):
    """Form, preview and confirm are plain HTML: the whole action works with JavaScript off."""
    sub_id = _subscriber_with_schedule(app, "nojs@example.com")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10000)
    _sign_in(page, app, live_server, "nojs@example.com")
    _pause_one_delivery(page, live_server, sub_id)
    open_menu(page)
    page.get_by_role("link", name="Activity").click()
    expect(page.locator("main")).to_contain_text("Paused Roast")
    context.close()


def test_action_pages_are_accessible(app, live_server, page):
    sub_id = _subscriber_with_schedule(app, "a11y-actions@example.com")
    _sign_in(page, app, live_server, "a11y-actions@example.com")
    _pause_one_delivery(page, live_server, sub_id, check=assert_accessible)
    for path in (
        "/activity",
        "/profile",
        "/help",
        "/cases",
        f"/subscriptions/{sub_id}/address",
        f"/subscriptions/{sub_id}/swap",
        f"/subscriptions/{sub_id}/frequency",
        f"/subscriptions/{sub_id}/resume",
    ):
        page.goto(live_server + path)
        assert_accessible(page)


def test_orders_cases_and_emailed_pages_are_accessible(app, live_server, page):
    """The pages a subscriber reaches from an email or a list: orders and receipts, a resolved
    case and its survey, skipping one order, moving the next date, unsubscribing."""
    import re

    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import CaseStatus, Customer, Order, OutboxEmail, Subscription
    from portal.services import handoff, inbox, outreach, profile, subscriptions, surveys
    from portal.services.actors import Actor

    sub_id = _subscriber_with_schedule(app, "a11y-orders@example.com")
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        paid = factories.order(sub, status=OrderStatus.PAID, scheduled_for=sub.next_order_date.replace(year=2020))
        upcoming, later = db.session.scalars(
            select(Order.id)
            .where(Order.subscription_id == sub_id, Order.status == OrderStatus.SCHEDULED)
            .order_by(Order.scheduled_for)
            .limit(2)
        ).all()
        customer = db.session.get(Customer, sub.customer_id)
        # A self-serve change to rate, and an email change waiting for its link.
        subscriptions.apply(Actor.for_customer(customer), sub, "skip", sub.version, order_id=later)
        rated_event = surveys.latest_rateable_event(customer)
        profile.request_email_change(Actor.for_customer(customer), customer, "a11y-new@example.com")
        change_email = db.session.scalar(
            select(OutboxEmail.body_text).where(OutboxEmail.kind == "email_change_confirm")
        )
        email_change_path = re.search(r"(/profile/email/\S+)", change_email).group(1)
        case = handoff.open_case(
            Actor.for_customer(customer), customer, issue_type="delivery", message="Late", source_page="/"
        )
        agent = factories.staff(StaffRole.AGENT, "a11y-orders-agent@example.com")
        inbox.reply(agent, case, "Sorry, on its way.")
        inbox.set_status(agent, case, CaseStatus.RESOLVED)
        survey_email = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "survey_case"))
        survey_path = re.search(r"(/survey/[^?\s]+)", survey_email).group(1)
        unsubscribe = outreach.unsubscribe_token(customer, "order_reminder")
        case_id, paid_id = case.id, paid.id
    _sign_in(page, app, live_server, "a11y-orders@example.com")
    for path in (
        "/address",
        f"/orders/{paid_id}",
        f"/orders/{paid_id}/receipt",
        f"/cases/{case_id}",
        f"/subscriptions/{sub_id}/reschedule",
        f"/subscriptions/{sub_id}/orders/{upcoming}/skip",
        survey_path,
        f"/unsubscribe/{unsubscribe}",
        f"/feedback/{rated_event}",
        email_change_path,
    ):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert_accessible(page)


def test_cancel_flow_on_a_phone_is_accessible(app, live_server, page):
    sub_id = _subscriber_with_schedule(app, "a11y-cancel@example.com")
    _sign_in(page, app, live_server, "a11y-cancel@example.com")
    page.goto(f"{live_server}/subscriptions/{sub_id}")
    page.get_by_role("link", name="Cancel subscription").click()
    assert_accessible(page)
    page.get_by_label("I am not using it").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="No thanks, cancel").click()
    assert_accessible(page)
    page.get_by_label("Now (orders already being prepared still arrive)").check()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("heading", name="Your subscription is cancelled")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Reactivated the subscription.")


def test_update_card_through_stripe_js(app, live_server, page, localstripe):
    """The card goes from the browser to (local)stripe with Stripe.js; we only get the SetupIntent."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Customer
    from portal.services import payments

    with app.app_context():
        factories.subscription(factories.customer("card@example.com", with_card=False))
    _sign_in(page, app, live_server, "card@example.com")
    requests_to_us: list[str] = []
    page.on(
        "request",
        lambda request: (
            requests_to_us.append(request.post_data or "")
            if request.url.startswith(live_server) and request.method == "POST"
            else None
        ),
    )
    page.goto(f"{live_server}/payment")
    assert_accessible(page)
    page.get_by_placeholder("number").fill("4242424242424242")
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill(str(CARD_EXPIRY_YEAR)[2:])  # localstripe's element adds the "20"
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("28013")
    with page.expect_navigation():
        page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status").first).to_contain_text("Your new card is saved")
    expect(page.locator("main")).to_contain_text(f"ending in 4242, expires 12/{CARD_EXPIRY_YEAR}")
    assert not any("4242424242424242" in body for body in requests_to_us)
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.email == "card@example.com"))
        [card] = payments.saved_cards(customer)
        assert card.is_default and card.stripe_payment_method_id.startswith("pm_")
        assert customer.subscriptions[0].payment_method_id == card.id


def test_a_skip_link_from_an_email_on_a_phone(app, page, live_server):
    """The link's preview and its button are accessible; pressing it skips the order and lands
    signed in on the subscription; opened again it offers a fresh link."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Order, Subscription
    from portal.services import links
    from portal.services.actors import Actor

    sub_id = _subscriber_with_schedule(app, "linked@example.com")
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        order = db.session.scalar(select(Order).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for))
        _link, url = links.create(Actor.system("test"), sub.customer, "skip", order)
    page.goto(url)
    expect(page.get_by_role("heading", name="Skip this order")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/subscriptions/{sub_id}")
    expect(page.get_by_role("status")).to_contain_text("Done: Skipped an order.")
    page.goto(url)
    expect(page.get_by_role("button", name="Email me a fresh link")).to_be_visible()
    assert_accessible(page)
