"""When the subscriber last had the case page open

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-03 19:25:00

The case page's feed stamps it; a reply while the subscriber is on the page reaches them there
instead of by email.
"""
import sqlalchemy as sa
from alembic import op

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('customer_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('customer_seen_at')
