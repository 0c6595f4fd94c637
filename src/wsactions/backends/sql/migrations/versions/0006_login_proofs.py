"""Logins keep when and how their owner last proved it (a fresh login for sensitive changes).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proven_at", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("proven_by", sa.String(16), nullable=False, server_default="password")
        )


def downgrade() -> None:
    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.drop_column("proven_by")
        batch_op.drop_column("proven_at")
