"""Proactive outreach: merchant settings per message, one send per occurrence, opt-outs, catalogue changes, unsubscribe on outbox emails

Revision ID: 0050
Revises: 0030
Create Date: 2026-12-03 11:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0050"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outreach_settings",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_outreach_settings")),
    )
    op.create_table(
        "outreach_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_outreach_sends_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["email_id"], ["outbox_emails.id"], name=op.f("fk_outreach_sends_email_id_outbox_emails")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_sends")),
        sa.UniqueConstraint("kind", "subject_id", "occurrence", name=op.f("uq_outreach_sends_kind")),
    )
    op.create_index(op.f("ix_outreach_sends_customer_id"), "outreach_sends", ["customer_id"], unique=False)
    op.create_table(
        "message_opt_outs",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_message_opt_outs_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "kind", name=op.f("pk_message_opt_outs")),
    )
    op.create_table(
        "catalog_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("new_price_minor", sa.Integer(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["variant_id"], ["variants.id"], name=op.f("fk_catalog_changes_variant_id_variants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_changes")),
    )
    op.create_index(op.f("ix_catalog_changes_variant_id"), "catalog_changes", ["variant_id"], unique=False)
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column("unsubscribe_url", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("unsubscribe_url")
    op.drop_index(op.f("ix_catalog_changes_variant_id"), table_name="catalog_changes")
    op.drop_table("catalog_changes")
    op.drop_table("message_opt_outs")
    op.drop_index(op.f("ix_outreach_sends_customer_id"), table_name="outreach_sends")
    op.drop_table("outreach_sends")
    op.drop_table("outreach_settings")
