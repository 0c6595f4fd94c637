"""In-memory storage with the same guarantees a database backend gives.

One re-entrant lock guards all data of a :class:`MemoryStorage`. A unit of
work holds it for its whole duration and journals every write, so it is
atomic and isolated (serializable, in fact: every read is a locking read);
a block that raises is rolled back from the journal. Calls outside a unit
of work are atomic one by one. The engine keeps hashing, scoring and mail
delivery out of units of work, so the lock is held for microseconds.

Every operation costs the same whatever the size of the store: tokens are
indexed by account and purpose, members by company, logins by account.
Thread-safe; not shared between processes. What a step checks and picks
comes from :mod:`wsactions.backends.rules`; this module keeps the data.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Collection, Mapping, MutableMapping, Sequence
from decimal import Decimal
from operator import attrgetter, itemgetter
from types import MemberDescriptorType
from typing import Any, TypeVar

import attrs

from ..models import (
    Account,
    Address,
    GroupDeletion,
    LoginRecord,
    Passkey,
    PrivilegeGroup,
    SavedCard,
    TokenRecord,
)
from . import rules

_MISSING: Any = object()

_T = TypeVar("_T")
_new = object.__new__
# (all fields at once, each slot's setter, field name -> (position, converter))
_Plan = tuple[Callable[[Any], tuple[Any, ...]], tuple[Any, ...], dict[str, tuple[int, Any]]]
_COPY_PLANS: dict[type, _Plan | None] = {}


def _copy_plan(cls: type) -> _Plan | None:
    """How :func:`_evolve` copies *cls*; ``None`` for a class whose fields are not all
    plain slots with at most a converter."""
    if cls in _COPY_PLANS:
        return _COPY_PLANS[cls]
    plan: _Plan | None = None
    fields = attrs.fields(cls)
    slots: list[Any] = [getattr(cls, f.name, None) for f in fields]
    if (
        len(fields) > 1
        and all(isinstance(slot, MemberDescriptorType) for slot in slots)
        and all(f.init and f.validator is None and callable(f.converter or len) for f in fields)
        and not hasattr(cls, "__attrs_post_init__")
    ):
        plan = (
            attrgetter(*(f.name for f in fields)),
            tuple(slot.__set__ for slot in slots),
            {f.name: (index, f.converter) for index, f in enumerate(fields)},
        )
    _COPY_PLANS[cls] = plan
    return plan


def _evolve(record: _T, **changes: Any) -> _T:
    """``attrs.evolve`` for the stored records (frozen, slotted, converters only): the
    slots are copied directly and converters run for the changed fields; under half
    the cost of ``attrs.evolve``, which runs ``__init__`` with every field again."""
    plan = _copy_plan(type(record))
    if plan is None:  # pragma: no cover - a host's own record subclass
        return attrs.evolve(record, **changes)  # type: ignore[misc]
    get_all, setters, positions = plan
    values = list(get_all(record))
    for name, value in changes.items():
        index, convert = positions[name]
        values[index] = value if convert is None else convert(value)
    new = _new(type(record))
    for put, value in zip(setters, values, strict=True):
        put(new, value)
    return new


class _Journal:
    """Undo log of one unit of work.

    A key put back after a removal would land at the end of its dict, so the
    order of every per-owner dict a removal touched is remembered (once per
    unit of work) and restored: lists keep their creation order.
    """

    __slots__ = ("entries", "orders")

    def __init__(self) -> None:
        self.entries: list[tuple[MutableMapping[Any, Any], Any, Any]] = []
        self.orders: dict[int, tuple[MutableMapping[Any, Any], list[Any]]] = {}

    def remember_order(self, container: MutableMapping[Any, Any]) -> None:
        if id(container) not in self.orders:
            self.orders[id(container)] = (container, list(container))

    def undo(self) -> None:
        for container, key, old in reversed(self.entries):
            if old is _MISSING:
                container.pop(key, None)
            else:
                container[key] = old
        for container, order in self.orders.values():
            items = {key: container[key] for key in order if key in container}
            items.update(container)
            container.clear()
            container.update(items)


class _Tables:
    """The data and the lock; every write goes through :meth:`put` / :meth:`drop`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.journal: _Journal | None = None
        self.depth = 0
        self.accounts: dict[str, Account] = {}
        self.emails: dict[str, str] = {}
        self.created: dict[str, int] = {}  # account -> creation sequence number
        self.sequence = itertools.count()
        self.members: dict[str, dict[str, int]] = {}  # company -> account -> creation number
        self.addresses: dict[str, dict[str, Address]] = {}
        self.cards: dict[str, dict[str, SavedCard]] = {}
        self.groups: dict[str, dict[str, PrivilegeGroup]] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.token_owners: dict[str, dict[str, str]] = {}  # account -> purpose -> hash
        self.logins: dict[str, LoginRecord] = {}
        self.login_owners: dict[str, dict[str, None]] = {}  # account -> login ids, in order
        self.passkeys: dict[str, Passkey] = {}
        self.passkey_owners: dict[str, dict[str, None]] = {}  # account -> credential ids
        # tables whose own order nobody sees (the per-owner dicts inside them are ordered)
        self.unordered = frozenset(
            id(table)
            for table in (
                self.accounts,
                self.emails,
                self.created,
                self.members,
                self.addresses,
                self.cards,
                self.groups,
                self.tokens,
                self.token_owners,
                self.logins,
                self.login_owners,
                self.passkeys,
                self.passkey_owners,
            )
        )

    def put(self, container: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        if self.journal is not None:
            self.journal.entries.append((container, key, container.get(key, _MISSING)))
        container[key] = value

    def drop(self, container: MutableMapping[Any, Any], key: Any) -> None:
        if key not in container:
            return
        if self.journal is not None:
            if id(container) not in self.unordered:
                self.journal.remember_order(container)
            self.journal.entries.append((container, key, container[key]))
        del container[key]

    def bucket(self, table: dict[str, dict[str, Any]], owner: str) -> dict[str, Any]:
        inner = table.get(owner)
        if inner is None:
            inner = {}
            self.put(table, owner, inner)
        return inner

    # cross-table steps, called with the lock held ------------------------------------
    def drop_token(self, token_hash: str) -> TokenRecord | None:
        record = self.tokens.get(token_hash)
        if record is None:
            return None
        self.drop(self.tokens, token_hash)
        owned = self.token_owners.get(record.account_id, {})
        if owned.get(record.purpose) == token_hash:
            self.drop(owned, record.purpose)
        return record

    def drop_login(self, login_id: str) -> bool:
        record = self.logins.get(login_id)
        if record is None:
            return False
        self.drop(self.logins, login_id)
        self.drop(self.login_owners.get(record.account_id, {}), login_id)
        return True

    def drop_account(self, account_id: str) -> bool:
        old = self.accounts.get(account_id)
        if old is None:
            return False
        self.drop(self.accounts, account_id)
        self.drop(self.emails, old.email_key)
        self.drop(self.created, account_id)
        if old.company_id is not None:
            self.drop(self.members.get(old.company_id, {}), account_id)
        self.drop(self.addresses, account_id)
        self.drop(self.cards, account_id)
        for token_hash in list(self.token_owners.get(account_id, {}).values()):
            self.drop_token(token_hash)
        for login_id in list(self.login_owners.get(account_id, {})):
            self.drop_login(login_id)
        for credential_id in list(self.passkey_owners.get(account_id, {})):
            self.drop(self.passkeys, credential_id)
        self.drop(self.passkey_owners, account_id)
        return True


class MemoryAccountStore:
    """Accounts, addresses, saved cards and privilege groups in memory."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    # accounts --------------------------------------------------------------
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key (or id) is taken (atomic)."""
        t = self._t
        with t.lock:
            if account.email_key in t.emails or account.id in t.accounts:
                return False
            number = next(t.sequence)
            t.put(t.accounts, account.id, account)
            t.put(t.emails, account.email_key, account.id)
            t.put(t.created, account.id, number)
            if account.company_id is not None:
                t.put(t.bucket(t.members, account.company_id), account.id, number)
            return True

    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id*."""
        with self._t.lock:
            return self._t.accounts.get(account_id)

    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""
        t = self._t
        with t.lock:
            account_id = t.emails.get(email_key)
            return None if account_id is None else t.accounts.get(account_id)

    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone."""
        values = rules.account_changes(changes)
        t = self._t
        with t.lock:
            old = t.accounts.get(account_id)
            if old is None:
                return False
            self._replace(old, _evolve(old, **values))
            return True

    def change_email(
        self, account_id: str, email: str, email_key: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move the account to a new address unless it is taken; ``False`` otherwise."""
        values = rules.account_changes(changes, "change_email")
        t = self._t
        with t.lock:
            old = t.accounts.get(account_id)
            owner = t.emails.get(email_key)
            if old is None or owner not in (None, account_id):
                return False
            t.drop(t.emails, old.email_key)
            t.put(t.emails, email_key, account_id)
            self._replace(old, _evolve(old, email=email, email_key=email_key, **values))
            return True

    def _replace(self, old: Account, new: Account) -> None:
        t = self._t
        if old.company_id != new.company_id:
            if old.company_id is not None:
                t.drop(t.members.get(old.company_id, {}), old.id)
            if new.company_id is not None:
                t.put(t.bucket(t.members, new.company_id), new.id, t.created[new.id])
        t.put(t.accounts, new.id, new)

    def delete_account(self, account_id: str) -> bool:
        """Remove the account with its addresses, cards, tokens and logins."""
        t = self._t
        with t.lock:
            return t.drop_account(account_id)

    def delete_company(self, company_id: str) -> Sequence[str]:
        """Remove every member and every group of the company; the removed account ids."""
        t = self._t
        with t.lock:
            removed = list(t.members.get(company_id, {}))
            for account_id in removed:
                t.drop_account(account_id)
            t.drop(t.members, company_id)
            t.drop(t.groups, company_id)
            return removed

    def list_members(self, company_id: str, *, for_update: bool = False) -> Sequence[Account]:
        """Every account of the company, oldest first (also those that joined later)."""
        t = self._t
        with t.lock:
            members = sorted(t.members.get(company_id, {}).items(), key=itemgetter(1))
            return [t.accounts[i] for i, _ in members]

    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Give the members of *group_id* (and the ungrouped ones) a new rights stamp."""
        renewed = rules.renewed_members(company_id, group_id, ungrouped=ungrouped)
        t = self._t
        with t.lock:
            members = [t.accounts[account_id] for account_id in t.members.get(company_id, {})]
            chosen = list(filter(renewed, members))
            for member in chosen:
                t.put(t.accounts, member.id, _evolve(member, rights_stamp=rights_stamp))
            return len(chosen)

    # addresses ---------------------------------------------------------------
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        t = self._t
        with t.lock:
            t.put(t.bucket(t.addresses, address.account_id), address.id, address)

    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address if it belongs to *account_id*."""
        with self._t.lock:
            return self._t.addresses.get(account_id, {}).get(address_id)

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        with self._t.lock:
            return list(self._t.addresses.get(account_id, {}).values())

    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""
        with self._t.lock:
            return len(self._t.addresses.get(account_id, {}))

    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of an address of *account_id*; ``False`` when it is gone."""
        values = rules.address_changes(changes)
        t = self._t
        with t.lock:
            book = t.addresses.get(account_id, {})
            old = book.get(address_id)
            if old is None:
                return False
            t.put(book, address_id, _evolve(old, **values))
            return True

    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address and clear the roles that pointed to it."""
        t = self._t
        with t.lock:
            book = t.addresses.get(account_id, {})
            if address_id not in book:
                return False
            t.drop(book, address_id)
            account = t.accounts.get(account_id)
            if account is not None and (cleared := rules.cleared_roles(account, address_id)):
                t.put(t.accounts, account_id, _evolve(account, **cleared))
            return True

    # saved cards -------------------------------------------------------------
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        rules.refuse_card_data(card)
        t = self._t
        with t.lock:
            t.put(t.bucket(t.cards, card.account_id), card.id, card)

    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, oldest first."""
        with self._t.lock:
            return list(self._t.cards.get(account_id, {}).values())

    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*."""
        t = self._t
        with t.lock:
            wallet = t.cards.get(account_id, {})
            if card_id not in wallet:
                return False
            t.drop(wallet, card_id)
            return True

    # privilege groups ----------------------------------------------------------
    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has one of that id."""
        t = self._t
        with t.lock:
            groups = t.bucket(t.groups, group.company_id)
            if group.id in groups:
                return False
            self._demote(groups, rules.former_global(group.company_id, group.id, group.type))
            t.put(groups, group.id, group)
            return True

    def get_group(
        self, company_id: str, group_id: str, *, for_update: bool = False
    ) -> PrivilegeGroup | None:
        """The group if it belongs to *company_id*."""
        with self._t.lock:
            return self._t.groups.get(company_id, {}).get(group_id)

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        with self._t.lock:
            return list(self._t.groups.get(company_id, {}).values())

    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set name, type or privileges; a new ``global`` group demotes the former one."""
        values = rules.group_changes(changes)
        t = self._t
        with t.lock:
            groups = t.groups.get(company_id, {})
            old = groups.get(group_id)
            if old is None:
                return False
            self._demote(groups, rules.former_global(company_id, group_id, values.get("type")))
            t.put(groups, group_id, _evolve(old, **values))
            return True

    def _demote(self, groups: dict[str, PrivilegeGroup], former: rules.Match | None) -> None:
        if former is not None:
            for other in list(filter(former, groups.values())):
                self._t.put(groups, other.id, _evolve(other, **rules.DEMOTED))

    def restart_budget(self, company_id: str, group_id: str, since: float) -> bool:
        """Start a new budget period at *since* with nothing spent."""
        return self._change_budget(
            company_id, group_id, lambda g: _evolve(g, spent=Decimal(0), budget_since=since)
        )

    def delete_group(self, company_id: str, group_id: str) -> GroupDeletion:
        """Remove the group unless a member is assigned to it."""
        t = self._t
        with t.lock:
            groups = t.groups.get(company_id, {})
            if group_id not in groups:
                return GroupDeletion.MISSING
            assigned = rules.assigned_members(company_id, group_id)
            if any(assigned(t.accounts[i]) for i in t.members.get(company_id, {})):
                return GroupDeletion.IN_USE
            t.drop(groups, group_id)
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
        return self._change_budget(
            company_id, group_id, lambda g: _spent(g, g.charged(amount, period_start))
        )

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
        return self._change_budget(
            company_id, group_id, lambda g: _spent(g, g.refunded(amount, charged_at, period_start))
        )

    def _change_budget(
        self,
        company_id: str,
        group_id: str,
        step: Callable[[PrivilegeGroup], PrivilegeGroup | None],
    ) -> bool:
        t = self._t
        with t.lock:
            groups = t.groups.get(company_id, {})
            group = groups.get(group_id)
            if group is None:
                return False
            changed = step(group)
            if changed is None:
                return False
            t.put(groups, group_id, changed)
            return True


def _spent(group: PrivilegeGroup, state: tuple[Decimal, float] | None) -> PrivilegeGroup | None:
    return None if state is None else _evolve(group, spent=state[0], budget_since=state[1])


class MemoryTokenStore:
    """Opt-in token records keyed by token hash, indexed by account and purpose."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add(self, record: TokenRecord) -> None:
        """Store *record*; the account's older token of the same purpose is revoked."""
        superseded = rules.superseded_tokens(record)
        t = self._t
        with t.lock:
            owned = t.bucket(t.token_owners, record.account_id)
            for older in [h for h in owned.values() if superseded(t.tokens[h])]:
                t.drop_token(older)
            t.put(t.tokens, record.token_hash, record)
            t.put(owned, record.purpose, record.token_hash)

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        with self._t.lock:
            return self._t.tokens.get(token_hash)

    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it."""
        with self._t.lock:
            return self._t.drop_token(token_hash)

    def revoke(self, account_id: str, purposes: Collection[str] | None = None) -> None:
        """Remove the account's tokens of *purposes* (all when ``None``)."""
        t = self._t
        with t.lock:
            owned = t.token_owners.get(account_id, {})
            for purpose, token_hash in list(owned.items()):
                if purposes is None or purpose in purposes:
                    t.drop_token(token_hash)

    def sweep(self, now: float, limit: int) -> int:
        """Remove at most *limit* expired tokens, looking at the oldest ``4 * limit`` only
        (insertion order is creation order: expired tokens gather at the front)."""
        t = self._t
        with t.lock:
            oldest = itertools.islice(t.tokens.values(), 4 * limit)
            doomed = [r.token_hash for r in oldest if r.expires_at < now][:limit]
            for token_hash in doomed:
                t.drop_token(token_hash)
            return len(doomed)


class MemoryLoginStore:
    """Login records keyed by id, indexed by account."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add_login(self, record: LoginRecord) -> None:
        """Store a new login."""
        t = self._t
        with t.lock:
            t.put(t.logins, record.id, record)
            t.put(t.bucket(t.login_owners, record.account_id), record.id, None)

    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""
        with self._t.lock:
            return self._t.logins.get(login_id)

    def get_login_account(
        self, login_id: str, *, for_update: bool = False
    ) -> tuple[LoginRecord, Account] | None:
        """The login and its account (the unit of work's lock covers both)."""
        t = self._t
        with t.lock:
            login = t.logins.get(login_id)
            account = t.accounts.get(login.account_id) if login is not None else None
            return None if login is None or account is None else (login, account)

    def touch_login(self, login_id: str, now: float) -> None:
        """Record a use of the login at *now*."""
        t = self._t
        with t.lock:
            record = t.logins.get(login_id)
            if record is not None and now > record.last_seen:
                t.put(t.logins, login_id, _evolve(record, last_seen=now))

    def renew_proof(self, login_id: str, now: float, method: str) -> bool:
        """Record a new proof of the login at *now* by *method*."""
        t = self._t
        with t.lock:
            record = t.logins.get(login_id)
            if record is None:
                return False
            t.put(t.logins, login_id, _evolve(record, proven_at=now, proven_by=method))
            return True

    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins, oldest first."""
        t = self._t
        with t.lock:
            return [t.logins[i] for i in t.login_owners.get(account_id, {})]

    def end_login(self, login_id: str) -> bool:
        """Remove one login."""
        with self._t.lock:
            return self._t.drop_login(login_id)

    def end_logins(self, account_id: str, *, keep: str | None = None) -> int:
        """Remove the account's logins except *keep*."""
        t = self._t
        with t.lock:
            doomed = [i for i in t.login_owners.get(account_id, {}) if i != keep]
            for login_id in doomed:
                t.drop_login(login_id)
            return len(doomed)

    def sweep(self, seen_before: float, created_before: float, limit: int) -> int:
        """Remove at most *limit* expired logins, looking at the oldest ``4 * limit`` only
        (insertion order is creation order)."""
        t = self._t
        with t.lock:
            oldest = itertools.islice(t.logins.values(), 4 * limit)
            doomed = [
                r.id for r in oldest if r.last_seen < seen_before or r.created_at < created_before
            ][:limit]
            for login_id in doomed:
                t.drop_login(login_id)
            return len(doomed)


class MemoryPasskeyStore:
    """Passkeys keyed by credential id, indexed by account."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add_passkey(self, passkey: Passkey) -> bool:
        """Store a new passkey unless its credential id is taken."""
        t = self._t
        with t.lock:
            if passkey.id in t.passkeys:
                return False
            t.put(t.passkeys, passkey.id, passkey)
            t.put(t.bucket(t.passkey_owners, passkey.account_id), passkey.id, None)
            return True

    def get_passkey(self, credential_id: str) -> Passkey | None:
        """The passkey with *credential_id*."""
        with self._t.lock:
            return self._t.passkeys.get(credential_id)

    def list_passkeys(self, account_id: str) -> Sequence[Passkey]:
        """The account's passkeys, oldest first."""
        t = self._t
        with t.lock:
            return [t.passkeys[i] for i in t.passkey_owners.get(account_id, {})]

    def use_passkey(
        self, credential_id: str, sign_count: int, now: float, backup_state: bool
    ) -> bool:
        """Record a use if the counter went forward (one step, under the lock)."""
        t = self._t
        with t.lock:
            passkey = t.passkeys.get(credential_id)
            if passkey is None or not rules.sign_count_advances(passkey.sign_count, sign_count):
                return False
            changed = _evolve(
                passkey, sign_count=sign_count, last_used=now, backup_state=backup_state
            )
            t.put(t.passkeys, credential_id, changed)
            return True

    def rename_passkey(self, account_id: str, credential_id: str, name: str) -> bool:
        """Rename the account's passkey."""
        t = self._t
        with t.lock:
            passkey = t.passkeys.get(credential_id)
            if passkey is None or passkey.account_id != account_id:
                return False
            t.put(t.passkeys, credential_id, _evolve(passkey, name=name))
            return True

    def delete_passkey(self, account_id: str, credential_id: str) -> bool:
        """Remove the account's passkey."""
        t = self._t
        with t.lock:
            passkey = t.passkeys.get(credential_id)
            if passkey is None or passkey.account_id != account_id:
                return False
            t.drop(t.passkeys, credential_id)
            t.drop(t.passkey_owners.get(account_id, {}), credential_id)
            return True


class MemoryCounterStore:
    """Sliding-window counters: at most *limit* recent event times per key.

    Keys whose newest event left its window are swept whenever the number
    of keys has doubled since the last sweep (amortised constant cost).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, tuple[tuple[float, ...], float]] = {}  # key -> (times, expiry)
        self._sweep_at = 1024

    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event unless *limit* lie within *window*; the count including it."""
        with self._lock:
            entry = self._events.get(key)
            hit = rules.counter_hit(entry[0] if entry is not None else (), now, window, limit)
            self._events[key] = (hit.events, hit.expires_at)
            if len(self._events) >= self._sweep_at:
                self._sweep(now)
            return hit.count

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        with self._lock:
            entry = self._events.get(key)
            return 0 if entry is None else rules.counted(entry[0], now, window)

    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._lock:
            self._events.pop(key, None)

    def __len__(self) -> int:
        """How many keys are held (expired ones until the next sweep)."""
        return len(self._events)

    def _sweep(self, now: float) -> None:
        self._events = {k: entry for k, entry in self._events.items() if entry[1] >= now}
        self._sweep_at = max(1024, 2 * len(self._events))


class _Transaction:
    """The unit of work of :class:`MemoryStorage` (a class, not a generator: it is on every
    request's path)."""

    __slots__ = ("_outer", "_t")

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        self._outer = False

    def __enter__(self) -> None:
        t = self._t
        t.lock.acquire()
        if t.depth == 0:
            self._outer = True
            t.journal = _Journal()
        t.depth += 1

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        t = self._t
        try:
            t.depth -= 1
            if self._outer:
                journal, t.journal = t.journal, None
                if kind is not None and journal is not None:
                    journal.undo()
        finally:
            t.lock.release()


class MemoryStorage:
    """The in-memory backend: account, token, login, passkey and counter stores with one unit
    of work."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._accounts = MemoryAccountStore(self._tables)
        self._tokens = MemoryTokenStore(self._tables)
        self._logins = MemoryLoginStore(self._tables)
        self._passkeys = MemoryPasskeyStore(self._tables)
        self._counters = MemoryCounterStore()

    @property
    def accounts(self) -> MemoryAccountStore:
        """The account store."""
        return self._accounts

    @property
    def tokens(self) -> MemoryTokenStore:
        """The opt-in token store."""
        return self._tokens

    @property
    def logins(self) -> MemoryLoginStore:
        """The login records."""
        return self._logins

    @property
    def counters(self) -> MemoryCounterStore:
        """The throttling counters."""
        return self._counters

    @property
    def passkeys(self) -> MemoryPasskeyStore:
        """The accounts' passkeys."""
        return self._passkeys

    def transaction(self) -> _Transaction:
        """Hold the lock; on an exception undo every write made inside. Nested blocks join."""
        return _Transaction(self._tables)

    def snapshot(self) -> dict[str, Any]:
        """Everything stored (counters and logins' last_seen aside) as comparable values."""
        t = self._tables
        with t.lock:
            return rules.snapshot(
                t.accounts.values(),
                (address for book in t.addresses.values() for address in book.values()),
                (card for wallet in t.cards.values() for card in wallet.values()),
                (group for groups in t.groups.values() for group in groups.values()),
                t.tokens.values(),
                t.logins.values(),
                (t.passkeys[i] for owned in t.passkey_owners.values() for i in owned),
            )
