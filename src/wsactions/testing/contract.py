"""The storage contract as a pytest suite: run it against your own backend.

Every guarantee of :mod:`wsactions.protocols` is a test here. Subclass
:class:`StorageContract` in a test module of yours and give it a
``storage`` fixture::

    import functools

    import pytest

    from wsactions.testing.contract import StorageContract

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self):
            return MyStorage(...)            # fresh and empty for each test

        # for backends shared between processes (SQL):
        process_safe = True

        @pytest.fixture
        def storage_factory(self):
            # picklable, zero-argument, opens the data of ``storage`` (without clearing it)
            return functools.partial(MyStorage, url)

The tests use only the public API (the protocols, the models and
``Storage.snapshot()`` for "nothing changed"), never a backend's internals.
Thread races (16 threads released together) run against every backend;
process races (16 processes started with ``spawn``) only when
``process_safe`` is true. The mixins (:class:`AccountContract`,
:class:`TokenContract`, ...) can be used alone for a partial backend.

This module imports pytest: import it from test code only. For failed
asserts to show their values, have pytest rewrite it: call
``pytest.register_assert_rewrite("wsactions.testing.contract")`` in your
``conftest.py`` before anything imports it.
"""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs
import pytest

from ..errors import CardDataRefusedError
from ..models import (
    Account,
    Address,
    GroupDeletion,
    LoginRecord,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)
from ..protocols import Storage

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

__all__ = [
    "AccountContract",
    "AddressContract",
    "CardContract",
    "ConcurrencyContract",
    "CounterContract",
    "GroupContract",
    "LoginContract",
    "ProcessContract",
    "StorageContract",
    "TokenContract",
    "TransactionContract",
]

T = TypeVar("T")

#: How many threads (or processes) each race releases at once.
RACERS = 16
#: Seconds a race may take before it counts as a deadlock.
RACE_TIMEOUT = 60.0


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


