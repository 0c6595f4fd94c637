"""Server-side logins and throttling counters.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wsa_logins",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wsa_accounts.id"],
            name=op.f("fk_wsa_logins_account_id_wsa_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wsa_logins")),
        sa.UniqueConstraint("id", name=op.f("uq_wsa_logins_id")),
    )
    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wsa_logins_account_id"), ["account_id"], unique=False)

    op.create_table(
        "wsa_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wsa_counters")),
    )
    with op.batch_alter_table("wsa_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wsa_counters_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wsa_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_counters_expires_at"))

    op.drop_table("wsa_counters")

    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_logins_account_id"))

    op.drop_table("wsa_logins")
