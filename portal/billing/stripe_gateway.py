"""The one module that talks to Stripe (or to localstripe, its stand-in, when no key is set).

Everything returns plain values, so services never see SDK objects."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import stripe
from flask import current_app

from config import LOCALSTRIPE_KEYS

# Short waits, a couple of retries: a slow provider must not hold a worker or a request long.
TIMEOUT_SECONDS = 10
NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
LOCAL_SECRET_KEY, LOCAL_PUBLISHABLE_KEY = LOCALSTRIPE_KEYS
_SETUP_INTENT_ID = re.compile(r"seti_[A-Za-z0-9]{1,60}")


class GatewayError(Exception):
    """The provider could not be reached or answered with an error that is not a decline."""


class CardUnusable(GatewayError):
    """The provider refused to charge with this card at all (unknown or detached card): a
    failed charge, not an outage."""

    code = "card_unusable"


@dataclass(frozen=True)
class CardDetails:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer: str | None


@dataclass(frozen=True)
class ChargeResult:
    payment_intent_id: str | None
    succeeded: bool
    failure_code: str | None = None
    failure_message: str | None = None


def _is_local() -> bool:
    return not current_app.config["STRIPE_SECRET_KEY"]


def _client():
    """The v1 API of a client for Stripe, or for localstripe when no key is configured.

    One client per process and settings: its HTTP sessions (one per thread) keep their
    connections open, so a charge does not pay for a new TCP and TLS handshake on every call.
    The process id is part of the key because a forked worker must not share its parent's
    sockets."""
    config = current_app.config
    key = config["STRIPE_SECRET_KEY"] or LOCAL_SECRET_KEY
    base = config["LOCALSTRIPE_URL"] if _is_local() else None
    clients = current_app.extensions.setdefault("stripe_clients", {})
    cache_key = (os.getpid(), key, base)
    client = clients.get(cache_key)
    if client is None:
        client = clients[cache_key] = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            max_network_retries=NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        ).v1
    return client


def _plain(value) -> dict:
    """SDK objects are not dicts; nested parts (metadata, errors) are read as plain ones."""
    return value.to_dict() if value else {}


def _result(intent) -> ChargeResult:
    if intent.status == "succeeded":
        return ChargeResult(intent.id, True)
    error = _plain(intent.last_payment_error)
    return ChargeResult(intent.id, False, error.get("code") or intent.status, error.get("message"))


def publishable_key() -> str:
    return current_app.config["STRIPE_PUBLISHABLE_KEY"] or LOCAL_PUBLISHABLE_KEY


def stripe_js_url() -> str:
    if _is_local():
        return current_app.config["LOCALSTRIPE_URL"].rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"


def card_form_origin() -> str:
    """The origin the card page must allow scripts, frames and requests from."""
    parts = urlsplit(stripe_js_url())
    return f"{parts.scheme}://{parts.netloc}"


def create_customer(email: str, name: str, portal_customer_id: int) -> str:
    try:
        customer = _client().customers.create(
            params={"email": email, "name": name, "metadata": {"portal_customer_id": str(portal_customer_id)}}
        )
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return customer.id


def create_setup_intent(customer_id: str) -> str:
    """A SetupIntent for saving a card for later off-session use; returns its client secret."""
    try:
        intent = _client().setup_intents.create(
            params={"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]}
        )
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return intent.client_secret


class ForeignSetupIntent(GatewayError):
    """The SetupIntent was made for another customer: its card must not be saved here."""


def is_setup_intent_id(value: str) -> bool:
    return bool(_SETUP_INTENT_ID.fullmatch(value or ""))


def setup_intent_card(setup_intent_id: str, customer_id: str) -> CardDetails:
    """The card a confirmed SetupIntent of this customer saved, attached to them if it is not yet.

    Stripe attaches it by itself; localstripe does not, so attaching here covers both.
    """
    client = _client()
    try:
        intent = client.setup_intents.retrieve(setup_intent_id)
        if intent.customer != customer_id:
            raise ForeignSetupIntent(f"setup intent {setup_intent_id} belongs to another customer")
        if intent.status != "succeeded" or not intent.payment_method:
            raise GatewayError(f"setup intent {setup_intent_id} is {intent.status}")
        method = client.payment_methods.retrieve(intent.payment_method)
        if method.customer not in (None, customer_id):
            raise ForeignSetupIntent(f"payment method of {setup_intent_id} belongs to another customer")
        if method.customer != customer_id:
            method = client.payment_methods.attach(method.id, params={"customer": customer_id})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return _card(method)


# Stripe's ready-made Visa test card (4242 4242 4242 4242); localstripe knows it too. Stripe takes
# raw card numbers only from accounts approved for it, but attaching this id to a customer makes
# a new card of theirs, in test mode, on both.
TEST_PAYMENT_METHOD = "pm_card_visa"


def attach_test_card(customer_id: str) -> CardDetails:
    """A new test card that pays, attached to the customer (demo data; never with a live key)."""
    if (current_app.config["STRIPE_SECRET_KEY"] or "").startswith(("sk_live_", "rk_live_")):
        raise GatewayError("test cards cannot be made with a live Stripe key")
    try:
        method = _client().payment_methods.attach(TEST_PAYMENT_METHOD, params={"customer": customer_id})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return _card(method)


def cards_of(customer_id: str) -> set[str] | None:
    """The ids of the cards attached to the customer at the provider; None when it does not know
    the customer (a localstripe started afresh, a Stripe account switched)."""
    try:
        listing = _client().payment_methods.list(params={"customer": customer_id, "type": "card", "limit": 100})
    except stripe.InvalidRequestError as error:
        if error.code == "resource_missing" or error.http_status == 404:
            return None
        raise GatewayError(str(error)) from error
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return {method.id for method in listing.data}


def _card(method) -> CardDetails:
    card = method.card
    return CardDetails(method.id, card.brand, card.last4, int(card.exp_month), int(card.exp_year), method.customer)


def detach(payment_method_id: str) -> None:
    """Forget a card at the provider; one the provider does not know is gone already."""
    try:
        _client().payment_methods.detach(payment_method_id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing" and error.http_status != 404:
            raise GatewayError(str(error)) from error
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error


def create_charge(
    *,
    customer_id: str,
    payment_method_id: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> str:
    """Create an off-session PaymentIntent without confirming it; returns its id.

    Nothing is charged until `confirm_charge`, so the caller can store the id first: after a
    crash the charge is found by that id, never by searching.
    """
    try:
        intent = _client().payment_intents.create(
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "customer": customer_id,
                "payment_method": payment_method_id,
                "payment_method_types": ["card"],
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.InvalidRequestError as error:
        raise CardUnusable(error.user_message or str(error)) from error
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return intent.id


def confirm_charge(intent_id: str) -> ChargeResult:
    """Charge a created PaymentIntent with the customer away. A decline is a result, not an error."""
    # localstripe refuses `off_session` on confirm; Stripe needs it to charge without the customer.
    params = {} if _is_local() else {"off_session": True}
    try:
        intent = _client().payment_intents.confirm(intent_id, params=params)
    except stripe.CardError as error:
        return ChargeResult(intent_id, False, error.code or "card_declined", error.user_message)
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return _result(intent)


def charge_outcome(intent_id: str) -> ChargeResult | None:
    """What became of a PaymentIntent; None while it has not been confirmed."""
    try:
        intent = _client().payment_intents.retrieve(intent_id)
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    if intent.status in ("requires_confirmation", "processing"):
        return None
    if intent.status == "requires_payment_method" and not intent.last_payment_error:
        return None
    return _result(intent)


def refund(payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
    try:
        result = _client().refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_minor},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return result.id


# --- webhook events, checked and turned into typed values ----------------------------------------


class BadSignature(ValueError):
    """Not signed with our secret, or too old."""


class MalformedEvent(ValueError):
    """Signed, but not the shape of a Stripe event."""


@dataclass(frozen=True)
class IntentEvent:
    intent_id: str
    # Our Payment's id, from the metadata we set when creating the charge.
    payment_id: int | None
    result: ChargeResult


@dataclass(frozen=True)
class CardEvent:
    method_id: str
    customer_id: str | None
    detached: bool
    card: CardDetails | None


@dataclass(frozen=True)
class RefundEvent:
    intent_id: str
    amount_refunded_minor: int


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    # None for types the portal does not act on.
    data: IntentEvent | CardEvent | RefundEvent | None


_ID = re.compile(r"[A-Za-z0-9_]{1,100}")
_EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,100}")


def _text(value, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise MalformedEvent("expected an id")
    return value


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEvent("expected a whole number")
    return value


def _mapping(value) -> dict:
    if not isinstance(value, dict):
        raise MalformedEvent("expected an object")
    return value


def _intent_event(obj: dict, succeeded: bool) -> IntentEvent:
    intent_id = _text(obj.get("id"))
    payment_id = _mapping(obj.get("metadata") or {}).get("payment_id")
    error = _mapping(obj.get("last_payment_error") or {})
    code, message = error.get("code"), error.get("message")
    result = ChargeResult(
        intent_id,
        succeeded,
        None if succeeded else (code if isinstance(code, str) else "failed")[:64],
        message[:300] if isinstance(message, str) else None,
    )
    return IntentEvent(
        intent_id,
        int(payment_id) if isinstance(payment_id, str) and payment_id.isdigit() and len(payment_id) < 18 else None,
        result,
    )


def _card_event(obj: dict, detached: bool) -> CardEvent:
    method_id = _text(obj.get("id"))
    card = obj.get("card")
    details = None
    if card is not None:
        card = _mapping(card)
        brand, last4 = card.get("brand"), card.get("last4")
        if not (isinstance(brand, str) and isinstance(last4, str) and len(brand) <= 20 and len(last4) <= 4):
            raise MalformedEvent("card without brand or last4")
        details = CardDetails(
            method_id, brand, last4, _whole(card.get("exp_month") or 0), _whole(card.get("exp_year") or 0), None
        )
    return CardEvent(method_id, _text(obj.get("customer"), required=False), detached, details)


def _refund_event(obj: dict) -> RefundEvent:
    return RefundEvent(_text(obj.get("payment_intent")), _whole(obj.get("amount_refunded") or 0))


_PARSERS = {
    "payment_intent.succeeded": lambda obj: _intent_event(obj, True),
    "payment_intent.payment_failed": lambda obj: _intent_event(obj, False),
    "payment_method.attached": lambda obj: _card_event(obj, False),
    "payment_method.updated": lambda obj: _card_event(obj, False),
    "payment_method.automatically_updated": lambda obj: _card_event(obj, False),
    "payment_method.detached": lambda obj: _card_event(obj, True),
    "charge.refunded": _refund_event,
}


def parse_event(payload: bytes, signature: str, secret: str) -> Event:
    """The event, if it is signed with `secret` within the tolerance and has the right shape."""
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeError, TypeError, ValueError) as error:
        raise BadSignature(str(error)) from None
    try:
        raw = _mapping(json.loads(text))
        event_id, event_type = _text(raw.get("id")), raw.get("type")
        if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
            raise MalformedEvent("event without a type")
        parser = _PARSERS.get(event_type)
        obj = _mapping(_mapping(raw.get("data")).get("object"))
        return Event(event_id, event_type, parser(obj) if parser else None)
    except (ValueError, RecursionError, TypeError, AttributeError) as error:
        raise MalformedEvent(str(error)) from None
