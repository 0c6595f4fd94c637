"""The storage rules, written once for every backend.

A backend (:mod:`~wsactions.backends.memory`, :mod:`~wsactions.backends.sql`,
:mod:`wsactions.contrib.django.storage`, or your own) writes atomic reads and
writes; what they read, check and write comes from here, and from the
methods of the records (:meth:`PrivilegeGroup.charged
<wsactions.models.PrivilegeGroup.charged>`, :meth:`~wsactions.models.PrivilegeGroup.refunded`,
:meth:`~wsactions.models.TokenRecord.valid_at`):

=====================================  ===========================================================
store method                           rule
=====================================  ===========================================================
``update_account``, ``change_email``   :func:`account_changes` (``ValueError`` for ``id``,
                                       ``email``, ``email_key``)
``update_address``                     :func:`address_changes`
``update_group``                       :func:`group_changes` (``ValueError`` for ``spent``,
                                       ``budget_since``), then :func:`former_global`
``add_group``                          :func:`former_global`
``delete_address``                     :func:`cleared_roles` / :data:`ADDRESS_ROLES`
``delete_group``                       :func:`assigned_members` (any: ``IN_USE``)
``renew_rights``                       :func:`renewed_members`
``add_card``                           :func:`refuse_card_data`
``charge_group``, ``refund_group``     ``PrivilegeGroup.charged`` / ``.refunded``
``TokenStore.add``                     :func:`superseded_tokens`
``CounterStore.hit``, ``count``        :func:`counter_hit`, :func:`counted`
``transaction()``                      :class:`UnitsOfWork` (nested blocks join the outermost)
``snapshot()``                         :func:`snapshot`
records in a database                  :func:`to_row`, :func:`row_values`, :func:`from_row`
=====================================  ===========================================================

A rule that picks records (the members whose rights are renewed, the former
global group, ...) is a :class:`Match`: the memory backend calls it on a
record, a database backend translates it into its query language once
(a ``WHERE`` clause, a ``Q`` object), in a few lines.

The locking around each step stays the backend's: it is how the backend
makes the step atomic (see the comments of the SQL and Django backends).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from ..models import (
    Account,
    Address,
    LoginRecord,
    Passkey,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)
from ..security.cards import refuse_card_data

__all__ = [
    "ACCOUNT_FIELDS",
    "ACCOUNT_IDENTITY",
    "ADDRESS_FIELDS",
    "ADDRESS_ROLES",
    "COUNTER_SWEEP_BATCH",
    "COUNTER_SWEEP_EVERY",
    "DEMOTED",
    "GLOBAL",
    "GROUP_FIELDS",
    "CounterHit",
    "Match",
    "UnitsOfWork",
    "account_changes",
    "address_changes",
    "assigned_members",
    "cleared_roles",
    "counted",
    "counter_hit",
    "former_global",
    "from_row",
    "group_changes",
    "privileges_from_json",
    "privileges_json",
    "refuse_card_data",
    "renewed_members",
    "row_values",
    "snapshot",
    "superseded_tokens",
    "to_row",
]

R = TypeVar("R")
T = TypeVar("T")

# (1) what the update methods may set -----------------------------------------------------

#: The fields of an account only ``change_email`` (or nothing) changes.
ACCOUNT_IDENTITY = frozenset({"id", "email", "email_key"})
#: What ``update_account`` and the *changes* of ``change_email`` may set.
ACCOUNT_FIELDS = frozenset(f.name for f in attrs.fields(Account)) - ACCOUNT_IDENTITY
#: What ``update_address`` may set.
ADDRESS_FIELDS = frozenset({"type", "fields", "visibility"})
#: What ``update_group`` may set (``spent`` and ``budget_since`` change only by the budget
#: steps).
GROUP_FIELDS = frozenset({"name", "type", "privileges"})


def _checked(changes: Mapping[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"{what} cannot set {sorted(unknown)}; allowed: {sorted(allowed)}")
    return dict(changes)


def account_changes(changes: Mapping[str, Any], method: str = "update_account") -> dict[str, Any]:
    """*changes* as a dict, or ``ValueError`` when they name a field :data:`ACCOUNT_FIELDS`
    leaves out (the message names *method*)."""
    return _checked(changes, ACCOUNT_FIELDS, method)


def address_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """*changes* as a dict, or ``ValueError`` for a field outside :data:`ADDRESS_FIELDS`."""
    return _checked(changes, ADDRESS_FIELDS, "update_address")


def group_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """*changes* as a dict, or ``ValueError`` for a field outside :data:`GROUP_FIELDS`."""
    return _checked(changes, GROUP_FIELDS, "update_group")


# selections --------------------------------------------------------------------------------


def _frozen_sets(among: Mapping[str, Iterable[Any]]) -> Mapping[str, frozenset[Any]]:
    return {name: frozenset(values) for name, values in among.items()}


@attrs.frozen
class Match:
    """The stored records a rule picks: those whose fields equal *equal*, differ from
    *unequal* and, for each entry of *among*, hold one of its values (``None`` among them
    stands for an unset field, SQL's ``IS NULL``; an empty set picks nothing).

    Names are the fields of the records (:class:`~wsactions.models.Account`,
    :class:`~wsactions.models.PrivilegeGroup`, ...). Call it on a record to test it.
    """

    equal: Mapping[str, Any] = attrs.field(factory=dict)
    unequal: Mapping[str, Any] = attrs.field(factory=dict)
    among: Mapping[str, frozenset[Any]] = attrs.field(factory=dict, converter=_frozen_sets)

    def __call__(self, record: object) -> bool:
        """Whether *record* is picked."""
        return (
            all(getattr(record, name) == value for name, value in self.equal.items())
            and all(getattr(record, name) != value for name, value in self.unequal.items())
            and all(getattr(record, name) in values for name, values in self.among.items())
        )


# (2) an address's roles --------------------------------------------------------------------

#: The fields of an account that point to one of its addresses; ``delete_address`` clears
#: those that point to the deleted one.
ADDRESS_ROLES = ("main_address_id", "default_bill_address_id", "default_delivery_address_id")


def cleared_roles(account: Account, address_id: str) -> dict[str, None]:
    """The changes ``delete_address`` makes to *account* when *address_id* goes: every role
    (:data:`ADDRESS_ROLES`) that pointed to it, unset."""
    return {role: None for role in ADDRESS_ROLES if getattr(account, role) == address_id}


# (3) one global group per company ----------------------------------------------------------

#: The type of a company's default group; a company has at most one.
GLOBAL = "global"
#: What the former global group becomes when another one takes its place.
DEMOTED: Mapping[str, str] = {"type": "account"}


def former_global(company_id: str, group_id: str, new_type: str | None) -> Match | None:
    """The groups to set :data:`DEMOTED` in the same step when group *group_id* of
    *company_id* is stored (``add_group``) or updated (``update_group``) with type
    *new_type*: the company's other global group when *new_type* is :data:`GLOBAL`, else
    ``None`` (nothing to demote).

    Database backends lock the company's groups first (concurrent promotions queue),
    and demote nothing when the write itself fails (group gone, id taken).
    """
    if new_type != GLOBAL:
        return None
    return Match(equal={"company_id": company_id, "type": GLOBAL}, unequal={"id": group_id})


# (4) and (7) members of a group ------------------------------------------------------------


def assigned_members(company_id: str, group_id: str) -> Match:
    """The members of *company_id* assigned to group *group_id*: while there is one,
    ``delete_group`` answers ``IN_USE`` and deletes nothing."""
    return Match(equal={"company_id": company_id, "privilege_group_id": group_id})


def renewed_members(company_id: str, group_id: str | None, *, ungrouped: bool) -> Match:
    """The members of *company_id* whose rights stamp ``renew_rights`` sets: those assigned
    to *group_id* (unless ``None``) and, when *ungrouped*, those assigned to no group."""
    chosen: set[str | None] = set()
    if group_id is not None:
        chosen.add(group_id)
    if ungrouped:
        chosen.add(None)
    return Match(equal={"company_id": company_id}, among={"privilege_group_id": chosen})


# (5) one token per account and purpose -----------------------------------------------------


def superseded_tokens(record: TokenRecord) -> Match:
    """The tokens ``TokenStore.add`` removes before it stores *record*: the account's token
    of the same purpose (an account holds one token per purpose)."""
    return Match(equal={"account_id": record.account_id, "purpose": record.purpose})


# (6) sliding-window counters ---------------------------------------------------------------

#: Database backends sweep expired counter keys every this many hits of a process ...
COUNTER_SWEEP_EVERY = 256
#: ... and remove at most this many keys a sweep.
COUNTER_SWEEP_BATCH = 1024


@attrs.frozen
class CounterHit:
    """The result of one hit on a counter key (:func:`counter_hit`)."""

    #: The event times the key holds now (at most *limit*, oldest first).
    events: tuple[float, ...]
    #: What ``hit`` answers: the events within the window including this one, or
    #: ``limit + 1`` when it was not recorded.
    count: int
    #: When the key's newest event leaves the window: a key with ``expires_at < now`` may
    #: be dropped.
    expires_at: float


def _within(time: float, now: float, window: float) -> bool:
    return time > now - window


def counted(events: Iterable[float], now: float, window: float) -> int:
    """How many of *events* lie within *window* before *now* (what ``count`` answers)."""
    return sum(1 for time in events if _within(time, now, window))


def counter_hit(events: Iterable[float], now: float, window: float, limit: int) -> CounterHit:
    """One hit at *now* on a key holding *events*: the events still within *window*, plus
    *now* unless *limit* of them lie within it already. The backend locks the key, reads its
    events, stores ``events`` and ``expires_at`` and answers ``count``, in one step."""
    kept = [time for time in events if _within(time, now, window)]
    if len(kept) >= limit:
        count = limit + 1
    else:
        kept.append(now)
        count = len(kept)
    return CounterHit(tuple(kept), count, max(kept, default=now) + window)


# (8) records in a database -----------------------------------------------------------------


def _names(value: Iterable[str] | None) -> list[str] | None:
    return None if value is None else sorted(value)


def privileges_json(privileges: Privileges) -> dict[str, Any]:
    """*privileges* as JSON: amounts as exact text, sets as sorted lists."""

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "allowed_payment_methods": _names(privileges.allowed_payment_methods),
        "payment_limit_per_order": amount(privileges.payment_limit_per_order),
        "payment_limit": amount(privileges.payment_limit),
        "blocked_templates": list(privileges.blocked_templates),
        "blocked_urls": list(privileges.blocked_urls),
        "editable_fields": _names(privileges.editable_fields),
        "group_name": privileges.group_name,
        "require_second_factor": privileges.require_second_factor,
        "budget_period": privileges.budget_period,
    }


def privileges_from_json(data: Mapping[str, Any]) -> Privileges:
    """The :class:`~wsactions.models.Privileges` stored as *data* (:func:`privileges_json`;
    a missing key is "not restricted")."""

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
        require_second_factor=bool(data.get("require_second_factor", False)),
        budget_period=str(data.get("budget_period") or "none"),
    )


#: The fields a database stores in another form than the record holds them (as JSON), and
#: how to make that form.
_STORED: Mapping[str, Callable[[Any], Any]] = {
    "customer_data": dict,
    "fields": dict,
    "allowed_subshops": _names,
    "recovery_codes": _names,
    "privileges": privileges_json,
}


def row_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values of a record (or the *changes* of an update) as a database stores them:
    mappings as dicts, sets of names as sorted lists, privileges as :func:`privileges_json`
    (what a JSON column takes), the others as they are."""
    row = dict(values)
    for name, store in _STORED.items():
        if name in row:
            row[name] = store(row[name])
    return row


def to_row(
    record: Account | Address | SavedCard | PrivilegeGroup | TokenRecord | LoginRecord | Passkey,
) -> dict[str, Any]:
    """Every field of *record*, named as in the record, in stored form (:func:`row_values`)."""
    return row_values(attrs.asdict(record, recurse=False))


#: The fields stored in another form than the record holds them, and how to read them back
#: (the records' converters turn the others back: lists into sets, dicts into mappings).
_RESTORED: Mapping[str, Callable[[Any], Any]] = {
    "privileges": privileges_from_json,
    "spent": Decimal,
}


def from_row(cls: type[R], row: Mapping[str, Any]) -> R:
    """The record of type *cls* stored as *row* (field name -> stored value, as
    :func:`to_row` made it); the record's converters turn lists back into sets."""
    values = dict(row)
    for name, restore in _RESTORED.items():
        if name in values:
            values[name] = restore(values[name])
    return cls(**values)


# (9) nested units of work ------------------------------------------------------------------


class _ThreadUnit(threading.local):
    depth: int = 0
    current: Any = None


class UnitsOfWork(Generic[T]):
    """A storage's units of work, per thread: the outermost :meth:`join` block of a thread
    begins one with *begin* (a database transaction, say); blocks nested in it join it, so
    it commits, or rolls back, as a whole when the outermost block ends.

    :attr:`current` is what the context manager *begin* made gave the outermost block (a
    connection, say), ``None`` outside a unit of work.
    """

    def __init__(self, begin: Callable[[], AbstractContextManager[T]]) -> None:
        self._begin = begin
        self._thread = _ThreadUnit()

    @property
    def current(self) -> T | None:
        """This thread's unit of work (what *begin*'s context manager gave), or ``None``."""
        current: T | None = self._thread.current
        return current

    @contextmanager
    def join(self) -> Iterator[None]:
        """This thread's unit of work: begun here if there is none, else joined."""
        thread = self._thread
        if thread.depth:
            thread.depth += 1
            try:
                yield
            finally:
                thread.depth -= 1
            return
        thread.depth = 1
        try:
            with self._begin() as current:
                thread.current = current
                yield
        finally:
            thread.depth = 0
            thread.current = None


# snapshots ----------------------------------------------------------------------------------


def snapshot(
    accounts: Iterable[Account],
    addresses: Iterable[Address],
    cards: Iterable[SavedCard],
    groups: Iterable[PrivilegeGroup],
    tokens: Iterable[TokenRecord],
    logins: Iterable[LoginRecord],
    passkeys: Iterable[Passkey] = (),
) -> dict[str, Any]:
    """What ``Storage.snapshot()`` answers for the records given (each kind in creation
    order): records by id, addresses, cards and passkeys by account, groups by company,
    logins without ``last_seen`` (merely using a login changes it)."""
    found: dict[str, Any] = {
        "accounts": {account.id: account for account in accounts},
        "addresses": {},
        "cards": {},
        "groups": {},
        "tokens": {token.token_hash: token for token in tokens},
        "logins": {login.id: attrs.evolve(login, last_seen=0.0) for login in logins},
        "passkeys": {},
    }
    for passkey in passkeys:
        found["passkeys"].setdefault(passkey.account_id, {})[passkey.id] = passkey
    for address in addresses:
        found["addresses"].setdefault(address.account_id, {})[address.id] = address
    for card in cards:
        found["cards"].setdefault(card.account_id, {})[card.id] = card
    for group in groups:
        found["groups"].setdefault(group.company_id, {})[group.id] = group
    return found


def sign_count_advances(stored: int, new: int) -> bool:
    """WebAuthn's counter rule (W47): a passkey's signature counter must go forward; 0 then 0
    is an authenticator that keeps no counter (synced passkeys)."""
    return new > stored or (new == 0 and stored == 0)
