"""Language and timezone choice for the request, translated labels, and template helpers."""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_babel import get_locale, ngettext, refresh
from flask_login import current_user

from portal.models import (
    ActorType,
    CaseStatus,
    Channel,
    IntervalUnit,
    OrderStatus,
    Outcome,
    StaffRole,
    SubscriptionStatus,
)
from portal.text import lazy_text as _l

STATUS_LABELS = {
    SubscriptionStatus.ACTIVE: _l("Active"),
    SubscriptionStatus.PAUSED: _l("Paused"),
    SubscriptionStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.SCHEDULED: _l("Scheduled"),
    OrderStatus.SKIPPED: _l("Skipped"),
    OrderStatus.PROCESSING: _l("Processing"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.FAILED: _l("Payment failed"),
    OrderStatus.REFUNDED: _l("Refunded"),
    StaffRole.AGENT: _l("Agent"),
    StaffRole.MANAGER: _l("Manager"),
    StaffRole.ADMIN: _l("Admin"),
    CaseStatus.NEW: _l("New"),
    CaseStatus.OPEN: _l("Open"),
    CaseStatus.WAITING: _l("Waiting for you"),
    CaseStatus.RESOLVED: _l("Resolved"),
    CaseStatus.REOPENED: _l("Reopened"),
    Outcome.SUCCESS: _l("Done"),
    Outcome.FAILURE: _l("Refused"),
}


def select_locale() -> str:
    """A page about one customer's link speaks their language; otherwise the signed-in customer's
    own setting, then a choice made on this browser, then its languages."""
    supported = current_app.config["LANGUAGES"]
    if g.get("page_locale") in supported:
        return g.page_locale
    customer = getattr(current_user, "customer", None)
    if customer is not None and customer.locale in supported:
        return customer.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]


def use_locale(locale: str | None) -> None:
    """Show this request's page in `locale` (the owner of the link being opened)."""
    g.page_locale = locale
    refresh()


def select_timezone() -> str:
    return current_app.config["MERCHANT_TIMEZONE"]


# What each recorded action is called on the activity page, in emails and in the console.
ACTION_LABELS = {
    "subscription.pause": _l("Paused the subscription"),
    "subscription.resume": _l("Resumed the subscription"),
    "subscription.auto_resume": _l("Resumed the subscription as planned"),
    "subscription.skip": _l("Skipped an order"),
    "subscription.unskip": _l("Restored a skipped order"),
    "subscription.swap": _l("Changed what is delivered"),
    "subscription.frequency": _l("Changed how often it is delivered"),
    "subscription.reschedule": _l("Moved the next order"),
    "subscription.order_now": _l("Ordered now"),
    "subscription.reactivate": _l("Reactivated the subscription"),
    "subscription.cancel": _l("Cancelled the subscription"),
    "subscription.scheduled_cancel": _l("The subscription ended as planned"),
    "subscription.keep": _l("Kept the subscription"),
    "subscription.discount": _l("Received a discount"),
    "subscription.payment_pause": _l("Paused because payments kept failing"),
    "subscription.payment_cancel": _l("Cancelled because payments kept failing"),
    "subscription.price_change": _l("The price changed"),
    "payment.succeeded": _l("Payment received"),
    "payment.failed": _l("Payment failed"),
    "payment.card_added": _l("Added a card"),
    "payment.default_card": _l("Changed the default card"),
    "payment.card_removed": _l("Removed a card"),
    "payment.credit_added": _l("Received a credit"),
    "payment.refunded": _l("Received a refund"),
    "subscription.address": _l("Changed the shipping address"),
    "address.change": _l("Changed the shipping address"),
    "profile.updated": _l("Updated personal details"),
    "profile.email_change_requested": _l("Asked to change the email address"),
    "profile.email_changed": _l("Changed the email address"),
    "customer.password_set": _l("Set a password"),
    "auth.signed_in": _l("Signed in"),
    "auth.link_requested": _l("Asked for a sign-in link"),
    "auth.portal_session_created": _l("A sign-in link was created"),
    "case.opened": _l("Asked to talk to a person"),
    "case.customer_replied": _l("Wrote to support"),
    "link.created": _l("An email link was made"),
    "link.used": _l("Used an email link"),
    "link.revoked": _l("An email link was revoked"),
    "link.revoked_all": _l("Every email link was revoked"),
    "case.replied": _l("Support replied"),
    "case.message_received": _l("A message arrived"),
    "case.noted": _l("Added an internal note"),
    "case.assigned": _l("Assigned the case"),
    "case.status_changed": _l("Changed the case status"),
    "case.credit_requested": _l("Asked for a credit"),
    "case.credit_decided": _l("Decided on a credit"),
    "cancel.reason_given": _l("Gave a reason for cancelling"),
    "cancel.offers_declined": _l("Turned down the offers"),
    "cancel.offer_taken": _l("Took an offer instead of cancelling"),
    "cancel.confirmed": _l("Confirmed the cancellation"),
}

