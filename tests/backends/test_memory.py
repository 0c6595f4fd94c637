"""The storage contract run against MemoryStorage, plus what only memory can show."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsactions import (
    Account,
    Address,
    GroupDeletion,
    LoginRecord,
    PrivilegeGroup,
    SavedCard,
)
from wsactions.backends.memory import MemoryStorage
from wsactions.errors import CardDataRefusedError
from wsactions.models import TokenRecord
from wsactions.testing.contract import StorageContract

# The tables of MemoryStorage that hold every record of a kind (the per-owner dicts
# inside them are small); an operation on one owner must not walk through these.
_WHOLE_TABLES = (
    "accounts",
    "emails",
    "created",
    "members",
    "addresses",
    "cards",
    "groups",
    "tokens",
    "token_owners",
    "logins",
    "login_owners",
)


class TestMemoryStorage(StorageContract):
    """MemoryStorage keeps every guarantee of the storage protocol."""

    @pytest.fixture
    def storage(self) -> MemoryStorage:
        """A fresh, empty memory storage."""
        return MemoryStorage()


def test_contract_tests_are_not_shadowed() -> None:
    """No two contract mixins share a test name (one would hide the other)."""
    names = [
        name
        for mixin in StorageContract.__mro__[1:]
        for name in vars(mixin)
        if name.startswith("test_")
    ]
    assert len(names) == len(set(names)) > 90


class Aborted(Exception):
    """Raised inside a unit of work to roll it back."""


def card(n: int, owner: str = "acc-1", **fields: str) -> SavedCard:
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


def token(n: int, owner: str, purpose: str = "password") -> TokenRecord:
    """A token record with hash ``hash-<n>``."""
    return TokenRecord(
        token_hash=f"hash-{n}", purpose=purpose, account_id=owner, created_at=0.0, expires_at=9.0
    )


def luhn_complete(digits: str) -> str:
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


class NoScan(dict[Any, Any]):
    """A dict that fails the test when anything walks through it."""

    def _scan(self, *args: object) -> NoReturn:
        raise AssertionError("an operation on one owner walked through a whole table")

    __iter__ = keys = values = items = __reversed__ = copy = _scan  # type: ignore[assignment]


def forbid_scans(storage: MemoryStorage) -> None:
    """Make every whole table of *storage* a :class:`NoScan` from now on."""
    tables = storage._tables
    for name in _WHOLE_TABLES:
        setattr(tables, name, NoScan(getattr(tables, name)))
    tables.unordered = frozenset(id(getattr(tables, name)) for name in _WHOLE_TABLES)


class TestMemoryCosts:
    """Operations cost the same whatever the number of records of other owners."""

    @pytest.fixture
    def crowded(self) -> MemoryStorage:
        """200,000 tokens, 20,000 accounts of 2,000 companies and their logins."""
        storage = MemoryStorage()
        for n in range(200_000):
            storage.tokens.add(token(n, f"other-{n % 20_000}", f"p{n // 20_000}"))
        for n in range(20_000):
            owner = f"other-{n}"
            storage.accounts.add_account(
                Account(
                    id=owner,
                    email=f"{owner}@x.example",
                    email_key=f"{owner}@x.example",
                    company_id=f"co-{n % 2_000}",
                )
            )
            storage.logins.add_login(
                LoginRecord(id=f"l-{n}", account_id=owner, created_at=0.0, last_seen=0.0)
            )
        return storage

    def test_no_operation_scans_whole_tables(self, crowded: MemoryStorage) -> None:
        """Token, member, login and cascade operations touch only their owner's records."""
        assert len(crowded._tables.tokens) == 200_000
        forbid_scans(crowded)
        tokens, accounts, logins = crowded.tokens, crowded.accounts, crowded.logins
        tokens.add(token(1_000_001, "new"))
        tokens.add(token(1_000_002, "new"))  # revokes the older one
        tokens.add(token(1_000_003, "new", "activate"))
        assert tokens.get("hash-1000001") is None
        assert tokens.consume("hash-1000002") is not None
        tokens.revoke("new", ["activate"])
        tokens.revoke("other-7")
        assert len(accounts.list_members("co-7")) == 10
        assert accounts.add_account(
            Account(id="new", email="n@x", email_key="n@x", company_id="co-7")
        )
        assert [a.id for a in accounts.list_members("co-7")][-1] == "new"
        assert accounts.renew_rights("co-7", "r2", group_id=None, ungrouped=True) == 11
        assert accounts.add_group(PrivilegeGroup(id="g", company_id="co-7", name="G"))
        assert accounts.delete_group("co-7", "g") is GroupDeletion.DELETED
        logins.add_login(LoginRecord(id="l-new", account_id="new", created_at=0.0, last_seen=0.0))
        assert [r.id for r in logins.list_logins("other-9")] == ["l-9"]
        assert logins.end_logins("other-9") == 1
        assert accounts.delete_account("other-11")
        removed = sorted(f"other-{n}" for n in range(8, 20_000, 2_000))
        assert sorted(accounts.delete_company("co-8")) == removed

        def cascade() -> None:
            accounts.delete_account("other-12")
            accounts.delete_company("co-13")
            tokens.revoke("other-14")
            logins.end_logins("other-15")
            raise Aborted

        with pytest.raises(Aborted), crowded.transaction():
            cascade()
        assert accounts.get_account("other-12") is not None
        assert len(accounts.list_members("co-13")) == 10


