"""The contract of :class:`~wsactions.protocols.Storage` itself: units of work, threads
racing through them, and processes racing on shared data; and :class:`StorageContract`,
every guarantee of every protocol at once."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest

from ...models import GroupDeletion, Privileges
from ...protocols import Storage
from ._races import RACE_TIMEOUT, RACERS, _race, _race_processes, _worker_pool
from ._records import (
    Aborted,
    _abort_after,
    _account,
    _address,
    _card,
    _group,
    _ids,
    _login,
    _members_of,
    _owners,
    _spent,
    _token,
    _types,
)
from .account_records import AccountRecordsContract
from .address_book import AddressBookContract
from .card_vault import CardVaultContract
from .company_directory import CompanyDirectoryContract
from .counter_store import CounterStoreContract
from .login_store import LoginStoreContract
from .passkey_store import PasskeyStoreContract
from .requirements import CapabilityChecks, requires
from .token_store import TokenStoreContract

__all__ = ["ConcurrencyContract", "ProcessContract", "StorageContract", "TransactionContract"]


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


class TransactionContract(CapabilityChecks):
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


class ConcurrencyContract(CapabilityChecks):
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

    def test_concurrent_charges_in_a_new_period_respect_budget(self, storage: Storage) -> None:
        """16 charges of 30 in a new period of a budget of 100 that was spent up in the last
        one: exactly 3 succeed, 90 spent, the period's start recorded once."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(100)))
        results = _race(
            lambda i: storage.accounts.charge_group("c1", "g1", Decimal(30), period_start=500.0)
        )
        assert results.count(True) == 3
        group = storage.accounts.get_group("c1", "g1")
        assert group is not None
        assert (group.spent, group.budget_since) == (Decimal(90), 500.0)

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


def _consume_shared_token(storage: Storage, index: int) -> bool:
    return storage.tokens.consume("hash-1") is not None


def _add_shared_account(storage: Storage, index: int) -> bool:
    return storage.accounts.add_account(_account(index, "race@example.com"))


def _charge_shared_group(storage: Storage, index: int) -> bool:
    return storage.accounts.charge_group("c1", "g1", Decimal(30))


def _hit_shared_counter(storage: Storage, index: int) -> int:
    return storage.counters.hit("k", 1000.0, 60.0, 4)


class ProcessContract(CapabilityChecks):
    """16 processes sharing one backend never break a guarantee (``process_safe`` only).

    The processes are the workers of one pool, spawned once per test session
    and reused by every race; each race opens the storage afresh in each of
    them and releases all 16 together.
    """

    @pytest.fixture
    def storage_factory(self) -> Callable[[], Storage]:
        """Opens the data of ``storage`` in another process: override it with process_safe."""
        raise NotImplementedError(
            f"{type(self).__name__} declares process_safe: define a storage_factory fixture "
            "returning a picklable zero-argument callable that opens the storage's data"
        )

    @pytest.fixture
    def shared_storage(self, request: pytest.FixtureRequest) -> Callable[[], Storage]:
        """The storage factory, checked to be picklable; the session's worker pool started."""
        factory: Callable[[], Storage] = request.getfixturevalue("storage_factory")
        try:
            pickle.dumps(factory)
        except Exception as exc:
            pytest.fail(f"storage_factory must be picklable (worker processes call it): {exc!r}")
        _worker_pool(request.config)
        return factory

    @requires("process_safe")
    def test_processes_consume_once(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes consuming one token: exactly one gets it."""
        storage.tokens.add(_token(1))
        results = _race_processes(shared_storage, _consume_shared_token)
        assert results.count(True) == 1
        assert storage.tokens.get("hash-1") is None

    @requires("process_safe")
    def test_processes_add_same_key(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes adding accounts with one email key: exactly one succeeds."""
        results = _race_processes(shared_storage, _add_shared_account)
        assert results.count(True) == 1
        found = storage.accounts.find_account("race@example.com")
        assert found == _account(results.index(True), "race@example.com")

    @requires("process_safe")
    def test_processes_charge_within_budget(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes charging 30 against a budget of 100: exactly 3 succeed, 90 spent."""
        storage.accounts.add_group(_group("g1", limit=100))
        results = _race_processes(shared_storage, _charge_shared_group)
        assert results.count(True) == 3
        assert _spent(storage) == Decimal(90)

    @requires("process_safe")
    def test_processes_hit_within_limit(
        self, storage: Storage, shared_storage: Callable[[], Storage]
    ) -> None:
        """16 processes hitting one counter with limit 4: exactly 4 are recorded."""
        results = _race_processes(shared_storage, _hit_shared_counter)
        assert sorted(results) == [1, 2, 3, 4] + [5] * (RACERS - 4)
        assert storage.counters.count("k", 1000.0, 60.0) == 4


# -------------------------------------------------------------------------------------------


class StorageContract(
    AccountRecordsContract,
    AddressBookContract,
    CardVaultContract,
    CompanyDirectoryContract,
    TokenStoreContract,
    LoginStoreContract,
    PasskeyStoreContract,
    CounterStoreContract,
    TransactionContract,
    ConcurrencyContract,
    ProcessContract,
):
    """Every guarantee of :class:`~wsactions.protocols.Storage`: subclass it as ``Test...``
    and define a ``storage`` fixture returning a fresh, empty storage.

    For a backend whose data several processes share, declare
    ``requirements = Requirements(process_safe=True)`` and define
    ``storage_factory``; the process races are skipped otherwise.
    """
