"""The tables of the SQL backend (SQLAlchemy Core), the one place the schema is declared.

The Alembic migrations in ``migrations/`` create exactly this schema; a test
compares a migrated database with it. Constraint names come from the naming
convention, so they are stable across databases and migrations.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: The schema revision these tables are (the newest migration; a test keeps them equal).
REVISION = "0008"
#: Alembic's version table of wsactions' migrations (apart from a host's own history).
VERSION_TABLE = "wsa_alembic_version"
#: That table, for reading the revision without Alembic (its own metadata: not a wsactions
#: table the migrations create).
version = sa.Table(
    VERSION_TABLE,
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)


class DecimalText(sa.types.TypeDecorator[Decimal]):
    """An exact Decimal, stored as text (SQLite has no exact numeric type)."""

    impl = sa.String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class JsonText(sa.types.TypeDecorator[Any]):
    """A JSON value stored as text: the same on every database, compared as text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)


_ID = 64  # opaque ids: 22 characters from secrets.token_urlsafe(16), host ids up to 64
_EMAIL = 320

accounts = sa.Table(
    "wsa_accounts",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("id", sa.String(_ID), nullable=False, unique=True),
    sa.Column("email", sa.String(_EMAIL), nullable=False),
    sa.Column("email_key", sa.String(_EMAIL), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(512)),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("deactivated", sa.Boolean, nullable=False),
    sa.Column("security_stamp", sa.String(_ID), nullable=False),
    sa.Column("rights_stamp", sa.String(_ID), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("customer_data", JsonText, nullable=False),
    sa.Column("main_address_id", sa.String(_ID)),
    sa.Column("default_bill_address_id", sa.String(_ID)),
    sa.Column("default_delivery_address_id", sa.String(_ID)),
    sa.Column("company_id", sa.String(_ID), index=True),
    sa.Column("admin", sa.Boolean, nullable=False),
    sa.Column("privilege_group_id", sa.String(_ID)),
    sa.Column("default_address_visibility", sa.String(16), nullable=False),
    sa.Column("allowed_subshops", JsonText),
    sa.Column("invitation_pending", sa.Boolean, nullable=False),
    sa.Column("locale", sa.String(35), nullable=False, server_default=""),
    sa.Column("totp_secret", sa.Text, nullable=False, server_default=""),
    sa.Column("totp_pending", sa.Text, nullable=False, server_default=""),
    sa.Column("totp_step", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("recovery_codes", JsonText, nullable=False, server_default="[]"),
)

addresses = sa.Table(
    "wsa_addresses",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("id", sa.String(_ID), nullable=False),
    sa.Column(
        "account_id",
        sa.String(_ID),
        sa.ForeignKey(accounts.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("fields", JsonText, nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("account_id", "id"),
)

cards = sa.Table(
    "wsa_cards",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("id", sa.String(_ID), nullable=False),
    sa.Column(
        "account_id",
        sa.String(_ID),
        sa.ForeignKey(accounts.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("brand", sa.String(200), nullable=False),
    sa.Column("last4", sa.String(200), nullable=False),
    sa.Column("expiry", sa.String(200), nullable=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("pseudo_card_id", sa.String(200), nullable=False),
    sa.UniqueConstraint("account_id", "id"),
)

groups = sa.Table(
    "wsa_groups",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("company_id", sa.String(_ID), nullable=False),
    sa.Column("id", sa.String(_ID), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("privileges", JsonText, nullable=False),
    sa.Column("budget_since", sa.Float, nullable=False),
    sa.Column("spent", DecimalText, nullable=False),
    sa.UniqueConstraint("company_id", "id"),
)
# One default ("global") group per company, kept by the database as well.
sa.Index(
    "uq_wsa_groups_company_global",
    groups.c.company_id,
    unique=True,
    sqlite_where=groups.c.type == "global",
    postgresql_where=groups.c.type == "global",
)

tokens = sa.Table(
    "wsa_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column(
        "account_id", sa.String(_ID), nullable=False
    ),  # no foreign key: hosts may issue tokens for ids of their own
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("email", sa.String(_EMAIL)),
    sa.UniqueConstraint("account_id", "purpose"),
)

logins = sa.Table(
    "wsa_logins",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "account_id",
        sa.String(_ID),
        sa.ForeignKey(accounts.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("last_seen", sa.Float, nullable=False, index=True),
    sa.Column("client_address", sa.String(64), nullable=False),
    sa.Column("proven_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("proven_by", sa.String(16), nullable=False, server_default="password"),
)

passkeys = sa.Table(
    "wsa_passkeys",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("id", sa.String(1024), nullable=False, unique=True),  # the credential id
    sa.Column(
        "account_id",
        sa.String(_ID),
        sa.ForeignKey(accounts.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("transports", JsonText, nullable=False),
    sa.Column("backup_eligible", sa.Boolean, nullable=False),
    sa.Column("backup_state", sa.Boolean, nullable=False),
    sa.Column("aaguid", sa.String(36), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used", sa.Float, nullable=False),
)

counters = sa.Table(
    "wsa_counters",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("events", JsonText, nullable=False),  # at most `limit` event times
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    # whether the last hit was refused: what the one-statement hit answers (counter_sql)
    sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
)