class TestMemoryCounters:
    """MemoryCounterStore stays bounded."""

    def test_expired_keys_are_dropped(self) -> None:
        """100,000 hits on distinct keys while time moves on leave few keys behind."""
        counters = MemoryStorage().counters
        for i in range(100_000):
            assert counters.hit(f"client-{i}", i * 0.1, 10.0, 5) == 1
        assert len(counters) < 2_048
        assert counters.count("client-99999", 9_999.9, 10.0) == 1

    def test_key_holds_at_most_limit_events(self) -> None:
        """A key never holds more than *limit* event times, however often it is hit."""
        counters = MemoryStorage().counters
        for i in range(1_000):
            counters.hit("k", 1000.0 + i * 0.001, 60.0, 3)
        assert len(counters._events["k"][0]) == 3
        assert counters.count("k", 1001.0, 60.0) == 3


class TestMemoryCards:
    """The refusal names the field; any card number is found."""

    @pytest.mark.parametrize("field", ["pseudo_card_id", "last4", "holder", "brand", "id"])
    def test_refusal_names_the_field(self, field: str) -> None:
        """The message says which field held the number."""
        with pytest.raises(CardDataRefusedError, match=field):
            MemoryStorage().accounts.add_card(card(1, **{field: "4111111111111111"}))

    def test_refusal_is_a_value_error(self) -> None:
        """CardDataRefusedError is also a ValueError."""
        with pytest.raises(ValueError, match="card number"):
            MemoryStorage().accounts.add_card(card(1, pseudo_card_id="4111111111111111"))

    @given(
        length=st.integers(12, 18),
        digits=st.text("0123456789", min_size=18, max_size=18),
        separator=st.sampled_from(["", " ", "-"]),
    )
    def test_any_card_number_refused(self, length: int, digits: str, separator: str) -> None:
        """Any Luhn-valid number of 13-19 digits, grouped or not, is refused."""
        number = luhn_complete(digits[:length])
        grouped = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
        storage = MemoryStorage()
        with pytest.raises(CardDataRefusedError):
            storage.accounts.add_card(card(1, holder=grouped))
        assert storage.accounts.list_cards("acc-1") == []


class TestMemoryJournal:
    """The undo journal leaves no trace."""

    def test_rollback_removes_created_buckets(self) -> None:
        """Containers created inside a rolled-back block (address books, wallets) are gone."""
        storage = MemoryStorage()

        def create_buckets() -> None:
            storage.accounts.add_address(
                Address(id="adr-1", account_id="acc-7", type="private", fields={"c": "K"})
            )
            storage.accounts.add_card(card(1, "acc-7"))
            storage.accounts.add_group(PrivilegeGroup(id="g", company_id="c7", name="G"))
            storage.accounts.add_account(
                Account(id="acc-7", email="a@x", email_key="a@x", company_id="c7")
            )
            raise Aborted

        with pytest.raises(Aborted), storage.transaction():
            create_buckets()
        tables = storage._tables
        assert tables.addresses == {}
        assert tables.cards == {}
        assert tables.groups == {}
        assert tables.members == {}
        assert tables.created == {}
        assert tables.journal is None
        assert tables.depth == 0
