"""Sign-in link requests wait for the worker, so /login does the same work for any address

Revision ID: 0010
Revises: 0020
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'link_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('next_path', sa.String(length=500), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_link_requests')),
    )


def downgrade():
    op.drop_table('link_requests')
