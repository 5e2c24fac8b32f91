"""Subscriptions remember their delivery cycle and when the schedule job needs them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_anchor', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('refill_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_subscriptions_refill_on'), ['refill_on'], unique=False)
    # The first upcoming order is on the cycle; without one, the next or resume date is.
    op.execute("""
        UPDATE subscriptions SET cycle_anchor = COALESCE(
            (SELECT MIN(orders.scheduled_for) FROM orders
              WHERE orders.subscription_id = subscriptions.id
                AND orders.status IN ('scheduled', 'skipped')),
            next_order_date, paused_until, date(created_at))
    """)
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.alter_column('cycle_anchor', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_refill_on'))
        batch_op.drop_column('refill_on')
        batch_op.drop_column('cycle_anchor')
