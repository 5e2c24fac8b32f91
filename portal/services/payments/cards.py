"""Saved cards: the card itself lives only at the payment provider; we keep display details."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.billing import stripe_gateway as gateway
from portal.extensions import db
from portal.models import Customer, Order, PaymentMethod, Subscription
from portal.services import audit, notifications
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.lookup import get_or_404
from portal.services.payments import ledger
from portal.services.subscriptions import storage
from portal.services.subscriptions.rules import LIVE_STATUSES
from portal.services.uow import standalone, transactional
from portal.text import lazy_text as _l


class DefaultCardInUse(DomainError):
    status = 409
    code = "default_card"
    default_message = _l("Choose another default card before removing this one.")


class PaymentProblem(DomainError):
    status = 402
    code = "payment_failed"
    default_message = _l("The payment did not go through.")


_CARDS_UNAVAILABLE = _l("Card details cannot be changed right now. Please try again in a few minutes.")


@standalone
def ensure_provider_customer(customer: Customer) -> str:
    """The customer's id at the provider, created (and stored at once) the first time."""
    customer = db.session.get(Customer, customer.id, with_for_update=True, populate_existing=True)
    if not customer.stripe_customer_id:
        try:
            customer.stripe_customer_id = gateway.create_customer(customer.email, customer.name, customer.id)
        except gateway.GatewayError as error:
            current_app.logger.warning("provider customer not created: %s", error)
            raise PaymentProblem(_CARDS_UNAVAILABLE, code="provider_unavailable") from error
    return customer.stripe_customer_id


@dataclass(frozen=True)
class CardForm:
    """What the card page needs to load the provider's card form (no call to the provider)."""

    publishable_key: str
    js_url: str
    origin: str


def card_form() -> CardForm:
    return CardForm(gateway.publishable_key(), gateway.stripe_js_url(), gateway.card_form_origin())


def start_card_setup(customer: Customer) -> str:
    """A SetupIntent's client secret, made when the subscriber starts adding a card (not each time
    the page is shown): the card goes from the browser to the provider, never to us."""
    try:
        return gateway.create_setup_intent(ensure_provider_customer(customer))
    except gateway.GatewayError as error:
        current_app.logger.warning("card setup failed: %s", error)
        raise PaymentProblem(_CARDS_UNAVAILABLE, code="provider_unavailable") from error


def saved_cards(customer: Customer) -> list[PaymentMethod]:
    return list(
        db.session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer.id)
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        )
    )


def card_uses(customer: Customer) -> dict[int, list[Subscription]]:
    """Per saved card, the live subscriptions it pays for, so making it default or removing it
    shows whose next charge it touches."""
    # One statement however many subscriptions: the page names each one's product.
    live = db.session.scalars(
        select(Subscription)
        .where(Subscription.customer_id == customer.id, Subscription.status.in_(LIVE_STATUSES))
        .options(storage.ITEMS_WITH_PRODUCTS)
        .order_by(Subscription.id)
    ).unique()
    uses: dict[int, list[Subscription]] = {}
    for subscription in live:
        if subscription.payment_method_id is not None:
            uses.setdefault(subscription.payment_method_id, []).append(subscription)
    return uses


def default_card(customer_id: int) -> PaymentMethod | None:
    return db.session.scalar(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id, PaymentMethod.is_default.is_(True))
    )


def provider_ids_for_charge(order_id: int) -> tuple[str | None, str | None]:
    """The provider's ids that charging this order needs (None where missing), in one statement:
    the customer's, and that of the card the order's subscription names, the one its pages show."""
    customer_ref, card_ref = db.session.execute(
        select(Customer.stripe_customer_id, PaymentMethod.stripe_payment_method_id)
        .select_from(Order)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(Subscription, Subscription.id == Order.subscription_id)
        .outerjoin(PaymentMethod, PaymentMethod.id == Subscription.payment_method_id)
        .where(Order.id == order_id)
    ).one()
    return customer_ref, card_ref


def _make_default(customer: Customer, method: PaymentMethod) -> None:
    """Live subscriptions move onto the new default, and so does any that names no card: then a
    customer with a default card has no subscription without one (removing a card hands its
    subscriptions the default), so the card a subscription names is the one it is charged, also
    when a cancelled one is reactivated later."""
    for other in saved_cards(customer):
        other.is_default = other.id == method.id
    for subscription in customer.subscriptions:
        if subscription.status in LIVE_STATUSES or subscription.payment_method_id is None:
            subscription.payment_method = method


def _card_refused(actor: Actor, customer: Customer, code: str) -> None:
    audit.record_failure(
        actor, "payment.card_added", code, subject_type="customer", subject_id=customer.id, customer_id=customer.id
    )


