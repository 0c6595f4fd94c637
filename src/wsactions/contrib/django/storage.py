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

Threads get a connection each (Django's rule): a thread of your own that
used the storage closes it with ``django.db.connections.close_all()`` when
it is done. A database that cannot be reached, or does not answer in time,
raises :class:`~wsactions.errors.StorageUnavailableError` (answer it
with 503): the unit of work is rolled back and nothing of the action kept.
"""

from __future__ import annotations

import functools
import threading
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

from ...backends import is_conflict
from ...errors import StorageConflictError, StorageUnavailableError
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

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["DjangoStorage", "StorageUnavailableError", "database_problem"]

P = ParamSpec("P")
R = TypeVar("R")

_ACCOUNT_IDENTITY = frozenset({"id", "email", "email_key"})
_ACCOUNT_FIELDS = frozenset(f.name for f in attrs.fields(Account)) - _ACCOUNT_IDENTITY
_ADDRESS_FIELDS = frozenset({"type", "fields", "visibility"})
_GROUP_FIELDS = frozenset({"name", "type", "privileges"})
_ROLES = ("main_address_id", "default_bill_address_id", "default_delivery_address_id")
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


def _checked(changes: Mapping[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"{what} cannot set {sorted(unknown)}; allowed: {sorted(allowed)}")
    return dict(changes)


# records <-> rows (the one place that knows both) ------------------------------------------

_ACCOUNT_COPIED = tuple(sorted(_ACCOUNT_FIELDS | {"email", "email_key"}))


def _account_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Model field values for account fields named as in :class:`Account` (``id`` aside)."""
    values = dict(changes)
    if "customer_data" in values:
        values["customer_data"] = dict(values["customer_data"])
    if values.get("allowed_subshops") is not None:
        values["allowed_subshops"] = sorted(values["allowed_subshops"])
    return values


def _account_row(account: Account) -> dict[str, Any]:
    values = {name: getattr(account, name) for name in _ACCOUNT_COPIED}
    return {"account_id": account.id, **_account_values(values)}


def _account(row: Any) -> Account:
    values = {name: getattr(row, name) for name in _ACCOUNT_COPIED}
    return Account(id=row.account_id, **values)


def _address_row(address: Address) -> dict[str, Any]:
    return {
        "address_id": address.id,
        "account_id": address.account_id,
        "type": address.type,
        "fields": dict(address.fields),
        "visibility": address.visibility,
        "created_at": address.created_at,
    }


def _address(row: Any) -> Address:
    return Address(
        id=row.address_id,
        account_id=row.account_id,
        type=row.type,
        fields=row.fields,
        visibility=row.visibility,
        created_at=row.created_at,
    )


_CARD_COPIED = ("account_id", "brand", "last4", "expiry", "holder", "pseudo_card_id")


def _card_row(card: SavedCard) -> dict[str, Any]:
    return {"card_id": card.id, **{name: getattr(card, name) for name in _CARD_COPIED}}


def _card(row: Any) -> SavedCard:
    return SavedCard(id=row.card_id, **{name: getattr(row, name) for name in _CARD_COPIED})


def _privileges_json(privileges: Privileges) -> dict[str, Any]:
    """The JSON of :class:`Privileges` (the SQL backend's format: amounts as exact text)."""

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
        allowed_payment_methods=data.get("allowed_payment_methods"),
        payment_limit_per_order=amount(data.get("payment_limit_per_order")),
        payment_limit=amount(data.get("payment_limit")),
        blocked_templates=tuple(data.get("blocked_templates") or ()),
        blocked_urls=tuple(data.get("blocked_urls") or ()),
        editable_fields=data.get("editable_fields"),
        group_name=data.get("group_name"),
    )


def _group_row(group: PrivilegeGroup) -> dict[str, Any]:
    return {
        "group_id": group.id,
        "company_id": group.company_id,
        "name": group.name,
        "type": group.type,
        "privileges": _privileges_json(group.privileges),
        "budget_since": group.budget_since,
        "spent": str(group.spent),
    }


def _group(row: Any) -> PrivilegeGroup:
    return PrivilegeGroup(
        id=row.group_id,
        company_id=row.company_id,
        name=row.name,
        type=row.type,
        privileges=_privileges(row.privileges),
        budget_since=row.budget_since,
        spent=Decimal(row.spent),
    )


