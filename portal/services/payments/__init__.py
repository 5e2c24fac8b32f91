"""Payments, one module by concern:

- `ledger`: the credit balance (locked reads, never below zero);
- `cards`: saved cards and the card form's setup;
- `charging`: charging an order exactly once, renewals, recovery after a crash;
- `dunning`: retries after a failed charge and what happens after the last;
- `refunds`: money back;
- `events`: the provider's webhook events applied to our records.

Only `portal.billing.stripe_gateway` talks to the provider.
"""

from portal.models import Customer
from portal.services.actors import Actor
from portal.services.payments.cards import (
    CardForm,
    DefaultCardInUse,
    PaymentProblem,
    card_form,
    card_uses,
    default_card,
    ensure_provider_customer,
    ensure_test_card,
    remove_card,
    save_card,
    saved_cards,
    set_default_card,
    start_card_setup,
)
from portal.services.payments.charging import (
    ChargeOutcome,
    charge_due_order_of,
    charge_order,
    recover,
    retry_failed_orders,
    run_renewals,
    settle,
)
from portal.services.payments.ledger import REASON_MAX_LENGTH, add_credit, balance
from portal.services.payments.refunds import paid_payment, refund, refundable_minor


def add_card_and_retry(actor: Actor, customer: Customer, setup_intent_id: str) -> list[ChargeOutcome]:
    """The card page's save: keep the new card, then charge failed orders with it at once."""
    save_card(actor, customer, setup_intent_id)
    return retry_failed_orders(actor, customer)


__all__ = [
    "REASON_MAX_LENGTH",
    "CardForm",
    "ChargeOutcome",
    "DefaultCardInUse",
    "PaymentProblem",
    "add_card_and_retry",
    "add_credit",
    "balance",
    "charge_due_order_of",
    "charge_order",
    "default_card",
    "ensure_provider_customer",
    "ensure_test_card",
    "paid_payment",
    "recover",
    "refund",
    "refundable_minor",
    "remove_card",
    "retry_failed_orders",
    "run_renewals",
    "save_card",
    "saved_cards",
    "set_default_card",
    "settle",
    "card_form",
    "card_uses",
    "start_card_setup",
]
