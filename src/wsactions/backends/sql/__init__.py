"""SQL storage on SQLAlchemy Core: SQLite as the embedded default, PostgreSQL for several
app servers.

::

    from wsactions.backends.sql import SqlStorage, upgrade

    upgrade("sqlite:///shop.db")                     # or: wsactions db upgrade URL
    storage = SqlStorage("sqlite:///shop.db")
    storage = SqlStorage("postgresql+psycopg://shop@db.internal/shop")

**Units of work.** Each ``transaction()`` is one database transaction on one
connection of the pool, which every store call inside it uses (per thread).
Calls outside a unit of work run in a short transaction of their own; one
that is a single statement (a read, a counter hit, marking a login as seen)
runs without one (the statement alone, committed by itself).

* SQLite: WAL journal, foreign keys on, a busy timeout; a unit of work begins
  with ``BEGIN IMMEDIATE``, so writers queue for the database's write lock
  from their first statement (no deadlock between two readers that both
  want to write); reads outside units of work do not take it.
* PostgreSQL: READ COMMITTED with the contract's locking reads
  (``SELECT … FOR UPDATE``); uniqueness rules are constraints, so a race
  that slips past a check still cannot store a duplicate.

What a step checks and picks comes from :mod:`wsactions.backends.rules`
(a :class:`~wsactions.backends.rules.Match` becomes a ``WHERE`` clause here);
the engine is made by :mod:`wsactions.backends.sql.engine`.

A database that cannot be reached, or does not answer within the timeout,
raises :class:`~wsactions.errors.StorageUnavailableError`: the unit of work
is rolled back, nothing of the action is kept, and the host answers 503. A
transaction the database ended to break a deadlock (or a serialization
failure) raises its subclass :class:`~wsactions.errors.StorageConflictError`,
and the engine runs the unit of work again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from ...errors import SchemaError, StorageConflictError, StorageUnavailableError
from ...models import (
    Account,
    Address,
    GroupDeletion,
    LoginRecord,
    Passkey,
    PrivilegeGroup,
    SavedCard,
    TokenRecord,
)
from .. import is_conflict, rules, statements
from . import schema as _schema
from .engine import BEGIN, create_engine, in_schema
from .schema import accounts as A
from .schema import addresses as AD
from .schema import cards as C
from .schema import counters as CT
from .schema import groups as G
from .schema import logins as L
from .schema import passkeys as P
from .schema import tokens as T

__all__ = ["SchemaError", "SqlStorage", "StorageUnavailableError", "upgrade"]

R = TypeVar("R")


def _record(cls: type[R], row: Row[Any]) -> R:
    """The record of type *cls* stored as *row* (the creation sequence left out)."""
    return rules.from_row(cls, {k: v for k, v in row._mapping.items() if k != "seq"})


def _where(table: sa.Table, match: rules.Match) -> list[sa.ColumnElement[bool]]:
    """*match* as the conditions of a WHERE clause on *table* (its columns are named as the
    records' fields)."""
    where = [table.c[name] == value for name, value in match.equal.items()]
    where += [table.c[name] != value for name, value in match.unequal.items()]
    for name, values in match.among.items():
        named = sorted(value for value in values if value is not None)
        either = [table.c[name].in_(named)] if named else []
        if None in values:
            either.append(table.c[name].is_(None))
        where.append(sa.or_(sa.false(), *either))
    return where


# The statements of every request, built once: SQLAlchemy finds their compiled form by a
# cache key it keeps on the statement instead of computing it anew for every execution.
_ACCOUNT_BY = {
    (column, locked): (
        sa.select(A).where(A.c[column] == sa.bindparam("value")).with_for_update()
        if locked
        else sa.select(A).where(A.c[column] == sa.bindparam("value"))
    )
    for column in ("id", "email_key")
    for locked in (False, True)
}
_LOGIN_ACCOUNT = (
    sa.select(L, A).join(A, A.c.id == L.c.account_id).where(L.c.id == sa.bindparam("login_id"))
)
_LOGIN_ACCOUNT_LOCKED = _LOGIN_ACCOUNT.with_for_update(of=A)
# (position in a _LOGIN_ACCOUNT row, field name) of the login's and the account's columns
_LOGIN_COLUMNS = [(i, c.name) for i, c in enumerate(L.columns) if c.name != "seq"]
_ACCOUNT_COLUMNS = [(len(L.c) + i, c.name) for i, c in enumerate(A.columns) if c.name != "seq"]
_ADD_LOGIN = sa.insert(L)
_TOUCH_LOGIN = (
    sa.update(L)
    .where(L.c.id == sa.bindparam("login_id"), L.c.last_seen < sa.bindparam("now"))
    .values(last_seen=sa.bindparam("now"))
)


# the storage --------------------------------------------------------------------------------


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
        engine = create_engine(url, timeout=timeout, **engine_options)
        self._base_engine = engine
        self.engine = in_schema(engine, schema)
        # A statement outside a unit of work that needs no transaction around it (a read,
        # or a write that is one statement) is sent alone, without BEGIN and COMMIT: under
        # READ COMMITTED every statement reads its own snapshot anyway.
        self._alone = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else self.engine
        )
        self._units = rules.UnitsOfWork(lambda: self._begin(transaction=True))
        self._dialect = self.engine.dialect.name
        self._accounts = SqlAccountStore(self)
        self._tokens = SqlTokenStore(self)
        self._logins = SqlLoginStore(self)
        self._passkeys = SqlPasskeyStore(self)
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
            with self._begin(transaction=False) as connection:
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

    @property
    def passkeys(self) -> SqlPasskeyStore:
        """The accounts' passkeys."""
        return self._passkeys

    def transaction(self) -> AbstractContextManager[None]:
        """One database transaction; nested blocks join the outer one."""
        return self._units.join()

    @contextmanager
    def connection(self, *, transaction: bool = True) -> Iterator[Connection]:
        """The unit of work's connection, else a short transaction of its own (one that
        takes SQLite's write lock at once), or with *transaction* false none at all:
        each statement then commits on its own (one round trip, no ``BEGIN`` and
        ``COMMIT``), for a read or a write that is one statement."""
        current = self._units.current
        if current is not None:
            yield current
            return
        with self._begin(transaction=transaction) as connection:
            yield connection

    @contextmanager
    def _begin(self, *, transaction: bool) -> Iterator[Connection]:
        if self._unchecked:  # the database was down when the storage was made
            self.check_schema()
        engine = self.engine if transaction else self._alone
        with self._unavailable(), engine.connect() as connection:
            # read by the SQLite "begin" listener (the info dict outlives the checkout):
            # the write lock at once, or no transaction
            connection.info[BEGIN] = "BEGIN IMMEDIATE" if transaction else ""
            try:
                with connection.begin():
                    yield connection
            finally:
                connection.info.pop(BEGIN, None)

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
        with self.connection(transaction=False) as c:

            def stored(cls: type[R], table: sa.Table) -> list[R]:
                ordered = sa.select(table).order_by(*table.primary_key)  # seq: creation order
                return [_record(cls, row) for row in c.execute(ordered)]

            return rules.snapshot(
                stored(Account, A),
                stored(Address, AD),
                stored(SavedCard, C),
                stored(PrivilegeGroup, G),
                stored(TokenRecord, T),
                stored(LoginRecord, L),
                stored(Passkey, P),
            )

    def close(self) -> None:
        """Close every pooled connection."""
        self._base_engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("pass functools.partial(SqlStorage, url) to other processes, not a storage")