_TOKEN_COPIED = tuple(f.name for f in attrs.fields(TokenRecord))


def _token(row: Any) -> TokenRecord:
    return TokenRecord(**{name: getattr(row, name) for name in _TOKEN_COPIED})


def _login_row(record: LoginRecord) -> dict[str, Any]:
    return {
        "login_id": record.id,
        "account_id": record.account_id,
        "created_at": record.created_at,
        "last_seen": record.last_seen,
        "client_address": record.client_address,
    }


def _login(row: Any) -> LoginRecord:
    return LoginRecord(
        id=row.login_id,
        account_id=row.account_id,
        created_at=row.created_at,
        last_seen=row.last_seen,
        client_address=row.client_address,
    )


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


class _Local(threading.local):
    depth: int = 0


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
        self._local = _Local()
        self._accounts = DjangoAccountStore(self)
        self._tokens = DjangoTokenStore(self)
        self._logins = DjangoLoginStore(self)
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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One unit of work (``atomic``); nested blocks join the outermost one."""
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        local.depth = 1
        try:
            with self._unavailable(), db_transaction.atomic(using=self.using):
                yield
        finally:
            local.depth = 0

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
        found: dict[str, Any] = {
            "accounts": {a.id: a for a in map(_account, self.objects("Account").order_by("seq"))},
            "addresses": {},
            "cards": {},
            "groups": {},
            "tokens": {t.token_hash: t for t in map(_token, self.objects("OptinToken").all())},
            "logins": {
                login.id: attrs.evolve(login, last_seen=0.0)
                for login in map(_login, self.objects("Login").order_by("seq"))
            },
        }
        for address in map(_address, self.objects("Address").order_by("seq")):
            found["addresses"].setdefault(address.account_id, {})[address.id] = address
        for card in map(_card, self.objects("SavedCard").order_by("seq")):
            found["cards"].setdefault(card.account_id, {})[card.id] = card
        for group in map(_group, self.objects("PrivilegeGroup").order_by("seq")):
            found["groups"].setdefault(group.company_id, {})[group.id] = group
        return found

    def __repr__(self) -> str:
        return f"DjangoStorage(using={self.using!r})"


class _Part:
    def __init__(self, storage: DjangoStorage) -> None:
        self._s = storage


class DjangoAccountStore(_Part):
    """Accounts, addresses, saved cards and privilege groups in the ``wsactions_*`` tables."""

    # accounts --------------------------------------------------------------
    @_guarded
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key (or id) is taken (a unique constraint)."""
        try:
            with self._s.attempt():
                self._s.objects("Account").create(**_account_row(account))
        except IntegrityError:
            return False
        return True

    def _one_account(self, where: Q, for_update: bool) -> Account | None:
        query = self._s.objects("Account").filter(where)
        with self._s.reading(for_update):
            row = (query.select_for_update() if for_update else query).first()
        return None if row is None else _account(row)

    @_guarded
    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id*."""
        return self._one_account(Q(account_id=account_id), for_update)

    @_guarded
    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""
        return self._one_account(Q(email_key=email_key), for_update)

    @_guarded
    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone."""
        values = _account_values(_checked(changes, _ACCOUNT_FIELDS, "update_account"))
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
        values = _account_values(_checked(changes, _ACCOUNT_FIELDS, "change_email"))
        accounts = self._s.objects("Account").filter(account_id=account_id)
        try:
            with self._s.attempt():
                changed = accounts.update(email=email, email_key=email_key, **values)
        except IntegrityError:
            return False  # another account holds the key (the unique constraint said so)
        return bool(changed == 1)

    def _remove(self, account_ids: Sequence[str]) -> None:
        """Delete the accounts; their addresses, cards and logins follow (CASCADE)."""
        self._s.objects("OptinToken").filter(account_id__in=account_ids).delete()
        self._s.objects("Account").filter(account_id__in=account_ids).delete()

    @_guarded
    def delete_account(self, account_id: str) -> bool:
        """Remove the account with its addresses, cards, tokens and logins (the account row
        is locked first, so a unit of work that locked it finishes before)."""
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
        return [_account(row) for row in rows]

    @_guarded
    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Give the members of *group_id* (and the ungrouped ones) a new rights stamp."""
        chosen = Q()
        if group_id is not None:
            chosen |= Q(privilege_group_id=group_id)
        if ungrouped:
            chosen |= Q(privilege_group_id__isnull=True)
        if not chosen:
            return 0
        members = self._s.objects("Account").filter(chosen, company_id=company_id)
        with self._s.write():
            return int(members.update(rights_stamp=rights_stamp))

    # addresses ---------------------------------------------------------------
    @_guarded
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        with self._s.write():
            self._s.objects("Address").create(**_address_row(address))

    @_guarded
    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address if it belongs to *account_id*."""
        query = self._s.objects("Address").filter(account_id=account_id, address_id=address_id)
        with self._s.reading(for_update):
            row = (query.select_for_update() if for_update else query).first()
        return None if row is None else _address(row)

    @_guarded
    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        rows = self._s.objects("Address").filter(account_id=account_id).order_by("seq")
        return [_address(row) for row in rows]

    @_guarded
    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""
        return int(self._s.objects("Address").filter(account_id=account_id).count())

    @_guarded
    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of an address of *account_id*; ``False`` when it is gone."""
        values = _checked(changes, _ADDRESS_FIELDS, "update_address")
        if "fields" in values:
            values["fields"] = dict(values["fields"])
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
                for role in _ROLES
            }
            pointing = Q()
            for role in _ROLES:
                pointing |= Q(**{role: address_id})
            self._s.objects("Account").filter(pointing, account_id=account_id).update(**cleared)
            return True

    # saved cards -------------------------------------------------------------
    @_guarded
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        refuse_card_data(card)
        with self._s.write():
            self._s.objects("SavedCard").create(**_card_row(card))

    @_guarded
    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, oldest first."""
        rows = self._s.objects("SavedCard").filter(account_id=account_id).order_by("seq")
        return [_card(row) for row in rows]

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

    def _lock_groups(self, company_id: str) -> None:
        """Lock every group row of the company, in creation order (one default group per
        company: promotions queue)."""
        locked = self._groups(company_id).select_for_update().order_by("seq")
        list(locked.values_list("seq", flat=True))

    def _demote(self, company_id: str, group_id: str | None) -> None:
        """Make the company's global group (*group_id* aside) an account group."""
        former = self._groups(company_id).filter(type="global")
        if group_id is not None:
            former = former.exclude(group_id=group_id)
        former.update(type="account")

    @_guarded
    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has one of that id."""
        try:
            with self._s.attempt():
                if group.type == "global":
                    self._lock_groups(group.company_id)
                    self._demote(group.company_id, None)
                self._s.objects("PrivilegeGroup").create(**_group_row(group))
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
        return None if row is None else _group(row)

    @_guarded
    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        return [_group(row) for row in self._groups(company_id).order_by("seq")]

    @_guarded
    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set name, type or privileges; a new ``global`` group demotes the former one."""
        values = _checked(changes, _GROUP_FIELDS, "update_group")
        if "privileges" in values:
            values["privileges"] = _privileges_json(values["privileges"])
        query = self._groups(company_id).filter(group_id=group_id)
        if not values:
            return bool(query.exists())
        with self._s.write():
            if values.get("type") == "global":
                self._lock_groups(company_id)
                if not query.exists():
                    return False
                self._demote(company_id, group_id)
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
            members = self._s.objects("Account").filter(
                company_id=company_id, privilege_group_id=group_id
            )
            if members.exists():
                return GroupDeletion.IN_USE
            self._s.objects("PrivilegeGroup").filter(seq=seq).delete()
            return GroupDeletion.DELETED

    @_guarded
    def charge_group(self, company_id: str, group_id: str, amount: Decimal) -> bool:
        """Add *amount* to the spending unless the stored limits refuse it."""
        return self._change_spent(company_id, group_id, lambda g: g.charged(amount))

    @_guarded
    def refund_group(
        self, company_id: str, group_id: str, amount: Decimal, charged_at: float
    ) -> bool:
        """Give *amount* back if it was charged in the current period (never below zero)."""
        return self._change_spent(company_id, group_id, lambda g: g.refunded(amount, charged_at))

    def _change_spent(
        self, company_id: str, group_id: str, step: Callable[[PrivilegeGroup], Decimal | None]
    ) -> bool:
        """Lock the group row, compute the new spending from it, write it: one step."""
        with self._s.write():
            row = self._groups(company_id).select_for_update().filter(group_id=group_id).first()
            if row is None:
                return False
            spent = step(_group(row))
            if spent is None:
                return False
            self._s.objects("PrivilegeGroup").filter(seq=row.seq).update(spent=str(spent))
            return True


