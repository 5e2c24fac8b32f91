"""normalized phone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:57:07.803678

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_normalized', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_phone_normalized'), ['phone_normalized'], unique=False)

    # Fill it for existing customers, the same way the model does (digits with a leading +).
    connection = op.get_bind()
    customers = sa.table('customers', sa.column('id'), sa.column('phone'), sa.column('phone_normalized'))
    for customer_id, phone in connection.execute(sa.select(customers.c.id, customers.c.phone)
                                                 .where(customers.c.phone.is_not(None))):
        digits = re.sub(r"[^\d+]", "", phone)
        normalized = digits if digits.startswith("+") else f"+{digits}" if digits else None
        connection.execute(customers.update().where(customers.c.id == customer_id)
                           .values(phone_normalized=normalized))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_phone_normalized'))
        batch_op.drop_column('phone_normalized')
