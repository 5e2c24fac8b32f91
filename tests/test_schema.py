"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal.extensions import db
from portal.models import Subscription, SubscriptionStatus
from portal.models.customers import SEARCH_INDEX, WORDS_INDEX
from tests import factories


def _declared_in_models(obj, name, type_, reflected, compare_to) -> bool:
    # The search indexes are on expressions, on PostgreSQL only; the models leave them to their
    # migrations, and tests/test_customer_search.py checks that the planner uses them.
    return not (type_ == "index" and name in (SEARCH_INDEX, WORDS_INDEX))


def test_migrations_match_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _declared_in_models}
        )
        assert compare_metadata(context, db.metadata) == []


def test_constraints_are_named(ctx):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        for foreign_key in inspector.get_foreign_keys(table.name):
            assert foreign_key["name"], table.name
        assert inspector.get_pk_constraint(table.name)["name"] or db.engine.dialect.name == "sqlite"


def test_upgrading_names_the_default_card_on_subscriptions_that_named_none(ctx):
    # As before migration 0045: a subscription cancelled before its customer's first card.
    with_card, without_card = factories.customer(), factories.customer(with_card=False)
    orphan = factories.subscription(with_card, status=SubscriptionStatus.CANCELLED)
    orphan.payment_method = None
    cardless = factories.subscription(without_card, status=SubscriptionStatus.CANCELLED)
    db.session.commit()
    ids, card_id = (orphan.id, cardless.id), with_card.payment_methods[0].id
    db.session.remove()
    downgrade(revision="0044")
    upgrade()
    orphan, cardless = (db.session.get(Subscription, sub_id) for sub_id in ids)
    assert orphan.payment_method_id == card_id
    assert cardless.payment_method_id is None


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "rate_limits": "ok"}


def test_healthz_reports_a_database_that_does_not_answer(app, client):
    from sqlalchemy import create_engine

    from portal.extensions import db

    with app.app_context():
        engine = db.engines[None]
        db.engines[None] = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
        try:
            response = client.get("/healthz")
        finally:
            db.engines[None].dispose()
            db.engines[None] = engine
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "error: OperationalError", "rate_limits": "ok"}
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "rate_limits": "ok"}


def test_healthz_asks_the_database_at_most_once_per_interval(app, client, monkeypatch):
    from sqlalchemy import event

    from portal.extensions import db
    from portal.services import health

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    monkeypatch.setattr(health, "_last", None)
    monkeypatch.setitem(app.config, "HEALTH_CHECK_SECONDS", 60)
    event.listen(engine, "before_cursor_execute", count)
    try:
        answers = [client.get("/healthz").json for _ in range(3)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answers == [{"status": "ok", "database": "ok", "rate_limits": "ok"}] * 3
    assert statements.count("SELECT 1") == 1
