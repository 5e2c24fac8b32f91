"""Customer search by the beginnings of words reads a word index

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-04 03:40:00

On PostgreSQL a GIN index on the words of the search text (punctuation of emails and phones read
as spaces) answers "mat braz" from the entries of the matching words alone, however many
customers there are. The expression must stay the same as `portal.services.customers.SEARCH_WORDS`
(a test asks the planner).
"""
from alembic import op

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

SEARCH_TEXT = "lower(name || ' ' || email || ' ' || coalesce(phone, ''))"
SEARCH_WORDS = f"to_tsvector('simple'::regconfig, translate({SEARCH_TEXT}, '@.+-_()', '       '))"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'CREATE INDEX ix_customers_search_words ON customers USING gin (({SEARCH_WORDS}))')
        # Statistics of the indexed expressions: without them the planner guesses that a search
        # matches thousands of customers and starts parallel workers for a handful (10 ms more).
        op.execute('ANALYZE customers')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_customers_search_words', table_name='customers')
