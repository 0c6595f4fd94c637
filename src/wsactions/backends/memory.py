"""In-memory stores with the same guarantees a database backend gives.

One re-entrant lock guards all data of a :class:`MemoryStorage`. A
transaction holds it for its whole duration and journals every write, so a
unit of work is atomic and isolated (serializable, in fact); a block that
raises is rolled back from the journal. Calls outside a transaction are
atomic one by one. Thread-safe; not shared between processes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection, MutableMapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..errors import CardDataRefusedError, StoreError
from ..models import Account, Address, PrivilegeGroup, SavedCard, TokenRecord
from ..security.cards import looks_like_card_number

_MISSING: Any = object()


class _Journal:
    """Undo log of one transaction."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[tuple[MutableMapping[Any, Any], Any, Any]] = []

    def undo(self) -> None:
        for container, key, old in reversed(self.entries):
            if old is _MISSING:
                container.pop(key, None)
            else:
                container[key] = old


class _Tables:
    """The data and the lock; every write goes through :meth:`put` / :meth:`drop`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.journal: _Journal | None = None
        self.depth = 0
        self.accounts: dict[str, Account] = {}
        self.emails: dict[str, str] = {}
        self.addresses: dict[str, dict[str, Address]] = {}
        self.cards: dict[str, dict[str, SavedCard]] = {}
        self.groups: dict[str, dict[str, PrivilegeGroup]] = {}
        self.tokens: dict[str, TokenRecord] = {}

    def put(self, container: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        if self.journal is not None:
            self.journal.entries.append((container, key, container.get(key, _MISSING)))
        container[key] = value

    def drop(self, container: MutableMapping[Any, Any], key: Any) -> None:
        if key not in container:
            return
        if self.journal is not None:
            self.journal.entries.append((container, key, container[key]))
        del container[key]

    def bucket(self, table: dict[str, dict[str, Any]], owner: str) -> dict[str, Any]:
        inner = table.get(owner)
        if inner is None:
            inner = {}
            self.put(table, owner, inner)
        return inner


class MemoryAccountStore:
    """Accounts, addresses, saved cards and privilege groups in memory."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    # accounts --------------------------------------------------------------
    def add_account(self, account: Account) -> bool:
        """Create *account* unless its email_key is taken (atomic)."""
        t = self._t
        with t.lock:
            if account.email_key in t.emails or account.id in t.accounts:
                return False
            t.put(t.accounts, account.id, account)
            t.put(t.emails, account.email_key, account.id)
            return True

    def get_account(self, account_id: str) -> Account | None:
        """The account with *account_id*."""
        return self._t.accounts.get(account_id)

    def find_account(self, email_key: str) -> Account | None:
        """The account whose identity key is *email_key*."""
        t = self._t
        with t.lock:
            account_id = t.emails.get(email_key)
            return None if account_id is None else t.accounts.get(account_id)

    def update_account(self, account: Account) -> bool:
        """Replace the account; ``False`` when its new email_key belongs to another account."""
        t = self._t
        with t.lock:
            old = t.accounts.get(account.id)
            if old is None:
                raise StoreError(f"no account {account.id!r} to update")
            if account.email_key != old.email_key:
                if account.email_key in t.emails:
                    return False
                t.drop(t.emails, old.email_key)
                t.put(t.emails, account.email_key, account.id)
            t.put(t.accounts, account.id, account)
            return True

    def delete_account(self, account_id: str) -> None:
        """Remove the account with its addresses and cards."""
        t = self._t
        with t.lock:
            old = t.accounts.get(account_id)
            if old is None:
                return
            t.drop(t.accounts, account_id)
            t.drop(t.emails, old.email_key)
            t.drop(t.addresses, account_id)
            t.drop(t.cards, account_id)

    def list_members(self, company_id: str) -> Sequence[Account]:
        """Every account of the company, oldest first."""
        with self._t.lock:
            found = [a for a in self._t.accounts.values() if a.company_id == company_id]
        return sorted(found, key=lambda a: a.created_at)

    # addresses ---------------------------------------------------------------
    def add_address(self, address: Address) -> None:
        """Store a new address."""
        t = self._t
        with t.lock:
            t.put(t.bucket(t.addresses, address.account_id), address.id, address)

    def get_address(self, account_id: str, address_id: str) -> Address | None:
        """The address if it belongs to *account_id*."""
        with self._t.lock:
            return self._t.addresses.get(account_id, {}).get(address_id)

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses, oldest first."""
        with self._t.lock:
            return list(self._t.addresses.get(account_id, {}).values())

    def update_address(self, address: Address) -> None:
        """Replace an existing address of the same account."""
        t = self._t
        with t.lock:
            book = t.addresses.get(address.account_id, {})
            if address.id not in book:
                raise StoreError(f"no address {address.id!r} to update")
            t.put(book, address.id, address)

    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address if it belongs to *account_id*."""
        t = self._t
        with t.lock:
            book = t.addresses.get(account_id, {})
            if address_id not in book:
                return False
            t.drop(book, address_id)
            return True

    # saved cards -------------------------------------------------------------
    def add_card(self, card: SavedCard) -> None:
        """Store a pseudonymised card; refuses anything that looks like a card number."""
        for name in ("brand", "last4", "expiry", "holder", "pseudo_card_id", "id"):
            if looks_like_card_number(getattr(card, name)):
                raise CardDataRefusedError(
                    f"SavedCard.{name} looks like a card number; store only the payment "
                    "provider's pseudo card id and the last four digits"
                )
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
    def add_group(self, group: PrivilegeGroup) -> None:
        """Store a new group."""
        t = self._t
        with t.lock:
            t.put(t.bucket(t.groups, group.company_id), group.id, group)

    def get_group(self, company_id: str, group_id: str) -> PrivilegeGroup | None:
        """The group if it belongs to *company_id*."""
        with self._t.lock:
            return self._t.groups.get(company_id, {}).get(group_id)

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups, oldest first."""
        with self._t.lock:
            return list(self._t.groups.get(company_id, {}).values())

    def update_group(self, group: PrivilegeGroup) -> None:
        """Replace an existing group."""
        t = self._t
        with t.lock:
            groups = t.groups.get(group.company_id, {})
            if group.id not in groups:
                raise StoreError(f"no privilege group {group.id!r} to update")
            t.put(groups, group.id, group)

    def delete_group(self, company_id: str, group_id: str) -> bool:
        """Remove the group if it belongs to *company_id*."""
        t = self._t
        with t.lock:
            groups = t.groups.get(company_id, {})
            if group_id not in groups:
                return False
            t.drop(groups, group_id)
            return True

    def charge_group(
        self, company_id: str, group_id: str, amount: Decimal, limit: Decimal | None
    ) -> bool:
        """Add *amount* to the group's spending unless the total would exceed *limit*."""
        t = self._t
        with t.lock:
            group = t.groups.get(company_id, {}).get(group_id)
            if group is None:
                return False
            total = group.spent + amount
            if limit is not None and total > limit:
                return False
            t.put(t.groups[company_id], group_id, attrs.evolve(group, spent=total))
            return True


