"""Accounts, addresses, saved cards, privilege groups and opt-in tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wsa_accounts",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=512), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("deactivated", sa.Boolean(), nullable=False),
        sa.Column("security_stamp", sa.String(length=64), nullable=False),
        sa.Column("rights_stamp", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("customer_data", sa.Text(), nullable=False),
        sa.Column("main_address_id", sa.String(length=64), nullable=True),
        sa.Column("default_bill_address_id", sa.String(length=64), nullable=True),
        sa.Column("default_delivery_address_id", sa.String(length=64), nullable=True),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("privilege_group_id", sa.String(length=64), nullable=True),
        sa.Column("default_address_visibility", sa.String(length=16), nullable=False),
        sa.Column("allowed_subshops", sa.Text(), nullable=True),
        sa.Column("invitation_pending", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_accounts")),
        sa.UniqueConstraint("email_key", name=op.f("uq_wsa_accounts_email_key")),
        sa.UniqueConstraint("id", name=op.f("uq_wsa_accounts_id")),
    )
    with op.batch_alter_table("wsa_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wsa_accounts_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "wsa_groups",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("privileges", sa.Text(), nullable=False),
        sa.Column("budget_since", sa.Float(), nullable=False),
        sa.Column("spent", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_groups")),
        sa.UniqueConstraint("company_id", "id", name=op.f("uq_wsa_groups_company_id_id")),
    )
    with op.batch_alter_table("wsa_groups", schema=None) as batch_op:
        batch_op.create_index(
            "uq_wsa_groups_company_global",
            ["company_id"],
            unique=True,
            sqlite_where=sa.text("type = 'global'"),
            postgresql_where=sa.text("type = 'global'"),
        )

    op.create_table(
        "wsa_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_wsa_tokens")),
        sa.UniqueConstraint("account_id", "purpose", name=op.f("uq_wsa_tokens_account_id_purpose")),
    )
    op.create_table(
        "wsa_addresses",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wsa_accounts.id"],
            name=op.f("fk_wsa_addresses_account_id_wsa_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_addresses")),
        sa.UniqueConstraint("account_id", "id", name=op.f("uq_wsa_addresses_account_id_id")),
    )
    with op.batch_alter_table("wsa_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wsa_addresses_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "wsa_cards",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("last4", sa.String(length=200), nullable=False),
        sa.Column("expiry", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("pseudo_card_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wsa_accounts.id"],
            name=op.f("fk_wsa_cards_account_id_wsa_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_cards")),
        sa.UniqueConstraint("account_id", "id", name=op.f("uq_wsa_cards_account_id_id")),
    )
    with op.batch_alter_table("wsa_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wsa_cards_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wsa_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_cards_account_id"))

    op.drop_table("wsa_cards")
    with op.batch_alter_table("wsa_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_addresses_account_id"))

    op.drop_table("wsa_addresses")
    op.drop_table("wsa_tokens")
    with op.batch_alter_table("wsa_groups", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_wsa_groups_company_global",
            sqlite_where=sa.text("type = 'global'"),
            postgresql_where=sa.text("type = 'global'"),
        )

    op.drop_table("wsa_groups")
    with op.batch_alter_table("wsa_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_accounts_company_id"))

    op.drop_table("wsa_accounts")
