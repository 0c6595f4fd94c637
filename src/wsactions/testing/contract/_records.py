"""The records and small helpers the contract modules share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ...models import (
    Account,
    Address,
    LoginRecord,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)
from ...protocols import Storage

# records ---------------------------------------------------------------------------------


def _account(n: int, email_key: str | None = None, **fields: Any) -> Account:
    """Account ``acc-<n>`` with address ``user<n>@example.com`` unless *email_key* is given."""
    key = email_key or f"user{n}@example.com"
    return Account(id=f"acc-{n}", email=key, email_key=key, **fields)


def _owners(storage: Storage, count: int = 3) -> None:
    """Store accounts ``acc-1`` .. ``acc-<count>``: addresses, cards and logins belong to an
    existing account (a database's foreign keys insist)."""
    for n in range(1, count + 1):
        storage.accounts.add_account(_account(n))


def _address(n: int, owner: str = "acc-1", **fields: str) -> Address:
    """Address ``adr-<n>`` of *owner*."""
    return Address(
        id=f"adr-{n}", account_id=owner, type="private", fields=fields or {"city": f"Town {n}"}
    )


def _card(n: int, owner: str = "acc-1", **fields: str) -> SavedCard:
    """A pseudonymised card ``card-<n>`` of *owner*."""
    values = {
        "id": f"card-{n}",
        "account_id": owner,
        "brand": "visa",
        "last4": "1111",
        "expiry": "12/30",
        "holder": "Ann Example",
        "pseudo_card_id": f"pcc_9f8e7d{n}",
    }
    values.update(fields)
    return SavedCard(**values)


def _group(
    group_id: str,
    company: str = "c1",
    *,
    limit: int | None = None,
    per_order: int | None = None,
    **fields: Any,
) -> PrivilegeGroup:
    """Group *group_id* of *company*, optionally with a budget and a per-order limit."""
    privileges = Privileges(
        payment_limit=None if limit is None else Decimal(limit),
        payment_limit_per_order=None if per_order is None else Decimal(per_order),
    )
    values: dict[str, Any] = {"name": f"Group {group_id}", "privileges": privileges, **fields}
    return PrivilegeGroup(id=group_id, company_id=company, **values)


def _token(n: int, owner: str = "acc-1", purpose: str = "password") -> TokenRecord:
    """A token record with hash ``hash-<n>``."""
    return TokenRecord(
        token_hash=f"hash-{n}",
        purpose=purpose,
        account_id=owner,
        created_at=1000.0,
        expires_at=5000.0,
    )


def _login(n: int, owner: str = "acc-1", at: float = 1000.0) -> LoginRecord:
    """Login ``login-<n>`` of *owner*, created and last seen at *at*."""
    return LoginRecord(
        id=f"login-{n}", account_id=owner, created_at=at, last_seen=at, client_address="192.0.2.1"
    )


def _luhn_complete(digits: str) -> str:
    """*digits* plus the check digit that makes the whole Luhn-valid."""
    for check in "0123456789":
        candidate = digits + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _ids(records: Sequence[Any]) -> list[str]:
    """The ids of *records*, in their order."""
    return [record.id for record in records]


# helpers -----------------------------------------------------------------------------------


class Aborted(Exception):
    """Raised inside a unit of work to roll it back."""


def _abort_after(storage: Storage, work: Callable[[], object]) -> None:
    """Run *work* in a unit of work of *storage*, then raise :class:`Aborted`."""
    with storage.transaction():
        work()
        raise Aborted


def _members_of(storage: Storage, company: str) -> list[str]:
    return _ids(storage.accounts.list_members(company))


def _spent(storage: Storage, group_id: str = "g1", company: str = "c1") -> Decimal | None:
    group = storage.accounts.get_group(company, group_id)
    return None if group is None else group.spent


def _types(storage: Storage, company: str) -> dict[str, str]:
    return {g.id: g.type for g in storage.accounts.list_groups(company)}
