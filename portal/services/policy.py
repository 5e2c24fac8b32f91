"""The merchant's self-serve rules: read by every action, edited in admin."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.formatting import LazyMoney
from portal.models import IntervalUnit, MerchantPolicy, Product, ProductSwap
from portal.services import audit
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.uow import forget, per_transaction, transactional
from portal.text import lazy_text as _l

# The highest per-case credit limit a merchant may set, in minor units.
MAX_AGENT_CREDIT_LIMIT_MINOR = 10_000_000
_INTERVAL = re.compile(r"^([1-9][0-9]?)([wm])$")
_UNITS = {"w": IntervalUnit.WEEK, "m": IntervalUnit.MONTH}


class InvalidPolicy(DomainError):
    code = "invalid_policy"
    default_message = _l("Those settings are not valid.")


@dataclass(frozen=True)
class Policy:
    order_cutoff_days: int
    pause_cycle_options: list[int]
    max_pause_days: int
    max_consecutive_skips: int
    allowed_intervals: list[str]
    reschedule_window_days: int
    simple_cancellation: bool
    discount_cooldown_days: int
    dunning_retry_days: list[int]
    dunning_final_action: str
    agent_credit_limit_minor: int
    sign_in_link_minutes: int
    action_link_hours: int

    def intervals(self) -> list[tuple[IntervalUnit, int]]:
        return [parse_interval(code) for code in self.allowed_intervals]

    def is_locked(self, order_date: date, today: date) -> bool:
        """Orders this close are being prepared: they can no longer be changed."""
        return order_date <= today + timedelta(days=self.order_cutoff_days)

    def first_open_date(self, today: date) -> date:
        return today + timedelta(days=self.order_cutoff_days + 1)


def parse_interval(code: str) -> tuple[IntervalUnit, int]:
    match = _INTERVAL.match(code.strip().lower())
    if not match:
        raise InvalidPolicy(_l("“%(code)s” is not a frequency. Write it like 2w or 1m.", code=code))
    return _UNITS[match.group(2)], int(match.group(1))


def interval_code(unit: IntervalUnit, count: int) -> str:
    return f"{count}{'w' if unit is IntervalUnit.WEEK else 'm'}"


_CACHED, _ROW = "merchant_policy", "merchant_policy_row"


def row() -> MerchantPolicy | None:
    """The stored policy row (None until the merchant saves one), read once per transaction."""
    return per_transaction(_ROW, lambda: db.session.get(MerchantPolicy, 1))


def get() -> Policy:
    """The rules in force, read once per transaction (a page or a job batch asks many times)."""
    return per_transaction(_CACHED, _load)


def _load() -> Policy:
    stored = row()
    values = dict(current_app.config["POLICY_DEFAULTS"])
    if stored is not None:
        values.update({field.name: getattr(stored, field.name) for field in fields(Policy)})
    return Policy(**values)


def row_for_update() -> MerchantPolicy:
    """The row a writer changes, locked until its transaction ends so writers take turns; made
    from the rules in force when there is none yet (two first writers at once make it once)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(MerchantPolicy).values(id=1, **asdict(get())).on_conflict_do_nothing(index_elements=["id"])
    )
    stored = db.session.scalar(
        select(MerchantPolicy).where(MerchantPolicy.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    forget(_CACHED, _ROW)
    return stored


@transactional
def update(actor: Actor, **values) -> Policy:
    candidate = Policy(**{**asdict(get()), **values})
    _validate(candidate)
    before = asdict(get())
    stored = row_for_update()
    for name, value in asdict(candidate).items():
        setattr(stored, name, value)
    audit.record(actor, "policy.updated", subject_type="policy", subject_id=1, before=before, after=asdict(candidate))
    forget(_CACHED, _ROW)
    return candidate


def _validate(policy: Policy) -> None:
    for code in policy.allowed_intervals:
        parse_interval(code)
    if not policy.allowed_intervals:
        raise InvalidPolicy(_l("Allow at least one frequency."))
    if not policy.pause_cycle_options or any(n < 1 or n > 52 for n in policy.pause_cycle_options):
        raise InvalidPolicy(_l("Pause options must be whole numbers of deliveries from 1 to 52."))
    if not 0 <= policy.order_cutoff_days <= 30:
        raise InvalidPolicy(_l("The cut-off must be between 0 and 30 days."))
    if not 0 <= policy.max_consecutive_skips <= 12:
        raise InvalidPolicy(_l("Consecutive skips must be between 0 and 12."))
    if not 7 <= policy.max_pause_days <= 365:
        raise InvalidPolicy(_l("The longest pause must be between 7 and 365 days."))
    if any(not 1 <= days <= 30 for days in policy.dunning_retry_days) or len(policy.dunning_retry_days) > 6:
        raise InvalidPolicy(_l("Payment retries must be up to six numbers of days from 1 to 30."))
    if not 0 <= policy.agent_credit_limit_minor <= MAX_AGENT_CREDIT_LIMIT_MINOR:
        raise InvalidPolicy(
            _l(
                "The agent credit limit must be between 0 and %(amount)s.",
                amount=LazyMoney(MAX_AGENT_CREDIT_LIMIT_MINOR, current_app.config["MERCHANT_CURRENCY"]),
            )
        )
    if policy.dunning_final_action not in ("pause", "cancel"):
        raise InvalidPolicy(_l("After the last failed retry, choose pause or cancel."))
    if not 0 <= policy.discount_cooldown_days <= 730:
        raise InvalidPolicy(_l("The discount cooldown must be between 0 and 730 days."))
    if not 5 <= policy.sign_in_link_minutes <= 24 * 60:
        raise InvalidPolicy(_l("Sign-in links must work for 5 to 1440 minutes."))
    if not 1 <= policy.action_link_hours <= 24 * 30:
        raise InvalidPolicy(_l("Action links must work for 1 to 720 hours."))
    if not policy.order_cutoff_days < policy.reschedule_window_days <= 365:
        raise InvalidPolicy(_l("The reschedule window must be longer than the cut-off and at most 365 days."))


# --- which products a subscriber may swap to -----------------------------------------------------


def swap_targets(product_id: int) -> set[int]:
    """Product ids whose variants a subscriber of `product_id` may choose (itself included)."""
    return swap_targets_of({product_id})[product_id]


def swap_targets_of(product_ids: set[int]) -> dict[int, set[int]]:
    """`swap_targets` for several products in one query."""
    targets = {product_id: {product_id} for product_id in product_ids}
    rows = db.session.execute(
        select(ProductSwap.product_id, ProductSwap.target_product_id).where(ProductSwap.product_id.in_(product_ids))
    )
    for product_id, target in rows:
        targets[product_id].add(target)
    return targets


@transactional
def set_swap_targets(actor: Actor, product: Product, target_ids: set[int]) -> None:
    before = sorted(swap_targets(product.id) - {product.id})
    target_ids = target_ids - {product.id}
    db.session.execute(delete(ProductSwap).where(ProductSwap.product_id == product.id))
    db.session.add_all(ProductSwap(product_id=product.id, target_product_id=t) for t in target_ids)
    audit.record(
        actor,
        "policy.swaps_updated",
        subject_type="product",
        subject_id=product.id,
        before={"targets": before},
        after={"targets": sorted(target_ids)},
    )
