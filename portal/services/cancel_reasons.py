"""The merchant's cancel reasons and the offers each one gets: defaults, reading, editing.

A reason's label exists in every shipped language; the defaults are translated, and the first
edit turns them into the merchant's own rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CancelReason
from portal.services import audit
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.subscriptions.rules import DISCOUNT_ORDERS_RANGE, DISCOUNT_PERCENT_RANGE
from portal.services.uow import transactional
from portal.text import lazy_text as _l

MAX_OFFERS = 2
# What each kind of offer is called where the merchant chooses them.
OFFER_LABELS = {
    "pause": _l("Pause"),
    "skip": _l("Skip the next order"),
    "swap": _l("Swap to another product"),
    "frequency": _l("Deliver less often"),
    "discount": _l("Discount"),
    "talk": _l("Talk to a person"),
}
OFFER_TYPES = tuple(OFFER_LABELS)
DEFAULT_DISCOUNT = {"percent": 15, "orders": 2}
CODE_MAX_LENGTH = 40
LABEL_MAX_LENGTH = 200

DEFAULT_REASONS: list[tuple[str, Any, list[dict[str, Any]]]] = [
    (
        "too_expensive",
        _l("It costs too much"),
        [{"type": "discount", "percent": 20, "orders": 2}, {"type": "frequency"}],
    ),
    ("too_much", _l("I have too much of it"), [{"type": "frequency"}, {"type": "skip"}]),
    ("not_using", _l("I am not using it"), [{"type": "pause"}, {"type": "skip"}]),
    ("did_not_like", _l("I did not like the product"), [{"type": "swap"}, {"type": "talk"}]),
    ("delivery_problems", _l("Problems with delivery"), [{"type": "talk"}]),
    ("customer_service", _l("I was not happy with customer service"), [{"type": "talk"}]),
    ("switching", _l("I am switching to another brand"), [{"type": "discount", "percent": 15, "orders": 3}]),
    ("moving", _l("I am moving or away for a while"), [{"type": "pause"}]),
    ("other", _l("Something else"), [{"type": "talk"}]),
]


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    enabled: bool
    position: int
    offers: list[dict[str, Any]]
    labels: dict[str, str]


def _translated(label) -> dict[str, str]:
    labels = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            labels[lang] = str(label)
    return labels


def reasons(include_disabled: bool = False) -> list[Reason]:
    """In the viewer's language (else the default language's label, never the code)."""
    locale, default = str(get_locale() or ""), current_app.config["BABEL_DEFAULT_LOCALE"]
    rows = list(db.session.scalars(select(CancelReason).order_by(CancelReason.position, CancelReason.id)))
    if rows:
        found = [
            Reason(
                r.code,
                r.labels.get(locale) or r.labels.get(default) or next(iter(r.labels.values()), r.code),
                r.enabled,
                r.position,
                list(r.offers),
                dict(r.labels),
            )
            for r in rows
        ]
    else:
        found = [
            Reason(code, str(label), True, index, offers, _translated(label))
            for index, (code, label, offers) in enumerate(DEFAULT_REASONS)
        ]
    return [reason for reason in found if include_disabled or reason.enabled]


def _check_offers(offers: list[dict[str, Any]]) -> None:
    if len(offers) > MAX_OFFERS:
        raise DomainError(_l("Choose at most %(max)d offers per reason.", max=MAX_OFFERS), code="too_many_offers")
    for offer in offers:
        if offer.get("type") not in OFFER_TYPES:
            raise DomainError(_l("That offer is not available."), code="invalid_offer")
        if offer["type"] == "discount" and not (
            DISCOUNT_PERCENT_RANGE[0] <= offer.get("percent", 0) <= DISCOUNT_PERCENT_RANGE[1]
            and DISCOUNT_ORDERS_RANGE[0] <= offer.get("orders", 0) <= DISCOUNT_ORDERS_RANGE[1]
        ):
            raise DomainError(_l("That discount is not available."), code="invalid_offer")


@transactional
def save_reason(
    actor: Actor, *, code: str, labels: dict[str, str], position: int, enabled: bool, offers: list[dict[str, Any]]
) -> None:
    """Create or update one reason. The first edit turns the defaults into the merchant's own rows."""
    _materialise_defaults()
    code = code.strip().lower()
    if not code or not code.replace("_", "").isalnum() or len(code) > CODE_MAX_LENGTH:
        raise DomainError(_l("Use letters, digits and underscores for the code."), code="invalid_reason_code")
    languages = current_app.config["LANGUAGES"]
    labels = {lang: " ".join((labels.get(lang) or "").split()) for lang in languages}
    missing = [lang for lang in languages if not labels[lang]]
    if missing:
        raise DomainError(
            _l("Write the label in every language: %(languages)s.", languages=", ".join(missing)),
            code="reason_label_missing",
        )
    if any(len(label) > LABEL_MAX_LENGTH for label in labels.values()):
        raise DomainError(_l("That is too long."), code="reason_label_too_long")
    _check_offers(offers)
    row = db.session.scalar(select(CancelReason).where(CancelReason.code == code))
    before = (
        None
        if row is None
        else {"labels": row.labels, "enabled": row.enabled, "offers": row.offers, "position": row.position}
    )
    if row is None:
        row = CancelReason(code=code)
        db.session.add(row)
    row.labels, row.position, row.enabled, row.offers = labels, position, enabled, offers
    audit.record(
        actor,
        "policy.cancel_reason_saved",
        subject_type="cancel_reason",
        before=before,
        after={"code": code, "labels": labels, "enabled": enabled, "offers": offers, "position": position},
    )


def _materialise_defaults() -> None:
    if db.session.scalar(select(func.count()).select_from(CancelReason)):
        return
    for position, (code, label, offers) in enumerate(DEFAULT_REASONS):
        db.session.add(
            CancelReason(code=code, position=position, enabled=True, labels=_translated(label), offers=offers)
        )
    db.session.flush()
