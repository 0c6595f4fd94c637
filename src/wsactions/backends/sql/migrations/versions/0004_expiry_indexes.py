"""Indexes for sweeping expired logins and opt-in tokens in bounded batches.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wsa_logins_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wsa_logins_last_seen"), ["last_seen"], unique=False)
    with op.batch_alter_table("wsa_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wsa_tokens_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wsa_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_tokens_expires_at"))
    with op.batch_alter_table("wsa_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wsa_logins_last_seen"))
        batch_op.drop_index(batch_op.f("ix_wsa_logins_created_at"))
