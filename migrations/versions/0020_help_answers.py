"""Help answers the merchant writes, and which were shown to whom

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-01 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'help_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('refusal_codes', sa.JSON(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_answers')),
    )
    op.create_table(
        'help_answer_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(length=20), nullable=False),
        sa.Column('shown_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('handoff_counts_until', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['help_answers.id'], name=op.f('fk_help_answer_views_answer_id_help_answers')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_help_answer_views_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_answer_views')),
    )
    op.create_index(op.f('ix_help_answer_views_answer_id'), 'help_answer_views', ['answer_id'], unique=False)
    op.create_index('ix_help_answer_views_customer_shown', 'help_answer_views', ['customer_id', 'shown_at'], unique=False)


def downgrade():
    op.drop_index('ix_help_answer_views_customer_shown', table_name='help_answer_views')
    op.drop_index(op.f('ix_help_answer_views_answer_id'), table_name='help_answer_views')
    op.drop_table('help_answer_views')
    op.drop_table('help_answers')
