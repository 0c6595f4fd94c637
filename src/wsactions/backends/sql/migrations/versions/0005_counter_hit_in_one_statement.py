"""Counters answer a hit in one statement: the row records whether its last hit was refused.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wsa_counters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refused", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("wsa_counters", schema=None) as batch_op:
        batch_op.drop_column("refused")
