"""Every subscription of a customer with a default card names a card

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-04 18:20:00

A subscription that named no card (cancelled before its customer's first card was saved) showed
"No payment method on file" once reactivated, while its renewal charged the default card. Such
subscriptions now take the default card when it is made, and those already there take it here, so
the card a subscription names is the one it is charged. Downgrading leaves the cards named: the
earlier code charged those same cards.
"""
from alembic import op

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        'UPDATE subscriptions SET payment_method_id = ('
        ' SELECT min(payment_methods.id) FROM payment_methods'
        ' WHERE payment_methods.customer_id = subscriptions.customer_id AND payment_methods.is_default'
        ') WHERE payment_method_id IS NULL'
    )


def downgrade():
    pass