class MemoryTokenStore:
    """Opt-in token records keyed by token hash."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add(self, record: TokenRecord) -> None:
        """Store *record*; older tokens of the same account and purpose are revoked."""
        t = self._t
        with t.lock:
            self._drop_where(record.account_id, (record.purpose,))
            t.put(t.tokens, record.token_hash, record)

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, not used up."""
        return self._t.tokens.get(token_hash)

    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record; at most one caller gets it."""
        t = self._t
        with t.lock:
            record = t.tokens.get(token_hash)
            if record is not None:
                t.drop(t.tokens, token_hash)
            return record

    def revoke(self, account_id: str, purposes: Collection[str] | None = None) -> None:
        """Remove the account's tokens of *purposes* (all when ``None``)."""
        with self._t.lock:
            self._drop_where(account_id, purposes)

    def _drop_where(self, account_id: str, purposes: Collection[str] | None) -> None:
        t = self._t
        doomed = [
            h
            for h, r in t.tokens.items()
            if r.account_id == account_id and (purposes is None or r.purpose in purposes)
        ]
        for token_hash in doomed:
            t.drop(t.tokens, token_hash)


class MemoryCounterStore:
    """Sliding-window counters: the times of recent events per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float, window: float) -> int:
        """Record one event; the number within *window*, this one included."""
        with self._lock:
            events = self._events.setdefault(key, deque())
            self._expire(events, now, window)
            events.append(now)
            return len(events)

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events within *window*."""
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0
            self._expire(events, now, window)
            return len(events)

    def reset(self, key: str) -> None:
        """Forget *key*'s events."""
        with self._lock:
            self._events.pop(key, None)

    @staticmethod
    def _expire(events: deque[float], now: float, window: float) -> None:
        while events and events[0] <= now - window:
            events.popleft()


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
    """The in-memory backend: account, token and counter stores with one unit of work."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._accounts = MemoryAccountStore(self._tables)
        self._tokens = MemoryTokenStore(self._tables)
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
    def counters(self) -> MemoryCounterStore:
        """The throttling counters."""
        return self._counters

    def transaction(self) -> _Transaction:
        """Hold the lock; on an exception undo every write made inside. Nested blocks join."""
        return _Transaction(self._tables)

    def snapshot(self) -> dict[str, Any]:
        """A deep, comparable copy of everything stored (counters aside), for tests."""
        t = self._tables
        with t.lock:
            return {
                "accounts": dict(t.accounts),
                "addresses": {k: dict(v) for k, v in t.addresses.items() if v},
                "cards": {k: dict(v) for k, v in t.cards.items() if v},
                "groups": {k: dict(v) for k, v in t.groups.items() if v},
                "tokens": dict(t.tokens),
            }