class _Part:
    def __init__(self, storage: SqlStorage) -> None:
        self._s = storage


class SqlAccountStore(_Part):
    """Accounts, addresses, saved cards and privilege groups in SQL tables."""

    # accounts --------------------------------------------------------------
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key (or id) is taken (a unique constraint)."""
        with self._s.connection() as c:
            inserted = self._s.insert(A).values(**rules.to_row(account)).returning(A.c.seq)
            return c.execute(inserted).first() is not None

    def _one_account(self, column: str, value: str, for_update: bool) -> Account | None:
        with self._s.connection(transaction=for_update) as c:
            row = c.execute(_ACCOUNT_BY[column, for_update], {"value": value}).first()
        return None if row is None else _record(Account, row)

    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id*."""
        return self._one_account("id", account_id, for_update)

    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""
        return self._one_account("email_key", email_key, for_update)

    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone."""
        values = rules.row_values(rules.account_changes(changes))
        if not values:
            return self.get_account(account_id) is not None
        with self._s.connection() as c:
            result = c.execute(sa.update(A).where(A.c.id == account_id).values(**values))
            return bool(result.rowcount == 1)

    def change_email(
        self, account_id: str, email: str, email_key: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move the account to a new address unless it is taken; ``False`` otherwise."""
        values = rules.row_values(rules.account_changes(changes, "change_email"))
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
        """Remove the account with its addresses, cards, tokens, logins and passkeys."""
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
        with self._s.connection(transaction=for_update) as c:
            return [_record(Account, row) for row in c.execute(query)]

    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Give the members of *group_id* (and the ungrouped ones) a new rights stamp."""
        renewed = rules.renewed_members(company_id, group_id, ungrouped=ungrouped)
        statement = sa.update(A).where(*_where(A, renewed)).values(rights_stamp=rights_stamp)
        with self._s.connection() as c:
            return int(c.execute(statement).rowcount)

    # addresses ---------------------------------------------------------------
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        with self._s.connection() as c:
            c.execute(sa.insert(AD).values(**rules.to_row(address)))

    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address if it belongs to *account_id*."""
        query = sa.select(AD).where(AD.c.account_id == account_id, AD.c.id == address_id)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(transaction=for_update) as c:
            row = c.execute(query).first()
        return None if row is None else _record(Address, row)

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        query = sa.select(AD).where(AD.c.account_id == account_id).order_by(AD.c.seq)
        with self._s.connection(transaction=False) as c:
            return [_record(Address, row) for row in c.execute(query)]

    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""
        query = sa.select(sa.func.count()).select_from(AD).where(AD.c.account_id == account_id)
        with self._s.connection(transaction=False) as c:
            return int(c.execute(query).scalar_one())

    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of an address of *account_id*; ``False`` when it is gone."""
        values = rules.row_values(rules.address_changes(changes))
        if not values:
            return self.get_address(account_id, address_id) is not None
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
                for role in rules.ADDRESS_ROLES
            }
            pointing = sa.or_(*(A.c[role] == address_id for role in rules.ADDRESS_ROLES))
            c.execute(sa.update(A).where(A.c.id == account_id, pointing).values(cleared))
            return True

    # saved cards -------------------------------------------------------------
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        rules.refuse_card_data(card)
        with self._s.connection() as c:
            c.execute(sa.insert(C).values(**rules.to_row(card)))

    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, oldest first."""
        query = sa.select(C).where(C.c.account_id == account_id).order_by(C.c.seq)
        with self._s.connection(transaction=False) as c:
            return [_record(SavedCard, row) for row in c.execute(query)]

    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*."""
        statement = sa.delete(C).where(C.c.account_id == account_id, C.c.id == card_id)
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    # privilege groups ----------------------------------------------------------
    @staticmethod
    def _lock_groups(c: Connection, company_id: str) -> set[str]:
        """Lock every group row of the company (one default group: promotions queue); their
        ids."""
        locked = sa.select(G.c.id).where(G.c.company_id == company_id).with_for_update()
        return {row.id for row in c.execute(locked)}

    @staticmethod
    def _demote(c: Connection, former: rules.Match) -> None:
        c.execute(sa.update(G).where(*_where(G, former)).values(**rules.DEMOTED))

    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has one of that id."""
        former = rules.former_global(group.company_id, group.id, group.type)
        with self._s.connection() as c:
            if former is not None:
                if group.id in self._lock_groups(c, group.company_id):
                    return False  # taken: nothing demoted
                self._demote(c, former)
            inserted = self._s.insert(G).values(**rules.to_row(group)).returning(G.c.seq)
            return c.execute(inserted).first() is not None

    def get_group(
        self, company_id: str, group_id: str, *, for_update: bool = False
    ) -> PrivilegeGroup | None:
        """The group if it belongs to *company_id*."""
        query = sa.select(G).where(G.c.company_id == company_id, G.c.id == group_id)
        if for_update:
            query = query.with_for_update()
        with self._s.connection(transaction=for_update) as c:
            row = c.execute(query).first()
        return None if row is None else _record(PrivilegeGroup, row)

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        query = sa.select(G).where(G.c.company_id == company_id).order_by(G.c.seq)
        with self._s.connection(transaction=False) as c:
            return [_record(PrivilegeGroup, row) for row in c.execute(query)]

    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set name, type or privileges; a new ``global`` group demotes the former one."""
        values = rules.row_values(rules.group_changes(changes))
        if not values:
            return self.get_group(company_id, group_id) is not None
        former = rules.former_global(company_id, group_id, values.get("type"))
        with self._s.connection() as c:
            if former is not None:
                if group_id not in self._lock_groups(c, company_id):
                    return False  # gone: nothing demoted
                self._demote(c, former)
            statement = (
                sa.update(G)
                .where(G.c.company_id == company_id, G.c.id == group_id)
                .values(**values)
            )
            return bool(c.execute(statement).rowcount == 1)

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
            assigned = rules.assigned_members(company_id, group_id)
            used = c.execute(sa.select(A.c.seq).where(*_where(A, assigned)).limit(1)).first()
            if used is not None:
                return GroupDeletion.IN_USE
            c.execute(sa.delete(G).where(G.c.seq == found.seq))
            return GroupDeletion.DELETED

    def charge_group(
        self,
        company_id: str,
        group_id: str,
        amount: Decimal,
        *,
        period_start: float | None = None,
    ) -> bool:
        """Add *amount* to the spending unless the stored limits refuse it."""
        return self._change_spent(company_id, group_id, lambda g: g.charged(amount, period_start))

    def refund_group(
        self,
        company_id: str,
        group_id: str,
        amount: Decimal,
        charged_at: float,
        *,
        period_start: float | None = None,
    ) -> bool:
        """Give *amount* back if it was charged in the current period (never below zero)."""
        return self._change_spent(
            company_id, group_id, lambda g: g.refunded(amount, charged_at, period_start)
        )

    def _change_spent(self, company_id: str, group_id: str, step: Any) -> bool:
        with self._s.transaction(), self._s.connection() as c:
            row = c.execute(
                sa.select(G)
                .where(G.c.company_id == company_id, G.c.id == group_id)
                .with_for_update()
            ).first()
            if row is None:
                return False
            state = step(_record(PrivilegeGroup, row))
            if state is None:
                return False
            spent, since = state
            c.execute(
                sa.update(G).where(G.c.seq == row.seq).values(spent=spent, budget_since=since)
            )
            return True


class SqlTokenStore(_Part):
    """Opt-in token records keyed by token hash; one per account and purpose."""

    def add(self, record: TokenRecord) -> None:
        """Store *record*; the account's older token of the same purpose is revoked: one
        upsert on the unique (account, purpose) that :func:`rules.superseded_tokens` names."""
        superseded = rules.superseded_tokens(record)
        row = rules.to_row(record)
        dialect = postgresql if self._s._dialect == "postgresql" else sqlite
        statement = (
            dialect.insert(T)
            .values(**row)
            .on_conflict_do_update(
                index_elements=sorted(superseded.equal),
                set_={name: value for name, value in row.items() if name not in superseded.equal},
            )
        )
        with self._s.connection() as c:
            c.execute(statement)

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        with self._s.connection(transaction=False) as c:
            row = c.execute(sa.select(T).where(T.c.token_hash == token_hash)).first()
        return None if row is None else _record(TokenRecord, row)

    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it (DELETE … RETURNING)."""
        statement = sa.delete(T).where(T.c.token_hash == token_hash).returning(*T.c)
        with self._s.connection() as c:
            row = c.execute(statement).first()
        return None if row is None else _record(TokenRecord, row)

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
            c.execute(_ADD_LOGIN, rules.to_row(record))

    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""
        with self._s.connection(transaction=False) as c:
            row = c.execute(sa.select(L).where(L.c.id == login_id)).first()
        return None if row is None else _record(LoginRecord, row)

    def get_login_account(
        self, login_id: str, *, for_update: bool = False
    ) -> tuple[LoginRecord, Account] | None:
        """The login and its account in one joined read (the account row locked when
        *for_update*)."""
        query = _LOGIN_ACCOUNT_LOCKED if for_update else _LOGIN_ACCOUNT
        with self._s.connection(transaction=for_update) as c:
            row = c.execute(query, {"login_id": login_id}).first()
        if row is None:
            return None
        login = {name: row[i] for i, name in _LOGIN_COLUMNS}
        account = {name: row[i] for i, name in _ACCOUNT_COLUMNS}
        return rules.from_row(LoginRecord, login), rules.from_row(Account, account)

    def touch_login(self, login_id: str, now: float) -> None:
        """Record a use of the login at *now*."""
        with self._s.connection(transaction=False) as c:  # one statement
            c.execute(_TOUCH_LOGIN, {"login_id": login_id, "now": now})

    def renew_proof(self, login_id: str, now: float, method: str) -> bool:
        """Record a new proof of the login at *now* by *method*."""
        statement = (
            sa.update(L).where(L.c.id == login_id).values(proven_at=now, proven_by=method)
        )
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins, oldest first."""
        query = sa.select(L).where(L.c.account_id == account_id).order_by(L.c.seq)
        with self._s.connection(transaction=False) as c:
            return [_record(LoginRecord, row) for row in c.execute(query)]

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


class SqlPasskeyStore(_Part):
    """Passkeys keyed by credential id."""

    def add_passkey(self, passkey: Passkey) -> bool:
        """Store a new passkey unless its credential id is taken."""
        with self._s.connection() as c:
            inserted = self._s.insert(P).values(**rules.to_row(passkey)).returning(P.c.seq)
            return c.execute(inserted).first() is not None

    def get_passkey(self, credential_id: str) -> Passkey | None:
        """The passkey with *credential_id*."""
        with self._s.connection(transaction=False) as c:
            row = c.execute(sa.select(P).where(P.c.id == credential_id)).first()
        return None if row is None else _record(Passkey, row)

    def list_passkeys(self, account_id: str) -> Sequence[Passkey]:
        """The account's passkeys, oldest first."""
        query = sa.select(P).where(P.c.account_id == account_id).order_by(P.c.seq)
        with self._s.connection(transaction=False) as c:
            return [_record(Passkey, row) for row in c.execute(query)]

    def use_passkey(
        self, credential_id: str, sign_count: int, now: float, backup_state: bool
    ) -> bool:
        """Record a use if the counter went forward: one conditional UPDATE
        (:func:`rules.sign_count_advances` in SQL)."""
        advances = sa.or_(
            P.c.sign_count < sign_count, sa.and_(P.c.sign_count == 0, sa.literal(sign_count) == 0)
        )
        statement = (
            sa.update(P)
            .where(P.c.id == credential_id, advances)
            .values(sign_count=sign_count, last_used=now, backup_state=backup_state)
        )
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    def rename_passkey(self, account_id: str, credential_id: str, name: str) -> bool:
        """Rename the account's passkey."""
        statement = (
            sa.update(P)
            .where(P.c.id == credential_id, P.c.account_id == account_id)
            .values(name=name)
        )
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)

    def delete_passkey(self, account_id: str, credential_id: str) -> bool:
        """Remove the account's passkey."""
        statement = sa.delete(P).where(P.c.id == credential_id, P.c.account_id == account_id)
        with self._s.connection() as c:
            return bool(c.execute(statement).rowcount == 1)


