"""Surveys: CSAT after self-serve actions and resolved cases, NPS at 30 and 90 days

Revision ID: 0040
Revises: 0050
Create Date: 2026-12-03 10:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0040'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.Enum('csat', 'nps', name='survey_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('milestone', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('audit_event_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('self_serve', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=True),
        sa.Column('topic', sa.String(length=40), nullable=True),
        sa.Column('interaction_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 10)', name=op.f('ck_surveys_score_range')),
        sa.ForeignKeyConstraint(['agent_id'], ['staff_users.id'], name=op.f('fk_surveys_agent_id_staff_users')),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_events.id'], name=op.f('fk_surveys_audit_event_id_audit_events')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_surveys_case_id_cases')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_surveys_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
        sa.UniqueConstraint('key', name=op.f('uq_surveys_key')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_surveys_token_hash')),
    )
    op.create_index(op.f('ix_surveys_case_id'), 'surveys', ['case_id'], unique=False)
    op.create_index(op.f('ix_surveys_customer_id'), 'surveys', ['customer_id'], unique=False)
    op.create_index('ix_surveys_kind_interaction', 'surveys', ['kind', 'interaction_at'], unique=False)


def downgrade():
    op.drop_index('ix_surveys_kind_interaction', table_name='surveys')
    op.drop_index(op.f('ix_surveys_customer_id'), table_name='surveys')
    op.drop_index(op.f('ix_surveys_case_id'), table_name='surveys')
    op.drop_table('surveys')
