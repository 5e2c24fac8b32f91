"""The unit of work: one owner for every transaction.

A public service call, a job step or a command opens `unit_of_work()`. The outermost one commits
once when its block ends, or rolls back when it raises; a block opened inside it joins the same
transaction, so services compose without commit flags and helpers only flush.

A refused attempt is history too (support reads it), yet the change it belongs to is rolled back.
`keep_after_rollback` holds such records apart: they are written with the transaction when it
commits, or in a transaction of their own right after it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from flask import current_app
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.services.errors import ConcurrentChange

_DEPTH = "unit_of_work_depth"
_KEPT = "unit_of_work_kept"


class NestedTransaction(RuntimeError):
    """A step that must commit on its own (before calling a payment provider) was called inside
    another transaction, which would hold its commit back."""


def _session() -> Session:
    return db.session()


def depth() -> int:
    return _session().info.get(_DEPTH, 0)


@contextmanager
def unit_of_work(*, outermost: bool = False) -> Iterator[Session]:
    """Open the transaction, or join the one already open.

    `outermost=True` is for steps whose commit must happen before the caller goes on (a charge
    is claimed and committed before the provider is called): joining would defeat that.
    """
    session = _session()
    level = session.info.get(_DEPTH, 0)
    if outermost and level:
        raise NestedTransaction("this step commits on its own and cannot join a transaction")
    session.info[_DEPTH] = level + 1
    try:
        yield session
        if level == 0:
            _write_kept(session)
            session.commit()
    except StaleDataError:
        # Another writer changed a versioned row first: nothing of this change is applied.
        if level == 0:
            _roll_back(session)
            raise ConcurrentChange() from None
        raise
    except BaseException:
        if level == 0:
            _roll_back(session)
        raise
    finally:
        session.info[_DEPTH] = level


def _roll_back(session: Session) -> None:
    session.rollback()
    kept = session.info.pop(_KEPT, [])
    if not kept:
        return
    try:
        for add in kept:
            add()
        session.commit()
    except Exception:  # the record of a refusal must never hide the error that caused it
        session.rollback()
        current_app.logger.exception("could not keep the record of a refused attempt")


def _write_kept(session: Session) -> None:
    for add in session.info.pop(_KEPT, []):
        add()


def keep_after_rollback(add: Callable[[], None]) -> None:
    """Run `add` (which adds rows to the session) whatever becomes of the current transaction.

    Outside a unit of work it is written at once, in a transaction of its own.
    """
    session = _session()
    if session.info.get(_DEPTH, 0):
        session.info.setdefault(_KEPT, []).append(add)
        return
    with unit_of_work():
        add()


def transactional(function: Callable) -> Callable:
    """Run the whole function as one unit of work (or inside the caller's)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return function(*args, **kwargs)

    return wrapper


def standalone(function: Callable) -> Callable:
    """Like `transactional`, but refuses to join a caller's transaction (see `outermost`)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with unit_of_work(outermost=True):
            return function(*args, **kwargs)

    return wrapper


def per_transaction(key: str, load: Callable[[], object]):
    """`load()` once per transaction: what a page or a job batch asks for many times (the policy,
    the opening hours) is read once, and read again after a commit."""
    session = _session()
    cached = session.info.get(key)
    if cached is not None and session.get_transaction() is not None and cached[0] is session.get_transaction():
        return cached[1]
    value = load()
    session.info[key] = (session.get_transaction(), value)
    return value


def forget(*keys: str) -> None:
    """Drop what `per_transaction` holds, after a write that changes it."""
    for key in keys:
        _session().info.pop(key, None)