class DjangoTokenStore(_Part):
    """Opt-in token records keyed by token hash; one per account and purpose."""

    _ATTEMPTS = 3

    @_guarded
    def add(self, record: TokenRecord) -> None:
        """Store *record*; the account's older token of the same purpose is revoked.

        Two concurrent adds for one account and purpose: the later insert meets the
        unique constraint, revokes the token just committed and stores its own.
        """
        tokens = self._s.objects("OptinToken")
        for attempt in range(self._ATTEMPTS):
            try:
                with self._s.attempt():
                    tokens.filter(account_id=record.account_id, purpose=record.purpose).delete()
                    tokens.create(**attrs.asdict(record))
                return
            except IntegrityError:
                if attempt + 1 == self._ATTEMPTS:
                    raise

    @_guarded
    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        row = self._s.objects("OptinToken").filter(token_hash=token_hash).first()
        return None if row is None else _token(row)

    @_guarded
    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it (locked, then deleted)."""
        query = self._s.objects("OptinToken").filter(token_hash=token_hash)
        with self._s.write():
            row = query.select_for_update().first()
            if row is None:
                return None
            deleted, _ = query.delete()
            return _token(row) if deleted == 1 else None

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

    @_guarded
    def add_login(self, record: LoginRecord) -> None:
        """Store a new login."""
        with self._s.write():
            self._s.objects("Login").create(**_login_row(record))

    @_guarded
    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""
        row = self._s.objects("Login").filter(login_id=login_id).first()
        return None if row is None else _login(row)

    @_guarded
    def touch_login(self, login_id: str, now: float) -> None:
        """Record a use of the login at *now*."""
        query = self._s.objects("Login").filter(login_id=login_id, last_seen__lt=now)
        with self._s.write():
            query.update(last_seen=now)

    @_guarded
    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins, oldest first."""
        rows = self._s.objects("Login").filter(account_id=account_id).order_by("seq")
        return [_login(row) for row in rows]

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


