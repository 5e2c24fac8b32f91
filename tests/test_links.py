"""One-action links: scope, expiry, GET and HEAD never acting, one use, revocation, and fresh
copies in the owner's language that lead to the same action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    ActionLink,
    ActorType,
    AuditEvent,
    Customer,
    LinkRequest,
    Order,
    OrderStatus,
    OutboxEmail,
    StaffRole,
    Subscription,
    SubscriptionStatus,
)
from portal.services import actions, auth, links, policy, subscriptions
from portal.services.actors import Actor
from tests import factories
from tests.helpers import TODAY, csrf_token, follow_link, form_fields, link_path, sign_in_staff, sign_in_url

pytestmark = pytest.mark.usefixtures("fixed_today")
MERCHANT = Actor.system("test")


@pytest.fixture
def shop(app):
    """Two customers with a fortnightly subscription each, next order ten days away."""
    with app.app_context():
        ids = {}
        for email, locale in (("ana@example.com", "es"), ("ben@example.com", "en")):
            customer = factories.customer(email, locale=locale)
            ids[email] = factories.subscription(customer, next_order_date=TODAY + timedelta(days=10)).id
        subscriptions.roll_forward()
        return ids


def _orders(sub_id: int) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.subscription_id == sub_id).order_by(Order.scheduled_for)))


def _link(app, email: str, action: str, subject: str | None = "first order", **options) -> str:
    """A link's path for the customer with `email`; subject is "first order" or "subscription"."""
    with app.app_context():
        customer = auth.find_customer_by_email(email)
        subscription = db.session.scalar(select(Subscription).where(Subscription.customer_id == customer.id))
        target = {"first order": lambda: _orders(subscription.id)[0], "subscription": lambda: subscription}
        _made, url = links.create(MERCHANT, customer, action, target[subject]() if subject else None, **options)
    return url.removeprefix("http://localhost")


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_skip_link_previews_on_get_and_head_and_acts_only_on_post(app, client, shop):
    path = _link(app, "ben@example.com", "skip")
    for _ in range(3):
        assert client.head(path).status_code == 200
        page = client.get(path)
        assert page.status_code == 200 and "What changes" in page.text and "Confirm" in page.text
    with app.app_context():
        assert _orders(shop["ben@example.com"])[0].status is OrderStatus.SCHEDULED
        assert _count(AuditEvent, AuditEvent.action.like("subscription.%")) == 0
        assert db.session.scalar(select(ActionLink.used_at)) is None

    done = client.post(path, data=form_fields(page.text, "actions-row"))
    assert done.status_code == 302 and done.location == f"/subscriptions/{shop['ben@example.com']}"
    # The browser is signed in as the link's owner and lands on what changed.
    assert "Skipped" in client.get(done.location).text
    with app.app_context():
        first, second = _orders(shop["ben@example.com"])[:2]
        assert first.status is OrderStatus.SKIPPED and second.status is OrderStatus.SCHEDULED
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.skip"))
        assert event.actor_type is ActorType.LINK and event.customer_id == first.customer_id
        assert _count(OutboxEmail, OutboxEmail.kind == "subscription_changed") == 1
    # Once: the same link again is the page that offers a fresh copy.
    again = client.post(path, data={"csrf_token": csrf_token(page.text), "version": "0"})
    assert again.status_code == 410 and "Email me a fresh link" in again.text
    assert client.get(path).status_code == 410


def test_a_link_is_scoped_to_its_customer_and_subject(app, shop):
    with app.app_context():
        ana = auth.find_customer_by_email("ana@example.com")
        ben_sub = db.session.get(Subscription, shop["ben@example.com"])
        ana_sub = db.session.get(Subscription, shop["ana@example.com"])
        for action, subject in (
            ("skip", _orders(ben_sub.id)[0]),  # another customer's order
            ("pause", ben_sub),  # another customer's subscription
            ("skip", ana_sub),  # an order action needs an order
            ("pause", _orders(ana_sub.id)[0]),
            ("pause", None),
            ("update_card", ana_sub),
            ("delete_everything", None),
        ):
            with pytest.raises(links.InvalidLinkRequest):
                links.create(MERCHANT, ana, action, subject)
        with pytest.raises(links.InvalidLinkRequest):
            links.create(MERCHANT, ana, "sign_in", next_path="https://evil.example/")
        with pytest.raises(links.InvalidLinkRequest):
            links.create(MERCHANT, ana, "pause", ana_sub, params={"cycles": 40})
        assert _count(ActionLink) == 0


