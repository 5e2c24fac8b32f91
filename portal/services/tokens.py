"""Secrets in links and keys: random, stored only as their SHA-256, used once by a conditional
UPDATE so that racing requests get one winner. Shared by sign-in links, action links and API keys."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update

from portal.extensions import db
from portal.models import utcnow


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def use_once(model, *conditions) -> int | None:
    """Mark the one usable row matching `conditions` used, in the caller's transaction; its id,
    or None when there is none (already used, expired, or never there).

    `used_at IS NULL` is checked by the UPDATE itself, so of two racing requests the second
    waits for the first to commit, finds the row used and gets None."""
    now = utcnow()
    return db.session.execute(
        update(model)
        .where(*conditions, model.used_at.is_(None), model.expires_at > now)
        .values(used_at=now)
        .returning(model.id)
    ).scalar()