# The headings of the subscriber's action pages.
ACTION_TITLES = {
    "pause": _l("Pause deliveries"),
    "resume": _l("Resume now"),
    "skip": _l("Skip this order"),
    "unskip": _l("Restore this order"),
    "swap": _l("Change products"),
    "frequency": _l("Change frequency"),
    "reschedule": _l("Move the next order"),
    "order_now": _l("Order now"),
    "reactivate": _l("Reactivate"),
    "keep": _l("Keep my subscription"),
    "sign_in": _l("Sign in"),
    "update_card": _l("Update your card"),
    "open_case": _l("Open your case"),
}


def action_title(action: str, status: SubscriptionStatus | None = None) -> str:
    if action == "pause" and status is SubscriptionStatus.PAUSED:
        return str(_l("Extend the pause"))
    return str(ACTION_TITLES[action])


ACTOR_LABELS = {
    ActorType.CUSTOMER: _l("You"),
    ActorType.STAFF: _l("Support"),
    ActorType.LINK: _l("Email link"),
    ActorType.JOB: _l("Automatically"),
    ActorType.STRIPE: _l("Payment provider"),
    ActorType.API: _l("The shop"),
    ActorType.SYSTEM: _l("The shop"),
}


def action_label(action: str) -> str:
    """Actions without a label yet show their code rather than nothing."""
    label = ACTION_LABELS.get(action) or ACTION_LABELS.get(f"subscription.{action}")
    return str(label) if label else action


# In the console the subscriber is "the customer", not "you".
STAFF_ACTOR_LABELS = {**ACTOR_LABELS, ActorType.CUSTOMER: _l("Customer")}


def actor_label(actor_type: ActorType, for_staff: bool = False) -> str:
    return str((STAFF_ACTOR_LABELS if for_staff else ACTOR_LABELS)[actor_type])


CHANNEL_LABELS = {
    Channel.PORTAL: _l("Portal"),
    Channel.EMAIL: _l("Email"),
    Channel.CHAT: _l("Chat"),
    Channel.SMS: _l("SMS"),
    Channel.SOCIAL: _l("Social"),
}


def channel_label(channel: Channel | str | None) -> str:
    try:
        return str(CHANNEL_LABELS[Channel(channel)])
    except ValueError:
        return channel or ""


# Why a change was refused, in a few words (the subscriber saw the full sentence).
REFUSALS = {
    "order_locked": _l("the order is already being prepared"),
    "order_already_coming": _l("an order is already being prepared"),
    "date_out_of_window": _l("outside the dates that can be chosen"),
    "pause_date_out_of_range": _l("outside the dates a pause may last"),
    "pause_option_not_offered": _l("that pause length is not offered"),
    "frequency_not_offered": _l("that frequency is not offered"),
    "swap_not_allowed": _l("that product cannot be chosen"),
    "quantity_out_of_range": _l("quantity not allowed"),
    "too_many_skips": _l("too many orders skipped in a row"),
    "already_skipped": _l("already skipped"),
    "not_skipped": _l("not skipped"),
    "no_change": _l("nothing would change"),
    "ordered_today": _l("already ordered today"),
    "after_end": _l("after the subscription ends"),
    "already_cancelled": _l("already cancelled"),
    "not_scheduled_to_end": _l("not set to end"),
    "not_active": _l("the subscription is not active"),
    "not_paused": _l("the subscription is not paused"),
    "not_cancelled": _l("the subscription is not cancelled"),
    "nothing_to_skip": _l("no order can still be skipped"),
    "concurrent_change": _l("the subscription had changed meanwhile"),
    "invalid_address": _l("the address was not valid"),
    "card_declined": _l("the card was declined"),
    "card_setup_failed": _l("the card could not be saved"),
    "insufficient_funds": _l("not enough funds"),
    "expired_card": _l("the card has expired"),
    "invalid_credentials": _l("wrong password"),
}


def refusal_text(code: str | None) -> str:
    if not code:
        return ""
    label = REFUSALS.get(code)
    return str(label) if label else str(_l("refused"))


def country_name(code: str) -> str:
    return get_locale().territories.get(code.upper(), code)


def status_label(status) -> str:
    return str(STATUS_LABELS[status])


def interval_label(unit: IntervalUnit, count: int) -> str:
    if unit is IntervalUnit.WEEK:
        return ngettext("Every week", "Every %(num)d weeks", count)
    return ngettext("Every month", "Every %(num)d months", count)
