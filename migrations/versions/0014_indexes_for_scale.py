"""Indexes for a large shop: due orders and subscriptions, the case queue, customer search by fragment

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None

PARTIAL = [
    ('ix_orders_due', 'orders', ['scheduled_for', 'id'], "status = 'scheduled'"),
    ('ix_orders_retry', 'orders', ['next_retry_at'], "status = 'failed'"),
    ('ix_subscriptions_paused_until', 'subscriptions', ['paused_until'], "status = 'paused'"),
    ('ix_subscriptions_cancel_at', 'subscriptions', ['cancel_at'], "cancel_at IS NOT NULL"),
]
TRIGRAM = [('ix_customers_email_trgm', 'email'), ('ix_customers_name_trgm', 'name'), ('ix_customers_phone_trgm', 'phone')]


def upgrade():
    for name, table, columns, where in PARTIAL:
        op.create_index(name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, column in TRIGRAM:
        op.create_index(name, 'customers', [column], postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    op.create_index('ix_cases_created_at', 'cases', ['created_at'])


def downgrade():
    op.drop_index('ix_cases_created_at', table_name='cases')
    for name, _column in TRIGRAM:
        op.drop_index(name, table_name='customers')
    for name, table, _columns, _where in PARTIAL:
        op.drop_index(name, table_name=table)
