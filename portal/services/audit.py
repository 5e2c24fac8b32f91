"""The audit trail: every state change and every refused attempt, with its actor."""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, Outcome
from portal.services import uow
from portal.services.actors import Actor


def record(
    actor: Actor,
    action: str,
    *,
    subject_type: str | None = None,
    subject_id: int | None = None,
    customer_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    error_code: str | None = None,
) -> AuditEvent:
    """Add an event to the current transaction: it lands with the change it describes."""
    event = AuditEvent(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        customer_id=customer_id,
        before=before,
        after=after,
        outcome=outcome,
        error_code=error_code,
        request_id=actor.request_id,
    )
    db.session.add(event)
    return event


def record_failure(actor: Actor, action: str, error_code: str, **fields: Any) -> None:
    """A refused attempt: kept even though the change it belongs to is rolled back."""
    uow.keep_after_rollback(lambda: record(actor, action, outcome=Outcome.FAILURE, error_code=error_code, **fields))