def save_card(actor: Actor, customer: Customer, setup_intent_id: str) -> PaymentMethod:
    """Keep the card a confirmed SetupIntent of this customer saved, and make it the default."""
    if not gateway.is_setup_intent_id(setup_intent_id):
        _card_refused(actor, customer, "card_setup_failed")
        raise PaymentProblem(_l("We could not save that card. Please try again."), code="card_setup_failed")
    provider_customer = ensure_provider_customer(customer)
    try:
        card = gateway.setup_intent_card(setup_intent_id, provider_customer)
    except gateway.ForeignSetupIntent as error:
        current_app.logger.warning("refused a card of another customer: %s", error)
        _card_refused(actor, customer, "foreign_setup_intent")
        raise PaymentProblem(_l("We could not save that card. Please try again."), code="card_setup_failed") from error
    except gateway.GatewayError as error:
        _card_refused(actor, customer, "card_setup_failed")
        raise PaymentProblem(_l("We could not save that card. Please try again."), code="card_setup_failed") from error
    return _keep_card(actor, customer, card)


def ensure_test_card(actor: Actor, customer: Customer) -> PaymentMethod:
    """Demo data: the customer's default card is a test card that pays, known to the provider.

    Rows the provider does not know (a localstripe started afresh, demo data made before cards
    were real) are dropped and a new test card is made, so every demo journey can be paid."""
    try:
        known = gateway.cards_of(customer.stripe_customer_id) if customer.stripe_customer_id else None
        current = default_card(customer.id)
        if known is not None and current is not None and current.stripe_payment_method_id in known:
            return current
        _forget_lost_cards(customer.id, known)
        card = gateway.attach_test_card(ensure_provider_customer(customer))
    except gateway.GatewayError as error:
        raise PaymentProblem(_CARDS_UNAVAILABLE, code="provider_unavailable") from error
    return _keep_card(actor, customer, card, notify=False)


@standalone
def _forget_lost_cards(customer_id: int, known: set[str] | None) -> None:
    """Drop the card rows the provider does not know; with the customer unknown there, its id too."""
    customer = db.session.get(Customer, customer_id, with_for_update=True, populate_existing=True)
    if known is None:
        customer.stripe_customer_id = None
    for method in saved_cards(customer):
        if known is None or method.stripe_payment_method_id not in known:
            _delete_card(customer, method)


@transactional
def _keep_card(actor: Actor, customer: Customer, card: gateway.CardDetails, notify: bool = True) -> PaymentMethod:
    # Card changes of one customer take turns: two tabs saving a card at once must not both
    # leave theirs as the default.
    ledger.lock_customer(customer.id)
    method = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == card.id))
    if method is None:
        method = PaymentMethod(
            customer_id=customer.id,
            stripe_payment_method_id=card.id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
        db.session.add(method)
        db.session.flush()
    elif method.customer_id != customer.id:
        raise NotFound()
    _make_default(customer, method)
    audit.record(
        actor,
        "payment.card_added",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"brand": card.brand, "last4": card.last4},
    )
    if notify:
        _notify_card_change(customer, method)
    return method


def _own_card(customer: Customer, method_id: int) -> PaymentMethod:
    """One of the customer's cards, read afresh after locking the customer (card changes take turns)."""
    ledger.lock_customer(customer.id)
    method = get_or_404(PaymentMethod, method_id, fresh=True)
    if method.customer_id != customer.id:
        raise NotFound()
    return method


@transactional
def set_default_card(actor: Actor, customer: Customer, method_id: int) -> None:
    method = _own_card(customer, method_id)
    if method.is_default:
        return
    _make_default(customer, method)
    audit.record(
        actor,
        "payment.default_card",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"last4": method.last4},
    )
    _notify_card_change(customer, method)


@transactional
def remove_card(actor: Actor, customer: Customer, method_id: int) -> None:
    method = _own_card(customer, method_id)
    if method.is_default:
        raise DefaultCardInUse()
    try:
        gateway.detach(method.stripe_payment_method_id)
    except gateway.GatewayError as error:
        raise PaymentProblem(
            _l("The card could not be removed right now. Please try again."), code="provider_unavailable"
        ) from error
    audit.record(
        actor,
        "payment.card_removed",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        before={"last4": method.last4},
    )
    notifications.queue_to_customer("card_removed", customer, brand=method.brand.capitalize(), last4=method.last4)
    _delete_card(customer, method)


def _delete_card(customer: Customer, method: PaymentMethod) -> None:
    # A cancelled subscription may still name the card: it keeps the default one (or none).
    replacement = default_card(customer.id)
    for subscription in customer.subscriptions:
        if subscription.payment_method_id == method.id:
            subscription.payment_method = replacement if replacement is not method else None
    db.session.delete(method)


def _notify_card_change(customer: Customer, method: PaymentMethod) -> None:
    notifications.queue_to_customer("card_changed", customer, brand=method.brand.capitalize(), last4=method.last4)
