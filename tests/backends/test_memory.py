"""Contract tests for storage backends, run against MemoryStorage.

Every backend must pass the ``Test*Contract`` classes: add a factory to
``BACKENDS`` to run them against another one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsactions import (
    Account,
    Address,
    CardDataRefusedError,
    PrivilegeGroup,
    SavedCard,
    StoreError,
)
from wsactions.backends.memory import MemoryStorage
from wsactions.models import TokenRecord

BACKENDS: list[Callable[[], Any]] = [MemoryStorage]
T = TypeVar("T")


@pytest.fixture(params=BACKENDS, ids=lambda factory: factory.__name__)
def storage(request: pytest.FixtureRequest) -> Any:
    """A fresh, empty storage of each backend."""
    return request.param()


def account(n: int, email_key: str | None = None, **fields: Any) -> Account:
    """Account ``acc-<n>`` with address ``user<n>@example.com`` unless *email_key* is given."""
    key = email_key or f"user{n}@example.com"
    return Account(id=f"acc-{n}", email=key, email_key=key, **fields)


def address(n: int, owner: str = "acc-1", **fields: Any) -> Address:
    """Address ``adr-<n>`` of *owner*."""
    return Address(id=f"adr-{n}", account_id=owner, type="private", fields=fields or {"c": "K"})


def card(n: int, owner: str = "acc-1", **fields: Any) -> SavedCard:
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


def token(n: int, owner: str = "acc-1", purpose: str = "password", expires: float = 100) -> Any:
    """A token record with hash ``hash-<n>``."""
    return TokenRecord(
        token_hash=f"hash-{n}",
        purpose=purpose,
        account_id=owner,
        created_at=0.0,
        expires_at=expires,
    )


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run *work(i)* in *count* threads released at the same moment; the results."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        outcome = work(i)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == count
    return results


class Aborted(Exception):
    """Raised inside a unit of work to roll it back."""


def abort_after(storage: Any, work: Callable[[], object]) -> None:
    """Run *work* in a unit of work of *storage*, then raise :class:`Aborted`."""
    with storage.transaction():
        work()
        raise Aborted


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


class TestAccountContract:
    """Accounts: unique by email key, also under concurrency; deletion cascades."""

    def test_add_and_get(self, storage: Any) -> None:
        """An added account is found by id and by email key."""
        first = account(1)
        assert storage.accounts.add_account(first)
        assert storage.accounts.get_account("acc-1") == first
        assert storage.accounts.find_account("user1@example.com") == first
        assert storage.accounts.get_account("acc-2") is None
        assert storage.accounts.find_account("nobody@example.com") is None

    def test_add_refuses_taken_email_key(self, storage: Any) -> None:
        """A second account with the same email key is not created."""
        assert storage.accounts.add_account(account(1, "same@example.com"))
        assert not storage.accounts.add_account(account(2, "same@example.com"))
        assert storage.accounts.get_account("acc-2") is None
        assert storage.accounts.find_account("same@example.com").id == "acc-1"

    def test_add_refuses_taken_id(self, storage: Any) -> None:
        """A second account with the same id is not created."""
        assert storage.accounts.add_account(account(1, "a@example.com"))
        assert not storage.accounts.add_account(account(1, "b@example.com"))
        assert storage.accounts.find_account("b@example.com") is None
        assert storage.accounts.get_account("acc-1").email_key == "a@example.com"

    def test_concurrent_add_same_email_key(self, storage: Any) -> None:
        """16 threads adding accounts with one email key: exactly one succeeds."""
        results = race(16, lambda i: storage.accounts.add_account(account(i, "race@example.com")))
        assert results.count(True) == 1
        winner = storage.accounts.find_account("race@example.com")
        assert winner is not None
        assert len(storage.snapshot()["accounts"]) == 1

    def test_update_account(self, storage: Any) -> None:
        """update_account replaces the record and moves the email key."""
        storage.accounts.add_account(account(1, "old@example.com"))
        changed = account(1, "new@example.com", display_name="Ann")
        assert storage.accounts.update_account(changed)
        assert storage.accounts.get_account("acc-1") == changed
        assert storage.accounts.find_account("new@example.com") == changed
        assert storage.accounts.find_account("old@example.com") is None
        assert storage.accounts.add_account(account(2, "old@example.com"))

    def test_update_refuses_taken_email_key(self, storage: Any) -> None:
        """Moving to another account's email key fails and changes nothing."""
        storage.accounts.add_account(account(1, "a@example.com"))
        storage.accounts.add_account(account(2, "b@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.update_account(account(1, "b@example.com", display_name="X"))
        assert storage.snapshot() == before
        assert storage.accounts.find_account("a@example.com").id == "acc-1"
        assert storage.accounts.find_account("b@example.com").id == "acc-2"

    def test_update_unknown_raises(self, storage: Any) -> None:
        """Updating an account that does not exist is a StoreError."""
        with pytest.raises(StoreError, match="acc-9"):
            storage.accounts.update_account(account(9))

    def test_delete_cascades(self, storage: Any) -> None:
        """Deleting an account removes its addresses, cards and email key; others stay."""
        storage.accounts.add_account(account(1))
        storage.accounts.add_account(account(2))
        storage.accounts.add_address(address(1, "acc-1"))
        storage.accounts.add_address(address(2, "acc-2"))
        storage.accounts.add_card(card(1, "acc-1"))
        storage.accounts.add_card(card(2, "acc-2"))
        storage.accounts.delete_account("acc-1")
        assert storage.accounts.get_account("acc-1") is None
        assert storage.accounts.find_account("user1@example.com") is None
        assert storage.accounts.list_addresses("acc-1") == []
        assert storage.accounts.list_cards("acc-1") == []
        assert storage.accounts.get_address("acc-1", "adr-1") is None
        assert [a.id for a in storage.accounts.list_addresses("acc-2")] == ["adr-2"]
        assert [c.id for c in storage.accounts.list_cards("acc-2")] == ["card-2"]
        assert storage.accounts.add_account(account(3, "user1@example.com"))

    def test_delete_unknown_is_noop(self, storage: Any) -> None:
        """Deleting an unknown account changes nothing."""
        storage.accounts.add_account(account(1))
        before = storage.snapshot()
        storage.accounts.delete_account("acc-9")
        assert storage.snapshot() == before

    def test_list_members(self, storage: Any) -> None:
        """Company members are listed oldest first; other companies are not."""
        storage.accounts.add_account(account(1, company_id="c1", created_at=5))
        storage.accounts.add_account(account(2, company_id="c1", created_at=1))
        storage.accounts.add_account(account(3, company_id="c2", created_at=0))
        assert [a.id for a in storage.accounts.list_members("c1")] == ["acc-2", "acc-1"]


class TestAddressContract:
    """Addresses are reached only through their account."""

    def test_address_of_other_account_invisible(self, storage: Any) -> None:
        """get/delete through another account find nothing and change nothing."""
        storage.accounts.add_address(address(1, "acc-1"))
        assert storage.accounts.get_address("acc-2", "adr-1") is None
        assert not storage.accounts.delete_address("acc-2", "adr-1")
        assert storage.accounts.get_address("acc-1", "adr-1") == address(1, "acc-1")

    def test_update_and_delete(self, storage: Any) -> None:
        """An address is replaced and then removed."""
        storage.accounts.add_address(address(1))
        storage.accounts.update_address(address(1, c="Bonn"))
        assert storage.accounts.get_address("acc-1", "adr-1").fields == {"c": "Bonn"}
        assert storage.accounts.delete_address("acc-1", "adr-1")
        assert not storage.accounts.delete_address("acc-1", "adr-1")

    def test_update_unknown_raises(self, storage: Any) -> None:
        """Updating an address that does not exist is a StoreError."""
        with pytest.raises(StoreError):
            storage.accounts.update_address(address(1))


class TestCardContract:
    """Stores hold only pseudonymised cards."""

    @pytest.mark.parametrize(
        "number",
        [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "378282246310005",
            "4222222222222",
            "5555 5555 5555 4444",
            luhn_complete("123456789012345678"),
            "card 4111111111111111 of Ann",
        ],
    )
    @pytest.mark.parametrize("field", ["pseudo_card_id", "last4", "holder", "brand", "id"])
    def test_card_number_refused(self, storage: Any, number: str, field: str) -> None:
        """A Luhn-valid 13-19 digit run in any field is refused; nothing is stored."""
        with pytest.raises(CardDataRefusedError, match=field):
            storage.accounts.add_card(card(1, **{field: number}))
        assert storage.accounts.list_cards("acc-1") == []

    def test_refusal_is_a_value_error(self, storage: Any) -> None:
        """CardDataRefusedError is also a ValueError."""
        with pytest.raises(ValueError, match="card number"):
            storage.accounts.add_card(card(1, pseudo_card_id="4111111111111111"))

    @pytest.mark.parametrize(
        "pseudo", ["pcc_9f8e7d", "tok_1234", "411111111111", "PSEUDO-0000-1111", "x" * 40]
    )
    def test_pseudonyms_accepted(self, storage: Any, pseudo: str) -> None:
        """Pseudo ids, last four digits and short digit runs are stored."""
        storage.accounts.add_card(card(1, pseudo_card_id=pseudo))
        assert [c.pseudo_card_id for c in storage.accounts.list_cards("acc-1")] == [pseudo]

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

    def test_delete_card_only_own(self, storage: Any) -> None:
        """A card is deleted only through its account."""
        storage.accounts.add_card(card(1, "acc-1"))
        assert not storage.accounts.delete_card("acc-2", "card-1")
        assert storage.accounts.delete_card("acc-1", "card-1")
        assert storage.accounts.list_cards("acc-1") == []


class TestTokenContract:
    """Opt-in token records: one live token per account and purpose, consumed once."""

    def test_add_get(self, storage: Any) -> None:
        """A record is found by its hash and not used up by get()."""
        storage.tokens.add(token(1))
        assert storage.tokens.get("hash-1") == token(1)
        assert storage.tokens.get("hash-1") == token(1)
        assert storage.tokens.get("hash-9") is None

    def test_newer_token_revokes_older(self, storage: Any) -> None:
        """A new token revokes the account's older token of the same purpose only."""
        storage.tokens.add(token(1, "acc-1", "password"))
        storage.tokens.add(token(2, "acc-1", "activate"))
        storage.tokens.add(token(3, "acc-2", "password"))
        storage.tokens.add(token(4, "acc-1", "password"))
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") is not None
        assert storage.tokens.get("hash-3") is not None
        assert storage.tokens.get("hash-4") is not None

    def test_consume_once(self, storage: Any) -> None:
        """consume() returns the record once, then None."""
        storage.tokens.add(token(1))
        assert storage.tokens.consume("hash-1") == token(1)
        assert storage.tokens.consume("hash-1") is None
        assert storage.tokens.get("hash-1") is None

    def test_concurrent_consume(self, storage: Any) -> None:
        """16 threads consuming one token: exactly one gets the record."""
        storage.tokens.add(token(1))
        results = race(16, lambda i: storage.tokens.consume("hash-1"))
        assert [r for r in results if r is not None] == [token(1)]

    def test_revoke_by_purposes(self, storage: Any) -> None:
        """revoke() with purposes removes only those of that account."""
        storage.tokens.add(token(1, "acc-1", "password"))
        storage.tokens.add(token(2, "acc-1", "activate"))
        storage.tokens.add(token(3, "acc-1", "delete"))
        storage.tokens.add(token(4, "acc-2", "password"))
        storage.tokens.revoke("acc-1", ["password", "delete"])
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-3") is None
        assert storage.tokens.get("hash-2") is not None
        assert storage.tokens.get("hash-4") is not None

    def test_revoke_all(self, storage: Any) -> None:
        """revoke() without purposes removes every token of the account, no others."""
        storage.tokens.add(token(1, "acc-1", "password"))
        storage.tokens.add(token(2, "acc-1", "activate"))
        storage.tokens.add(token(3, "acc-2", "password"))
        storage.tokens.revoke("acc-1")
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") is None
        assert storage.tokens.get("hash-3") is not None


class TestCounterContract:
    """Sliding-window counters driven by explicit times."""

    def test_hit_counts_within_window(self, storage: Any) -> None:
        """hit() returns the count including itself; old events fall out of the window."""
        counters = storage.counters
        assert counters.hit("k", 0.0, 10) == 1
        assert counters.hit("k", 5.0, 10) == 2
        assert counters.count("k", 9.9, 10) == 2
        assert counters.count("k", 10.0, 10) == 1
        assert counters.hit("k", 12.0, 10) == 2
        assert counters.count("k", 22.0, 10) == 0

    def test_keys_independent(self, storage: Any) -> None:
        """Counters of different keys do not mix."""
        storage.counters.hit("a", 0.0, 10)
        assert storage.counters.count("b", 0.0, 10) == 0
        assert storage.counters.count("a", 0.0, 10) == 1

    def test_reset(self, storage: Any) -> None:
        """reset() forgets a key's events only."""
        storage.counters.hit("a", 0.0, 10)
        storage.counters.hit("b", 0.0, 10)
        storage.counters.reset("a")
        assert storage.counters.count("a", 1.0, 10) == 0
        assert storage.counters.count("b", 1.0, 10) == 1
        storage.counters.reset("never-used")

    def test_concurrent_hits(self, storage: Any) -> None:
        """16 concurrent hits are all counted."""
        race(16, lambda i: storage.counters.hit("k", 1.0, 60))
        assert storage.counters.count("k", 1.0, 60) == 16


class TestTransactionContract:
    """The unit of work: commit keeps every write, an exception undoes every write."""

    def _seed(self, storage: Any) -> None:
        storage.accounts.add_account(account(1))
        storage.accounts.add_address(address(1, "acc-1"))
        storage.accounts.add_card(card(1, "acc-1"))
        storage.accounts.add_group(PrivilegeGroup(id="g1", company_id="c1", name="Buyers"))
        storage.tokens.add(token(1, "acc-1", "password"))
        storage.tokens.add(token(2, "acc-1", "activate"))

    def _write_everything(self, storage: Any) -> None:
        accounts = storage.accounts
        accounts.add_account(account(2))
        accounts.update_account(account(1, "moved@example.com"))
        accounts.add_address(address(2, "acc-2"))  # a new account's first address
        accounts.update_address(address(1, "acc-1", c="Bonn"))
        accounts.add_card(card(2, "acc-2"))
        accounts.delete_card("acc-1", "card-1")
        accounts.add_group(PrivilegeGroup(id="g2", company_id="c2", name="New"))
        accounts.charge_group("c1", "g1", Decimal(10), None)
        storage.tokens.add(token(3, "acc-1", "password"))  # revokes hash-1
        storage.tokens.consume("hash-2")
        storage.tokens.add(token(4, "acc-2", "verify"))
        accounts.delete_account("acc-2")

    def test_rollback_undoes_every_write(self, storage: Any) -> None:
        """An exception inside the block restores the exact previous state and propagates."""
        self._seed(storage)
        before = storage.snapshot()
        with pytest.raises(Aborted):
            abort_after(storage, lambda: self._write_everything(storage))
        assert storage.snapshot() == before
        assert storage.accounts.find_account("user1@example.com").id == "acc-1"
        assert storage.accounts.find_account("moved@example.com") is None
        assert storage.accounts.find_account("user2@example.com") is None
        assert storage.accounts.add_account(account(5, "moved@example.com"))

    def test_commit_keeps_writes(self, storage: Any) -> None:
        """Without an exception every write stays."""
        self._seed(storage)
        with storage.transaction():
            self._write_everything(storage)
        assert storage.accounts.find_account("moved@example.com").id == "acc-1"
        assert storage.accounts.list_cards("acc-1") == []
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-3") is not None
        assert storage.accounts.get_group("c1", "g1").spent == Decimal(10)

    def test_nested_blocks_join(self, storage: Any) -> None:
        """An inner block is part of the outer one: the outer failure undoes both."""

        def nested() -> None:
            storage.accounts.add_account(account(1))
            with storage.transaction():
                storage.accounts.add_account(account(2))

        with pytest.raises(Aborted):
            abort_after(storage, nested)
        assert storage.snapshot()["accounts"] == {}

    def test_transaction_usable_after_rollback(self, storage: Any) -> None:
        """After a rollback the next unit of work commits normally."""
        with pytest.raises(Aborted):
            abort_after(storage, lambda: storage.accounts.add_account(account(1)))
        with storage.transaction():
            storage.accounts.add_account(account(1))
        assert storage.accounts.get_account("acc-1") == account(1)

    def test_isolated_from_other_threads(self, storage: Any) -> None:
        """Another thread's write waits until the unit of work is over."""
        entered = threading.Event()
        seen: list[bool] = []

        def other() -> None:
            entered.wait(5)
            seen.append(storage.accounts.add_account(account(2, "same@example.com")))

        thread = threading.Thread(target=other)
        thread.start()

        def add_then_wait() -> None:
            storage.accounts.add_account(account(1, "same@example.com"))
            entered.set()
            time.sleep(0.2)  # the other thread tries to add meanwhile

        with pytest.raises(Aborted):
            abort_after(storage, add_then_wait)
        thread.join(5)
        assert seen == [True]
        assert storage.accounts.find_account("same@example.com").id == "acc-2"


class TestMemoryJournal:
    """MemoryStorage specifics the contract cannot see."""

    def test_rollback_removes_created_buckets(self) -> None:
        """Containers created inside a rolled-back block (address books, wallets) are gone."""
        storage = MemoryStorage()

        def create_buckets() -> None:
            storage.accounts.add_address(address(1, "acc-7"))
            storage.accounts.add_card(card(1, "acc-7"))
            storage.accounts.add_group(PrivilegeGroup(id="g", company_id="c7", name="G"))

        with pytest.raises(Aborted):
            abort_after(storage, create_buckets)
        tables = storage._tables
        assert tables.addresses == {}
        assert tables.cards == {}
        assert tables.groups == {}
        assert tables.journal is None
        assert tables.depth == 0
