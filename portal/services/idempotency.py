"""Idempotency keys on API POSTs: the first answer to a key is kept and given again on a retry,
so a merchant system that lost a response can send the same request without acting twice.

A key is reserved (committed) before the request runs; a second request with the key while the
first still runs is refused rather than run alongside it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import IdempotentResponse
from portal.services.errors import DomainError
from portal.services.uow import standalone
from portal.text import lazy_text as _l

KEY_MAX_LENGTH = 255
# A reserved key whose request has not answered yet.
IN_PROGRESS = 0


class IdempotencyConflict(DomainError):
    status = 409
    code = "idempotency_conflict"
    default_message = _l("A request with this Idempotency-Key is still being handled. Try again shortly.")


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = _l("This Idempotency-Key was used for a different request.")


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid_idempotency_key"
    default_message = _l("An Idempotency-Key is 1 to 255 visible characters.")


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _check_key(key: str) -> None:
    if not 0 < len(key) <= KEY_MAX_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidIdempotencyKey()


@standalone
def _insert(api_key_id: int, key: str, print_: str) -> None:
    db.session.add(IdempotentResponse(api_key_id=api_key_id, key=key, fingerprint=print_, status=IN_PROGRESS, body=""))


def reserve(api_key_id: int, key: str, print_: str) -> Replay | None:
    """Claim the key for this request (None: go ahead), or the first answer to replay."""
    _check_key(key)
    try:
        _insert(api_key_id, key, print_)
        return None
    except IntegrityError:
        pass
    stored = db.session.scalar(
        select(IdempotentResponse).where(IdempotentResponse.api_key_id == api_key_id, IdempotentResponse.key == key)
    )
    if stored is None:  # released meanwhile by a request that failed on our side
        raise IdempotencyConflict()
    if stored.fingerprint != print_:
        raise IdempotencyKeyReused()
    if stored.status == IN_PROGRESS:
        raise IdempotencyConflict()
    return Replay(stored.status, stored.body)


@standalone
def complete(api_key_id: int, key: str, status: int, body: str) -> None:
    stored = db.session.scalar(
        select(IdempotentResponse).where(IdempotentResponse.api_key_id == api_key_id, IdempotentResponse.key == key)
    )
    stored.status, stored.body = status, body


@standalone
def release(api_key_id: int, key: str) -> None:
    """An error on our side: the request may be tried again with the same key."""
    db.session.execute(
        delete(IdempotentResponse).where(IdempotentResponse.api_key_id == api_key_id, IdempotentResponse.key == key)
    )
