"""The customer's credit ledger: entries that add up to a balance that is never below zero.

Every read that decides how much credit to give or take locks the customer's row first, so two
orders claimed at once, or two credits given at once, see each other's entries."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CreditEntry, Customer, Order
from portal.services import audit
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.text import lazy_text as _l

# The longest reason a credit may carry (the form, the request and the ledger entry agree).
REASON_MAX_LENGTH = 300


def lock_customer(customer_id: int) -> Customer:
    """The customer's row, locked until the transaction ends against every other ledger reader
    and card change. FOR NO KEY UPDATE, not FOR UPDATE: rows that merely point at the customer
    (another worker's audit event, payment or order for the same customer) take a key-share lock
    for their foreign key, and need not wait for this transaction."""
    return db.session.get(Customer, customer_id, with_for_update={"key_share": True}, populate_existing=True)


def balance(customer_id: int, currency: str) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
            CreditEntry.customer_id == customer_id, CreditEntry.currency == currency
        )
    )


def add_credit(
    actor: Actor, customer: Customer, amount_minor: int, currency: str, reason: str, case_id: int | None = None
) -> CreditEntry:
    """Credit the customer's ledger, in the caller's unit of work."""
    if amount_minor <= 0:
        raise DomainError(_l("A credit must be more than zero."), code="invalid_credit")
    lock_customer(customer.id)
    entry = CreditEntry(
        customer_id=customer.id,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason[:REASON_MAX_LENGTH],
        case_id=case_id,
    )
    db.session.add(entry)
    audit.record(
        actor,
        "payment.credit_added",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"amount_minor": amount_minor, "currency": currency, "reason": entry.reason, "case": case_id},
    )
    return entry


def take_for_order(order: Order) -> int:
    """Use the balance on an order's first charge; returns how much was taken."""
    lock_customer(order.customer_id)
    taken = min(balance(order.customer_id, order.currency), order.total_minor)
    if taken > 0:
        db.session.add(
            CreditEntry(
                customer_id=order.customer_id,
                amount_minor=-taken,
                currency=order.currency,
                reason="applied to order",
                order_id=order.id,
            )
        )
        order.credit_applied_minor = taken
    return max(taken, 0)


def give_back_for_order(order: Order) -> None:
    """An order that will not be paid returns the credit it held."""
    if not order.credit_applied_minor:
        return
    lock_customer(order.customer_id)
    db.session.add(
        CreditEntry(
            customer_id=order.customer_id,
            amount_minor=order.credit_applied_minor,
            currency=order.currency,
            reason="returned: order not paid",
            order_id=order.id,
        )
    )
    order.credit_applied_minor = 0
