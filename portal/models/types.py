"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


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
