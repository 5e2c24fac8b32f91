"""What an agent can do for a customer from a case, through the same services as the portal."""

from __future__ import annotations

from portal.models import Subscription
from portal.services import actions, subscriptions
from portal.services.actors import Actor
from portal.services.subscriptions import PolicyRefusal
from portal.text import lazy_text as _l

# Each choice: the subscription action it applies and its fixed parameters.
ON_BEHALF: dict[str, tuple[str, dict]] = {
    "skip_next": ("skip", {}),
    "pause": ("pause", {"cycles": 1}),
    "resume": ("resume", {}),
    "order_now": ("order_now", {}),
    "cancel": ("cancel", {"mode": "now"}),
    "reactivate": ("reactivate", {}),
}


def act(actor: Actor, subscription: Subscription, choice: str) -> actions.ActionResult:
    action, params = ON_BEHALF[choice]
    if action == "skip":
        order = subscriptions.next_skippable(subscription)
        if order is None:
            raise PolicyRefusal(_l("There is no order that can still be skipped."), code="nothing_to_skip")
        params = {"order_id": order.id}
    return actions.perform(actor, subscription, action, subscription.version, **params)
