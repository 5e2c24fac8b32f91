"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, Index, text

# The largest primary key the database holds (a 32-bit integer column): ids from outside
# (paths, forms, query strings) beyond it are refused before they reach a query.
MAX_ID = 2**31 - 1


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint, stored by value."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index over only the rows a job or a page looks for (the same on PostgreSQL and SQLite)."""
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))
