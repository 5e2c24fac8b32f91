"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.extensions import db


def test_migrations_match_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_constraints_are_named(ctx):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        for foreign_key in inspector.get_foreign_keys(table.name):
            assert foreign_key["name"], table.name
        assert inspector.get_pk_constraint(table.name)["name"] or db.engine.dialect.name == "sqlite"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
