"""Customer search by fragment reads one trigram index instead of three

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 01:15:00

The fragment search matches name, email and phone as one lower-cased text; on PostgreSQL a
trigram index on that very expression makes it one index scan. The expression must stay the same
as `portal.services.customers.SEARCH_TEXT` (a test asks the planner).
"""
from alembic import op

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

SEARCH_TEXT = "lower(name || ' ' || email || ' ' || coalesce(phone, ''))"
COLUMN_INDEXES = [('ix_customers_email_trgm', 'email'), ('ix_customers_name_trgm', 'name'), ('ix_customers_phone_trgm', 'phone')]


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    # On SQLite the column indexes were plain ones, which a LIKE '%...%' never used.
    for name, _column in COLUMN_INDEXES:
        op.drop_index(name, table_name='customers')
    if _on_postgresql():
        op.execute(f'CREATE INDEX ix_customers_search_trgm ON customers USING gin (({SEARCH_TEXT}) gin_trgm_ops)')


def downgrade():
    if _on_postgresql():
        op.drop_index('ix_customers_search_trgm', table_name='customers')
    for name, column in COLUMN_INDEXES:
        op.create_index(name, 'customers', [column], postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
