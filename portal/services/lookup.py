"""Finding one record by id for a request: missing, out of range or someone else's is the same 404."""

from __future__ import annotations

from typing import TypeVar

from portal.extensions import db
from portal.models.types import MAX_ID
from portal.services.errors import NotFound

T = TypeVar("T")


def is_record_id(value: object) -> bool:
    """A whole number the database could hold as a primary key."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def get_or_404(model: type[T], record_id: object, *, for_update: bool = False, fresh: bool = False) -> T:
    """`fresh` reads the row again even when the session holds it (after taking a lock, say)."""
    if not is_record_id(record_id):
        raise NotFound()
    found = db.session.get(model, record_id, with_for_update=for_update or None, populate_existing=fresh)
    if found is None:
        raise NotFound()
    return found
