"""Keys for merchant systems calling the JSON API: made and revoked by admins (or the CLI),
shown once, stored as their SHA-256, each with scopes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import ActorType, ApiKey, utcnow
from portal.services import audit, tokens
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.lookup import get_or_404
from portal.services.uow import transactional, unit_of_work
from portal.text import lazy_text as _l

# read: customers, subscriptions, orders and links; write: act on subscriptions; links: make
# and revoke sign-in and action links.
SCOPES = ("read", "write", "links")
KEY_PREFIX = "portal_"
NAME_MAX_LENGTH = 80
# Refreshing last_used_at on every call would turn every read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=5)


class InvalidApiKey(DomainError):
    status = 422
    code = "invalid_api_key"
    default_message = _l("Give the key a name and at least one scope.")


def parse_scopes(text: str) -> list[str]:
    scopes = sorted({part.strip().lower() for part in text.split(",") if part.strip()})
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidApiKey(_l("Scopes are a comma-separated choice of: %(scopes)s.", scopes=", ".join(SCOPES)))
    return scopes


@transactional
def create(actor: Actor, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key and its secret text, which is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH or not scopes or any(scope not in SCOPES for scope in scopes):
        raise InvalidApiKey()
    secret = KEY_PREFIX + tokens.new_secret()
    key = ApiKey(name=name, prefix=secret[: len(KEY_PREFIX) + 6], key_hash=tokens.digest(secret), scopes=sorted(scopes))
    db.session.add(key)
    db.session.flush()
    audit.record(
        actor, "api_key.created", subject_type="api_key", subject_id=key.id, after={"name": name, "scopes": key.scopes}
    )
    return key, secret


@transactional
def revoke(actor: Actor, key_id: int) -> ApiKey:
    key = get_or_404(ApiKey, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(actor, "api_key.revoked", subject_type="api_key", subject_id=key.id, after={"name": key.name})
    return key


def authenticate(secret: str) -> ApiKey | None:
    """The live key whose secret this is: one indexed lookup."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == tokens.digest(secret), ApiKey.revoked_at.is_(None)))
    if key is None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        with unit_of_work():
            key.last_used_at = now
    return key


def all_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def actor_of(key: ApiKey, request_id: str | None = None) -> Actor:
    return Actor(ActorType.API, key.id, f"api key {key.name}", request_id)
