"""Password hashing with argon2id, and what a new password must be."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.services.errors import DomainError
from portal.text import lazy_text as _l

_hasher = PasswordHasher()

# Verifying against this when no account matches keeps the timing the same either way.
_DUMMY_HASH = _hasher.hash("no-such-account")

MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing stays cheap.
MAX_LENGTH = 200


class WeakPassword(DomainError):
    code = "password_too_short"


def hash_password(password: str) -> str:
    """The hash of a new password; one outside the length rules is refused, whoever sets it."""
    if not MIN_LENGTH <= len(password or "") <= MAX_LENGTH:
        raise WeakPassword(_l("Use at least %(min)d characters.", min=MIN_LENGTH))
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, (password or "")[:MAX_LENGTH]) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
