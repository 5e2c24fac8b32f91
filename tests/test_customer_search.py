"""The agent's customer search: a whole email or phone is an exact lookup; else the beginnings of
words of name, email and phone; else a fragment anywhere in them. PostgreSQL indexes both."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Customer
from portal.models.customers import SEARCH_INDEX, WORDS_INDEX
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


def test_the_beginnings_of_words_find_a_customer_before_fragments_do(app):
    with app.app_context():
        factories.customer("mateo.brazenber.7@example.com", name="Mateo Brazenber", phone="+34 690 000 777")
        factories.customer("tomato@example.com", name="Tom Atomato")
        assert _found("mat braz") == {"mateo.brazenber.7@example.com"}  # first and last name
        assert _found("BRAZ MAT") == {"mateo.brazenber.7@example.com"}  # any order, any case
        assert _found("brazenber.7") == {"mateo.brazenber.7@example.com"}  # parts of the email
        assert _found("690 000") == {"mateo.brazenber.7@example.com"}  # phone as written
        # "mat" begins a word of Mateo's only: "tomato", which has it inside, comes only when no
        # word begins so, as for "mato" and "azenb".
        assert _found("mat") == {"mateo.brazenber.7@example.com"}
        assert _found("mato") == {"tomato@example.com"}
        assert _found("azenb") == {"mateo.brazenber.7@example.com"}
        # Text-search syntax in the query is only text.
        for hostile in ("mat & !braz", "braz:* | ", "'; --", "a<->b", "\\", "(((", "x" * 500):
            customers.search(hostile)


def _plan(condition) -> str:
    query = select(Customer.id).where(condition)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
    db.session.rollback()
    return plan


@pytest.mark.postgres
def test_postgres_answers_the_beginnings_of_words_from_the_word_index(app):
    # The index (migration 0044) is on a SQL text that must equal the query's expression.
    with app.app_context():
        factories.customer("indexed@example.com", name="Indexed Person")
        plan = _plan(customers._word_beginnings("index pers"))
        assert WORDS_INDEX in plan, plan


@pytest.mark.postgres
def test_postgres_answers_a_fragment_from_the_trigram_index_on_the_same_expression(app):
    # The index (migration 0043) is on a SQL text that must equal the query's expression, or the
    # planner falls back to reading every customer.
    with app.app_context():
        factories.customer("indexed@example.com", name="Indexed Person")
        plan = _plan(customers.SEARCH_TEXT.like("%dexed%", escape="\\"))
        assert SEARCH_INDEX in plan, plan
