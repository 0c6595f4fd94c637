"""Accounts keep a TOTP second factor (its secret encrypted) and recovery-code hashes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wsa_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("totp_pending", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("totp_step", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("recovery_codes", sa.Text(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("wsa_accounts", schema=None) as batch_op:
        for name in ("recovery_codes", "totp_step", "totp_pending", "totp_secret"):
            batch_op.drop_column(name)
