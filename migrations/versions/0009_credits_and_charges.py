"""Credit entries keep the agent's whole reason and case; stuck charges are found by their attempt time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE payments SET attempted_at = created_at")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('attempted_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index('ix_payments_charging', 'payments', ['attempted_at'],
                    postgresql_where=sa.text("status = 'charging'"), sqlite_where=sa.text("status = 'charging'"))
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.String(length=200), type_=sa.String(length=300))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_credit_entries_case_id_cases'), 'cases', ['case_id'], ['id'])


def downgrade():
    op.drop_index('ix_payments_charging', table_name='payments')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('attempted_at')
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_credit_entries_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('case_id')
        batch_op.alter_column('reason', existing_type=sa.String(length=300), type_=sa.String(length=200))
