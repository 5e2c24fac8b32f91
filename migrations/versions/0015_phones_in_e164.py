"""Customers' phones are matched in E.164, national numbers read as the merchant's country's

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-01 23:40:00

"""
import os

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0009'
branch_labels = None
depends_on = None


def _e164(raw):
    try:
        number = phonenumbers.parse(raw, os.environ.get("MERCHANT_COUNTRY", "ES"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade():
    connection = op.get_bind()
    customers = sa.table('customers', sa.column('id'), sa.column('phone'), sa.column('phone_normalized'))
    for customer_id, phone in connection.execute(
        sa.select(customers.c.id, customers.c.phone).where(customers.c.phone.is_not(None))
    ):
        connection.execute(customers.update().where(customers.c.id == customer_id).values(phone_normalized=_e164(phone)))


def downgrade():
    pass
