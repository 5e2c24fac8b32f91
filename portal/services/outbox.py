"""Delivering outbox rows (emails, outgoing webhooks): claim one due row (SKIP LOCKED, so several
workers never send one twice), send it, record the outcome, each in a transaction of its own, so
one row that cannot be sent never holds back or repeats the others. A failure is retried with
exponential backoff until `OUTBOX_MAX_ATTEMPTS`, then the row is kept, marked given up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import utcnow
from portal.services.uow import unit_of_work

MAX_BACKOFF = timedelta(hours=6)


def _claim_one(model):
    return db.session.scalar(
        select(model)
        .where(model.sent_at.is_(None), model.gave_up_at.is_(None), model.next_attempt_at <= utcnow())
        .order_by(model.next_attempt_at, model.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _failed(row, error: Exception) -> None:
    now = utcnow()
    row.last_error = f"{type(error).__name__}: {error}"[:500]
    if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        row.gave_up_at = now
        current_app.logger.error("%s %s gave up: %s", type(row).__name__, row.id, row.last_error)
    else:
        row.next_attempt_at = now + min(timedelta(minutes=2**row.attempts), MAX_BACKOFF)


def deliver_due(model, send: Callable[[object], None], batch_size: int) -> int:
    """Send up to `batch_size` due rows of `model`; returns how many were sent. The row stays
    locked while it is sent, and its outcome is committed before the next one is claimed."""
    sent = 0
    for _ in range(batch_size):
        with unit_of_work(outermost=True):
            row = _claim_one(model)
            if row is None:
                break
            row.attempts += 1
            try:
                send(row)
            except Exception as error:  # whatever went wrong, it concerns this row alone
                _failed(row, error)
            else:
                row.sent_at, row.last_error = utcnow(), None
                sent += 1
    return sent
