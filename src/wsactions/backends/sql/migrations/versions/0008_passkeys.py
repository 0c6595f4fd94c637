"""Accounts keep passkeys (WebAuthn credentials): public keys, counters, names.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wsa_passkeys",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=1024), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.Text(), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backup_state", sa.Boolean(), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_used", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wsa_accounts.id"],
            name=op.f("fk_wsa_passkeys_account_id_wsa_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_passkeys")),
        sa.UniqueConstraint("id", name=op.f("uq_wsa_passkeys_id")),
    )
    with op.batch_alter_table("wsa_passkeys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wsa_passkeys_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wsa_passkeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_passkeys_account_id"))

    op.drop_table("wsa_passkeys")
