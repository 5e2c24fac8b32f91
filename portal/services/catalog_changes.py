"""Changes on the merchant's side: a new price or a discontinued variant, announced ahead of time.

The merchant announces the change with its date (at least the message's days of notice ahead);
the `catalog-changes` job tells every subscriber it affects, once, with their swap choices, and
on the date puts the change into effect: the subscriptions on that variant take the new price
for the orders that can still change, through the same path as every other change."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.formatting import LazyDate
from portal.models import CatalogChange, Subscription, SubscriptionItem, Variant, utcnow
from portal.services import audit, clock, outreach, subscriptions
from portal.services import policy as policy_service
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.lookup import get_or_404
from portal.services.subscriptions import storage
from portal.services.subscriptions.changes import job_actor, record_change
from portal.services.subscriptions.rules import LIVE_STATUSES
from portal.services.uow import transactional, unit_of_work
from portal.text import lazy_text as _l

KINDS = ("price", "discontinued")


class InvalidChange(DomainError):
    code = "invalid_catalog_change"


@transactional
def announce(
    actor: Actor, variant_id: int, kind: str, effective_on: date, new_price_minor: int | None = None
) -> CatalogChange:
    variant = get_or_404(Variant, variant_id)
    if kind not in KINDS:
        raise InvalidChange(_l("Choose a price change or a discontinued product."))
    earliest = clock.today() + timedelta(days=outreach.setting("catalog_change").days_before)
    if effective_on < earliest:
        raise InvalidChange(
            _l("Subscribers need notice: choose %(date)s or later.", date=LazyDate(earliest)),
        )
    if kind == "price":
        if not new_price_minor or new_price_minor <= 0:
            raise InvalidChange(_l("Enter the new price."))
        if new_price_minor == variant.price_minor:
            raise InvalidChange(_l("That is already the price."))
    elif not variant.active:
        raise InvalidChange(_l("That product is already discontinued."))
    change = CatalogChange(
        variant_id=variant.id,
        kind=kind,
        new_price_minor=new_price_minor if kind == "price" else None,
        effective_on=effective_on,
    )
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor,
        "catalog.change_announced",
        subject_type="variant",
        subject_id=variant.id,
        before={"price_minor": variant.price_minor, "active": variant.active},
        after={"change": change.id, "kind": kind, "price_minor": new_price_minor, "on": effective_on.isoformat()},
    )
    return change


def announced() -> list[CatalogChange]:
    return list(db.session.scalars(select(CatalogChange).order_by(CatalogChange.id.desc()).limit(100)))


def variants() -> list[Variant]:
    return list(db.session.scalars(select(Variant).options(joinedload(Variant.product)).order_by(Variant.sku)))


def _affected(change: CatalogChange) -> list[tuple[Subscription, SubscriptionItem]]:
    rows = db.session.execute(
        select(Subscription, SubscriptionItem)
        .join(SubscriptionItem, SubscriptionItem.subscription_id == Subscription.id)
        .where(
            SubscriptionItem.variant_id == change.variant_id,
            Subscription.status.in_(LIVE_STATUSES),
            (Subscription.cancel_at.is_(None)) | (Subscription.cancel_at > change.effective_on),
        )
        .order_by(Subscription.id)
    ).all()
    return [(subscription, item) for subscription, item in rows]


def run() -> int:
    """The job: notices for changes not yet in effect, then the changes whose date is close
    enough that the orders on it can no longer change otherwise (the order cut-off)."""
    with unit_of_work(outermost=True):
        due_by = policy_service.get().first_open_date(clock.today())
        pending = db.session.execute(
            select(CatalogChange.id, CatalogChange.effective_on)
            .where(CatalogChange.applied_at.is_(None))
            .order_by(CatalogChange.effective_on, CatalogChange.id)
        ).all()
    done = sum(_notify(change_id) for change_id, _on in pending)
    return done + sum(_put_into_effect(change_id) for change_id, on in pending if on <= due_by)


def _notify(change_id: int) -> int:
    sent = 0
    with unit_of_work(outermost=True):
        if not outreach.setting("catalog_change").enabled:
            return 0
        change = db.session.get(CatalogChange, change_id)
        variant = db.session.get(Variant, change.variant_id)
        for subscription, item in _affected(change):
            choices = [v for v in subscriptions.swap_choices(subscription)[item.id] if v.id != variant.id]
            sent += outreach.send_once(
                "catalog-changes",
                "catalog_change",
                subscription.customer,
                ("subscription", subscription.id),
                f"change-{change.id}",
                change.effective_on,
                {
                    "swap": (
                        "account.subscription_action",
                        {"subscription_id": subscription.id, "action": "swap", "item": item.id},
                    )
                },
                change=change,
                variant=variant,
                item=item,
                currency=subscription.currency,
                choices=choices,
            )
    return sent


def _put_into_effect(change_id: int) -> int:
    """Each subscription still on the old price takes the new one; the catalogue too."""
    changed = 0
    with unit_of_work(outermost=True):
        change = db.session.scalar(
            select(CatalogChange)
            .where(CatalogChange.id == change_id, CatalogChange.applied_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        if change is None:
            return 0  # another worker has it
        change.applied_at = utcnow()
        variant = db.session.get(Variant, change.variant_id)
        audit.record(
            job_actor("catalog-changes"),
            "catalog.change_applied",
            subject_type="variant",
            subject_id=variant.id,
            before={"price_minor": variant.price_minor, "active": variant.active},
            after={"change": change.id},
        )
        if change.kind == "discontinued":
            variant.active = False  # no one can choose it any more; its subscribers were told
            return 1
        variant.price_minor = change.new_price_minor
        ctx = storage.context()
        for subscription, _item in _affected(change):
            before = storage.load_plan(subscription, ctx)
            lines = tuple(
                replace(line, unit_price_minor=change.new_price_minor) if line.variant_id == variant.id else line
                for line in before.lines
            )
            record_change(
                job_actor("catalog-changes"), subscription, "price_change", before, replace(before, lines=lines), ctx
            )
            changed += 1
    return changed
