"""The one module that talks to Stripe (or to localstripe, its stand-in, when no key is set).

Everything returns plain values, so services never see SDK objects."""
from __future__ import annotations

from dataclasses import dataclass

import stripe
from flask import current_app

# Short waits, a couple of retries: a slow provider must not hold a worker or a request long.
TIMEOUT_SECONDS = 10
NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
LOCAL_TEST_KEY = "sk_test_localstripe"


class GatewayError(Exception):
    """The provider could not be reached or answered with an error that is not a decline."""


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
    """The v1 API of a client for Stripe, or for localstripe when no key is configured."""
    config = current_app.config
    key = config["STRIPE_SECRET_KEY"] or LOCAL_TEST_KEY
    base = config["LOCALSTRIPE_URL"] if _is_local() else None
    return stripe.StripeClient(
        key,
        base_addresses={"api": base} if base else None,
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    ).v1


def _plain(value) -> dict:
    """SDK objects are not dicts; nested parts (metadata, errors) are read as plain ones."""
    return value.to_dict() if value else {}


def _result(intent) -> ChargeResult:
    if intent.status == "succeeded":
        return ChargeResult(intent.id, True)
    error = _plain(intent.last_payment_error)
    return ChargeResult(intent.id, False, error.get("code") or intent.status, error.get("message"))


def publishable_key() -> str:
    return current_app.config["STRIPE_PUBLISHABLE_KEY"] or "pk_test_localstripe"


def stripe_js_url() -> str:
    if _is_local():
        return current_app.config["LOCALSTRIPE_URL"].rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"


def create_customer(email: str, name: str, portal_customer_id: int) -> str:
    try:
        customer = _client().customers.create(params={
            "email": email, "name": name, "metadata": {"portal_customer_id": str(portal_customer_id)}})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return customer.id


def create_setup_intent(customer_id: str) -> str:
    """A SetupIntent for saving a card for later off-session use; returns its client secret."""
    try:
        intent = _client().setup_intents.create(params={
            "customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return intent.client_secret


def setup_intent_card(setup_intent_id: str, customer_id: str) -> CardDetails:
    """The card a confirmed SetupIntent saved, attached to the customer if it is not yet.

    Stripe attaches it by itself; localstripe does not, so attaching here covers both.
    """
    client = _client()
    try:
        intent = client.setup_intents.retrieve(setup_intent_id)
        if intent.status != "succeeded" or not intent.payment_method:
            raise GatewayError(f"setup intent {setup_intent_id} is {intent.status}")
        method = client.payment_methods.retrieve(intent.payment_method)
        if method.customer != customer_id:
            method = client.payment_methods.attach(method.id, params={"customer": customer_id})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return _card(method)


def _card(method) -> CardDetails:
    card = method.card
    return CardDetails(method.id, card.brand, card.last4, int(card.exp_month), int(card.exp_year),
                       method.customer)


def detach(payment_method_id: str) -> None:
    try:
        _client().payment_methods.detach(payment_method_id)
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error


def charge(*, customer_id: str, payment_method_id: str, amount_minor: int, currency: str,
           idempotency_key: str, metadata: dict[str, str]) -> ChargeResult:
    """Charge a saved card with the customer away. A decline is a result, not an error."""
    try:
        intent = _client().payment_intents.create(
            params={"amount": amount_minor, "currency": currency.lower(), "customer": customer_id,
                    "payment_method": payment_method_id, "confirm": True, "off_session": True,
                    "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.CardError as error:
        intent_id = _plain(error.error.payment_intent).get("id") if error.error else None
        return ChargeResult(intent_id, False, error.code or "card_declined", error.user_message)
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return _result(intent)


def find_charge(customer_id: str, payment_id: int) -> ChargeResult | None:
    """The charge made for one of our payments, if it reached the provider, by its metadata.

    Used after a crash between charging and recording, so the charge is not made again.
    """
    # localstripe cannot filter the list by customer; the metadata check below is what matters.
    params = {"limit": 100} if _is_local() else {"customer": customer_id, "limit": 100}
    try:
        intents = _client().payment_intents.list(params=params)
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    for intent in intents.data:
        if _plain(intent.metadata).get("payment_id") == str(payment_id):
            return _result(intent)
    return None


def refund(payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
    try:
        result = _client().refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_minor},
            options={"idempotency_key": idempotency_key})
    except stripe.StripeError as error:
        raise GatewayError(str(error)) from error
    return result.id


def verify_webhook(payload: bytes, signature: str, secret: str) -> dict:
    """The event, if the signature is right and no older than the tolerance; ValueError otherwise."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret,
                                               tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise ValueError(str(error)) from error
    return event.to_dict()