def _sweep(objects: Any, expired: Q, limit: int) -> int:
    """Delete at most *limit* rows that are *expired*: one bounded statement."""
    doomed = objects.filter(expired).values("pk")[:limit]
    deleted, _ = objects.filter(pk__in=doomed).delete()
    return int(deleted)


class DjangoCounterStore(_Part):
    """Sliding-window counters: one row per key with at most *limit* event times.

    Every hit is a transaction of its own (the engine never hits counters
    inside a unit of work): the row is created if missing, locked, then
    rewritten. Every 256 hits an indexed sweep deletes at most 1,024 expired rows.
    """

    _SWEEP_EVERY = 256
    _SWEEP_BATCH = 1024

    def __init__(self, storage: DjangoStorage) -> None:
        super().__init__(storage)
        self._hits = 0

    @_guarded
    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event unless *limit* lie within *window*; the count including it."""
        counters = self._s.objects("Counter")
        with self._s.write():
            fresh = self._s.models.Counter(key=key, events=[], expires_at=now)
            counters.bulk_create([fresh], ignore_conflicts=True)
            row = counters.select_for_update().get(key=key)
            events = [t for t in row.events if t > now - window]
            if len(events) >= limit:
                count = limit + 1
            else:
                events.append(now)
                count = len(events)
            expires_at = max(events, default=now) + window
            counters.filter(key=key).update(events=events, expires_at=expires_at)
            self._hits += 1
            if self._hits % self._SWEEP_EVERY == 0:
                _sweep(counters, Q(expires_at__lt=now), self._SWEEP_BATCH)
            return count

    @_guarded
    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        events = self._s.objects("Counter").filter(key=key).values_list("events", flat=True)
        found = events.first()
        return 0 if found is None else sum(1 for t in found if t > now - window)

    @_guarded
    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._s.write():
            self._s.objects("Counter").filter(key=key).delete()
