"""The capabilities a host plugs in, as small protocols.

An action sees the world only through an :class:`ActionContext`, which
bundles them. wsactions ships implementations of each: in-memory stores
(:mod:`wsactions.backends.memory`), a mapping-backed session
(:class:`wsactions.MappingSession`), mailers (:mod:`wsactions.mail`) and
the system clock.

Guarantees every store implementation keeps (the contract tests check them):

* ``AccountStore.add_account`` creates an account only if no account has the
  same ``email_key``: atomically, also under concurrent requests.
* ``TokenStore.consume`` hands a token record out at most once.
* ``CounterStore.hit`` counts atomically.
* Everything written between entering and leaving ``transaction()`` is kept
  together or, when the block raises, not at all. ``CounterStore`` writes are
  deliberately outside that unit of work: a failed login must still count.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._context import RequestInfo
    from .events import ActionEvent
    from .mail import Mail
    from .models import (
        Account,
        Address,
        GuestCheckout,
        PrivilegeGroup,
        SavedCard,
        TokenRecord,
    )
    from .settings import Settings


class Clock(Protocol):
    """**Protocol**: where actions get the time from (never the wall clock directly)."""

    def now(self) -> float:
        """Seconds since the epoch."""


class Mailer(Protocol):
    """**Protocol**: delivers one mail. Called only after the action's unit of work committed."""

    def send(self, mail: Mail) -> None:
        """Deliver *mail* to ``mail.to``."""


class EventSink(Protocol):
    """**Protocol**: receives one :class:`~wsactions.events.ActionEvent` per executed action."""

    def __call__(self, event: ActionEvent, /) -> None:
        """Record *event* (e.g. write an audit log line)."""


class Session(Protocol):
    """**Protocol**: the host session as the engine uses it.

    Session variables (``get``/``set_variables``) live apart from the
    engine's own state (login, CSRF binding, lock flag, guest checkout), so
    no form can write the latter.
    """

    @property
    def account_id(self) -> str | None:
        """The logged-in account's id, or ``None``."""

    @property
    def security_stamp(self) -> str | None:
        """The account's security stamp at login time."""

    @property
    def rights_stamp(self) -> str | None:
        """The account's rights stamp this session last saw."""

    def renew(self, rights_stamp: str) -> None:
        """Keep the login but rotate the session id (the account's rights changed)."""

    @property
    def is_locked(self) -> bool:
        """Whether the host locked the session (after a failed payment)."""

    def log_in(self, account_id: str, security_stamp: str, rights_stamp: str = "") -> None:
        """Record a login; implementations rotate the session id first."""

    def log_out(self) -> None:
        """Forget the login (and the guest checkout); rotate the session id."""

    def lock(self) -> None:
        """Lock the session (the host calls this after a failed payment)."""

    def unlock(self) -> None:
        """Clear the lock."""

    def get(self, key: str) -> str | None:
        """A session variable written by SessionUpdate (or the host)."""

    def variables(self) -> Mapping[str, str]:
        """All session variables."""

    def set_variables(self, values: Mapping[str, str | None]) -> None:
        """Write variables at once; ``None`` removes one."""

    def csrf_binding(self, *, create: bool) -> str | None:
        """The random value CSRF tokens are bound to; made on first use when *create*."""

    def rotate(self) -> None:
        """New session id and new CSRF binding (tokens minted before stop working)."""

    @property
    def guest_checkout(self) -> GuestCheckout | None:
        """The guest checkout the host recorded, if any."""

    def set_guest_checkout(self, checkout: GuestCheckout | None) -> None:
        """Record (or with ``None`` forget) the guest checkout of this session."""


class AccountRecords(Protocol):
    """**Protocol**: accounts, unique by ``email_key``."""

    def add_account(self, account: Account) -> bool:
        """Create *account* unless its ``email_key`` is taken; ``False`` when taken (atomic)."""

    def get_account(self, account_id: str) -> Account | None:
        """The account with *account_id*."""

    def find_account(self, email_key: str) -> Account | None:
        """The account whose identity key is *email_key*."""

    def update_account(self, account: Account) -> bool:
        """Replace the stored account with the same id; ``False`` if its new email_key is taken."""

    def delete_account(self, account_id: str) -> None:
        """Remove the account with its addresses and saved cards."""

    def list_members(self, company_id: str) -> Sequence[Account]:
        """Every account of the company, in creation order."""


