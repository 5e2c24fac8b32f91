"""Support settings the merchant edits: saved replies, tone guidelines, business hours, first-response target

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-03 18:40:00

The hours and target columns start empty, which means config's values; the saved replies start
as the translated defaults until the merchant first edits them, so nothing changes on upgrade.
"""
import sqlalchemy as sa
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_replies')),
        sa.UniqueConstraint('key', name=op.f('uq_saved_replies_key')),
    )
    with op.batch_alter_table('merchant_policies') as batch:
        batch.add_column(sa.Column('support_days', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('support_opens_hour', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('support_closes_hour', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('first_response_target_hours', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('tone_guidelines', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('saved_replies_edited', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('merchant_policies') as batch:
        batch.drop_column('saved_replies_edited')
        batch.drop_column('tone_guidelines')
        batch.drop_column('first_response_target_hours')
        batch.drop_column('support_closes_hour')
        batch.drop_column('support_opens_hour')
        batch.drop_column('support_days')
    op.drop_table('saved_replies')
