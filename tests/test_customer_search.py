"""The agent's customer search: a whole email or phone is an exact lookup; anything else is a
fragment of name, email or phone, matched as one lower-cased text that PostgreSQL indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Customer
from portal.models.customers import SEARCH_INDEX
from portal.services import customers
from tests import factories


def _found(query: str) -> set[str]:
    return {customer.email for customer in customers.search(query)}


def test_a_fragment_of_name_email_or_phone_finds_the_customer_in_any_case(app):
    with app.app_context():
        factories.customer("ines.ortega@example.com", name="Inés Ortega", phone="+34 600 123 456")
        factories.customer("other@example.com", name="Otto Other")
        assert _found("ORTEG") == {"ines.ortega@example.com"}  # name, another case
        assert _found("ines.ort") == {"ines.ortega@example.com"}  # email
        assert _found("123 4") == {"ines.ortega@example.com"}  # phone as written
        assert _found("PLE.C") == {"ines.ortega@example.com", "other@example.com"}
        assert _found("100%") == set() and _found("_") == set()  # wildcards are literal
        assert _found("   ") == set()


@pytest.mark.postgres
def test_postgres_answers_a_fragment_from_the_trigram_index_on_the_same_expression(app):
    # The index (migration 0043) is on a SQL text that must equal the query's expression, or the
    # planner falls back to reading every customer.
    with app.app_context():
        factories.customer("indexed@example.com", name="Indexed Person")
        query = select(Customer.id).where(customers.SEARCH_TEXT.like("%dexed%", escape="\\"))
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
        assert SEARCH_INDEX in plan, plan
        db.session.rollback()