def _race(work: Callable[[int], T], count: int = RACERS) -> list[T]:
    """Run *work(i)* in *count* threads released together; the results in order of *i*."""
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    results: list[tuple[int, T]] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(RACE_TIMEOUT)
            outcome = work(i)
        except BaseException as exc:  # reported in the test's thread
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append((i, outcome))

    threads = [
        threading.Thread(target=run, args=(i,), name=f"contract-race-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + RACE_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        pytest.fail(f"racing threads still run after {RACE_TIMEOUT:.0f} s: a deadlock?")
    if errors:
        raise errors[0]
    return [outcome for _, outcome in sorted(results, key=itemgetter(0))]


def _members_of(storage: Storage, company: str) -> list[str]:
    return _ids(storage.accounts.list_members(company))


# -------------------------------------------------------------------------------------------
# accounts


class AccountContract:
    """Accounts: unique by email key, named-field writes, cascading deletes, members."""

    def test_add_and_get(self, storage: Storage) -> None:
        """An added account is found by id and by email key, also for update."""
        first = _account(1, display_name="Ann", customer_data={"no": "7"})
        assert storage.accounts.add_account(first)
        assert storage.accounts.get_account("acc-1") == first
        assert storage.accounts.get_account("acc-1", for_update=True) == first
        assert storage.accounts.find_account("user1@example.com") == first
        assert storage.accounts.find_account("user1@example.com", for_update=True) == first
        assert storage.accounts.get_account("acc-2") is None
        assert storage.accounts.find_account("nobody@example.com") is None

    def test_account_fields_round_trip(self, storage: Storage) -> None:
        """Every field of an account comes back as it was stored."""
        full = Account(
            id="acc-1",
            email="Ann@Example.com",
            email_key="ann@example.com",
            password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
            display_name="Ann Example",
            active=False,
            verified=True,
            deactivated=True,
            security_stamp="s1",
            rights_stamp="r1",
            created_at=1234.5,
            customer_data={"customerNo": "42", "vat": "DE1"},
            main_address_id="adr-1",
            default_bill_address_id="adr-2",
            default_delivery_address_id="adr-3",
            company_id="c1",
            admin=True,
            privilege_group_id="g1",
            default_address_visibility="company",
            allowed_subshops={"de", "at"},
            invitation_pending=True,
        )
        assert storage.accounts.add_account(full)
        assert storage.accounts.get_account("acc-1") == full
        assert storage.accounts.find_account("ann@example.com") == full

    def test_add_refuses_taken_email_key(self, storage: Storage) -> None:
        """A second account with the same email key is not created; nothing changes."""
        assert storage.accounts.add_account(_account(1, "same@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.add_account(_account(2, "same@example.com"))
        assert storage.snapshot() == before
        assert storage.accounts.get_account("acc-2") is None
        found = storage.accounts.find_account("same@example.com")
        assert found is not None
        assert found.id == "acc-1"

    def test_add_refuses_taken_id(self, storage: Storage) -> None:
        """A second account with the same id is not created; nothing changes."""
        assert storage.accounts.add_account(_account(1, "a@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.add_account(_account(1, "b@example.com"))
        assert storage.snapshot() == before
        assert storage.accounts.find_account("b@example.com") is None
        assert storage.accounts.get_account("acc-1") == _account(1, "a@example.com")

    def test_update_account_sets_named_fields_only(self, storage: Storage) -> None:
        """update_account sets the fields it names and keeps every other one."""
        original = _account(1, display_name="Ann", verified=True, security_stamp="s1")
        storage.accounts.add_account(original)
        changes: dict[str, Any] = {
            "display_name": "Ann B.",
            "customer_data": {"customerNo": "42"},
            "allowed_subshops": ["de"],
            "main_address_id": "adr-1",
        }
        assert storage.accounts.update_account("acc-1", changes)
        expected = attrs.evolve(original, **changes)
        assert storage.accounts.get_account("acc-1") == expected
        assert storage.accounts.find_account("user1@example.com") == expected

    def test_update_can_clear_fields(self, storage: Storage) -> None:
        """Fields set to None are stored as None."""
        storage.accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        assert storage.accounts.update_account(
            "acc-1", {"privilege_group_id": None, "password_hash": None}
        )
        stored = storage.accounts.get_account("acc-1")
        assert stored is not None
        assert stored.privilege_group_id is None
        assert stored.password_hash is None
        assert stored.company_id == "c1"

    @pytest.mark.parametrize("field", ["id", "email", "email_key"])
    def test_update_refuses_identity_fields(self, storage: Storage, field: str) -> None:
        """id, email and email_key are not changed by update_account (ValueError)."""
        storage.accounts.add_account(_account(1))
        storage.accounts.add_account(_account(2))
        before = storage.snapshot()
        with pytest.raises(ValueError):  # noqa: PT011  (the message is the backend's)
            storage.accounts.update_account("acc-1", {field: "x@example.com"})
        assert storage.snapshot() == before

    def test_update_gone_account_is_false(self, storage: Storage) -> None:
        """Updating an account that does not exist answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        before = storage.snapshot()
        assert storage.accounts.update_account("acc-9", {"display_name": "X"}) is False
        assert storage.snapshot() == before
        assert storage.accounts.get_account("acc-9") is None

    def test_change_email_moves_key(self, storage: Storage) -> None:
        """change_email frees the old key, takes the new one and sets the changes."""
        original = _account(1, "old@example.com", display_name="Ann")
        storage.accounts.add_account(original)
        assert storage.accounts.change_email(
            "acc-1", "New@Example.com", "new@example.com", {"security_stamp": "s2"}
        )
        expected = attrs.evolve(
            original, email="New@Example.com", email_key="new@example.com", security_stamp="s2"
        )
        assert storage.accounts.get_account("acc-1") == expected
        assert storage.accounts.find_account("new@example.com") == expected
        assert storage.accounts.find_account("old@example.com") is None
        assert storage.accounts.add_account(_account(2, "old@example.com"))

    def test_change_email_to_own_key(self, storage: Storage) -> None:
        """The account's own key is not "taken": only the spelling changes."""
        storage.accounts.add_account(_account(1, "ann@example.com"))
        assert storage.accounts.change_email("acc-1", "ANN@example.com", "ann@example.com", {})
        found = storage.accounts.find_account("ann@example.com")
        assert found is not None
        assert found.email == "ANN@example.com"

    def test_change_email_refuses_taken_key(self, storage: Storage) -> None:
        """Moving to another account's key answers False and changes nothing."""
        storage.accounts.add_account(_account(1, "a@example.com"))
        storage.accounts.add_account(_account(2, "b@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.change_email(
            "acc-1", "b@example.com", "b@example.com", {"display_name": "X"}
        )
        assert storage.snapshot() == before
        assert storage.accounts.find_account("a@example.com") == _account(1, "a@example.com")
        assert storage.accounts.find_account("b@example.com") == _account(2, "b@example.com")

    def test_change_email_gone_account_is_false(self, storage: Storage) -> None:
        """change_email of an account that does not exist answers False, takes no key."""
        before = storage.snapshot()
        assert not storage.accounts.change_email("acc-9", "n@example.com", "n@example.com", {})
        assert storage.snapshot() == before
        assert storage.accounts.add_account(_account(1, "n@example.com"))

    def test_delete_account_cascades(self, storage: Storage) -> None:
        """Deleting an account removes its addresses, cards, tokens and logins, only those."""
        accounts = storage.accounts
        for n in (1, 2):
            owner = f"acc-{n}"
            accounts.add_account(_account(n))
            accounts.add_address(_address(n, owner))
            accounts.add_card(_card(n, owner))
            storage.tokens.add(_token(n, owner))
            storage.logins.add_login(_login(n, owner))
        assert accounts.delete_account("acc-1")
        assert accounts.get_account("acc-1") is None
        assert accounts.find_account("user1@example.com") is None
        assert accounts.list_addresses("acc-1") == []
        assert accounts.count_addresses("acc-1") == 0
        assert accounts.get_address("acc-1", "adr-1") is None
        assert accounts.list_cards("acc-1") == []
        assert storage.tokens.get("hash-1") is None
        assert storage.logins.get_login("login-1") is None
        assert storage.logins.list_logins("acc-1") == []
        # the other account keeps everything
        assert accounts.get_account("acc-2") == _account(2)
        assert _ids(accounts.list_addresses("acc-2")) == ["adr-2"]
        assert _ids(accounts.list_cards("acc-2")) == ["card-2"]
        assert storage.tokens.get("hash-2") == _token(2, "acc-2")
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-2"]
        # the key is free again
        assert accounts.add_account(_account(3, "user1@example.com"))

    def test_delete_account_leaves_no_trace(self, storage: Storage) -> None:
        """After deleting an account the snapshot is as if it had never been added."""
        storage.accounts.add_account(_account(2))
        before = storage.snapshot()
        storage.accounts.add_account(_account(1, company_id="c1"))
        storage.accounts.add_address(_address(1))
        storage.accounts.add_card(_card(1))
        storage.tokens.add(_token(1))
        storage.logins.add_login(_login(1))
        assert storage.accounts.delete_account("acc-1")
        assert storage.snapshot() == before
        assert storage.accounts.list_members("c1") == []

    def test_delete_unknown_account(self, storage: Storage) -> None:
        """Deleting an unknown account answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        before = storage.snapshot()
        assert storage.accounts.delete_account("acc-9") is False
        assert storage.snapshot() == before

    def test_delete_company(self, storage: Storage) -> None:
        """delete_company removes every member (with their records) and every group."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", admin=True))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(3, company_id="c2"))
        accounts.add_account(_account(4))
        accounts.add_group(_group("g1", "c1"))
        accounts.add_group(_group("g2", "c2"))
        for n in (1, 2, 3, 4):
            owner = f"acc-{n}"
            accounts.add_address(_address(n, owner))
            accounts.add_card(_card(n, owner))
            storage.tokens.add(_token(n, owner))
            storage.logins.add_login(_login(n, owner))
        assert sorted(accounts.delete_company("c1")) == ["acc-1", "acc-2"]
        for n in (1, 2):
            owner = f"acc-{n}"
            assert accounts.get_account(owner) is None
            assert accounts.find_account(f"user{n}@example.com") is None
            assert accounts.list_addresses(owner) == []
            assert accounts.list_cards(owner) == []
            assert storage.tokens.get(f"hash-{n}") is None
            assert storage.logins.list_logins(owner) == []
        assert accounts.list_members("c1") == []
        assert accounts.list_groups("c1") == []
        assert accounts.get_group("c1", "g1") is None
        # another company and an account without company are untouched
        assert _members_of(storage, "c2") == ["acc-3"]
        assert _ids(accounts.list_groups("c2")) == ["g2"]
        assert accounts.get_account("acc-4") == _account(4)
        for n in (3, 4):
            owner = f"acc-{n}"
            assert _ids(accounts.list_addresses(owner)) == [f"adr-{n}"]
            assert _ids(accounts.list_cards(owner)) == [f"card-{n}"]
            assert storage.tokens.get(f"hash-{n}") is not None
            assert _ids(storage.logins.list_logins(owner)) == [f"login-{n}"]

    def test_delete_unknown_company(self, storage: Storage) -> None:
        """Deleting a company without members or groups removes nothing."""
        storage.accounts.add_account(_account(1, company_id="c1"))
        before = storage.snapshot()
        assert list(storage.accounts.delete_company("c9")) == []
        assert storage.snapshot() == before

    def test_list_members_in_insertion_order(self, storage: Storage) -> None:
        """Members are listed in the order they were added, whatever their created_at."""
        storage.accounts.add_account(_account(1, company_id="c1", created_at=5.0))
        storage.accounts.add_account(_account(2, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(3, company_id="c2", created_at=0.0))
        storage.accounts.add_account(_account(4, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(5, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(6))
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-4", "acc-5"]
        assert _ids(storage.accounts.list_members("c1", for_update=True)) == [
            "acc-1",
            "acc-2",
            "acc-4",
            "acc-5",
        ]
        assert _members_of(storage, "c2") == ["acc-3"]
        assert storage.accounts.list_members("c9") == []

    def test_list_members_after_changes(self, storage: Storage) -> None:
        """Members come in creation order also after updates, joins and departures."""
        for n in range(1, 5):
            storage.accounts.add_account(_account(n, company_id="c1" if n != 2 else None))
        storage.accounts.update_account("acc-1", {"display_name": "changed"})
        storage.accounts.update_account("acc-2", {"company_id": "c1"})  # joins later
        storage.accounts.update_account("acc-3", {"company_id": "c2"})  # leaves
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-4"]
        assert _members_of(storage, "c2") == ["acc-3"]
        storage.accounts.update_account("acc-3", {"company_id": "c1"})  # comes back
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-3", "acc-4"]
        storage.accounts.delete_account("acc-2")
        assert _members_of(storage, "c1") == ["acc-1", "acc-3", "acc-4"]

    def test_renew_rights_of_group(self, storage: Storage) -> None:
        """renew_rights stamps the members of the group only; how many."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g2"))
        accounts.add_account(_account(3, company_id="c1"))
        accounts.add_account(_account(4, company_id="c2", privilege_group_id="g1"))
        accounts.add_account(_account(5, company_id="c1", privilege_group_id="g1"))
        assert accounts.renew_rights("c1", "r2", group_id="g1", ungrouped=False) == 2
        stamps = {n: accounts.get_account(f"acc-{n}") for n in range(1, 6)}
        assert {n: a.rights_stamp for n, a in stamps.items() if a} == {
            1: "r2",
            2: "",
            3: "",
            4: "",
            5: "r2",
        }
        assert stamps[1] == _account(1, company_id="c1", privilege_group_id="g1", rights_stamp="r2")

    def test_renew_rights_of_ungrouped(self, storage: Storage) -> None:
        """With ungrouped=True the members without a group are stamped as well."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g2"))
        accounts.add_account(_account(3, company_id="c1"))
        accounts.add_account(_account(4, company_id="c2"))
        accounts.add_account(_account(5))
        assert accounts.renew_rights("c1", "r2", group_id="g1", ungrouped=True) == 2
        stamped = [n for n in range(1, 6) if _stamp(storage, n) == "r2"]
        assert stamped == [1, 3]
        assert accounts.renew_rights("c1", "r3", group_id=None, ungrouped=True) == 1
        assert [n for n in range(1, 6) if _stamp(storage, n) == "r3"] == [3]
        before = storage.snapshot()
        assert accounts.renew_rights("c1", "r4", group_id=None, ungrouped=False) == 0
        assert accounts.renew_rights("c9", "r4", group_id="g1", ungrouped=True) == 0
        assert storage.snapshot() == before


def _stamp(storage: Storage, n: int) -> str | None:
    account = storage.accounts.get_account(f"acc-{n}")
    return None if account is None else account.rights_stamp


# -------------------------------------------------------------------------------------------
# addresses


class AddressContract:
    """Addresses are reached only through their account."""

    def test_add_get_list_count(self, storage: Storage) -> None:
        """Addresses are found by account and id, listed in creation order and counted."""
        _owners(storage)
        storage.accounts.add_account(_account(1))
        for n, at in ((3, 30.0), (1, 30.0), (2, 10.0)):  # one clock tick, then set back
            storage.accounts.add_address(attrs.evolve(_address(n), created_at=at))
        storage.accounts.add_address(_address(4, "acc-2"))
        first = attrs.evolve(_address(1), created_at=30.0)
        assert storage.accounts.get_address("acc-1", "adr-1") == first
        assert storage.accounts.get_address("acc-1", "adr-1", for_update=True) == first
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-3", "adr-1", "adr-2"]
        assert storage.accounts.count_addresses("acc-1") == 3
        assert storage.accounts.count_addresses("acc-2") == 1
        assert storage.accounts.count_addresses("acc-9") == 0
        assert storage.accounts.list_addresses("acc-9") == []
        assert storage.accounts.get_address("acc-1", "adr-9") is None

    def test_address_fields_round_trip(self, storage: Storage) -> None:
        """Every field of an address comes back as it was stored."""
        _owners(storage)
        full = Address(
            id="adr-1",
            account_id="acc-1",
            type="company",
            fields={"firstName": "Ann", "city": "Köln", "zip": "50667"},
            visibility="company",
            created_at=77.5,
        )
        storage.accounts.add_address(full)
        assert storage.accounts.get_address("acc-1", "adr-1") == full
        assert list(storage.accounts.list_addresses("acc-1")) == [full]

    def test_update_address_sets_named_fields_only(self, storage: Storage) -> None:
        """update_address sets the fields it names and keeps the others."""
        _owners(storage)
        original = attrs.evolve(_address(1), visibility="company")
        storage.accounts.add_address(original)
        storage.accounts.add_address(_address(2))
        assert storage.accounts.update_address("acc-1", "adr-1", {"fields": {"city": "Bonn"}})
        assert storage.accounts.get_address("acc-1", "adr-1") == attrs.evolve(
            original, fields={"city": "Bonn"}
        )
        assert storage.accounts.update_address("acc-1", "adr-1", {"visibility": "private"})
        updated = storage.accounts.get_address("acc-1", "adr-1")
        assert updated is not None
        assert updated.fields == {"city": "Bonn"}
        assert updated.visibility == "private"
        assert storage.accounts.get_address("acc-1", "adr-2") == _address(2)
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-1", "adr-2"]

    def test_update_gone_address_is_false(self, storage: Storage) -> None:
        """Updating an address that does not exist answers False and changes nothing."""
        _owners(storage)
        storage.accounts.add_address(_address(1))
        before = storage.snapshot()
        assert storage.accounts.update_address("acc-1", "adr-9", {"visibility": "x"}) is False
        assert storage.accounts.update_address("acc-9", "adr-9", {"visibility": "x"}) is False
        assert storage.snapshot() == before

    def test_delete_address_clears_its_roles_only(self, storage: Storage) -> None:
        """Deleting an address clears the roles pointing to it; other roles stay."""
        storage.accounts.add_account(
            _account(
                1,
                main_address_id="adr-1",
                default_bill_address_id="adr-1",
                default_delivery_address_id="adr-2",
            )
        )
        storage.accounts.add_account(_account(2, main_address_id="adr-1"))
        storage.accounts.add_address(_address(1))
        storage.accounts.add_address(_address(2))
        assert storage.accounts.delete_address("acc-1", "adr-1")
        assert storage.accounts.get_account("acc-1") == _account(
            1, default_delivery_address_id="adr-2"
        )
        assert storage.accounts.get_address("acc-1", "adr-1") is None
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-2"]
        assert storage.accounts.count_addresses("acc-1") == 1
        # another account's role naming the same id is not the deleted address
        assert storage.accounts.get_account("acc-2") == _account(2, main_address_id="adr-1")
        assert storage.accounts.delete_address("acc-1", "adr-2")
        assert storage.accounts.get_account("acc-1") == _account(1)

    def test_delete_missing_address(self, storage: Storage) -> None:
        """Deleting an address twice: the second time answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        storage.accounts.add_address(_address(1))
        assert storage.accounts.delete_address("acc-1", "adr-1")
        before = storage.snapshot()
        assert storage.accounts.delete_address("acc-1", "adr-1") is False
        assert storage.snapshot() == before

    def test_other_accounts_address_invisible(self, storage: Storage) -> None:
        """Through another account an address is not found, updated or deleted."""
        storage.accounts.add_account(_account(1, main_address_id="adr-1"))
        storage.accounts.add_account(_account(2, main_address_id="adr-1"))
        storage.accounts.add_address(_address(1, "acc-1"))
        before = storage.snapshot()
        assert storage.accounts.get_address("acc-2", "adr-1") is None
        assert storage.accounts.get_address("acc-2", "adr-1", for_update=True) is None
        assert storage.accounts.list_addresses("acc-2") == []
        assert storage.accounts.count_addresses("acc-2") == 0
        assert not storage.accounts.update_address("acc-2", "adr-1", {"visibility": "company"})
        assert not storage.accounts.delete_address("acc-2", "adr-1")
        assert storage.snapshot() == before
        assert storage.accounts.get_address("acc-1", "adr-1") == _address(1, "acc-1")


# -------------------------------------------------------------------------------------------
# saved cards

_CARD_NUMBERS = [
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "378282246310005",
    "4222222222222",
    "5555 5555 5555 4444",
    "４１１１１１１１１１１１１１１１",  # full-width digits
    _luhn_complete("123456789012"),  # 13 digits
    _luhn_complete("123456789012345678"),  # 19 digits
    "card 4111111111111111 of Ann",
]
_CARD_FIELDS = ["pseudo_card_id", "last4", "holder", "brand", "expiry", "id"]


class CardContract:
    """Stores hold only pseudonymised cards."""

    def test_cards_add_and_list(self, storage: Storage) -> None:
        """Cards are listed per account in creation order, with every field."""
        _owners(storage)
        for n in (2, 1, 3):
            storage.accounts.add_card(_card(n))
        storage.accounts.add_card(_card(4, "acc-2"))
        assert list(storage.accounts.list_cards("acc-1")) == [_card(2), _card(1), _card(3)]
        assert list(storage.accounts.list_cards("acc-2")) == [_card(4, "acc-2")]
        assert storage.accounts.list_cards("acc-9") == []

    @pytest.mark.parametrize("number", _CARD_NUMBERS)
    @pytest.mark.parametrize("field", _CARD_FIELDS)
    def test_card_number_refused(self, storage: Storage, number: str, field: str) -> None:
        """A Luhn-valid 13-19 digit run in any field is refused; nothing is stored."""
        before = storage.snapshot()
        with pytest.raises(CardDataRefusedError):
            storage.accounts.add_card(_card(1, **{field: number}))
        assert storage.snapshot() == before
        assert storage.accounts.list_cards("acc-1") == []

    @pytest.mark.parametrize(
        "pseudo",
        ["pcc_9f8e7d", "tok_1234", "411111111111", "PSEUDO-0000-1111", "x" * 40],
    )
    def test_pseudonyms_accepted(self, storage: Storage, pseudo: str) -> None:
        """Pseudo ids and digit runs too short for a card number are stored."""
        _owners(storage)
        storage.accounts.add_card(_card(1, pseudo_card_id=pseudo))
        assert [c.pseudo_card_id for c in storage.accounts.list_cards("acc-1")] == [pseudo]

    def test_delete_card_only_own(self, storage: Storage) -> None:
        """A card is deleted only through its account, once."""
        _owners(storage)
        storage.accounts.add_card(_card(1, "acc-1"))
        storage.accounts.add_card(_card(2, "acc-1"))
        before = storage.snapshot()
        assert not storage.accounts.delete_card("acc-2", "card-1")
        assert storage.snapshot() == before
        assert storage.accounts.delete_card("acc-1", "card-1")
        assert list(storage.accounts.list_cards("acc-1")) == [_card(2)]
        assert not storage.accounts.delete_card("acc-1", "card-1")


# -------------------------------------------------------------------------------------------
# privilege groups


def _spent(storage: Storage, group_id: str = "g1", company: str = "c1") -> Decimal | None:
    group = storage.accounts.get_group(company, group_id)
    return None if group is None else group.spent


class GroupContract:
    """Privilege groups: per company, one global group, budgets changed in single steps."""

    def test_groups_add_get_list(self, storage: Storage) -> None:
        """Groups are found through their company and listed in creation order."""
        full = PrivilegeGroup(
            id="g2",
            company_id="c1",
            name="Buyers",
            type="account",
            privileges=Privileges(
                allowed_payment_methods={"invoice"},
                payment_limit_per_order=Decimal("99.95"),
                payment_limit=Decimal("1000.00"),
                blocked_templates=("a.html",),
                blocked_urls=("/b",),
                editable_fields={"display_name"},
                group_name="Buyers",
            ),
            budget_since=100.0,
            spent=Decimal("12.34"),
        )
        assert storage.accounts.add_group(full)
        assert storage.accounts.add_group(_group("g1"))
        assert storage.accounts.add_group(_group("g3", "c2"))
        assert storage.accounts.get_group("c1", "g2") == full
        assert storage.accounts.get_group("c1", "g2", for_update=True) == full
        assert list(storage.accounts.list_groups("c1")) == [full, _group("g1")]
        assert storage.accounts.get_group("c2", "g2") is None
        assert storage.accounts.get_group("c1", "g9") is None
        assert storage.accounts.list_groups("c9") == []

    def test_add_duplicate_id_refused(self, storage: Storage) -> None:
        """A second group of the same id in a company is refused; nothing changes."""
        assert storage.accounts.add_group(_group("g1"))
        before = storage.snapshot()
        assert not storage.accounts.add_group(_group("g1", name="Other", type="global"))
        assert storage.snapshot() == before

    def test_same_id_in_other_company(self, storage: Storage) -> None:
        """Group ids are scoped by company: another company may use the same id."""
        assert storage.accounts.add_group(_group("g1", "c1"))
        assert storage.accounts.add_group(_group("g1", "c2", limit=5))
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")
        assert storage.accounts.get_group("c2", "g1") == _group("g1", "c2", limit=5)
        assert storage.accounts.update_group("c2", "g1", {"name": "Two"})
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")
        assert storage.accounts.delete_group("c2", "g1") is GroupDeletion.DELETED
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")

    def test_update_group_sets_named_fields_only(self, storage: Storage) -> None:
        """update_group sets name, type or privileges and keeps the budget."""
        original = _group("g1", limit=100, budget_since=50.0, spent=Decimal(30))
        storage.accounts.add_group(original)
        assert storage.accounts.update_group("c1", "g1", {"name": "Renamed"})
        assert storage.accounts.get_group("c1", "g1") == attrs.evolve(original, name="Renamed")
        privileges = Privileges(payment_limit=Decimal(500), blocked_urls=("/x",))
        assert storage.accounts.update_group("c1", "g1", {"privileges": privileges})
        assert storage.accounts.get_group("c1", "g1") == attrs.evolve(
            original, name="Renamed", privileges=privileges
        )

    def test_update_gone_group_is_false(self, storage: Storage) -> None:
        """Updating a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c1"))
        before = storage.snapshot()
        assert storage.accounts.update_group("c1", "g9", {"name": "X"}) is False
        assert storage.accounts.update_group("c2", "g1", {"name": "X"}) is False
        assert storage.snapshot() == before

    @pytest.mark.parametrize(
        "changes", [{"spent": Decimal(0)}, {"budget_since": 0.0}, {"name": "X", "spent": 1}]
    )
    def test_update_refuses_budget_fields(
        self, storage: Storage, changes: Mapping[str, Any]
    ) -> None:
        """spent and budget_since are not set by update_group (ValueError)."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(30), budget_since=5.0))
        before = storage.snapshot()
        with pytest.raises(ValueError):  # noqa: PT011  (the message is the backend's)
            storage.accounts.update_group("c1", "g1", changes)
        assert storage.snapshot() == before

    def test_update_to_global_demotes_former(self, storage: Storage) -> None:
        """type="global" makes the former global group of the company an account group."""
        storage.accounts.add_group(_group("g1", type="global"))
        storage.accounts.add_group(_group("g2"))
        storage.accounts.add_group(_group("g3", "c2", type="global"))
        assert storage.accounts.update_group("c1", "g2", {"type": "global"})
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}
        assert _types(storage, "c2") == {"g3": "global"}
        # setting it again keeps it the only one
        assert storage.accounts.update_group("c1", "g2", {"type": "global"})
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}

    def test_add_global_demotes_former(self, storage: Storage) -> None:
        """A new global group makes the former one an account group: one per company."""
        storage.accounts.add_group(_group("g1", type="global"))
        storage.accounts.add_group(_group("g2", type="global"))
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}

    def test_restart_budget(self, storage: Storage) -> None:
        """restart_budget starts a new period with nothing spent; False when gone."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(70), budget_since=5.0))
        assert storage.accounts.restart_budget("c1", "g1", 500.0)
        assert storage.accounts.get_group("c1", "g1") == _group(
            "g1", limit=100, spent=Decimal(0), budget_since=500.0
        )
        before = storage.snapshot()
        assert storage.accounts.restart_budget("c1", "g9", 600.0) is False
        assert storage.accounts.restart_budget("c2", "g1", 600.0) is False
        assert storage.snapshot() == before

    def test_delete_group(self, storage: Storage) -> None:
        """delete_group answers IN_USE while a member is assigned, then DELETED, then MISSING."""
        storage.accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        storage.accounts.add_group(_group("g1"))
        storage.accounts.add_group(_group("g2"))
        before = storage.snapshot()
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.IN_USE
        assert storage.snapshot() == before
        assert storage.accounts.delete_group("c1", "g9") is GroupDeletion.MISSING
        assert storage.accounts.delete_group("c2", "g2") is GroupDeletion.MISSING
        assert storage.snapshot() == before
        storage.accounts.update_account("acc-1", {"privilege_group_id": None})
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.DELETED
        assert storage.accounts.get_group("c1", "g1") is None
        assert _ids(storage.accounts.list_groups("c1")) == ["g2"]
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.MISSING

    def test_delete_group_ignores_other_companies(self, storage: Storage) -> None:
        """A member of another company assigned to a group of the same id does not block."""
        storage.accounts.add_account(_account(1, company_id="c2", privilege_group_id="g1"))
        storage.accounts.add_account(_account(2, privilege_group_id="g1"))
        storage.accounts.add_group(_group("g1", "c1"))
        storage.accounts.add_group(_group("g1", "c2"))
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.DELETED
        assert storage.accounts.delete_group("c2", "g1") is GroupDeletion.IN_USE

    def test_charge_within_limits(self, storage: Storage) -> None:
        """Charges add up to the budget exactly; without limits anything is charged."""
        storage.accounts.add_group(_group("g1", limit=100, per_order=60))
        storage.accounts.add_group(_group("g2"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("60"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("39.99"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("0.01"))
        assert _spent(storage) == Decimal(100)
        assert storage.accounts.charge_group("c1", "g2", Decimal("1000000"))
        assert _spent(storage, "g2") == Decimal(1000000)
        group = storage.accounts.get_group("c1", "g1")
        assert group == _group("g1", limit=100, per_order=60, spent=Decimal(100))

    def test_charge_refused_by_per_order_limit(self, storage: Storage) -> None:
        """An amount above the per-order limit is refused; nothing changes."""
        storage.accounts.add_group(_group("g1", per_order=50))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal("50.01"))
        assert storage.snapshot() == before
        assert storage.accounts.charge_group("c1", "g1", Decimal(50))
        assert _spent(storage) == Decimal(50)

    def test_charge_refused_by_budget(self, storage: Storage) -> None:
        """A charge that would exceed the budget is refused; nothing changes."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(90)))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal("10.01"))
        assert storage.snapshot() == before
        assert storage.accounts.charge_group("c1", "g1", Decimal(10))
        assert not storage.accounts.charge_group("c1", "g1", Decimal("0.01"))
        assert _spent(storage) == Decimal(100)

    def test_charge_reads_stored_limits(self, storage: Storage) -> None:
        """charge_group applies the limits as stored now, after update_group changed them."""
        storage.accounts.add_group(_group("g1", limit=100))
        assert storage.accounts.charge_group("c1", "g1", Decimal(80))
        tighter = Privileges(payment_limit=Decimal(100), payment_limit_per_order=Decimal(5))
        assert storage.accounts.update_group("c1", "g1", {"privileges": tighter})
        assert not storage.accounts.charge_group("c1", "g1", Decimal(6))
        assert storage.accounts.charge_group("c1", "g1", Decimal(5))
        wider = Privileges(payment_limit=Decimal(200))
        assert storage.accounts.update_group("c1", "g1", {"privileges": wider})
        assert storage.accounts.charge_group("c1", "g1", Decimal(115))
        assert _spent(storage) == Decimal(200)

    def test_charge_missing_group(self, storage: Storage) -> None:
        """Charging a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c2"))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal(1))
        assert storage.snapshot() == before

    def test_refund_in_current_period(self, storage: Storage) -> None:
        """A refund of a charge made since budget_since lowers spent."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(50), budget_since=100.0))
        assert storage.accounts.refund_group("c1", "g1", Decimal(20), 150.0)
        assert _spent(storage) == Decimal(30)
        assert storage.accounts.refund_group("c1", "g1", Decimal(10), 100.0)  # at the start
        assert _spent(storage) == Decimal(20)
        group = storage.accounts.get_group("c1", "g1")
        assert group == _group("g1", limit=100, spent=Decimal(20), budget_since=100.0)

    def test_refund_of_earlier_period_refused(self, storage: Storage) -> None:
        """A charge from before budget_since is not refunded; nothing changes."""
        storage.accounts.add_group(_group("g1", spent=Decimal(50), budget_since=100.0))
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(20), 99.9) is False
        assert storage.snapshot() == before

    def test_refund_never_below_zero(self, storage: Storage) -> None:
        """A refund larger than spent leaves zero; with nothing spent it answers False."""
        storage.accounts.add_group(_group("g1", spent=Decimal(15), budget_since=100.0))
        assert storage.accounts.refund_group("c1", "g1", Decimal(40), 120.0)
        assert _spent(storage) == Decimal(0)
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(1), 120.0) is False
        assert storage.snapshot() == before

    def test_refund_missing_group(self, storage: Storage) -> None:
        """Refunding a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c2", spent=Decimal(5)))
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(1), 0.0) is False
        assert storage.snapshot() == before


def _types(storage: Storage, company: str) -> dict[str, str]:
    return {g.id: g.type for g in storage.accounts.list_groups(company)}


# -------------------------------------------------------------------------------------------
# tokens


class TokenContract:
    """Opt-in token records: one live token per account and purpose, consumed once."""

    def test_token_add_get(self, storage: Storage) -> None:
        """A record is found by its hash, with every field, and get() does not use it up."""
        record = attrs.evolve(_token(1), email="new@example.com")
        storage.tokens.add(record)
        assert storage.tokens.get("hash-1") == record
        assert storage.tokens.get("hash-1") == record
        assert storage.tokens.get("hash-9") is None

    def test_newer_token_revokes_older(self, storage: Storage) -> None:
        """A new token revokes the account's older token of the same purpose only."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-2", "password"))
        storage.tokens.add(_token(4, "acc-1", "password"))
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") == _token(2, "acc-1", "activate")
        assert storage.tokens.get("hash-3") == _token(3, "acc-2", "password")
        assert storage.tokens.get("hash-4") == _token(4, "acc-1", "password")
        assert storage.tokens.consume("hash-1") is None

    def test_consume_once(self, storage: Storage) -> None:
        """consume() returns the record once, then None; others are untouched."""
        storage.tokens.add(_token(1))
        storage.tokens.add(_token(2, "acc-2"))
        assert storage.tokens.consume("hash-1") == _token(1)
        assert storage.tokens.consume("hash-1") is None
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") == _token(2, "acc-2")
        assert storage.tokens.consume("hash-9") is None

    def test_add_after_consume(self, storage: Storage) -> None:
        """After a token was consumed the account gets a new one of the same purpose."""
        storage.tokens.add(_token(1))
        storage.tokens.consume("hash-1")
        storage.tokens.add(_token(2))
        assert storage.tokens.get("hash-2") == _token(2)

    def test_revoke_by_purposes(self, storage: Storage) -> None:
        """revoke() with purposes removes only those of that account."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-1", "delete"))
        storage.tokens.add(_token(4, "acc-2", "password"))
        storage.tokens.revoke("acc-1", ["password", "delete"])
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-3") is None
        assert storage.tokens.get("hash-2") is not None
        assert storage.tokens.get("hash-4") is not None
        storage.tokens.revoke("acc-1", [])
        assert storage.tokens.get("hash-2") is not None

    def test_sweep_removes_expired_tokens_up_to_limit(self, storage: Storage) -> None:
        """sweep removes tokens that expired before *now*, at most *limit* per call."""
        for n in range(1, 5):
            storage.tokens.add(attrs.evolve(_token(n, f"acc-{n}"), expires_at=1000.0 * n))
        assert storage.tokens.sweep(2500.0, 1) == 1
        assert storage.tokens.sweep(2500.0, 5) == 1
        assert storage.tokens.sweep(2500.0, 5) == 0
        assert [storage.tokens.get(f"hash-{n}") is None for n in range(1, 5)] == [
            True,
            True,
            False,
            False,
        ]
        assert storage.tokens.sweep(3000.0, 5) == 0  # valid at the limit itself

    def test_revoke_all(self, storage: Storage) -> None:
        """revoke() without purposes removes every token of the account, no others."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-2", "password"))
        storage.tokens.revoke("acc-1")
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") is None
        assert storage.tokens.get("hash-3") is not None
        before = storage.snapshot()
        storage.tokens.revoke("acc-9")
        storage.tokens.revoke("acc-1")
        assert storage.snapshot() == before


# -------------------------------------------------------------------------------------------
# logins


class LoginContract:
    """Server-side login records."""

    def test_logins_add_get_list(self, storage: Storage) -> None:
        """Logins are found by id and listed per account in creation order."""
        _owners(storage)
        storage.logins.add_login(_login(2, at=10.0))
        storage.logins.add_login(_login(1, at=20.0))
        storage.logins.add_login(_login(3, at=5.0))
        storage.logins.add_login(_login(4, "acc-2"))
        assert storage.logins.get_login("login-1") == _login(1, at=20.0)
        assert storage.logins.get_login("login-9") is None
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2", "login-1", "login-3"]
        assert list(storage.logins.list_logins("acc-2")) == [_login(4, "acc-2")]
        assert storage.logins.list_logins("acc-9") == []

    def test_touch_login(self, storage: Storage) -> None:
        """touch_login records the time of use and nothing else; unknown ids are ignored."""
        _owners(storage)
        storage.logins.add_login(_login(1, at=100.0))
        storage.logins.touch_login("login-1", 250.0)
        assert storage.logins.get_login("login-1") == attrs.evolve(
            _login(1, at=100.0), last_seen=250.0
        )
        storage.logins.touch_login("login-9", 300.0)
        assert storage.logins.get_login("login-9") is None

    def test_end_login(self, storage: Storage) -> None:
        """end_login removes one login and says whether it existed."""
        _owners(storage)
        storage.logins.add_login(_login(1))
        storage.logins.add_login(_login(2))
        assert storage.logins.end_login("login-1")
        assert storage.logins.get_login("login-1") is None
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2"]
        assert storage.logins.end_login("login-1") is False

    def test_end_logins_keeps_one(self, storage: Storage) -> None:
        """end_logins removes the account's logins except *keep*; how many."""
        _owners(storage)
        for n in (1, 2, 3):
            storage.logins.add_login(_login(n))
        storage.logins.add_login(_login(4, "acc-2"))
        assert storage.logins.end_logins("acc-1", keep="login-2") == 2
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2"]
        assert storage.logins.get_login("login-4") == _login(4, "acc-2")
        assert storage.logins.end_logins("acc-1", keep="login-2") == 0

    def test_end_logins_all(self, storage: Storage) -> None:
        """end_logins without *keep* removes every login of the account only."""
        _owners(storage)
        for n in (1, 2):
            storage.logins.add_login(_login(n))
        storage.logins.add_login(_login(3, "acc-2"))
        assert storage.logins.end_logins("acc-1") == 2
        assert storage.logins.list_logins("acc-1") == []
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-3"]
        assert storage.logins.end_logins("acc-9") == 0

    def test_snapshot_ignores_last_seen(self, storage: Storage) -> None:
        """touch_login does not change the snapshot; adding and ending logins do."""
        _owners(storage)
        storage.logins.add_login(_login(1))
        before = storage.snapshot()
        storage.logins.touch_login("login-1", 5000.0)
        assert storage.snapshot() == before
        storage.logins.add_login(_login(2))
        assert storage.snapshot() != before
        storage.logins.end_login("login-2")
        assert storage.snapshot() == before
        storage.logins.end_login("login-1")
        assert storage.snapshot() != before

    def test_sweep_removes_expired_logins_up_to_limit(self, storage: Storage) -> None:
        """sweep removes logins last seen or created before the cutoffs, at most *limit*."""
        _owners(storage)
        for n in range(1, 6):
            storage.logins.add_login(_login(n, at=100.0 * n))  # created 100 .. 500
        storage.logins.touch_login("login-1", 900.0)  # old, but seen lately
        storage.logins.add_login(_login(6, "acc-2", at=1000.0))
        assert storage.logins.sweep(350.0, 50.0, 1) == 1
        assert storage.logins.sweep(350.0, 50.0, 10) == 1  # login-2 and -3 were seen before
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-1", "login-4", "login-5"]
        assert storage.logins.sweep(350.0, 150.0, 10) == 1  # login-1: created too long ago
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-4", "login-5"]
        assert storage.logins.sweep(350.0, 150.0, 10) == 0
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-6"]


# -------------------------------------------------------------------------------------------
# counters


class CounterContract:
    """Bounded sliding-window counters driven by explicit times."""

    def test_hit_counts_within_window(self, storage: Storage) -> None:
        """hit() returns the count including itself; old events fall out of the window."""
        counters = storage.counters
        assert counters.hit("k", 0.0, 10, 100) == 1
        assert counters.hit("k", 5.0, 10, 100) == 2
        assert counters.count("k", 9.9, 10) == 2
        assert counters.count("k", 10.0, 10) == 1
        assert counters.hit("k", 12.0, 10, 100) == 2
        assert counters.count("k", 22.0, 10) == 0
        assert counters.count("never", 0.0, 10) == 0

    def test_full_key_records_nothing(self, storage: Storage) -> None:
        """With *limit* events in the window hit() answers limit + 1 and records nothing."""
        counters = storage.counters
        assert [counters.hit("k", 100.0 + i, 60, 3) for i in range(3)] == [1, 2, 3]
        assert counters.hit("k", 110.0, 60, 3) == 4
        assert counters.hit("k", 120.0, 60, 3) == 4
        assert counters.count("k", 120.0, 60) == 3
        # the refused hits were not recorded: the first events expire on time
        assert counters.count("k", 160.5, 60) == 2
        assert counters.hit("k", 160.5, 60, 3) == 3
        assert counters.count("k", 162.5, 60) == 1
        assert counters.hit("k", 162.5, 60, 3) == 2

    def test_window_expiry(self, storage: Storage) -> None:
        """When the window has passed a full key counts from one again."""
        for i in range(5):
            storage.counters.hit("k", float(i), 10, 5)
        assert storage.counters.hit("k", 5.0, 10, 5) == 6
        assert storage.counters.count("k", 100.0, 10) == 0
        assert storage.counters.hit("k", 100.0, 10, 5) == 1

    def test_keys_independent(self, storage: Storage) -> None:
        """Counters of different keys do not mix."""
        storage.counters.hit("a", 0.0, 10, 1)
        assert storage.counters.hit("b", 0.0, 10, 1) == 1
        assert storage.counters.hit("a", 0.0, 10, 1) == 2
        assert storage.counters.count("a", 0.0, 10) == 1
        assert storage.counters.count("b", 0.0, 10) == 1
        assert storage.counters.count("c", 0.0, 10) == 0

    def test_reset(self, storage: Storage) -> None:
        """reset() forgets a key's events only."""
        storage.counters.hit("a", 0.0, 10, 5)
        storage.counters.hit("a", 0.0, 10, 5)
        storage.counters.hit("b", 0.0, 10, 5)
        storage.counters.reset("a")
        assert storage.counters.count("a", 1.0, 10) == 0
        assert storage.counters.count("b", 1.0, 10) == 1
        assert storage.counters.hit("a", 1.0, 10, 5) == 1
        storage.counters.reset("never-used")

    def test_counters_not_in_snapshot(self, storage: Storage) -> None:
        """Counters are not part of the snapshot."""
        before = storage.snapshot()
        storage.counters.hit("k", 0.0, 10, 5)
        assert storage.snapshot() == before


# -------------------------------------------------------------------------------------------
# units of work


def _seed(storage: Storage) -> None:
    """Records of every kind for the unit-of-work tests."""
    accounts = storage.accounts
    assert accounts.add_account(
        _account(1, company_id="c1", main_address_id="adr-1", default_bill_address_id="adr-1")
    )
    assert accounts.add_account(_account(2, company_id="c1"))
    assert accounts.add_account(_account(3))
    assert accounts.add_account(_account(6, company_id="c2", privilege_group_id="gx"))
    for n in (1, 2, 7):
        accounts.add_address(_address(n, "acc-1"))
    accounts.add_address(_address(6, "acc-6"))
    accounts.add_card(_card(1, "acc-1"))
    accounts.add_card(_card(3, "acc-1"))
    accounts.add_card(_card(6, "acc-6"))
    assert accounts.add_group(_group("g1", limit=100, budget_since=10.0))
    assert accounts.add_group(_group("g2", type="global"))
    assert accounts.add_group(_group("gx", "c2"))
    assert accounts.charge_group("c1", "g1", Decimal(20))
    storage.tokens.add(_token(1, "acc-1", "password"))
    storage.tokens.add(_token(2, "acc-1", "activate"))
    storage.tokens.add(_token(6, "acc-6", "password"))
    for n in (1, 2, 3):
        storage.logins.add_login(_login(n, "acc-1"))
    storage.logins.add_login(_login(6, "acc-6"))


def _write_everything(storage: Storage) -> None:
    """One write of every kind on top of :func:`_seed` (each one asserted to happen)."""
    accounts = storage.accounts
    assert accounts.add_account(_account(4, company_id="c1"))
    assert accounts.update_account("acc-2", {"display_name": "Bob", "customer_data": {"a": "1"}})
    assert accounts.change_email("acc-1", "moved@example.com", "moved@example.com", {})
    assert accounts.add_account(_account(5, "user1@example.com"))  # takes the freed key
    assert accounts.renew_rights("c1", "r2", group_id=None, ungrouped=True) == 3
    accounts.add_address(_address(3, "acc-4"))  # a new account's first address
    assert accounts.update_address("acc-1", "adr-2", {"fields": {"city": "Bonn"}})
    assert accounts.delete_address("acc-1", "adr-1")  # clears two roles of acc-1
    accounts.add_card(_card(2, "acc-4"))
    assert accounts.delete_card("acc-1", "card-1")
    assert accounts.add_group(_group("g3", type="global"))  # demotes g2
    assert accounts.update_group("c1", "g1", {"name": "Renamed"})
    assert accounts.charge_group("c1", "g1", Decimal(10))
    assert accounts.refund_group("c1", "g1", Decimal(5), 20.0)
    assert accounts.restart_budget("c1", "g2", 99.0)
    assert accounts.delete_group("c1", "g2") is GroupDeletion.DELETED
    storage.tokens.add(_token(3, "acc-1", "password"))  # revokes hash-1
    assert storage.tokens.consume("hash-2") is not None
    storage.tokens.add(_token(4, "acc-4", "verify"))
    storage.tokens.revoke("acc-4")
    storage.logins.add_login(_login(4, "acc-1"))
    storage.logins.touch_login("login-1", 3000.0)
    assert storage.logins.end_login("login-2")
    assert storage.logins.end_logins("acc-1", keep="login-3") == 2
    assert accounts.delete_account("acc-3")
    assert list(accounts.delete_company("c2")) == ["acc-6"]


def _orders(storage: Storage) -> dict[str, list[str]]:
    """Every list the seed made, in the order the storage lists it."""
    accounts = storage.accounts
    return {
        "members": _members_of(storage, "c1"),
        "addresses": _ids(accounts.list_addresses("acc-1")),
        "cards": _ids(accounts.list_cards("acc-1")),
        "groups": _ids(accounts.list_groups("c1")),
        "logins": _ids(storage.logins.list_logins("acc-1")),
        "c2": _members_of(storage, "c2") + _ids(accounts.list_groups("c2")),
    }


class TransactionContract:
    """The unit of work: commit keeps every write, an exception undoes every write."""

    def test_commit_keeps_writes(self, storage: Storage) -> None:
        """Without an exception every write of the block stays."""
        _seed(storage)
        with storage.transaction():
            _write_everything(storage)
        accounts = storage.accounts
        moved = accounts.find_account("moved@example.com")
        assert moved is not None
        assert moved.id == "acc-1"
        assert moved.main_address_id is None
        assert moved.rights_stamp == "r2"
        taken = accounts.find_account("user1@example.com")
        assert taken is not None
        assert taken.id == "acc-5"
        assert accounts.find_account("user3@example.com") is None
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-4"]
        assert _ids(accounts.list_addresses("acc-1")) == ["adr-2", "adr-7"]
        assert _ids(accounts.list_addresses("acc-4")) == ["adr-3"]
        assert _ids(accounts.list_cards("acc-1")) == ["card-3"]
        assert _types(storage, "c1") == {"g1": "account", "g3": "global"}
        assert _spent(storage) == Decimal(25)
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") is None
        assert storage.tokens.get("hash-3") is not None
        assert storage.tokens.get("hash-4") is None
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-3"]
        assert accounts.list_members("c2") == []
        assert accounts.list_groups("c2") == []

    def test_rollback_undoes_every_write(self, storage: Storage) -> None:
        """An exception in the block restores the previous state and propagates."""
        _seed(storage)
        before = storage.snapshot()
        with pytest.raises(Aborted):
            _abort_after(storage, lambda: _write_everything(storage))
        assert storage.snapshot() == before
        accounts = storage.accounts
        # the keys change_email and add_account moved are back where they were
        original = accounts.find_account("user1@example.com")
        assert original is not None
        assert original.id == "acc-1"
        assert accounts.find_account("moved@example.com") is None
        assert accounts.find_account("user4@example.com") is None
        assert accounts.find_account("user5@example.com") is None
        assert accounts.get_account("acc-5") is None
        assert not accounts.add_account(_account(9, "user1@example.com"))
        assert not accounts.add_account(_account(9, "user3@example.com"))
        assert accounts.add_account(_account(9, "moved@example.com"))
        assert accounts.add_account(_account(5))
        assert storage.logins.get_login("login-1") is not None

    def test_rollback_keeps_creation_order(self, storage: Storage) -> None:
        """After a rollback every list comes in the order it came before."""
        _seed(storage)
        orders = _orders(storage)
        with pytest.raises(Aborted):
            _abort_after(storage, lambda: _write_everything(storage))
        assert _orders(storage) == orders

        def delete_firsts() -> None:
            storage.accounts.delete_address("acc-1", "adr-1")
            storage.accounts.delete_card("acc-1", "card-1")
            storage.accounts.delete_group("c1", "g1")
            storage.logins.end_login("login-1")
            storage.accounts.delete_account("acc-1")
            storage.accounts.delete_company("c1")

        with pytest.raises(Aborted):
            _abort_after(storage, delete_firsts)
        assert _orders(storage) == orders

    def test_nested_blocks_join(self, storage: Storage) -> None:
        """An inner block is part of the outer one: the outer failure undoes both."""

        def nested() -> None:
            storage.accounts.add_account(_account(1))
            with storage.transaction():
                storage.accounts.add_account(_account(2))
                storage.tokens.add(_token(2, "acc-2"))
            assert storage.accounts.get_account("acc-2") == _account(2)

        before = storage.snapshot()
        with pytest.raises(Aborted):
            _abort_after(storage, nested)
        assert storage.snapshot() == before
        assert storage.accounts.get_account("acc-1") is None
        assert storage.accounts.get_account("acc-2") is None

    def test_inner_failure_caught_inside(self, storage: Storage) -> None:
        """A failure the outer block catches does not end the unit of work early."""
        with storage.transaction():
            storage.accounts.add_account(_account(1))
            with pytest.raises(Aborted):
                _abort_after(storage, lambda: storage.accounts.add_account(_account(2)))
            storage.accounts.add_account(_account(3))
        assert storage.accounts.get_account("acc-1") == _account(1)
        assert storage.accounts.get_account("acc-3") == _account(3)

    def test_usable_after_rollback(self, storage: Storage) -> None:
        """After a rollback the storage works: the next unit of work commits."""
        with pytest.raises(Aborted):
            _abort_after(storage, lambda: storage.accounts.add_account(_account(1)))
        with storage.transaction():
            assert storage.accounts.add_account(_account(1))
            storage.tokens.add(_token(1))
        assert storage.accounts.get_account("acc-1") == _account(1)
        assert storage.tokens.get("hash-1") == _token(1)
        assert storage.accounts.add_account(_account(2))

    def test_reads_inside_see_own_writes(self, storage: Storage) -> None:
        """Inside a unit of work reads (also for update) see the block's own writes."""
        with storage.transaction():
            storage.accounts.add_account(_account(1))
            storage.accounts.update_account("acc-1", {"display_name": "Ann"})
            found = storage.accounts.get_account("acc-1", for_update=True)
            assert found == _account(1, display_name="Ann")
            assert storage.accounts.find_account("user1@example.com", for_update=True) == found

    def test_writes_of_other_threads_wait(self, storage: Storage) -> None:
        """Another thread's conflicting write waits until the unit of work is over."""
        entered = threading.Event()
        seen: list[bool] = []

        def other() -> None:
            entered.wait(RACE_TIMEOUT)
            seen.append(storage.accounts.add_account(_account(2, "same@example.com")))

        thread = threading.Thread(target=other, daemon=True)
        thread.start()

        def add_then_wait() -> None:
            storage.accounts.add_account(_account(1, "same@example.com"))
            entered.set()
            time.sleep(0.2)  # the other thread tries to add meanwhile

        with pytest.raises(Aborted):
            _abort_after(storage, add_then_wait)
        thread.join(RACE_TIMEOUT)
        assert seen == [True]
        found = storage.accounts.find_account("same@example.com")
        assert found is not None
        assert found.id == "acc-2"

    def test_no_dirty_reads(self, storage: Storage) -> None:
        """Another thread never sees the writes of a unit of work that rolls back."""
        storage.accounts.add_account(_account(1, display_name="committed"))
        reading = threading.Event()
        written = threading.Event()
        seen: list[object] = []

        def other() -> None:
            written.wait(RACE_TIMEOUT)
            reading.set()
            found = storage.accounts.get_account("acc-1")
            seen.append(None if found is None else found.display_name)
            seen.append(storage.accounts.find_account("user2@example.com"))
            seen.append(storage.tokens.get("hash-1"))
            seen.append(storage.logins.get_login("login-1"))

        thread = threading.Thread(target=other, daemon=True)
        thread.start()

        def write_then_wait() -> None:
            storage.accounts.update_account("acc-1", {"display_name": "uncommitted"})
            storage.accounts.add_account(_account(2))
            storage.tokens.add(_token(1))
            storage.logins.add_login(_login(1))
            written.set()
            reading.wait(RACE_TIMEOUT)
            time.sleep(0.1)  # the other thread reads meanwhile

        with pytest.raises(Aborted):
            _abort_after(storage, write_then_wait)
        thread.join(RACE_TIMEOUT)
        assert seen == ["committed", None, None, None]


# -------------------------------------------------------------------------------------------
# threads


class ConcurrencyContract:
    """16 threads released together never break a guarantee."""

    def test_concurrent_consume(self, storage: Storage) -> None:
        """16 threads consuming one token: exactly one gets the record."""
        storage.tokens.add(_token(1))
        results = _race(lambda i: storage.tokens.consume("hash-1"))
        assert [r for r in results if r is not None] == [_token(1)]
        assert storage.tokens.get("hash-1") is None

    def test_concurrent_add_same_key(self, storage: Storage) -> None:
        """16 threads adding accounts with one email key: exactly one succeeds."""
        results = _race(
            lambda i: storage.accounts.add_account(_account(i, "race@example.com", company_id="c"))
        )
        assert results.count(True) == 1
        winner = results.index(True)
        found = storage.accounts.find_account("race@example.com")
        assert found == _account(winner, "race@example.com", company_id="c")
        assert _members_of(storage, "c") == [f"acc-{winner}"]

    def test_concurrent_change_email_same_key(self, storage: Storage) -> None:
        """16 accounts moving to one free key: exactly one gets it, the others keep theirs."""
        for i in range(RACERS):
            storage.accounts.add_account(_account(i))
        results = _race(
            lambda i: storage.accounts.change_email(
                f"acc-{i}", "race@example.com", "race@example.com", {}
            )
        )
        assert results.count(True) == 1
        winner = results.index(True)
        found = storage.accounts.find_account("race@example.com")
        assert found is not None
        assert found.id == f"acc-{winner}"
        for i in range(RACERS):
            if i != winner:
                assert storage.accounts.find_account(f"user{i}@example.com") == _account(i)
        assert storage.accounts.find_account(f"user{winner}@example.com") is None

    def test_concurrent_charges_respect_budget(self, storage: Storage) -> None:
        """16 charges of 30 against a budget of 100: exactly 3 succeed, 90 spent."""
        storage.accounts.add_group(_group("g1", limit=100))
        results = _race(lambda i: storage.accounts.charge_group("c1", "g1", Decimal(30)))
        assert results.count(True) == 3
        assert _spent(storage) == Decimal(90)

    def test_charges_survive_group_updates(self, storage: Storage) -> None:
        """Charges racing update_group(privileges=...) are never lost."""
        storage.accounts.add_group(_group("g1"))
        rounds = 10

        def work(i: int) -> int:
            charged = 0
            for r in range(rounds):
                if i % 2:
                    privileges = Privileges(group_name=f"name {i}/{r}")
                    storage.accounts.update_group("c1", "g1", {"privileges": privileges})
                elif storage.accounts.charge_group("c1", "g1", Decimal(10)):
                    charged += 10
            return charged

        charged = sum(_race(work))
        assert charged == (RACERS // 2) * rounds * 10
        assert _spent(storage) == Decimal(charged)

    def test_delete_group_vs_assignment(self, storage: Storage) -> None:
        """delete_group racing assignments: the group exists, or no member points to it."""
        for i in range(RACERS):
            storage.accounts.add_account(_account(i, company_id="c1"))
        storage.accounts.add_group(_group("g1"))

        def work(i: int) -> GroupDeletion | None:
            if i % 2 == 0:
                return storage.accounts.delete_group("c1", "g1")
            with storage.transaction():
                if storage.accounts.get_group("c1", "g1", for_update=True) is not None:
                    storage.accounts.update_account(f"acc-{i}", {"privilege_group_id": "g1"})
            return None

        deletions = [d for d in _race(work) if d is not None]
        assigned = [m.id for m in storage.accounts.list_members("c1") if m.privilege_group_id]
        if storage.accounts.get_group("c1", "g1") is None:
            assert deletions.count(GroupDeletion.DELETED) == 1
            assert assigned == []
        else:
            assert set(deletions) == {GroupDeletion.IN_USE}
            assert assigned != []

    def test_concurrent_hits_respect_limit(self, storage: Storage) -> None:
        """16 hits with limit 4: exactly 4 are recorded, the others answer 5."""
        results = _race(lambda i: storage.counters.hit("k", 1000.0, 60.0, 4))
        assert sorted(results) == [1, 2, 3, 4] + [5] * (RACERS - 4)
        assert storage.counters.count("k", 1000.0, 60.0) == 4

    def test_for_update_prevents_lost_updates(self, storage: Storage) -> None:
        """16 read-for-update-then-write units of work on one account lose no write."""
        storage.accounts.add_account(_account(1, customer_data={"seed": "0"}))

        def work(i: int) -> None:
            with storage.transaction():
                current = storage.accounts.get_account("acc-1", for_update=True)
                assert current is not None
                data = {**current.customer_data, f"k{i:02}": str(i)}
                storage.accounts.update_account("acc-1", {"customer_data": data})

        _race(work)
        final = storage.accounts.get_account("acc-1")
        assert final is not None
        assert dict(final.customer_data) == {
            "seed": "0",
            **{f"k{i:02}": str(i) for i in range(RACERS)},
        }

    def test_for_update_address_prevents_lost_updates(self, storage: Storage) -> None:
        """16 read-for-update-then-write units of work on one address lose no write."""
        _owners(storage)
        storage.accounts.add_address(_address(1, city="Bonn"))

        def work(i: int) -> None:
            with storage.transaction():
                current = storage.accounts.get_address("acc-1", "adr-1", for_update=True)
                assert current is not None
                fields = {**current.fields, f"k{i:02}": str(i)}
                storage.accounts.update_address("acc-1", "adr-1", {"fields": fields})

        _race(work)
        final = storage.accounts.get_address("acc-1", "adr-1")
        assert final is not None
        assert dict(final.fields) == {"city": "Bonn", **{f"k{i:02}": str(i) for i in range(RACERS)}}

    def test_for_update_group_prevents_lost_updates(self, storage: Storage) -> None:
        """16 read-for-update-then-write units of work on one group lose no write."""
        storage.accounts.add_group(_group("g1"))

        def work(i: int) -> None:
            with storage.transaction():
                current = storage.accounts.get_group("c1", "g1", for_update=True)
                assert current is not None
                blocked = (*current.privileges.blocked_urls, f"/u{i:02}")
                privileges = attrs.evolve(current.privileges, blocked_urls=blocked)
                storage.accounts.update_group("c1", "g1", {"privileges": privileges})

        _race(work)
        final = storage.accounts.get_group("c1", "g1")
        assert final is not None
        assert sorted(final.privileges.blocked_urls) == [f"/u{i:02}" for i in range(RACERS)]

    def test_for_update_members_keep_last_admin(self, storage: Storage) -> None:
        """16 admins stepping down unless they are the last one: exactly one stays admin."""
        for i in range(RACERS):
            storage.accounts.add_account(_account(i, company_id="c1", admin=True))

        def work(i: int) -> bool:
            with storage.transaction():
                members = storage.accounts.list_members("c1", for_update=True)
                if sum(m.admin for m in members) < 2:
                    return False
                return storage.accounts.update_account(f"acc-{i}", {"admin": False})

        assert _race(work).count(True) == RACERS - 1
        admins = [m.id for m in storage.accounts.list_members("c1") if m.admin]
        assert len(admins) == 1


# -------------------------------------------------------------------------------------------
# processes

_ProcessResult = tuple[int, bool, Any]  # index, whether it worked, outcome or traceback


def _process_worker(
    factory: Callable[[], Storage],
    operation: Callable[[Storage, int], object],
    index: int,
    barrier: Barrier,
    results: Queue[_ProcessResult],
) -> None:
    """Open the storage, wait for the others, run *operation* once; report to *results*."""
    released = False
    try:
        storage = factory()
        barrier.wait(RACE_TIMEOUT)
        released = True
        outcome = operation(storage, index)
    except BaseException:  # reported in the test's process
        if not released:
            barrier.abort()  # the others stop waiting for this one
        results.put((index, False, traceback.format_exc()))
    else:
        results.put((index, True, outcome))


def _race_processes(
    factory: Callable[[], Storage], operation: Callable[[Storage, int], object]
) -> list[Any]:
    """Run *operation* in RACERS spawned processes released together; their outcomes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    results: Queue[_ProcessResult] = context.Queue()
    processes = [
        context.Process(
            target=_process_worker,
            args=(factory, operation, i, barrier, results),
            name=f"contract-race-{i}",
            daemon=True,
        )
        for i in range(RACERS)
    ]
    received: list[_ProcessResult] = []
    deadline = time.monotonic() + RACE_TIMEOUT
    try:
        for process in processes:
            process.start()
        while len(received) < RACERS and time.monotonic() < deadline:
            try:
                received.append(results.get(timeout=0.5))
            except queue.Empty:
                if not any(p.is_alive() for p in processes) and results.empty():
                    break
    finally:
        if len(received) < RACERS:
            barrier.abort()
        for process in processes:
            if process.pid is None:  # never started
                continue
            process.join(max(1.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    failures = [detail for _, worked, detail in received if not worked]
    if failures:
        # the cause, rather than the others' BrokenBarrierError it led to
        first = next((f for f in failures if "BrokenBarrierError" not in f), failures[0])
        pytest.fail(f"{len(failures)} worker process(es) failed; the first:\n{first}")
    if len(received) < RACERS:
        pytest.fail(f"only {len(received)} of {RACERS} worker processes reported")
    return [outcome for _, _, outcome in sorted(received, key=itemgetter(0))]


def _consume_shared_token(storage: Storage, index: int) -> bool:
    return storage.tokens.consume("hash-1") is not None


def _add_shared_account(storage: Storage, index: int) -> bool:
    return storage.accounts.add_account(_account(index, "race@example.com"))


def _charge_shared_group(storage: Storage, index: int) -> bool:
    return storage.accounts.charge_group("c1", "g1", Decimal(30))


def _hit_shared_counter(storage: Storage, index: int) -> int:
    return storage.counters.hit("k", 1000.0, 60.0, 4)


class ProcessContract:
    """16 processes sharing one backend never break a guarantee (``process_safe`` only)."""

    #: Whether the backend's data is shared between processes (as a database is).
    process_safe: ClassVar[bool] = False

    @pytest.fixture
    def storage_factory(self) -> Callable[[], Storage]:
        """Opens the data of ``storage`` in another process: override it with process_safe."""
        raise NotImplementedError(
            f"{type(self).__name__} sets process_safe = True: define a storage_factory fixture "
            "returning a picklable zero-argument callable that opens the storage's data"
        )

    @pytest.fixture
    def shared_storage(self, request: pytest.FixtureRequest) -> Callable[[], Storage]:
        """The storage factory, or a skip when the backend lives in one process."""
        if not self.process_safe:
            pytest.skip(f"{type(self).__name__}.process_safe is False: one process only")
        factory: Callable[[], Storage] = request.getfixturevalue("storage_factory")
        try:
            pickle.dumps(factory)
        except Exception as exc:
            pytest.fail(f"storage_factory must be picklable (spawned processes call it): {exc!r}")
        return factory

    def test_processes_consume_once(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes consuming one token: exactly one gets it."""
        storage.tokens.add(_token(1))
        results = _race_processes(shared_storage, _consume_shared_token)
        assert results.count(True) == 1
        assert storage.tokens.get("hash-1") is None

    def test_processes_add_same_key(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes adding accounts with one email key: exactly one succeeds."""
        results = _race_processes(shared_storage, _add_shared_account)
        assert results.count(True) == 1
        found = storage.accounts.find_account("race@example.com")
        assert found == _account(results.index(True), "race@example.com")

    def test_processes_charge_within_budget(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes charging 30 against a budget of 100: exactly 3 succeed, 90 spent."""
        storage.accounts.add_group(_group("g1", limit=100))
        results = _race_processes(shared_storage, _charge_shared_group)
        assert results.count(True) == 3
        assert _spent(storage) == Decimal(90)

    def test_processes_hit_within_limit(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes hitting one counter with limit 4: exactly 4 are recorded."""
        results = _race_processes(shared_storage, _hit_shared_counter)
        assert sorted(results) == [1, 2, 3, 4] + [5] * (RACERS - 4)
        assert storage.counters.count("k", 1000.0, 60.0) == 4


# -------------------------------------------------------------------------------------------


class StorageContract(
    AccountContract,
    AddressContract,
    CardContract,
    GroupContract,
    TokenContract,
    LoginContract,
    CounterContract,
    TransactionContract,
    ConcurrencyContract,
    ProcessContract,
):
    """Every guarantee of :class:`~wsactions.protocols.Storage`: subclass it as ``Test...``
    and define a ``storage`` fixture returning a fresh, empty storage.

    Set ``process_safe = True`` and define ``storage_factory`` for a backend
    whose data several processes share; the process races are skipped otherwise.
    """
