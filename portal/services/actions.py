"""Acting on a subscription, for every caller: the portal, email links, the agent console and
the API. The change goes through `subscriptions.apply`; what it sets off happens here, after it
is committed (ordering now charges the order at once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.models import Subscription
from portal.services import payments, subscriptions
from portal.services.actors import Actor
from portal.services.subscriptions.schedule import Impact

if TYPE_CHECKING:  # payments imports this module through links: the name is only an annotation here
    from portal.services.payments import ChargeOutcome


@dataclass(frozen=True)
class ActionResult:
    impact: Impact
    # For "order now": what became of the charge, so the answer can be honest about it.
    charge: ChargeOutcome | None = None


def perform(actor: Actor, subscription: Subscription, action: str, expected_version: int, **params) -> ActionResult:
    impact = subscriptions.apply(actor, subscription, action, expected_version, **params)
    charge = payments.charge_due_order_of(actor, subscription.id) if action == "order_now" else None
    return ActionResult(impact, charge)
