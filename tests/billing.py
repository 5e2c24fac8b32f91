"""Helpers for tests that charge through localstripe."""

from __future__ import annotations

from portal.billing import stripe_gateway as gateway
from portal.models import Customer
from portal.services import payments
from portal.services.actors import Actor
from tests.helpers import real_year

GOOD, DECLINE = "4242424242424242", "4000000000000341"
# The provider checks expiry against the real date, not the tests' frozen one.
CARD_EXPIRY_YEAR = real_year() + 3


def confirmed_setup_intent(customer: Customer, number: str) -> str:
    """What Stripe.js does in the browser: confirm a SetupIntent of the customer with the card."""
    client = gateway._client()
    payments.ensure_provider_customer(customer)
    intent = client.setup_intents.create(params={"customer": customer.stripe_customer_id, "usage": "off_session"})
    client.setup_intents.confirm(
        intent.id,
        params={
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": CARD_EXPIRY_YEAR, "cvc": "123"},
            }
        },
    )
    return intent.id


def add_card(customer: Customer, number: str) -> None:
    """A card confirmed in the browser, then saved as the card page does."""
    payments.save_card(Actor.system("test"), customer, confirmed_setup_intent(customer, number))


def payment_intents(app) -> list:
    with app.app_context():
        return gateway._client().payment_intents.list(params={"limit": 100}).data