def _sweep(storage: SqlStorage, key: sa.Column[Any], expired: Any, limit: int) -> int:
    """Delete at most *limit* rows of *key*'s table that are *expired*: one bounded statement."""
    doomed = sa.select(key).where(expired).limit(limit).scalar_subquery()
    with storage.connection(transaction=False) as c:
        return int(c.execute(sa.delete(key.table).where(key.in_(doomed))).rowcount)


class SqlCounterStore(_Part):
    """Sliding-window counters: one row per key with at most *limit* event times.

    Every hit is one statement, committed by itself (never inside a unit of work:
    the engine hits counters before it opens one); every
    :data:`~wsactions.backends.rules.COUNTER_SWEEP_EVERY` hits an indexed sweep
    deletes at most :data:`~wsactions.backends.rules.COUNTER_SWEEP_BATCH` expired rows.
    """

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._hits = 0
        table = CT.name if storage.schema is None else f'"{storage.schema}".{CT.name}'
        self._statement = sa.text(
            statements.hit_statement(
                storage.engine.dialect.name, table, placeholder=lambda name: f":{name}"
            )
        )

    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event unless *limit* lie within *window*; the count including it
        (one upsert: :mod:`wsactions.backends.statements`)."""
        s = self._s
        with s.connection(transaction=False) as c:  # one statement, atomic by itself
            row = c.execute(self._statement, statements.hit_params(key, now, window, limit))
            events, refused = row.one()
        self._hits += 1
        if self._hits % rules.COUNTER_SWEEP_EVERY == 0:  # a statement of its own
            _sweep(s, CT.c.key, CT.c.expires_at < now, rules.COUNTER_SWEEP_BATCH)
        return statements.hit_result(events, refused, limit)

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        with self._s.connection(transaction=False) as c:
            row = c.execute(sa.select(CT.c.events).where(CT.c.key == key)).first()
        return 0 if row is None else rules.counted(row.events, now, window)

    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._s.connection(transaction=False) as c:  # one statement
            c.execute(sa.delete(CT).where(CT.c.key == key))


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Bring the database at *url* (its PostgreSQL *schema*) to *revision* (Alembic)."""
    from .migrate import upgrade as run  # Alembic loads only when a database is migrated

    run(url, revision, schema=schema)


def create_all(url: str, *, schema: str | None = None) -> None:
    """Create the declared tables directly (tests and throwaway databases; use :func:`upgrade`
    for databases that live on)."""
    engine = create_engine(url)
    try:
        target = in_schema(engine, schema)
        _schema.metadata.create_all(target)
        with target.begin() as connection:  # stamped: these tables are the newest revision
            _schema.version.create(connection, checkfirst=True)
            connection.execute(sa.delete(_schema.version))
            connection.execute(sa.insert(_schema.version).values(version_num=_schema.REVISION))
    finally:
        engine.dispose()
