"""The capabilities a host plugs in, as small protocols.

An action sees the world only through an :class:`ActionContext`: settings,
session, a :class:`Storage`, a mailer, a clock and the request. wsactions
ships implementations of each: in-memory storage
(:mod:`wsactions.backends.memory`), a mapping-backed session
(:class:`wsactions.MappingSession`), mailers (:mod:`wsactions.mail`) and
the system clock. ``docs/storage.md`` explains every guarantee below;
:mod:`wsactions.testing.contract` tests them against any backend.

Guarantees every storage keeps:

* **Units of work.** Everything written between entering and leaving
  :meth:`Storage.transaction` is kept together or, when the block raises,
  not at all, and no other unit of work sees half of it. Reads with
  ``for_update=True`` inside a unit of work lock what they read until it
  ends: a concurrent unit of work that reads the same record for update,
  or writes it, waits. Calls outside a unit of work are atomic one by one.
* **Writes name their fields.** ``update_*`` methods set only the fields
  they are given; they answer ``False`` (never raise) when the record is
  gone.
* **Uniqueness.** One account per ``email_key`` (:meth:`AccountRecords.add_account`,
  :meth:`AccountRecords.change_email`); one ``global`` group per company; one passkey
  per credential id.
* **Atomic single steps.** ``TokenStore.consume`` hands a record out at most
  once; ``CounterStore.hit`` records and counts in one step;
  ``CompanyDirectory.charge_group`` checks the stored limits and charges in
  one step; ``delete_group`` refuses a group a member is assigned to;
  ``PasskeyStore.use_passkey`` checks the sign counter and records the use in one step.
* **Deleting an account** removes everything it owns: addresses, cards, tokens, logins,
  passkeys.
* **Creation order** is the order of insertion (a sequence, never a clock).
* **Counters are not transactional.** The engine never writes them inside a
  unit of work (a failed login must still count), so a backend may keep
  them anywhere, even in another database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .events import ActionEvent
    from .models import (
        Account,
        Address,
        GroupDeletion,
        GuestCheckout,
        LoginRecord,
        Mail,
        Passkey,
        PrivilegeGroup,
        RequestInfo,
        SavedCard,
        TokenRecord,
    )
    from .settings import Settings


class Clock(Protocol):
    """**Protocol**: where actions get the time from (never the wall clock directly)."""

    def now(self) -> float:
        """Seconds since the epoch."""


class Mailer(Protocol):
    """**Protocol**: delivers one mail. Called only after the action's unit of work committed.

    Called on the request's path: a mailer that talks to a server should
    queue (:class:`~wsactions.mail.BackgroundMailer`), or the response time
    tells which addresses have accounts.
    """

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
        """The account id recorded at login, or ``None`` (not proof of a valid login:
        :func:`wsactions.current_account` checks it against the stores)."""

    @property
    def login_secret(self) -> str | None:
        """The secret of the server-side login record (its SHA-256 is the record's id)."""

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

    def log_in(
        self, account_id: str, security_stamp: str, rights_stamp: str = "", login_secret: str = ""
    ) -> None:
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
    def locale(self) -> str | None:
        """The language this browser chose (LanguageUpdate), or ``None``."""

    def set_locale(self, locale: str | None) -> None:
        """Record the language this browser chose; ``None`` forgets it."""

    @property
    def guest_checkout(self) -> GuestCheckout | None:
        """The guest checkout the host recorded, if any."""

    def set_guest_checkout(self, checkout: GuestCheckout | None) -> None:
        """Record (or with ``None`` forget) the guest checkout of this session."""

    @property
    def pending_login(self) -> tuple[str, float, int] | None:
        """A login waiting for its second factor: (account id, until when, wrong codes so
        far), bound to this session (M41); ``None`` without one."""

    def set_pending_login(self, pending: tuple[str, float, int] | None) -> None:
        """Record (or with ``None`` forget) the login waiting for its second factor."""

    @property
    def pending_code(self) -> tuple[str, float] | None:
        """A login code this browser asked for (LoginCodeRequest): (a random nonce the
        mailed code is bound to, until when); ``None`` without one."""

    def set_pending_code(self, pending: tuple[str, float] | None) -> None:
        """Record (or with ``None`` forget) the login code this browser asked for."""

    @property
    def passkey_challenge(self) -> tuple[str, str, float] | None:
        """The passkey challenge this browser was given (``register`` or ``login``, the
        challenge, until when); the server keeps it too, single use (W47)."""

    def set_passkey_challenge(self, challenge: tuple[str, str, float] | None) -> None:
        """Record (or with ``None`` forget) the passkey challenge of this browser."""


class AccountRecords(Protocol):
    """**Protocol**: accounts, unique by ``email_key``."""

    def add_account(self, account: Account) -> bool:
        """Create *account* unless its ``email_key`` (or id) is taken; ``False`` when taken."""

    def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account with *account_id* (locked until the unit of work ends if *for_update*)."""

    def find_account(self, email_key: str, *, for_update: bool = False) -> Account | None:
        """The account whose identity key is *email_key*."""

    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields; ``False`` when the account is gone.

        ``id``, ``email`` and ``email_key`` cannot be changed here (``ValueError``):
        use :meth:`change_email`.
        """

    def change_email(
        self, account_id: str, email: str, email_key: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move the account to a new address (and set *changes*) unless another account holds
        *email_key*; ``False`` when taken or when the account is gone (atomic)."""

    def delete_account(self, account_id: str) -> bool:
        """Remove the account with its addresses, saved cards, opt-in tokens and logins."""

    def delete_company(self, company_id: str) -> Sequence[str]:
        """Remove every member of the company (as :meth:`delete_account`) and its groups;
        the ids of the removed accounts."""

    def list_members(self, company_id: str, *, for_update: bool = False) -> Sequence[Account]:
        """Every account of the company, in creation order."""

    def renew_rights(
        self, company_id: str, rights_stamp: str, *, group_id: str | None, ungrouped: bool
    ) -> int:
        """Set *rights_stamp* on the company's members assigned to *group_id* (and, when
        *ungrouped*, on those without a group) in one step; how many."""


class AddressBook(Protocol):
    """**Protocol**: addresses, always looked up through their account."""

    def add_address(self, address: Address) -> None:
        """Store a new address."""

    def get_address(
        self, account_id: str, address_id: str, *, for_update: bool = False
    ) -> Address | None:
        """The address *address_id* if it belongs to *account_id*."""

    def list_addresses(self, account_id: str) -> Sequence[Address]:
        """The account's addresses in creation order."""

    def count_addresses(self, account_id: str) -> int:
        """How many addresses the account has."""

    def update_address(self, account_id: str, address_id: str, changes: Mapping[str, Any]) -> bool:
        """Set the named fields of the account's address; ``False`` when it is gone."""

    def delete_address(self, account_id: str, address_id: str) -> bool:
        """Remove the address if it belongs to *account_id*, clearing every role of the
        account that points to it (main, default billing, default delivery); whether it did."""


class CardVault(Protocol):
    """**Protocol**: pseudonymised saved cards; refuses anything like a card number."""

    def add_card(self, card: SavedCard) -> None:
        """Store *card*; raises :class:`~wsactions.errors.CardDataRefusedError` for card data."""

    def list_cards(self, account_id: str) -> Sequence[SavedCard]:
        """The account's saved cards, in creation order."""

    def delete_card(self, account_id: str, card_id: str) -> bool:
        """Remove the card if it belongs to *account_id*; whether it did."""


class CompanyDirectory(Protocol):
    """**Protocol**: B2B privilege groups, always looked up through their company."""

    def add_group(self, group: PrivilegeGroup) -> bool:
        """Store a new group; ``False`` when the company has a group of that id."""

    def get_group(
        self, company_id: str, group_id: str, *, for_update: bool = False
    ) -> PrivilegeGroup | None:
        """The group *group_id* if it belongs to *company_id*."""

    def list_groups(self, company_id: str) -> Sequence[PrivilegeGroup]:
        """The company's groups in creation order."""

    def update_group(self, company_id: str, group_id: str, changes: Mapping[str, Any]) -> bool:
        """Set ``name``, ``type`` or ``privileges`` of a group; ``False`` when it is gone.

        ``spent`` and ``budget_since`` cannot be set (``ValueError``): only
        :meth:`restart_budget`, :meth:`charge_group` and :meth:`refund_group`
        change them. ``type="global"`` makes the company's former global
        group an ``account`` group in the same step (one default per company).
        """

    def restart_budget(self, company_id: str, group_id: str, since: float) -> bool:
        """Start a new budget period at *since*: nothing spent yet; ``False`` when gone."""

    def delete_group(self, company_id: str, group_id: str) -> GroupDeletion:
        """Remove the group unless a member is assigned to it (checked in the same step)."""

    def charge_group(
        self,
        company_id: str,
        group_id: str,
        amount: Decimal,
        *,
        period_start: float | None = None,
    ) -> bool:
        """Add *amount* to the group's spending unless the group's stored
        ``payment_limit_per_order`` or ``payment_limit`` refuses it (one atomic step), as
        :meth:`PrivilegeGroup.charged <wsactions.models.PrivilegeGroup.charged>` decides:
        with *period_start* (a budget that renews), what was spent before it counts zero and
        ``budget_since`` moves to it, in the same step."""

    def refund_group(
        self,
        company_id: str,
        group_id: str,
        amount: Decimal,
        charged_at: float,
        *,
        period_start: float | None = None,
    ) -> bool:
        """Give *amount* back to the budget if it was charged in the current period
        (``charged_at`` not before ``budget_since`` nor *period_start*); never below zero.
        Whether anything changed."""


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

    def sweep(self, now: float, limit: int) -> int:
        """Remove at most *limit* tokens that expired before *now*; how many (an indexed,
        bounded step: the engine calls it now and then, a host may from a scheduled job)."""


class LoginStore(Protocol):
    """**Protocol**: server-side login records (one per logged-in session)."""

    def add_login(self, record: LoginRecord) -> None:
        """Store a new login."""

    def get_login(self, login_id: str) -> LoginRecord | None:
        """The login *login_id*."""

    def get_login_account(
        self, login_id: str, *, for_update: bool = False
    ) -> tuple[LoginRecord, Account] | None:
        """The login *login_id* and its account, in one read (what every request of a
        logged-in customer asks); the account locked as :meth:`AccountRecords.get_account`
        locks it when *for_update*. ``None`` when the login (or its account) is gone."""

    def touch_login(self, login_id: str, now: float) -> None:
        """Record that the login was used at *now*."""

    def renew_proof(self, login_id: str, now: float, method: str) -> bool:
        """Record that the login's owner proved it again at *now* by *method*
        (``proven_at``, ``proven_by``); whether the login exists."""

    def list_logins(self, account_id: str) -> Sequence[LoginRecord]:
        """The account's logins in creation order."""

    def end_login(self, login_id: str) -> bool:
        """Remove one login; whether it existed."""

    def end_logins(self, account_id: str, *, keep: str | None = None) -> int:
        """Remove every login of the account except *keep*; how many."""

    def sweep(self, seen_before: float, created_before: float, limit: int) -> int:
        """Remove at most *limit* logins last seen before *seen_before* or created before
        *created_before* (expired ones); how many (an indexed, bounded step)."""


class PasskeyStore(Protocol):
    """**Protocol**: the accounts' passkeys (WebAuthn credentials), by credential id."""

    def add_passkey(self, passkey: Passkey) -> bool:
        """Store a new passkey; ``False`` when its credential id is taken (by any account)."""

    def get_passkey(self, credential_id: str) -> Passkey | None:
        """The passkey with *credential_id*."""

    def list_passkeys(self, account_id: str) -> Sequence[Passkey]:
        """The account's passkeys in creation order."""

    def use_passkey(
        self, credential_id: str, sign_count: int, now: float, backup_state: bool
    ) -> bool:
        """Record a login with the passkey: its new *sign_count*, *now* as ``last_used``
        and its *backup_state*, only if the counter went forward (or both the stored and
        the new counter are 0: an authenticator without one). Checking and writing are
        one atomic step: of two uses with the same counter, one succeeds. ``False`` for a
        counter that did not go forward, or an unknown passkey."""

    def rename_passkey(self, account_id: str, credential_id: str, name: str) -> bool:
        """Rename the account's passkey; whether it has one with that id."""

    def delete_passkey(self, account_id: str, credential_id: str) -> bool:
        """Remove the account's passkey; whether it had one with that id."""


class CounterStore(Protocol):
    """**Protocol**: bounded sliding-window counters for throttling (atomic, not
    transactional).

    A key holds at most *limit* event times, and keys whose events all
    expired are dropped, in bounded batches: the state is bounded whatever
    clients send.
    """

    def hit(self, key: str, now: float, window: float, limit: int) -> int:
        """Record one event for *key* unless *limit* events already lie within *window*;
        the number within the window including this one (``limit + 1``: not recorded).
        Checking and recording are one atomic step: parallel hits never overshoot."""

    def count(self, key: str, now: float, window: float) -> int:
        """The number of events for *key* within *window* before *now*."""

    def reset(self, key: str) -> None:
        """Forget every event of *key*."""


class Storage(Protocol):
    """**Protocol**: a backend: the stores and the unit of work spanning them."""

    @property
    def accounts(self) -> AccountStore:
        """The account store."""

    @property
    def tokens(self) -> TokenStore:
        """The opt-in token store."""

    @property
    def logins(self) -> LoginStore:
        """The login records."""

    @property
    def counters(self) -> CounterStore:
        """The throttling counters."""

    @property
    def passkeys(self) -> PasskeyStore:
        """The accounts' passkeys."""

    def transaction(self) -> AbstractContextManager[None]:
        """One unit of work: all writes inside it happen, or none when the block raises.
        Nested blocks join the outer one."""

    def snapshot(self) -> Mapping[str, Any]:
        """Everything stored except counters and logins' ``last_seen``, as plain comparable
        values (for tests: "nothing changed" is ``snapshot()`` before == after)."""


class ActionContext(Protocol):
    """**Protocol**: everything one request gives the actions."""

    @property
    def settings(self) -> Settings:
        """The application's settings."""

    @property
    def session(self) -> Session:
        """The requesting browser's session."""

    @property
    def storage(self) -> Storage:
        """The stores and their unit of work."""

    @property
    def mailer(self) -> Mailer:
        """Where mails go."""

    @property
    def clock(self) -> Clock:
        """The time source."""

    @property
    def request(self) -> RequestInfo:
        """Client address, opt-in token and subshop of this request."""
