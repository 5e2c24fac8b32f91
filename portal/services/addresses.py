"""Shipping addresses: checked per country, applied to one subscription or to all of them."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import Address, Customer, OrderStatus, Subscription
from portal.services import audit, notifications
from portal.services.actors import Actor
from portal.services.errors import DomainError, NotFound
from portal.services.subscriptions import queries
from portal.services.subscriptions.queries import UpcomingOrder
from portal.services.subscriptions.rules import LIVE_STATUSES
from portal.services.uow import transactional
from portal.text import lazy_text as _l


@dataclass(frozen=True)
class CountryRule:
    postal_code: str
    example: str
    region_required: bool = False


COUNTRY_RULES = {
    "ES": CountryRule(r"\d{5}", "28013"),
    "PT": CountryRule(r"\d{4}-\d{3}", "1100-148"),
    "FR": CountryRule(r"\d{5}", "75001"),
    "DE": CountryRule(r"\d{5}", "10115"),
    "NL": CountryRule(r"\d{4} ?[A-Z]{2}", "1012 AB"),
    "IT": CountryRule(r"\d{5}", "00184"),
    "GB": CountryRule(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "SW1A 1AA"),
    "US": CountryRule(r"\d{5}(-\d{4})?", "94103", region_required=True),
}


class InvalidAddress(DomainError):
    code = "invalid_address"
    default_message = _l("Please check the address.")

    def __init__(self, errors: dict[str, str]):
        super().__init__()
        self.errors = errors


@dataclass(frozen=True)
class AddressInput:
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str

    def cleaned(self) -> AddressInput:
        values = {key: " ".join(value.split()) for key, value in asdict(self).items()}
        values["country"] = values["country"].upper()
        values["postal_code"] = values["postal_code"].upper()
        return AddressInput(**values)


# The longest each field may be: the columns' lengths, which the forms use too.
MAX_LENGTHS = {field: Address.__table__.c[field].type.length for field in AddressInput.__dataclass_fields__}


class AddressUnchanged(DomainError):
    status = 409
    code = "no_change"
    default_message = _l("That is already the shipping address.")


def _same(address: Address | None, data: AddressInput) -> bool:
    if address is None:
        return False
    return (
        address.name,
        address.line1,
        address.line2 or "",
        address.city,
        address.region or "",
        address.postal_code,
        address.country,
    ) == (data.name, data.line1, data.line2, data.city, data.region, data.postal_code, data.country)


def shipping_countries() -> list[str]:
    return [code for code in current_app.config["SHIPPING_COUNTRIES"] if code in COUNTRY_RULES]


def validate(data: AddressInput) -> AddressInput:
    """Every problem at once, keyed by field, so the form can show each next to its input."""
    data = data.cleaned()
    errors: dict[str, str] = {}
    for field, message in (
        ("name", _l("Enter the recipient’s name.")),
        ("line1", _l("Enter the street and number.")),
        ("city", _l("Enter the town or city.")),
        ("postal_code", _l("Enter the postal code.")),
    ):
        if not getattr(data, field):
            errors[field] = message
    rule = COUNTRY_RULES.get(data.country) if data.country in shipping_countries() else None
    if rule is None:
        errors["country"] = _l("We do not ship to that country.")
    else:
        if data.postal_code and not re.fullmatch(rule.postal_code, data.postal_code):
            errors["postal_code"] = _l(
                "That postal code does not look right for this country, e.g. %(example)s.", example=rule.example
            )
        if rule.region_required and not data.region:
            errors["region"] = _l("Enter the state.")
    for field, value in asdict(data).items():
        if len(value) > MAX_LENGTHS[field]:
            errors[field] = _l("That is too long.")
    if errors:
        raise InvalidAddress(errors)
    return data


def movable(subscriptions: list[Subscription]) -> list[Subscription]:
    """Of these, the ones an address change "for all subscriptions" moves: the live ones."""
    return [subscription for subscription in subscriptions if subscription.status in LIVE_STATUSES]


def _targets(customer: Customer, data: AddressInput, subscription_id: int | None) -> list[Subscription]:
    """The subscriptions a change would move, refused when it would move none of them."""
    query = select(Subscription).where(Subscription.customer_id == customer.id, Subscription.status.in_(LIVE_STATUSES))
    if subscription_id is not None:
        query = select(Subscription).where(Subscription.customer_id == customer.id, Subscription.id == subscription_id)
    targets = list(db.session.scalars(query))
    if subscription_id is not None and not targets:
        raise NotFound()
    if targets and all(_same(subscription.shipping_address, data) for subscription in targets):
        # Also what makes a double-submitted form apply once.
        raise AddressUnchanged()
    return targets


@dataclass(frozen=True)
class MovedSubscription:
    subscription: Subscription
    address_before: Address | None
    orders: list[UpcomingOrder]


@dataclass(frozen=True)
class AddressPreview:
    address: AddressInput
    moved: list[MovedSubscription]


def preview_address_change(customer: Customer, data: AddressInput, subscription_id: int | None) -> AddressPreview:
    """What change_shipping_address would do, changing nothing: each subscription it moves, the
    address it leaves, and the orders still to ship that will go to the new one."""
    data = validate(data)
    moved = [
        MovedSubscription(
            subscription,
            subscription.shipping_address,
            [upcoming for upcoming in queries.upcoming(subscription) if upcoming.order.status is OrderStatus.SCHEDULED],
        )
        for subscription in _targets(customer, data, subscription_id)
    ]
    return AddressPreview(data, moved)


@transactional
def change_shipping_address(
    actor: Actor, customer: Customer, data: AddressInput, subscription_id: int | None
) -> list[Subscription]:
    """Ship one subscription (or, with None, every live one) to a new address."""
    try:
        data = validate(data)
    except InvalidAddress as error:
        audit.record_failure(
            actor,
            "address.change",
            error.code,
            subject_type="customer",
            subject_id=customer.id,
            customer_id=customer.id,
            after={"fields": sorted(error.errors)},
        )
        raise
    targets = _targets(customer, data, subscription_id)
    # A new row rather than an edit: an address an order already went to stays as it was.
    address = Address(
        customer_id=customer.id,
        name=data.name,
        line1=data.line1,
        line2=data.line2 or None,
        city=data.city,
        region=data.region or None,
        postal_code=data.postal_code,
        country=data.country,
    )
    db.session.add(address)
    db.session.flush()
    for subscription in targets:
        before = subscription.shipping_address_id
        subscription.shipping_address = address
        audit.record(
            actor,
            "subscription.address",
            subject_type="subscription",
            subject_id=subscription.id,
            customer_id=customer.id,
            before={"address_id": before},
            after={"address_id": address.id},
        )
    notifications.queue_to_customer("address_changed", customer, address=address, count=len(targets))
    return targets
