"""Writing many rows at once, for demo and benchmark data: COPY on PostgreSQL (batched inserts on
SQLite), ids given by the caller, secondary indexes built once after the load."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select, text

from portal.extensions import db
from portal.services.uow import unit_of_work

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _on_postgres() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def next_ids(models) -> dict[type, int]:
    """The first free id of each table."""
    return {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1 for model in models}


def _copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    elif not isinstance(value, str):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value.translate(_ESCAPES)


def write(tables: dict[type, list[dict]]) -> None:
    """Rows (column -> value; a column a row leaves out is NULL) in the caller's transaction."""
    connection = db.session.connection()
    for model, rows in tables.items():
        if not rows:
            continue
        columns = list(dict.fromkeys(column for row in rows for column in row))
        if connection.dialect.name != "postgresql":
            connection.execute(model.__table__.insert(), [{c: row.get(c) for c in columns} for row in rows])
            continue
        data = "".join("\t".join(_copy_text(row.get(c)) for c in columns) + "\n" for row in rows)
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(data.encode())


@contextmanager
def bulk(models, *, drop_indexes: bool) -> Iterator[Callable[[dict[type, list[dict]]], None]]:
    """Yields a function that writes and commits one chunk of rows. Afterwards the indexes are
    back, the id sequences past the new rows, the tables vacuumed and the planner's statistics fresh."""
    postgres = _on_postgres()
    indexes = [i for m in models for i in m.__table__.indexes if not i.unique] if postgres and drop_indexes else []
    superuser = postgres and db.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))

    # Each chunk is a unit of work of its own, so memory and locks stay bounded by the chunk.
    def write_chunk(tables: dict[type, list[dict]]) -> None:
        with unit_of_work(outermost=True):
            if postgres:
                # Demo data can be loaded again: waiting for each chunk to reach the disk buys nothing.
                db.session.execute(text("SET LOCAL synchronous_commit = off"))
            if superuser:
                # The rows are consistent by construction; checking each foreign key row by row (a
                # trigger per row) would take most of the time.
                db.session.execute(text("SET LOCAL session_replication_role = replica"))
            write(tables)

    with unit_of_work(outermost=True):
        for index in indexes:
            db.session.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    try:
        yield write_chunk
    finally:
        with unit_of_work(outermost=True):
            if indexes:
                db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for index in indexes:
                index.create(db.session.connection(), checkfirst=True)
    if postgres:
        with unit_of_work(outermost=True):
            for model in models:
                name = model.__tablename__
                db.session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
        # VACUUM as well as ANALYZE: pages no vacuum has seen make every index scan visit the
        # heap (no visibility map) and every first reader set hint bits, as in no running shop,
        # whose autovacuum has long been through them. VACUUM cannot run in a transaction.
        names = ", ".join(model.__tablename__ for model in models)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {names}"))
