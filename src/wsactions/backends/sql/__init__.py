"""SQL storage on SQLAlchemy Core: SQLite as the embedded default, PostgreSQL for several
app servers.

::

    from wsactions.backends.sql import SqlStorage, upgrade

    upgrade("sqlite:///shop.db")                     # or: wsactions db upgrade URL
    storage = SqlStorage("sqlite:///shop.db")
    storage = SqlStorage("postgresql+psycopg://shop@db.internal/shop")

**Units of work.** Each ``transaction()`` is one database transaction on one
connection of the pool, which every store call inside it uses (per thread).
Calls outside a unit of work run in a short transaction of their own.

* SQLite: WAL journal, foreign keys on, a busy timeout; a unit of work begins
  with ``BEGIN IMMEDIATE``, so writers queue for the database's write lock
  from their first statement (no deadlock between two readers that both
  want to write); reads outside units of work do not take it.
* PostgreSQL: READ COMMITTED with the contract's locking reads
  (``SELECT … FOR UPDATE``); uniqueness rules are constraints, so a race
  that slips past a check still cannot store a duplicate.

A database that cannot be reached, or does not answer within the timeout,
raises :class:`~wsactions.errors.StorageUnavailableError`: the unit of work
is rolled back, nothing of the action is kept, and the host answers 503. A
transaction the database ended to break a deadlock (or a serialization
failure) raises its subclass :class:`~wsactions.errors.StorageConflictError`,
and the engine runs the unit of work again.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ...errors import SchemaError, StorageConflictError, StorageUnavailableError
from ...models import (
    Account,
    Address,
    GroupDeletion,
    LoginRecord,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)
from ...security.cards import refuse_card_data
from .. import is_conflict
from . import schema as _schema
from .schema import accounts as A
from .schema import addresses as AD
from .schema import cards as C
from .schema import counters as CT
from .schema import groups as G
from .schema import logins as L
from .schema import tokens as T

__all__ = ["SchemaError", "SqlStorage", "StorageUnavailableError", "upgrade"]

_ACCOUNT_IDENTITY = frozenset({"id", "email", "email_key"})
_ACCOUNT_FIELDS = frozenset(f.name for f in attrs.fields(Account)) - _ACCOUNT_IDENTITY
_ADDRESS_FIELDS = frozenset({"type", "fields", "visibility"})
_GROUP_FIELDS = frozenset({"name", "type", "privileges"})
_ROLES = ("main_address_id", "default_bill_address_id", "default_delivery_address_id")


def _checked(changes: Mapping[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"{what} cannot set {sorted(unknown)}; allowed: {sorted(allowed)}")
    return dict(changes)


# records <-> rows ------------------------------------------------------------------------


def _account_row(account: Account) -> dict[str, Any]:
    row = attrs.asdict(account, recurse=False)
    row["customer_data"] = dict(account.customer_data)
    subshops = account.allowed_subshops
    row["allowed_subshops"] = None if subshops is None else sorted(subshops)
    return row


def _account_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if "customer_data" in values:
        values["customer_data"] = dict(values["customer_data"])
    if "allowed_subshops" in values and values["allowed_subshops"] is not None:
        values["allowed_subshops"] = sorted(values["allowed_subshops"])
    return values


def _account(row: Any) -> Account:
    data = dict(row._mapping)
    data.pop("seq", None)
    return Account(**data)


def _address(row: Any) -> Address:
    data = dict(row._mapping)
    data.pop("seq", None)
    return Address(**data)


def _card(row: Any) -> SavedCard:
    data = dict(row._mapping)
    data.pop("seq", None)
    return SavedCard(**data)


def _privileges_json(privileges: Privileges) -> dict[str, Any]:
    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    def names(value: frozenset[str] | None) -> list[str] | None:
        return None if value is None else sorted(value)

    return {
        "allowed_payment_methods": names(privileges.allowed_payment_methods),
        "payment_limit_per_order": amount(privileges.payment_limit_per_order),
        "payment_limit": amount(privileges.payment_limit),
        "blocked_templates": list(privileges.blocked_templates),
        "blocked_urls": list(privileges.blocked_urls),
        "editable_fields": names(privileges.editable_fields),
        "group_name": privileges.group_name,
    }


def _privileges(data: Mapping[str, Any]) -> Privileges:
    def amount(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return Privileges(
        allowed_payment_methods=data["allowed_payment_methods"],
        payment_limit_per_order=amount(data["payment_limit_per_order"]),
        payment_limit=amount(data["payment_limit"]),
        blocked_templates=tuple(data["blocked_templates"]),
        blocked_urls=tuple(data["blocked_urls"]),
        editable_fields=data["editable_fields"],
        group_name=data["group_name"],
    )


def _group_row(group: PrivilegeGroup) -> dict[str, Any]:
    row = attrs.asdict(group, recurse=False)
    row["privileges"] = _privileges_json(group.privileges)
    return row


def _group(row: Any) -> PrivilegeGroup:
    data = dict(row._mapping)
    data.pop("seq", None)
    data["privileges"] = _privileges(data["privileges"])
    return PrivilegeGroup(**data)


def _token(row: Any) -> TokenRecord:
    return TokenRecord(**dict(row._mapping))


def _login(row: Any) -> LoginRecord:
    data = dict(row._mapping)
    data.pop("seq", None)
    return LoginRecord(**data)


# the storage --------------------------------------------------------------------------------


class _Local(threading.local):
    connection: Connection | None = None
    depth: int = 0


class SqlStorage:
    """A :class:`~wsactions.protocols.Storage` on a SQLAlchemy engine built from *url*.

    The schema must exist (:func:`upgrade`, or ``wsactions db upgrade URL``);
    *engine_options* go to :func:`sqlalchemy.create_engine`. *timeout* (seconds)
    bounds the wait for a lock or a connection. *schema* names a PostgreSQL
    schema to keep the tables in (default: the connection's search path).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 15.0,
        schema: str | None = None,
        check_schema: bool = True,
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.schema = schema
        engine = _create_engine(url, timeout, engine_options)
        self._base_engine = engine
        self.engine = _in_schema(engine, schema)
        self._local = _Local()
        self._dialect = self.engine.dialect.name
        self._accounts = SqlAccountStore(self)
        self._tokens = SqlTokenStore(self)
        self._logins = SqlLoginStore(self)
        self._counters = SqlCounterStore(self)
        self._unchecked = check_schema
        if check_schema:
            try:
                self.check_schema()
            except StorageUnavailableError:  # down now: checked on first use
                pass
            except SchemaError:
                self.close()
                raise

    def check_schema(self) -> None:
        """Refuse a database whose schema is missing or not the newest
        (:class:`~wsactions.errors.SchemaError`, naming the command that migrates it);
        raises :class:`StorageUnavailableError` when the database does not answer."""
        self._unchecked = False
        found: str | None = None
        try:
            with self._begin(write=False) as connection:
                found = connection.execute(sa.select(_schema.version.c.version_num)).scalar()
        except sa.exc.ProgrammingError:  # PostgreSQL: no such table
            pass
        except StorageUnavailableError as error:
            if "no such table" not in str(error.__cause__):  # SQLite's way of saying so
                self._unchecked = True
                raise
        if found != _schema.REVISION:
            state = "has no wsactions tables" if found is None else f"is at revision {found}"
            raise SchemaError(
                f"the database {state}; this wsactions needs revision {_schema.REVISION}: "
                "run `wsactions db upgrade` (with WSACTIONS_DATABASE_URL set), or "
                "wsactions.backends.sql.upgrade(url), before the shop starts"
            )

    @property
    def accounts(self) -> SqlAccountStore:
        """The account store."""
        return self._accounts

    @property
    def tokens(self) -> SqlTokenStore:
        """The opt-in token store."""
        return self._tokens

    @property
    def logins(self) -> SqlLoginStore:
        """The login records."""
        return self._logins

    @property
    def counters(self) -> SqlCounterStore:
        """The throttling counters."""
        return self._counters

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One database transaction; nested blocks join the outer one."""
        local = self._local
        if local.connection is not None:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        with self._begin(write=True) as connection:
            local.connection = connection
            try:
                yield
            finally:
                local.connection = None

    @contextmanager
    def connection(self, *, write: bool = True) -> Iterator[Connection]:
        """The unit of work's connection, or a short transaction of its own (one that
        takes SQLite's write lock at once unless it only reads)."""
        current = self._local.connection
        if current is not None:
            yield current
            return
        with self._begin(write=write) as connection:
            yield connection

    @contextmanager
    def _begin(self, *, write: bool) -> Iterator[Connection]:
        if self._unchecked:  # the database was down when the storage was made
            self.check_schema()
        with self._unavailable(), self.engine.connect() as connection:
            # read by the SQLite "begin" listener; the info dict outlives the checkout
            connection.info["wsa_begin"] = "BEGIN IMMEDIATE" if write else "BEGIN"
            try:
                with connection.begin():
                    yield connection
            finally:
                connection.info.pop("wsa_begin", None)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.OperationalError as error:
            if is_conflict(error):
                raise StorageConflictError(
                    f"the database ended the transaction: {error.orig.__class__.__name__}"
                ) from error
            raise StorageUnavailableError(
                f"the database did not answer: {error.orig.__class__.__name__}"
            ) from error
        except sa.exc.DBAPIError as error:
            if error.connection_invalidated:
                raise StorageUnavailableError("the database connection was lost") from error
            raise

    def insert(self, table: sa.Table) -> Any:
        """An INSERT that does nothing on a unique conflict (this dialect's spelling)."""
        if self._dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def snapshot(self) -> dict[str, Any]:
        """Everything stored (counters and logins' last_seen aside) as comparable values."""
        with self.connection(write=False) as c:
            accounts = {a.id: a for a in map(_account, c.execute(sa.select(A).order_by(A.c.seq)))}
            found: dict[str, Any] = {
                "accounts": accounts,
                "addresses": {},
                "cards": {},
                "groups": {},
                "tokens": {t.token_hash: t for t in map(_token, c.execute(sa.select(T)))},
                "logins": {
                    login.id: attrs.evolve(login, last_seen=0.0)
                    for login in map(_login, c.execute(sa.select(L).order_by(L.c.seq)))
                },
            }
            for address in map(_address, c.execute(sa.select(AD).order_by(AD.c.seq))):
                found["addresses"].setdefault(address.account_id, {})[address.id] = address
            for card in map(_card, c.execute(sa.select(C).order_by(C.c.seq))):
                found["cards"].setdefault(card.account_id, {})[card.id] = card
            for group in map(_group, c.execute(sa.select(G).order_by(G.c.seq))):
                found["groups"].setdefault(group.company_id, {})[group.id] = group
            return found

    def close(self) -> None:
        """Close every pooled connection."""
        self._base_engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("pass functools.partial(SqlStorage, url) to other processes, not a storage")


def _create_engine(url: str, timeout: float, options: dict[str, Any]) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        args: dict[str, Any] = {"timeout": timeout, "check_same_thread": False}
        engine = sa.create_engine(url, connect_args=args, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            connection.exec_driver_sql(connection.info.get("wsa_begin", "BEGIN IMMEDIATE"))

        return engine
    if parsed.get_backend_name() == "postgresql":
        pg_args: dict[str, Any] = {
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c lock_timeout={int(timeout * 1000)} "
            f"-c idle_in_transaction_session_timeout={int(timeout * 4000)}",
        }
        options.setdefault("pool_pre_ping", True)
        return sa.create_engine(
            url, connect_args=pg_args, isolation_level="READ COMMITTED", **options
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


class _Part:
    def __init__(self, storage: SqlStorage) -> None:
        self._s = storage


class SqlAccountStore(_Part):
    """Accounts, addresses, saved cards and privilege groups in SQL tables."""

    # accounts --------------------------------------------------------------
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key (or id) is taken (a unique constraint)."""
        with self._s.connection() as c:
            inserted = self._s.insert(A).values(**_account_row(account)).returning(A.c.seq)
            return c.execute(inserted).first() is not None

    def _one_account(self, where: Any, for_update: bool) -> Account | None:
        query = sa.select(A).where(where)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(write=for_update) as c:
            row = c.execute(query).first()
        return None if row is None else _account(row)

    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id*."""
        return self._one_account(A.c.id == account_id, for_update)

    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""
        return self._one_account(A.c.email_key == email_key, for_update)

    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone."""
        values = _account_values(_checked(changes, _ACCOUNT_FIELDS, "update_account"))
        if not values:
            return self.get_account(account_id) is not None
        with self._s.connection() as c:
            result = c.execute(sa.update(A).where(A.c.id == account_id).values(**values))
            return bool(result.rowcount == 1)

    def change_email(
        self, account_id: str, email: str, email_key: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move the account to a new address unless it is taken; ``False`` otherwise."""
        values = _account_values(_checked(changes, _ACCOUNT_FIELDS, "change_email"))
        statement = (
            sa.update(A)
            .where(A.c.id == account_id)
            .values(email=email, email_key=email_key, **values)
        )
        with self._s.connection() as c:
            try:
                with c.begin_nested():
                    result = c.execute(statement)
            except sa.exc.IntegrityError:
                return False  # another account holds the key (the unique constraint said so)
            return bool(result.rowcount == 1)

    def delete_account(self, account_id: str) -> bool:
        """Remove the account with its addresses, cards, tokens and logins."""
        with self._s.connection() as c:
            c.execute(sa.delete(T).where(T.c.account_id == account_id))
            result = c.execute(sa.delete(A).where(A.c.id == account_id))  # cascades the rest
            return bool(result.rowcount == 1)

    def delete_company(self, company_id: str) -> Sequence[str]:
        """Remove every member and every group of the company; the removed account ids."""
        with self._s.connection() as c:
            members = c.execute(
                sa.select(A.c.id).where(A.c.company_id == company_id).order_by(A.c.seq)
            )
            removed = [row.id for row in members]
            if removed:
                c.execute(sa.delete(T).where(T.c.account_id.in_(removed)))
                c.execute(sa.delete(A).where(A.c.id.in_(removed)))
            c.execute(sa.delete(G).where(G.c.company_id == company_id))
            return removed

    def list_members(self, company_id: str, *, for_update: bool = False) -> Sequence[Account]:
        """Every account of the company, oldest first."""
        query = sa.select(A).where(A.c.company_id == company_id).order_by(A.c.seq)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(write=for_update) as c:
            return [_account(row) for row in c.execute(query)]

    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Give the members of *group_id* (and the ungrouped ones) a new rights stamp."""
        chosen = []
        if group_id is not None:
            chosen.append(A.c.privilege_group_id == group_id)
        if ungrouped:
            chosen.append(A.c.privilege_group_id.is_(None))
        if not chosen:
            return 0
        statement = (
            sa.update(A)
            .where(A.c.company_id == company_id, sa.or_(*chosen))
            .values(rights_stamp=rights_stamp)
        )
        with self._s.connection() as c:
            return int(c.execute(statement).rowcount)

    # addresses ---------------------------------------------------------------
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        row = attrs.asdict(address, recurse=False)
        row["fields"] = dict(address.fields)
        with self._s.connection() as c:
            c.execute(sa.insert(AD).values(**row))

    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address if it belongs to *account_id*."""
        query = sa.select(AD).where(AD.c.account_id == account_id, AD.c.id == address_id)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(write=for_update) as c:
            row = c.execute(query).first()
        return None if row is None else _address(row)

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        query = sa.select(AD).where(AD.c.account_id == account_id).order_by(AD.c.seq)
        with self._s.connection(write=False) as c:
            return [_address(row) for row in c.execute(query)]

    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""
        query = sa.select(sa.func.count()).select_from(AD).where(AD.c.account_id == account_id)
        with self._s.connection(write=False) as c:
            return int(c.execute(query).scalar_one())

    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of an address of *account_id*; ``False`` when it is gone."""
        values = _checked(changes, _ADDRESS_FIELDS, "update_address")
        if "fields" in values:
            values["fields"] = dict(values["fields"])
        statement = (
            sa.update(AD)
            .where(AD.c.account_id == account_id, AD.c.id == address_id)
            .values(**values)
        )
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address and clear the roles that pointed to it."""
        with self._s.connection() as c:
            result = c.execute(
                sa.delete(AD).where(AD.c.account_id == account_id, AD.c.id == address_id)
            )
            if result.rowcount != 1:
                return False
            cleared = {
                role: sa.case((A.c[role] == address_id, sa.null()), else_=A.c[role])
                for role in _ROLES
            }
            pointing = sa.or_(*(A.c[role] == address_id for role in _ROLES))
            c.execute(sa.update(A).where(A.c.id == account_id, pointing).values(cleared))
            return True

    # saved cards -------------------------------------------------------------
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        refuse_card_data(card)
        with self._s.connection() as c:
            c.execute(sa.insert(C).values(**attrs.asdict(card, recurse=False)))

    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, oldest first."""
        query = sa.select(C).where(C.c.account_id == account_id).order_by(C.c.seq)
        with self._s.connection(write=False) as c:
            return [_card(row) for row in c.execute(query)]

    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*."""
        statement = sa.delete(C).where(C.c.account_id == account_id, C.c.id == card_id)
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    # privilege groups ----------------------------------------------------------
    def _lock_company_groups(self, c: Connection, company_id: str) -> None:
        """Lock every group row of the company (one default group: promotions queue)."""
        c.execute(sa.select(G.c.seq).where(G.c.company_id == company_id).with_for_update())

    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has one of that id."""
        with self._s.connection() as c:
            if group.type == "global":
                self._lock_company_groups(c, group.company_id)
                self._demote_global(c, group.company_id)
            inserted = self._s.insert(G).values(**_group_row(group)).returning(G.c.seq)
            return c.execute(inserted).first() is not None

    def get_group(
        self, company_id: str, group_id: str, *, for_update: bool = False
    ) -> PrivilegeGroup | None:
        """The group if it belongs to *company_id*."""
        query = sa.select(G).where(G.c.company_id == company_id, G.c.id == group_id)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(write=for_update) as c:
            row = c.execute(query).first()
        return None if row is None else _group(row)

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        query = sa.select(G).where(G.c.company_id == company_id).order_by(G.c.seq)
        with self._s.connection(write=False) as c:
            return [_group(row) for row in c.execute(query)]

    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set name, type or privileges; a new ``global`` group demotes the former one."""
        values = _checked(changes, _GROUP_FIELDS, "update_group")
        if "privileges" in values:
            values["privileges"] = _privileges_json(values["privileges"])
        with self._s.connection() as c:
            if values.get("type") == "global":
                self._lock_company_groups(c, company_id)
                self._demote_global(c, company_id, except_id=group_id)
            statement = (
                sa.update(G)
                .where(G.c.company_id == company_id, G.c.id == group_id)
                .values(**values)
            )
            return bool(c.execute(statement).rowcount == 1)

    @staticmethod
    def _demote_global(c: Connection, company_id: str, except_id: str | None = None) -> None:
        where = [G.c.company_id == company_id, G.c.type == "global"]
        if except_id is not None:
            where.append(G.c.id != except_id)
        c.execute(sa.update(G).where(*where).values(type="account"))

    def restart_budget(self, company_id: str, group_id: str, since: float) -> bool:
        """Start a new budget period at *since* with nothing spent."""
        statement = (
            sa.update(G)
            .where(G.c.company_id == company_id, G.c.id == group_id)
            .values(spent=Decimal(0), budget_since=since)
        )
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    def delete_group(self, company_id: str, group_id: str) -> GroupDeletion:
        """Remove the group unless a member is assigned to it (the group row is locked first,
        so an assignment that locked it commits before the member check reads)."""
        with self._s.connection() as c:
            found = c.execute(
                sa.select(G.c.seq)
                .where(G.c.company_id == company_id, G.c.id == group_id)
                .with_for_update()
            ).first()
            if found is None:
                return GroupDeletion.MISSING
            used = c.execute(
                sa.select(A.c.seq)
                .where(A.c.company_id == company_id, A.c.privilege_group_id == group_id)
                .limit(1)
            ).first()
            if used is not None:
                return GroupDeletion.IN_USE
            c.execute(sa.delete(G).where(G.c.seq == found.seq))
            return GroupDeletion.DELETED

    def charge_group(self, company_id: str, group_id: str, amount: Decimal) -> bool:
        """Add *amount* to the spending unless the stored limits refuse it."""
        return self._change_spent(company_id, group_id, lambda g: g.charged(amount))

    def refund_group(
        self, company_id: str, group_id: str, amount: Decimal, charged_at: float
    ) -> bool:
        """Give *amount* back if it was charged in the current period (never below zero)."""
        return self._change_spent(company_id, group_id, lambda g: g.refunded(amount, charged_at))

    def _change_spent(self, company_id: str, group_id: str, step: Any) -> bool:
        with self._s.transaction(), self._s.connection() as c:
            row = c.execute(
                sa.select(G)
                .where(G.c.company_id == company_id, G.c.id == group_id)
                .with_for_update()
            ).first()
            if row is None:
                return False
            spent = step(_group(row))
            if spent is None:
                return False
            c.execute(sa.update(G).where(G.c.seq == row.seq).values(spent=spent))
            return True


class SqlTokenStore(_Part):
    """Opt-in token records keyed by token hash; one per account and purpose."""

    def add(self, record: TokenRecord) -> None:
        """Store *record*; the account's older token of the same purpose is revoked."""
        with self._s.transaction(), self._s.connection() as c:
            c.execute(
                sa.delete(T).where(
                    T.c.account_id == record.account_id, T.c.purpose == record.purpose
                )
            )
            c.execute(sa.insert(T).values(**attrs.asdict(record)))

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        with self._s.connection(write=False) as c:
            row = c.execute(sa.select(T).where(T.c.token_hash == token_hash)).first()
        return None if row is None else _token(row)

    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it (DELETE … RETURNING)."""
        statement = sa.delete(T).where(T.c.token_hash == token_hash).returning(*T.c)
        with self._s.connection() as c:
            row = c.execute(statement).first()
        return None if row is None else _token(row)

    def revoke(self, account_id: str, purposes: Collection[str] | None = None) -> None:
        """Remove the account's tokens of *purposes* (all when ``None``)."""
        statement = sa.delete(T).where(T.c.account_id == account_id)
        if purposes is not None:
            statement = statement.where(T.c.purpose.in_(list(purposes)))
        with self._s.connection() as c:
            c.execute(statement)

    def sweep(self, now: float, limit: int) -> int:
        """Remove at most *limit* tokens that expired before *now* (indexed)."""
        return _sweep(self._s, T.c.token_hash, T.c.expires_at < now, limit)


class SqlLoginStore(_Part):
    """Login records keyed by id."""

    def add_login(self, record: LoginRecord) -> None:
        """Store a new login."""
        with self._s.connection() as c:
            c.execute(sa.insert(L).values(**attrs.asdict(record)))

    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""
        with self._s.connection(write=False) as c:
            row = c.execute(sa.select(L).where(L.c.id == login_id)).first()
        return None if row is None else _login(row)

    def touch_login(self, login_id: str, now: float) -> None:
        """Record a use of the login at *now*."""
        statement = (
            sa.update(L).where(L.c.id == login_id, L.c.last_seen < now).values(last_seen=now)
        )
        with self._s.connection() as c:
            c.execute(statement)

    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins, oldest first."""
        query = sa.select(L).where(L.c.account_id == account_id).order_by(L.c.seq)
        with self._s.connection(write=False) as c:
            return [_login(row) for row in c.execute(query)]

    def end_login(self, login_id: str) -> bool:
        """Remove one login."""
        with self._s.connection() as c:
            return bool(c.execute(sa.delete(L).where(L.c.id == login_id)).rowcount == 1)

    def end_logins(self, account_id: str, *, keep: str | None = None) -> int:
        """Remove the account's logins except *keep*."""
        statement = sa.delete(L).where(L.c.account_id == account_id)
        if keep is not None:
            statement = statement.where(L.c.id != keep)
        with self._s.connection() as c:
            return int(c.execute(statement).rowcount)

    def sweep(self, seen_before: float, created_before: float, limit: int) -> int:
        """Remove at most *limit* expired logins (indexed)."""
        expired = sa.or_(L.c.last_seen < seen_before, L.c.created_at < created_before)
        return _sweep(self._s, L.c.seq, expired, limit)


def _sweep(storage: SqlStorage, key: sa.Column[Any], expired: Any, limit: int) -> int:
    """Delete at most *limit* rows of *key*'s table that are *expired*: one bounded statement."""
    doomed = sa.select(key).where(expired).limit(limit).scalar_subquery()
    with storage.connection() as c:
        return int(c.execute(sa.delete(key.table).where(key.in_(doomed))).rowcount)


class SqlCounterStore(_Part):
    """Sliding-window counters: one row per key with at most *limit* event times.

    Every hit runs in a transaction of its own (never inside a unit of work:
    the engine hits counters before it opens one); every 256 hits an indexed
    sweep deletes at most 1,024 expired rows.
    """

    _SWEEP_EVERY = 256
    _SWEEP_BATCH = 1024

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._hits = 0

    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event unless *limit* lie within *window*; the count including it."""
        s = self._s
        with s.transaction(), s.connection() as c:
            c.execute(s.insert(CT).values(key=key, events=[], expires_at=now))
            row = c.execute(sa.select(CT).where(CT.c.key == key).with_for_update()).one()
            events = [t for t in row.events if t > now - window]
            if len(events) >= limit:
                count = limit + 1
            else:
                events.append(now)
                count = len(events)
            c.execute(
                sa.update(CT)
                .where(CT.c.key == key)
                .values(events=events, expires_at=max(events, default=now) + window)
            )
            self._hits += 1
            if self._hits % self._SWEEP_EVERY == 0:
                _sweep(s, CT.c.key, CT.c.expires_at < now, self._SWEEP_BATCH)
            return count

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        with self._s.connection(write=False) as c:
            row = c.execute(sa.select(CT.c.events).where(CT.c.key == key)).first()
        return 0 if row is None else sum(1 for t in row.events if t > now - window)

    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._s.connection() as c:
            c.execute(sa.delete(CT).where(CT.c.key == key))


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Bring the database at *url* (its PostgreSQL *schema*) to *revision* (Alembic)."""
    from .migrate import upgrade as run

    run(url, revision, schema=schema)


def _in_schema(engine: Engine, name: str | None) -> Engine:
    if name is None:
        return engine
    return engine.execution_options(schema_translate_map={None: name})


def create_all(url: str, *, schema: str | None = None) -> None:
    """Create the declared tables directly (tests and throwaway databases; use :func:`upgrade`
    for databases that live on)."""
    engine = _create_engine(url, 15.0, {})
    try:
        target = _in_schema(engine, schema)
        _schema.metadata.create_all(target)
        with target.begin() as connection:  # stamped: these tables are the newest revision
            _schema.version.create(connection, checkfirst=True)
            connection.execute(sa.delete(_schema.version))
            connection.execute(sa.insert(_schema.version).values(version_num=_schema.REVISION))
    finally:
        engine.dispose()