class AddressBook(Protocol):
    """**Protocol**: addresses, always looked up through their account."""

    def add_address(self, address: Address) -> None:
        """Store a new address."""

    def get_address(self, account_id: str, address_id: str) -> Address | None:
        """The address *address_id* if it belongs to *account_id*."""

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses in creation order."""

    def update_address(self, address: Address) -> None:
        """Replace an existing address (same id and account)."""

    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address if it belongs to *account_id*; whether it did."""


class CardVault(Protocol):
    """**Protocol**: pseudonymised saved cards; refuses anything like a card number."""

    def add_card(self, card: SavedCard) -> None:
        """Store *card*; raises :class:`~wsactions.errors.CardDataRefusedError` for card data."""

    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards."""

    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*; whether it did."""


class CompanyDirectory(Protocol):
    """**Protocol**: B2B privilege groups, always looked up through their company."""

    def add_group(self, group: PrivilegeGroup) -> None:
        """Store a new group."""

    def get_group(self, company_id: str, group_id: str) -> PrivilegeGroup | None:
        """The group *group_id* if it belongs to *company_id*."""

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups in creation order."""

    def update_group(self, group: PrivilegeGroup) -> None:
        """Replace an existing group."""

    def delete_group(self, company_id: str, group_id: str) -> bool:
        """Remove the group if it belongs to *company_id*; whether it did."""

    def charge_group(
        self, company_id: str, group_id: str, amount: Decimal, limit: Decimal | None
    ) -> bool:
        """Add *amount* to the group's spending unless that would exceed *limit* (atomic)."""


class AccountStore(AccountRecords, AddressBook, CardVault, CompanyDirectory, Protocol):
    """**Protocol**: everything the actions store about accounts."""


class TokenStore(Protocol):
    """**Protocol**: opt-in tokens, stored only as hashes."""

    def add(self, record: TokenRecord) -> None:
        """Store *record*, revoking the account's older tokens of the same purpose."""

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record for *token_hash* without using it up."""

    def consume(self, token_hash: str) -> TokenRecord | None:
        """Remove and return the record: one caller at most ever gets it (atomic)."""

    def revoke(self, account_id: str, purposes: Collection[str] | None = None) -> None:
        """Remove the account's tokens of *purposes* (all purposes when ``None``)."""


class CounterStore(Protocol):
    """**Protocol**: sliding-window event counters for throttling (atomic, not transactional)."""

    def hit(self, key: str, now: float, window: float) -> int:
        """Record one event for *key*; the number of events within *window* including it."""

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events for *key* within *window* before *now*."""

    def reset(self, key: str) -> None:
        """Forget every event of *key*."""


class Storage(Protocol):
    """**Protocol**: a backend: the three stores and the unit of work spanning them."""

    @property
    def accounts(self) -> AccountStore:
        """The account store."""

    @property
    def tokens(self) -> TokenStore:
        """The opt-in token store."""

    @property
    def counters(self) -> CounterStore:
        """The throttling counters."""

    def transaction(self) -> AbstractContextManager[None]:
        """One unit of work: all writes inside it happen, or none when the block raises."""


class ActionContext(Protocol):
    """**Protocol**: everything one request gives the actions."""

    @property
    def settings(self) -> Settings:
        """The application's settings."""

    @property
    def session(self) -> Session:
        """The requesting browser's session."""

    @property
    def accounts(self) -> AccountStore:
        """The account store."""

    @property
    def tokens(self) -> TokenStore:
        """The opt-in token store."""

    @property
    def counters(self) -> CounterStore:
        """The throttling counters."""

    @property
    def mailer(self) -> Mailer:
        """Where mails go."""

    @property
    def clock(self) -> Clock:
        """The time source."""

    @property
    def request(self) -> RequestInfo:
        """Client address, opt-in token and subshop of this request."""

    def transaction(self) -> AbstractContextManager[None]:
        """The storage's unit of work."""