def test_the_secret_and_the_id_must_both_match(app, client, shop):
    path = _link(app, "ben@example.com", "skip")
    link_id, secret = path.split("/")[2:4]
    tampered = f"/l/{link_id}/{secret[:-2]}xx"
    other_id = f"/l/{int(link_id) + 1}/{secret}"
    for wrong in (tampered, other_id, "/l/99999999/nothing", "/l/99999999999999/x"):
        page = client.get(wrong)
        assert page.status_code in (404, 410), wrong
    page = client.get(tampered)
    assert page.status_code == 410
    assert client.post(tampered, data={"csrf_token": csrf_token(page.text)}).status_code == 410
    with app.app_context():
        assert _orders(shop["ben@example.com"])[0].status is OrderStatus.SCHEDULED


def test_a_pause_link_pauses_for_its_length_and_lands_signed_in(app, client, shop):
    path = _link(app, "ben@example.com", "pause", "subscription", params={"cycles": 2})
    done = follow_link(client, path)
    assert done.status_code == 302
    with app.app_context():
        sub = db.session.get(Subscription, shop["ben@example.com"])
        assert sub.status is SubscriptionStatus.PAUSED
    assert client.get("/").status_code == 200


def test_a_refused_action_is_shown_on_the_page_and_nothing_changes(app, client, shop):
    with app.app_context():
        db.session.get(Subscription, shop["ben@example.com"]).status = SubscriptionStatus.PAUSED
        db.session.commit()
    path = _link(app, "ben@example.com", "skip")
    page = client.get(path)
    assert page.status_code == 200 and 'role="alert"' in page.text
    with app.app_context():
        # Opening a link records nothing, not even a refusal: scanners open links.
        assert _count(AuditEvent, AuditEvent.action.like("subscription.%")) == 0


def test_expiry_follows_the_merchants_policy(app, client, shop, calendar):
    with app.app_context():
        assert links.lifetime(links.LinkAction.SKIP) == timedelta(hours=72)
        assert links.lifetime(links.LinkAction.SIGN_IN) == timedelta(minutes=15)
        policy.update(MERCHANT, action_link_hours=24, sign_in_link_minutes=30)
    skip = _link(app, "ben@example.com", "skip")
    sign_in = _link(app, "ben@example.com", "sign_in", None)
    calendar.traveller.shift(timedelta(minutes=29))
    assert client.get(sign_in).status_code == 200
    calendar.traveller.shift(timedelta(minutes=2))
    assert client.get(sign_in).status_code == 410
    assert client.get(skip).status_code == 200
    calendar.traveller.shift(timedelta(hours=24))
    page = client.get(skip)
    assert page.status_code == 410
    assert client.post(skip, data={"csrf_token": csrf_token(page.text)}).status_code == 410


def test_revoking_one_link_or_all_of_a_customers(app, client, shop):
    first = _link(app, "ben@example.com", "skip")
    second = _link(app, "ben@example.com", "sign_in", None)
    third = _link(app, "ben@example.com", "pause", "subscription")
    theirs = _link(app, "ana@example.com", "skip")
    with app.app_context():
        link = db.session.get(ActionLink, int(first.split("/")[2]))
        assert links.revoke(MERCHANT, link) is True
        assert links.revoke(MERCHANT, link) is False
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    with app.app_context():
        assert links.revoke_all(MERCHANT, auth.find_customer_by_email("ben@example.com")) == 2
    assert client.get(second).status_code == 410 and client.get(third).status_code == 410
    assert client.get(theirs).status_code == 200


def test_a_used_link_offers_a_fresh_one_in_the_owners_language_to_the_same_action(app, client, shop):
    path = _link(app, "ana@example.com", "skip")
    follow_link(client, path)
    stranger = app.test_client()  # another browser, English
    page = stranger.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 410 and 'lang="es"' in page.text
    assert "Este enlace ya no funciona" in page.text
    sent = stranger.post(f"{path}/fresh", data={"csrf_token": csrf_token(page.text)})
    assert sent.status_code == 200 and 'lang="es"' in sent.text
    with app.app_context():
        assert _count(OutboxEmail, OutboxEmail.kind == "fresh_link") == 0  # the worker sends it
        auth.send_requested_links()
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "fresh_link"))
        assert email.to_address == "ana@example.com" and email.locale == "es"
        made = db.session.scalars(select(ActionLink).order_by(ActionLink.id)).all()
        old, new = made[0], made[-1]
        assert (new.action, new.subscription_id, new.order_id) == (old.action, old.subscription_id, old.order_id)
        assert new.id != old.id and new.used_at is None
    fresh = link_path(email.body_text)
    assert fresh.startswith(f"/l/{new.id}/")
    # The order is skipped already, so the fresh link's page says so rather than acting twice.
    assert stranger.get(fresh).status_code == 200


def test_asking_for_a_fresh_copy_answers_the_same_for_a_link_that_never_was(app, client, shop):
    page = client.get("/l/4242/made-up")
    assert page.status_code == 410
    sent = client.post("/l/4242/made-up/fresh", data={"csrf_token": csrf_token(page.text)})
    assert sent.status_code == 200
    with app.app_context():
        assert _count(LinkRequest, LinkRequest.link_id == 4242) == 1
        auth.send_requested_links()
        assert _count(OutboxEmail) == 0 and _count(LinkRequest) == 0


