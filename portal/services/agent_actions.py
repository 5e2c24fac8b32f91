"""What an agent does for a customer from a case that the subscriber's pages do in several steps.

Every other action on behalf goes through the same `actions.perform` as the portal (with the
portal's forms and preview, `portal.action_flow`); cancelling is the subscriber's cancel flow
run at once: the reason the customer gave the agent, no offers (the agent made them in person),
and the end they chose."""

from __future__ import annotations

from datetime import date

from portal.models import Subscription
from portal.services import cancellation
from portal.services.actors import Actor
from portal.services.subscriptions.schedule import Impact
from portal.services.uow import transactional


@transactional
def cancel(
    actor: Actor,
    subscription: Subscription,
    expected_version: int,
    *,
    reason_code: str | None,
    details: str,
    mode: str,
    on_date: date | None,
) -> Impact:
    """One transaction: the attempt with its reason (no offers: the customer asked a person to
    cancel, and the save rate counts only offers the subscriber saw), the cancel applied."""
    attempt = cancellation.start(actor, subscription, reason_code, details, offering=False)
    return cancellation.confirm(actor, attempt, subscription, mode, on_date, expected_version)
