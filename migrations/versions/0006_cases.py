"""cases

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:31:32.814786

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=254), nullable=True),
    sa.Column('status', sa.Enum('new', 'open', 'waiting', 'resolved', 'reopened', name='case_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('channel', sa.Enum('portal', 'email', 'chat', 'sms', 'social', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('issue_type', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('source_page', sa.String(length=300), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('is_repeat', sa.Boolean(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_users.id'], name=op.f('fk_cases_assignee_id_staff_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cases_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_cases_customer_type_created', ['customer_id', 'issue_type', 'created_at'], unique=False)

    op.create_table('case_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=10), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('portal', 'email', 'chat', 'sms', 'social', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_case_messages_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_messages')),
    sa.UniqueConstraint('external_id', name=op.f('uq_case_messages_external_id'))
    )
    with op.batch_alter_table('case_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_messages_case_id'), ['case_id'], unique=False)

    op.create_table('credit_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('approved', 'pending', 'rejected', name='credit_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_credit_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_users.id'], name=op.f('fk_credit_requests_decided_by_staff_users')),
    sa.ForeignKeyConstraint(['requested_by'], ['staff_users.id'], name=op.f('fk_credit_requests_requested_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_requests'))
    )
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_requests_requested_by'), ['requested_by'], unique=False)

    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_message_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('portal', 'email', 'chat', 'sms', 'social', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_message_id'], ['case_messages.id'], name=op.f('fk_outbound_messages_case_message_id_case_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('social_handle', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_customers_social_handle'), ['social_handle'])

    with op.batch_alter_table('merchant_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_credit_limit_minor', sa.Integer(), server_default='2000', nullable=False))

    


def downgrade():
    
    with op.batch_alter_table('merchant_policies', schema=None) as batch_op:
        batch_op.drop_column('agent_credit_limit_minor')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customers_social_handle'), type_='unique')
        batch_op.drop_column('social_handle')

    op.drop_table('outbound_messages')
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_requests_requested_by'))
        batch_op.drop_index(batch_op.f('ix_credit_requests_case_id'))

    op.drop_table('credit_requests')
    with op.batch_alter_table('case_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_messages_case_id'))

    op.drop_table('case_messages')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_customer_type_created')
        batch_op.drop_index(batch_op.f('ix_cases_customer_id'))
        batch_op.drop_index(batch_op.f('ix_cases_assignee_id'))

    op.drop_table('cases')
    