def test_fresh_copies_are_rate_limited(app, client, shop):
    path = _link(app, "ben@example.com", "skip")
    page = client.get(path)
    statuses = [client.post(f"{path}/fresh", data={"csrf_token": csrf_token(page.text)}).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429


def test_page_links_land_on_their_page(app, client, shop):
    with app.app_context():
        ben = auth.find_customer_by_email("ben@example.com")
        _made, card_url = links.create(MERCHANT, ben, "update_card")
        _made, page_url = links.create(MERCHANT, ben, "sign_in", next_path="/activity")
    assert follow_link(app.test_client(), card_url.removeprefix("http://localhost")).location == "/payment"
    assert follow_link(app.test_client(), page_url.removeprefix("http://localhost")).location == "/activity"


def test_change_confirmation_carries_undo_and_skip_the_next_one(app, client, shop):
    path = _link(app, "ben@example.com", "skip")
    follow_link(client, path)
    with app.app_context():
        body = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "subscription_changed"))
    browser = app.test_client()
    follow_link(browser, link_path(body, "Skip the next one"))
    with app.app_context():
        statuses = [order.status for order in _orders(shop["ben@example.com"])[:2]]
        assert statuses == [OrderStatus.SKIPPED, OrderStatus.SKIPPED]
    follow_link(app.test_client(), link_path(body, "Undo this change"))
    with app.app_context():
        statuses = [order.status for order in _orders(shop["ben@example.com"])[:2]]
        assert statuses == [OrderStatus.SCHEDULED, OrderStatus.SKIPPED]


def test_a_spanish_subscribers_sign_in_link_pages_are_spanish_and_recovery_keeps_the_return_path(app, shop):
    path = sign_in_url(app, "ana@example.com", "/payment")
    browser = app.test_client()
    page = browser.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'lang="es"' in page.text
    browser.post(path, data={"csrf_token": csrf_token(page.text), "next": "/payment"})
    other = app.test_client()
    used = other.get(path, headers={"Accept-Language": "en"})
    assert used.status_code == 400 and 'lang="es"' in used.text
    fields = form_fields(used.text, "link-form")
    assert fields["link-next"] == "/payment"
    asked = other.post("/login", data={**fields, "link-email": "ana@example.com"})
    assert asked.status_code == 302
    with app.app_context():
        auth.send_requested_links()
        body = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "login_link"))
    assert "next=/payment" in body


def test_links_are_stored_hashed(app, shop):
    path = _link(app, "ben@example.com", "skip")
    secret = path.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(select(ActionLink))
        assert secret not in (stored.token_hash, str(stored.params)) and len(stored.token_hash) == 64
        assert db.session.get(Customer, stored.customer_id).email == "ben@example.com"


def test_a_link_whose_order_was_dropped_still_answers_with_a_page(app, client, shop):
    path = _link(app, "ben@example.com", "skip")
    with app.app_context():
        sub = db.session.get(Subscription, shop["ben@example.com"])
        actions.perform(MERCHANT, sub, "cancel", sub.version, mode="now")
        version = db.session.get(Subscription, sub.id).version
    page = client.get(path)
    assert page.status_code in (200, 410)
    pressed = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert pressed.status_code in (302, 410)
    with app.app_context():
        assert db.session.get(Subscription, shop["ben@example.com"]).version == version


def test_an_admin_revokes_one_link_pasted_from_an_email(app, client, shop):
    revoked = _link(app, "ben@example.com", "skip")
    kept = _link(app, "ben@example.com", "sign_in", None)
    with app.app_context():
        factories.staff(StaffRole.ADMIN, "links-admin@example.com")
    admin = app.test_client()
    sign_in_staff(admin, "links-admin@example.com")
    page = admin.get("/admin/integrations")
    fields = form_fields(page.text, "revoke-one-form")
    pasted = f"{app.config['PUBLIC_BASE_URL']}{revoked}"
    assert admin.post("/admin/integrations/links/revoke-one", data={**fields, "one-link": pasted}).status_code == 302
    assert client.get(revoked).status_code == 410 and client.get(kept).status_code == 200
    again = admin.post(
        "/admin/integrations/links/revoke-one", data={**fields, "one-link": pasted}, follow_redirects=True
    )
    assert "already been used or revoked" in again.text
    for wrong in ("https://elsewhere.example/x", "/l/99999/nothing", "/l/99999999999/x"):
        refused = admin.post("/admin/integrations/links/revoke-one", data={**fields, "one-link": wrong})
        assert refused.status_code == 404 and "not a link of this portal" in refused.text
    with app.app_context():
        assert _count(AuditEvent, AuditEvent.action == "link.revoked") == 2
