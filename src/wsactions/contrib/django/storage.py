"""A :class:`~wsactions.protocols.Storage` on the Django ORM: the models of
``wsactions.contrib.django`` in one of the project's databases.

::

    INSTALLED_APPS = [..., "wsactions.contrib.django"]     # then: manage.py migrate

    from wsactions.contrib.django.storage import DjangoStorage

    storage = DjangoStorage()            # the "default" database; DjangoStorage("accounts")

**Units of work.** ``transaction()`` is ``django.db.transaction.atomic`` on
the storage's database: a transaction of its own, or a savepoint when the
host already opened one (``ATOMIC_REQUESTS``), so a failed action is rolled
back either way. Nested ``transaction()`` blocks join the outermost one.
Store calls outside a unit of work are atomic one by one (each write is a
short ``atomic`` block of its own).

* PostgreSQL: READ COMMITTED (Django's default) with the contract's locking
  reads (``select_for_update()``); uniqueness rules are constraints, so a
  race that slips past a check still cannot store a duplicate. Set a
  ``lock_timeout`` (``OPTIONS={"options": "-c lock_timeout=15000"}``) so that
  a lock not granted in time raises instead of waiting for ever.
* SQLite: SQLite has no row locks. Every transaction must take the write
  lock when it begins, so that writers queue and a read for update is locked
  by construction: **the database needs**
  ``OPTIONS={"transaction_mode": "IMMEDIATE", "timeout": 20}`` (Django ≥ 5.1);
  :class:`DjangoStorage` refuses a SQLite database without it. WAL
  (``"init_command": "PRAGMA journal_mode=WAL"``) lets readers go on while
  a unit of work writes.

What a step checks and picks comes from :mod:`wsactions.backends.rules`
(a :class:`~wsactions.backends.rules.Match` becomes a ``Q`` object here).

Threads get a connection each (Django's rule): a thread of your own that
used the storage closes it with ``django.db.connections.close_all()`` when
it is done. A database that cannot be reached, or does not answer in time,
raises :class:`~wsactions.errors.StorageUnavailableError` (answer it
with 503): the unit of work is rolled back and nothing of the action kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import attrs
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
)
from django.db import transaction as db_transaction
from django.db.models import Case, CharField, F, Q, Value, When

from ...backends import is_conflict, rules, statements
from ...errors import StorageConflictError, StorageUnavailableError
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

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["DjangoStorage", "StorageUnavailableError", "database_problem"]

P = ParamSpec("P")
R = TypeVar("R")

#: SQLite transaction modes that take the write lock at BEGIN.
_LOCKING_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})


def database_problem(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why the database *using* cannot keep the storage's guarantees, or ``None``.

    Reads the settings only (no connection is opened): a SQLite database
    needs ``OPTIONS["transaction_mode"] = "IMMEDIATE"``.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return None
    options = connection.settings_dict.get("OPTIONS") or {}
    mode = str(options.get("transaction_mode") or "DEFERRED").upper()
    if mode in _LOCKING_MODES:
        return None
    return (
        f"wsactions on SQLite needs DATABASES[{using!r}]['OPTIONS']['transaction_mode'] = "
        f"'IMMEDIATE' (it is {mode}): units of work must take the write lock when they begin, "
        "or concurrent requests lose updates and fail with 'database is locked'"
    )


# records <-> rows (the one place that knows both) ------------------------------------------

#: The model field of each record's ``id`` (its column is ``id``, as in the SQL backend).
_ID_FIELDS: Mapping[type, str] = {
    Account: "account_id",
    Address: "address_id",
    SavedCard: "card_id",
    PrivilegeGroup: "group_id",
    LoginRecord: "login_id",
    Passkey: "credential_id",
}


def _field(cls: type, name: str) -> str:
    """The model field of the field *name* of records of type *cls*."""
    return _ID_FIELDS.get(cls, "id") if name == "id" else name


def _row(
    record: Account | Address | SavedCard | PrivilegeGroup | TokenRecord | LoginRecord,
) -> dict[str, Any]:
    """The model field values of *record*."""
    return {_field(type(record), name): value for name, value in rules.to_row(record).items()}


def _passkey_row(passkey: Passkey) -> dict[str, Any]:
    """The model field values of *passkey* (its transports as a JSON list)."""
    values = rules.row_values(attrs.asdict(passkey, recurse=False))
    values["transports"] = list(passkey.transports)
    return {_field(Passkey, name): value for name, value in values.items()}


def _record(cls: type[R], row: Any) -> R:
    """The record of type *cls* stored as the model instance *row*."""
    names = (f.name for f in attrs.fields(cls))  # type: ignore[arg-type]
    return rules.from_row(cls, {name: getattr(row, _field(cls, name)) for name in names})


class _Compiled:
    """A one-row read by a key, compiled to SQL once per database and then run with each key.

    Django compiles a queryset anew on every use, and for a read by primary or unique key
    that is most of its cost; the reads of every request (a login with its account, an
    account by id or address) keep the SQL, the column order and the value converters of
    their first compile (Django's own compiler makes them). *build* makes the queryset for
    a key; a query whose only parameter is not the key is run through the ORM each time.
    """

    _KEY = "wsactions-compiled-key"

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[str, list[tuple[Any, str, list[Any], Any]]] | None] = {}

    def _compile(self, using: str) -> tuple[str, list[tuple[Any, str, list[Any], Any]]] | None:
        compiler = self._build(self._KEY).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        if list(params) != [self._KEY]:
            return None
        expressions = [expression for expression, _, _ in compiler.select]
        converters = compiler.get_converters(expressions)
        columns = [
            (e.target.model, e.target.attname, converters.get(i, ([], None))[0], e)
            for i, e in enumerate(expressions)
        ]
        return sql, columns

    def row(self, using: str, key: str) -> dict[Any, dict[str, Any]] | None:
        """The row for *key* as ``{model: {attname: value}}``, or ``None``."""
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        compiled = self._compiled[using]
        if compiled is None:  # not a plain read by key: the ORM each time
            instance = next(iter(self._build(key).using(using)), None)
            return None if instance is None else _values(instance)
        sql, columns = compiled
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            found = cursor.fetchone()
        if found is None:
            return None
        out: dict[Any, dict[str, Any]] = {}
        for value, (model, attname, converters, expression) in zip(found, columns, strict=True):
            for convert in converters:
                value = convert(value, expression, connection)
            out.setdefault(model, {})[attname] = value
        return out


def _values(instance: Any) -> dict[Any, dict[str, Any]]:
    """What :meth:`_Compiled.row` answers, of a model instance (and the related instances
    it selected)."""
    fields = instance._meta.concrete_fields
    out = {type(instance): {f.attname: getattr(instance, f.attname) for f in fields}}
    for related in instance._state.fields_cache.values():
        if related is not None:
            out.update(_values(related))
    return out


def _from_values(cls: type[R], values: Mapping[str, Any]) -> R:
    """The record of type *cls* stored with the model field *values*."""
    names = (f.name for f in attrs.fields(cls))  # type: ignore[arg-type]
    return rules.from_row(cls, {name: values[_field(cls, name)] for name in names})


def _q(cls: type, match: rules.Match) -> Q:
    """*match* (of records of type *cls*) as a filter."""
    where = Q(**{_field(cls, name): value for name, value in match.equal.items()})
    for name, value in match.unequal.items():
        where &= ~Q(**{_field(cls, name): value})
    for name, values in match.among.items():
        field = _field(cls, name)
        either = Q(**{f"{field}__in": sorted(v for v in values if v is not None)})
        if None in values:
            either |= Q(**{f"{field}__isnull": True})
        where &= either
    return where


# the storage --------------------------------------------------------------------------------


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Database outages raise :class:`StorageUnavailableError` (the method's first argument
    is a store part or the storage)."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            owner: Any = args[0]
            storage: DjangoStorage = getattr(owner, "_s", owner)
            raise storage.unavailable(error) from error

    return call


class DjangoStorage:
    """The storage on the Django database *using* (an alias of ``settings.DATABASES``).

    Make it after Django is set up (``django.setup()``, or in ``AppConfig.ready``
    and later); one storage serves every thread. Raises
    :class:`~django.core.exceptions.ImproperlyConfigured` for a SQLite
    database without ``transaction_mode="IMMEDIATE"`` (:func:`database_problem`).
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        problem = database_problem(using)
        if problem is not None:
            raise ImproperlyConfigured(problem)
        from . import models  # needs the app registry: not at import time

        self.using = using
        self.models: ModuleType = models
        self._units = rules.UnitsOfWork(self._begin)
        self._accounts = DjangoAccountStore(self)
        self._tokens = DjangoTokenStore(self)
        self._logins = DjangoLoginStore(self)
        self._passkeys = DjangoPasskeyStore(self)
        self._counters = DjangoCounterStore(self)

    @property
    def accounts(self) -> DjangoAccountStore:
        """The account store."""
        return self._accounts

    @property
    def tokens(self) -> DjangoTokenStore:
        """The opt-in token store."""
        return self._tokens

    @property
    def logins(self) -> DjangoLoginStore:
        """The login records."""
        return self._logins

    @property
    def counters(self) -> DjangoCounterStore:
        """The throttling counters."""
        return self._counters

    @property
    def passkeys(self) -> DjangoPasskeyStore:
        """The accounts' passkeys."""
        return self._passkeys

    def transaction(self) -> AbstractContextManager[None]:
        """One unit of work (``atomic``); nested blocks join the outermost one."""
        return self._units.join()

    @contextmanager
    def _begin(self) -> Iterator[None]:
        with self._unavailable(), db_transaction.atomic(using=self.using):
            yield

    # building blocks of the stores ------------------------------------------------------
    def objects(self, model: str) -> Any:
        """The manager of ``models.<model>`` on this storage's database."""
        return getattr(self.models, model).objects.db_manager(self.using)

    def write(self) -> AbstractContextManager[Any]:
        """A write: the unit of work it is part of, or a short transaction of its own (which
        takes SQLite's write lock at once)."""
        block: AbstractContextManager[Any] = db_transaction.atomic(
            using=self.using, savepoint=False
        )
        return block

    def attempt(self) -> AbstractContextManager[Any]:
        """A step that may break a constraint: a savepoint inside a unit of work (the
        IntegrityError undoes the step only), else a transaction of its own."""
        block: AbstractContextManager[Any] = db_transaction.atomic(using=self.using)
        return block

    def reading(self, for_update: bool) -> AbstractContextManager[Any]:
        """Where a read runs: a locking read inside a transaction, a plain read as it is."""
        return self.write() if for_update else nullcontext()

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            raise self.unavailable(error) from error

    def unavailable(self, error: DatabaseError) -> StorageUnavailableError:
        """The error to raise for *error*; a broken connection outside a transaction is closed
        (the next call opens a new one)."""
        connection = connections[self.using]
        if connection.connection is not None and not connection.in_atomic_block:
            with suppress(DatabaseError):  # closing what is gone anyway
                if not connection.is_usable():
                    connection.close()
        cause = error.__cause__ or error
        if is_conflict(error):
            name = type(cause).__name__
            return StorageConflictError(f"the database ended the transaction: {name}")
        return StorageUnavailableError(f"the database did not answer: {type(cause).__name__}")

    @_guarded
    def snapshot(self) -> dict[str, Any]:
        """Everything stored (counters and logins' last_seen aside) as comparable values."""

        def stored(cls: type[R], model: str) -> list[R]:
            return [_record(cls, row) for row in self.objects(model).order_by("pk")]

        return rules.snapshot(
            stored(Account, "Account"),
            stored(Address, "Address"),
            stored(SavedCard, "SavedCard"),
            stored(PrivilegeGroup, "PrivilegeGroup"),
            stored(TokenRecord, "OptinToken"),
            stored(LoginRecord, "Login"),
            stored(Passkey, "Passkey"),
        )

    def __repr__(self) -> str:
        return f"DjangoStorage(using={self.using!r})"


class _Part:
    def __init__(self, storage: DjangoStorage) -> None:
        self._s = storage


class DjangoAccountStore(_Part):
    """Accounts, addresses, saved cards and privilege groups in the ``wsactions_*`` tables."""

    def __init__(self, storage: DjangoStorage) -> None:
        super().__init__(storage)
        accounts = storage.models.Account.objects

        def by(field: str, locked: bool) -> _Compiled:
            rows = accounts.select_for_update() if locked else accounts.all()
            return _Compiled(lambda key: rows.filter(**{field: key})[:1])

        self._by = {
            (field, locked): by(field, locked)
            for field in ("account_id", "email_key")
            for locked in (False, True)
        }

    # accounts --------------------------------------------------------------
    @_guarded
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key (or id) is taken (a unique constraint)."""
        try:
            with self._s.attempt():
                self._s.objects("Account").create(**_row(account))
        except IntegrityError:
            return False
        return True

    def _one_account(self, field: str, key: str, for_update: bool) -> Account | None:
        with self._s.reading(for_update):
            row = self._by[field, for_update].row(self._s.using, key)
        return None if row is None else _from_values(Account, row[self._s.models.Account])

    @_guarded
    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id*."""
        return self._one_account("account_id", account_id, for_update)

    @_guarded
    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""
        return self._one_account("email_key", email_key, for_update)

    @_guarded
    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone."""
        values = rules.row_values(rules.account_changes(changes))
        accounts = self._s.objects("Account").filter(account_id=account_id)
        if not values:
            return bool(accounts.exists())
        with self._s.write():
            return bool(accounts.update(**values) == 1)

    @_guarded
    def change_email(
        self, account_id: str, email: str, email_key: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move the account to a new address unless it is taken; ``False`` otherwise."""
        values = rules.row_values(rules.account_changes(changes, "change_email"))
        accounts = self._s.objects("Account").filter(account_id=account_id)
        try:
            with self._s.attempt():
                changed = accounts.update(email=email, email_key=email_key, **values)
        except IntegrityError:
            return False  # another account holds the key (the unique constraint said so)
        return bool(changed == 1)

    def _remove(self, account_ids: Sequence[str]) -> None:
        """Delete the accounts; their addresses, cards, logins and passkeys follow
        (CASCADE)."""
        self._s.objects("OptinToken").filter(account_id__in=account_ids).delete()
        self._s.objects("Account").filter(account_id__in=account_ids).delete()

    @_guarded
    def delete_account(self, account_id: str) -> bool:
        """Remove the account with its addresses, cards, tokens, logins and passkeys (the
        account row is locked first, so a unit of work that locked it finishes before)."""
        accounts = self._s.objects("Account")
        with self._s.write():
            locked = accounts.select_for_update().filter(account_id=account_id)
            if locked.values_list("seq", flat=True).first() is None:
                return False
            self._remove([account_id])
            return True

    @_guarded
    def delete_company(self, company_id: str) -> Sequence[str]:
        """Remove every member and every group of the company; the removed account ids."""
        with self._s.write():
            members = (
                self._s.objects("Account")
                .select_for_update()
                .filter(company_id=company_id)
                .order_by("seq")
                .values_list("account_id", flat=True)
            )
            removed = [str(account_id) for account_id in members]
            if removed:
                self._remove(removed)
            self._s.objects("PrivilegeGroup").filter(company_id=company_id).delete()
            return removed

    @_guarded
    def list_members(self, company_id: str, *, for_update: bool = False) -> Sequence[Account]:
        """Every account of the company, oldest first."""
        query = self._s.objects("Account").filter(company_id=company_id).order_by("seq")
        with self._s.reading(for_update):
            rows = list(query.select_for_update() if for_update else query)
        return [_record(Account, row) for row in rows]

    @_guarded
    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Give the members of *group_id* (and the ungrouped ones) a new rights stamp."""
        renewed = rules.renewed_members(company_id, group_id, ungrouped=ungrouped)
        members = self._s.objects("Account").filter(_q(Account, renewed))
        with self._s.write():
            return int(members.update(rights_stamp=rights_stamp))

    # addresses ---------------------------------------------------------------
    @_guarded
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        with self._s.write():
            self._s.objects("Address").create(**_row(address))

    @_guarded
    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address if it belongs to *account_id*."""
        query = self._s.objects("Address").filter(account_id=account_id, address_id=address_id)
        with self._s.reading(for_update):
            row = (query.select_for_update() if for_update else query).first()
        return None if row is None else _record(Address, row)

    @_guarded
    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        rows = self._s.objects("Address").filter(account_id=account_id).order_by("seq")
        return [_record(Address, row) for row in rows]

    @_guarded
    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""
        return int(self._s.objects("Address").filter(account_id=account_id).count())

    @_guarded
    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of an address of *account_id*; ``False`` when it is gone."""
        values = rules.row_values(rules.address_changes(changes))
        query = self._s.objects("Address").filter(account_id=account_id, address_id=address_id)
        if not values:
            return bool(query.exists())
        with self._s.write():
            return bool(query.update(**values) == 1)

    @_guarded
    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address and clear the roles that pointed to it."""
        with self._s.write():
            deleted, _ = (
                self._s.objects("Address")
                .filter(account_id=account_id, address_id=address_id)
                .delete()
            )
            if not deleted:
                return False
            cleared = {
                role: Case(
                    When(**{role: address_id}, then=Value(None)),
                    default=F(role),
                    output_field=CharField(),
                )
                for role in rules.ADDRESS_ROLES
            }
            pointing = Q()
            for role in rules.ADDRESS_ROLES:
                pointing |= Q(**{role: address_id})
            self._s.objects("Account").filter(pointing, account_id=account_id).update(**cleared)
            return True

    # saved cards -------------------------------------------------------------
    @_guarded
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        rules.refuse_card_data(card)
        with self._s.write():
            self._s.objects("SavedCard").create(**_row(card))

    @_guarded
    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, oldest first."""
        rows = self._s.objects("SavedCard").filter(account_id=account_id).order_by("seq")
        return [_record(SavedCard, row) for row in rows]

    @_guarded
    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*."""
        query = self._s.objects("SavedCard").filter(account_id=account_id, card_id=card_id)
        with self._s.write():
            deleted, _ = query.delete()
        return bool(deleted == 1)

    # privilege groups ----------------------------------------------------------
    def _groups(self, company_id: str) -> Any:
        return self._s.objects("PrivilegeGroup").filter(company_id=company_id)

    def _lock_groups(self, company_id: str) -> set[str]:
        """Lock every group row of the company, in creation order (one default group per
        company: promotions queue); their ids."""
        locked = self._groups(company_id).select_for_update().order_by("seq")
        return set(locked.values_list("group_id", flat=True))

    def _demote(self, former: rules.Match) -> None:
        self._s.objects("PrivilegeGroup").filter(_q(PrivilegeGroup, former)).update(**rules.DEMOTED)

    @_guarded
    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has one of that id."""
        former = rules.former_global(group.company_id, group.id, group.type)
        try:
            with self._s.attempt():
                if former is not None:
                    self._lock_groups(group.company_id)
                    self._demote(former)
                self._s.objects("PrivilegeGroup").create(**_row(group))
        except IntegrityError:
            return False  # the group id is taken (the demotion is undone with it)
        return True

    @_guarded
    def get_group(
        self, company_id: str, group_id: str, *, for_update: bool = False
    ) -> PrivilegeGroup | None:
        """The group if it belongs to *company_id*."""
        query = self._groups(company_id).filter(group_id=group_id)
        with self._s.reading(for_update):
            row = (query.select_for_update() if for_update else query).first()
        return None if row is None else _record(PrivilegeGroup, row)

    @_guarded
    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        return [_record(PrivilegeGroup, row) for row in self._groups(company_id).order_by("seq")]

    @_guarded
    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set name, type or privileges; a new ``global`` group demotes the former one."""
        values = rules.row_values(rules.group_changes(changes))
        query = self._groups(company_id).filter(group_id=group_id)
        if not values:
            return bool(query.exists())
        former = rules.former_global(company_id, group_id, values.get("type"))
        with self._s.write():
            if former is not None:
                if group_id not in self._lock_groups(company_id):
                    return False  # gone: nothing demoted
                self._demote(former)
            return bool(query.update(**values) == 1)

    @_guarded
    def restart_budget(self, company_id: str, group_id: str, since: float) -> bool:
        """Start a new budget period at *since* with nothing spent."""
        query = self._groups(company_id).filter(group_id=group_id)
        with self._s.write():
            return bool(query.update(spent=str(Decimal(0)), budget_since=since) == 1)

    @_guarded
    def delete_group(self, company_id: str, group_id: str) -> GroupDeletion:
        """Remove the group unless a member is assigned to it (the group row is locked first,
        so an assignment that locked it commits before the member check reads)."""
        with self._s.write():
            seq = (
                self._groups(company_id)
                .select_for_update()
                .filter(group_id=group_id)
                .values_list("seq", flat=True)
                .first()
            )
            if seq is None:
                return GroupDeletion.MISSING
            assigned = rules.assigned_members(company_id, group_id)
            if self._s.objects("Account").filter(_q(Account, assigned)).exists():
                return GroupDeletion.IN_USE
            self._s.objects("PrivilegeGroup").filter(seq=seq).delete()
            return GroupDeletion.DELETED

    @_guarded
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

    @_guarded
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

    def _change_spent(
        self,
        company_id: str,
        group_id: str,
        step: Callable[[PrivilegeGroup], tuple[Decimal, float] | None],
    ) -> bool:
        """Lock the group row, compute the new spending from it, write it: one step."""
        with self._s.write():
            row = self._groups(company_id).select_for_update().filter(group_id=group_id).first()
            if row is None:
                return False
            state = step(_record(PrivilegeGroup, row))
            if state is None:
                return False
            spent, since = state
            self._s.objects("PrivilegeGroup").filter(seq=row.seq).update(
                spent=str(spent), budget_since=since
            )
            return True


class DjangoTokenStore(_Part):
    """Opt-in token records keyed by token hash; one per account and purpose."""

    @_guarded
    def add(self, record: TokenRecord) -> None:
        """Store *record*; the account's older token of the same purpose is revoked: one
        upsert on the unique (account, purpose) (:func:`statements.token_upsert`)."""
        connection = connections[self._s.using]
        table = connection.ops.quote_name(self._s.models.OptinToken._meta.db_table)
        statement = statements.token_upsert(table, placeholder=lambda name: f"%({name})s")
        values = {name: getattr(record, name) for name in statements.TOKEN_COLUMNS}
        with self._s.write(), connection.cursor() as cursor:
            cursor.execute(statement, values)

    @_guarded
    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        row = self._s.objects("OptinToken").filter(token_hash=token_hash).first()
        return None if row is None else _record(TokenRecord, row)

    @_guarded
    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it (locked, then deleted)."""
        query = self._s.objects("OptinToken").filter(token_hash=token_hash)
        with self._s.write():
            row = query.select_for_update().first()
            if row is None:
                return None
            deleted, _ = query.delete()
            return _record(TokenRecord, row) if deleted == 1 else None

    @_guarded
    def revoke(self, account_id: str, purposes: Collection[str] | None = None) -> None:
        """Remove the account's tokens of *purposes* (all when ``None``)."""
        query = self._s.objects("OptinToken").filter(account_id=account_id)
        if purposes is not None:
            if not purposes:
                return
            query = query.filter(purpose__in=list(purposes))
        with self._s.write():
            query.delete()

    @_guarded
    def sweep(self, now: float, limit: int) -> int:
        """Remove at most *limit* tokens that expired before *now* (indexed)."""
        return _sweep(self._s.objects("OptinToken"), Q(expires_at__lt=now), limit)


class DjangoLoginStore(_Part):
    """Login records keyed by id."""

    def __init__(self, storage: DjangoStorage) -> None:
        super().__init__(storage)
        logins = storage.models.Login.objects.select_related("account")
        self._with_account = {
            False: _Compiled(lambda key: logins.filter(login_id=key)[:1]),
            True: _Compiled(
                lambda key: logins.select_for_update(of=("account",)).filter(login_id=key)[:1]
            ),
        }

    @_guarded
    def add_login(self, record: LoginRecord) -> None:
        """Store a new login."""
        with self._s.write():
            self._s.objects("Login").create(**_row(record))

    @_guarded
    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""
        row = self._s.objects("Login").filter(login_id=login_id).first()
        return None if row is None else _record(LoginRecord, row)

    @_guarded
    def get_login_account(
        self, login_id: str, *, for_update: bool = False
    ) -> tuple[LoginRecord, Account] | None:
        """The login and its account in one joined read (the account row locked when
        *for_update*)."""
        with self._s.reading(for_update):
            row = self._with_account[for_update].row(self._s.using, login_id)
        if row is None:
            return None
        models = self._s.models
        return _from_values(LoginRecord, row[models.Login]), _from_values(
            Account, row[models.Account]
        )

    @_guarded
    def touch_login(self, login_id: str, now: float) -> None:
        """Record a use of the login at *now*."""
        query = self._s.objects("Login").filter(login_id=login_id, last_seen__lt=now)
        query.update(last_seen=now)  # one statement: committed by itself

    @_guarded
    def renew_proof(self, login_id: str, now: float, method: str) -> bool:
        """Record a new proof of the login at *now* by *method*."""
        query = self._s.objects("Login").filter(login_id=login_id)
        with self._s.write():
            return bool(query.update(proven_at=now, proven_by=method) == 1)

    @_guarded
    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins, oldest first."""
        rows = self._s.objects("Login").filter(account_id=account_id).order_by("seq")
        return [_record(LoginRecord, row) for row in rows]

    @_guarded
    def end_login(self, login_id: str) -> bool:
        """Remove one login."""
        with self._s.write():
            deleted, _ = self._s.objects("Login").filter(login_id=login_id).delete()
        return bool(deleted == 1)

    @_guarded
    def end_logins(self, account_id: str, *, keep: str | None = None) -> int:
        """Remove the account's logins except *keep*."""
        query = self._s.objects("Login").filter(account_id=account_id)
        if keep is not None:
            query = query.exclude(login_id=keep)
        with self._s.write():
            deleted, _ = query.delete()
        return int(deleted)

    @_guarded
    def sweep(self, seen_before: float, created_before: float, limit: int) -> int:
        """Remove at most *limit* expired logins (indexed)."""
        expired = Q(last_seen__lt=seen_before) | Q(created_at__lt=created_before)
        return _sweep(self._s.objects("Login"), expired, limit)


class DjangoPasskeyStore(_Part):
    """Passkeys keyed by credential id (unique across accounts), listed per account."""

    def _owned(self, account_id: str, credential_id: str) -> Any:
        return self._s.objects("Passkey").filter(account_id=account_id, credential_id=credential_id)

    @_guarded
    def add_passkey(self, passkey: Passkey) -> bool:
        """Store a new passkey unless its credential id is taken (a unique constraint)."""
        try:
            with self._s.attempt():
                self._s.objects("Passkey").create(**_passkey_row(passkey))
        except IntegrityError:
            return False
        return True

    @_guarded
    def get_passkey(self, credential_id: str) -> Passkey | None:
        """The passkey with *credential_id*."""
        row = self._s.objects("Passkey").filter(credential_id=credential_id).first()
        return None if row is None else _record(Passkey, row)

    @_guarded
    def list_passkeys(self, account_id: str) -> Sequence[Passkey]:
        """The account's passkeys, oldest first."""
        rows = self._s.objects("Passkey").filter(account_id=account_id).order_by("seq")
        return [_record(Passkey, row) for row in rows]

    @_guarded
    def use_passkey(
        self, credential_id: str, sign_count: int, now: float, backup_state: bool
    ) -> bool:
        """Record a use if the counter went forward: one conditional UPDATE (the rule of
        :func:`~wsactions.backends.rules.sign_count_advances` as its WHERE), so of two uses
        with the same counter one changes the row and the other finds it changed."""
        forward = Q(sign_count__lt=sign_count)
        if sign_count == 0:
            forward |= Q(sign_count=0)  # 0 after 0: an authenticator without a counter
        query = self._s.objects("Passkey").filter(forward, credential_id=credential_id)
        with self._s.write():
            changed = query.update(sign_count=sign_count, last_used=now, backup_state=backup_state)
        return bool(changed == 1)

    @_guarded
    def rename_passkey(self, account_id: str, credential_id: str, name: str) -> bool:
        """Rename the account's passkey."""
        with self._s.write():
            return bool(self._owned(account_id, credential_id).update(name=name) == 1)

    @_guarded
    def delete_passkey(self, account_id: str, credential_id: str) -> bool:
        """Remove the account's passkey."""
        with self._s.write():
            deleted, _ = self._owned(account_id, credential_id).delete()
        return bool(deleted == 1)


def _sweep(objects: Any, expired: Q, limit: int) -> int:
    """Delete at most *limit* rows that are *expired*: one bounded statement."""
    doomed = objects.filter(expired).values("pk")[:limit]
    deleted, _ = objects.filter(pk__in=doomed).delete()
    return int(deleted)


class DjangoCounterStore(_Part):
    """Sliding-window counters: one row per key with at most *limit* event times.

    Every hit is one upsert, committed by itself (the engine never hits counters
    inside a unit of work: :mod:`wsactions.backends.statements`). Every
    :data:`~wsactions.backends.rules.COUNTER_SWEEP_EVERY` hits an indexed sweep
    deletes at most :data:`~wsactions.backends.rules.COUNTER_SWEEP_BATCH`
    expired rows.
    """

    def __init__(self, storage: DjangoStorage) -> None:
        super().__init__(storage)
        self._hits = 0
        self._sql: str | None = None

    @_guarded
    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event unless *limit* lie within *window*; the count including it
        (one upsert: :mod:`wsactions.backends.statements`)."""
        connection = connections[self._s.using]
        statement = self._statement(connection)
        with connection.cursor() as cursor:  # one statement: committed by itself
            cursor.execute(statement, statements.hit_params(key, now, window, limit))
            events, refused = cursor.fetchone()
        self._hits += 1
        if self._hits % rules.COUNTER_SWEEP_EVERY == 0:
            with self._s.write():
                _sweep(self._s.objects("Counter"), Q(expires_at__lt=now), rules.COUNTER_SWEEP_BATCH)
        return statements.hit_result(events, refused, limit)

    def _statement(self, connection: Any) -> str:
        if self._sql is None:
            table = connection.ops.quote_name(self._s.models.Counter._meta.db_table)
            self._sql = statements.hit_statement(
                connection.vendor,
                table,
                placeholder=lambda name: f"%({name})s",
                jsonb=connection.vendor == "postgresql",
            )
        return self._sql

    @_guarded
    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        events = self._s.objects("Counter").filter(key=key).values_list("events", flat=True)
        found = events.first()
        return 0 if found is None else rules.counted(found, now, window)

    @_guarded
    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._s.write():
            self._s.objects("Counter").filter(key=key).delete()
