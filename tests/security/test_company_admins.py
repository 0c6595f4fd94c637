"""Attack run 3, findings 1 and 6: a company always keeps an admin who can act, also when
two admins demote each other at once (on PostgreSQL with threads and with processes)."""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections.abc import Callable
from queue import Empty
from typing import Any

import pytest

import sqlstores
from helpers import PW
from wsactions.backends.sql import SqlStorage
from wsactions.errors import StorageConflictError
from wsactions.models import Account
from wsactions.protocols import Storage
from wsactions.testing import Client, Harness

ROUNDS = 20
#: PostgreSQL looks for a deadlock after this long (its default, 1 s, makes a round slow).
QUICK_DEADLOCKS = {"options": "-c deadlock_timeout=50ms"}


def _company(shop: Harness) -> tuple[Account, Account, Account]:
    """An owner, a co-admin and an employee of one company."""
    owner = shop.create_account("owner@example.com", PW)
    company = {"company_id": owner.company_id}
    co_admin = shop.create_account("co@example.com", PW, admin=True, **company)
    employee = shop.create_account("employee@example.com", PW, admin=False, **company)
    return owner, co_admin, employee


def _logged_in(shop: Harness, account: Account) -> Client:
    client = shop.client()
    stored = shop.accounts.get_account(account.id)
    assert stored is not None
    shop.log_in(client, stored)
    return client


def _usable_admins(storage: Storage, company: str) -> list[str]:
    return [m.id for m in storage.accounts.list_members(company) if m.acts_as_admin]


@pytest.mark.parametrize(
    "disable",
    [
        {"active": "false"},
        {"allowedSubshops": "{}"},
    ],
    ids=["deactivated", "no-subshop"],
)
def test_attack3_1_owner_leaving_after_disabling_co_admin_ends_company(
    shop: Harness, disable: dict[str, str]
) -> None:
    """An admin who cannot act does not count: the owner's deletion ends the company."""
    owner, co_admin, employee = _company(shop)
    boss = _logged_in(shop, owner)
    staff = _logged_in(shop, employee)
    assert boss.submit("UpdateSubAccount", memberId=co_admin.id, **disable).success

    assert boss.submit("AccountDelete").success

    assert shop.accounts.list_members(owner.company_id or "") == []
    assert shop.accounts.get_account(employee.id) is None
    assert shop.current_account(staff) is None
    assert staff.submit("Login", id="employee@example.com", password=PW).codes == {
        "invalidCredentials"
    }


def test_attack3_1_admin_with_pending_invitation_does_not_count(shop: Harness) -> None:
    """An invited admin who never accepted cannot act: the owner's deletion ends the company."""
    owner, co_admin, employee = _company(shop)
    boss = _logged_in(shop, owner)
    assert boss.submit("SubAccountDelete", memberId=co_admin.id).codes == {"deletionNotAllowed"}
    assert boss.submit("UpdateSubAccount", memberId=co_admin.id, admin="false").success
    invited = boss.submit("SubAccountCreate", email="invited@example.com")
    assert invited.success
    member = invited.data["memberId"]
    assert boss.submit("UpdateSubAccount", memberId=member, admin="true").success

    assert boss.submit("AccountDelete").success

    assert shop.accounts.get_account(member) is None
    assert shop.accounts.get_account(employee.id) is None
    assert shop.accounts.get_account(co_admin.id) is None


def test_attack3_1_owner_leaving_with_a_usable_co_admin_keeps_company(shop: Harness) -> None:
    """With another admin who can act, only the leaving account goes."""
    owner, co_admin, employee = _company(shop)
    boss = _logged_in(shop, owner)

    assert boss.submit("AccountDelete").success

    assert shop.accounts.get_account(owner.id) is None
    assert {m.id for m in shop.accounts.list_members(owner.company_id or "")} == {
        co_admin.id,
        employee.id,
    }
    assert _usable_admins(shop.storage, owner.company_id or "") == [co_admin.id]


def test_attack3_1_optin_deletion_of_last_usable_admin_ends_company() -> None:
    """The confirmed deletion (by mailed link) applies the same rule."""
    shop = Harness(delete_requires_confirmation=True)
    owner, co_admin, employee = _company(shop)
    boss = _logged_in(shop, owner)
    assert boss.submit("UpdateSubAccount", memberId=co_admin.id, active="false").success
    assert boss.submit("AccountDelete").data == {"confirmationSent": True}

    boss.follow(shop.outbox[-1].links[0])

    assert shop.accounts.get_account(employee.id) is None
    assert shop.accounts.get_account(co_admin.id) is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"active": "false"}, "selfDeactivationNotAllowed"),
        ({"admin": "false"}, "selfAdminRemovalNotallowed"),
        ({"allowedSubshops": "{}"}, "selfDeactivationNotAllowed"),
    ],
)
def test_attack3_1_last_usable_admin_cannot_disable_itself(
    shop: Harness, change: dict[str, str], code: str
) -> None:
    """The acting admin is the one admin who surely can act: it cannot take that away."""
    owner, co_admin, _ = _company(shop)
    boss = _logged_in(shop, owner)
    assert boss.submit("UpdateSubAccount", memberId=co_admin.id, active="false").success
    before = shop.state()

    result = boss.submit("UpdateSubAccount", memberId=owner.id, **change)

    assert result.codes == {code}
    assert shop.state() == before


# 6: mutual demotion ------------------------------------------------------------------------


class _ConflictOnce:
    """A storage whose units of work, after the first *after* (the prepare step's short
    transaction of the mail throttles), lose a deadlock at their end *conflicts* times."""

    def __init__(self, storage: Storage, conflicts: int, after: int = 1) -> None:
        self._storage = storage
        self.conflicts = conflicts
        self.after = after
        self.units = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def transaction(self) -> Any:
        outer = self

        class _Unit:
            def __enter__(self) -> None:
                self._inner = outer._storage.transaction()
                self._inner.__enter__()

            def __exit__(self, *exc: Any) -> bool:
                outer.units += 1
                if exc[0] is None and outer.conflicts and outer.units > outer.after:
                    outer.conflicts -= 1
                    error = StorageConflictError("deadlock detected")
                    self._inner.__exit__(type(error), error, None)
                    raise error
                return bool(self._inner.__exit__(*exc))

        return _Unit()


def test_attack3_6_a_unit_of_work_that_lost_a_deadlock_runs_again() -> None:
    """The engine runs a unit of work the database ended once more: one effect, one mail."""
    shop = Harness()
    owner, _, _ = _company(shop)
    boss = _logged_in(shop, owner)
    flaky = _ConflictOnce(shop.storage, conflicts=2)
    shop.storage = flaky  # type: ignore[assignment]

    result = boss.submit("SubAccountCreate", email="new@example.com")

    assert result.success
    assert flaky.units == 4  # the throttles' transaction, then three runs of the unit
    assert [m.to for m in shop.outbox] == ["new@example.com"]
    assert len(shop.accounts.list_members(owner.company_id or "")) == 4


def test_attack3_6_a_unit_of_work_that_keeps_losing_reaches_the_host() -> None:
    """After three lost runs the conflict reaches the host (a 503); nothing was kept."""
    shop = Harness()
    owner, _, _ = _company(shop)
    boss = _logged_in(shop, owner)
    before = shop.state()
    shop.storage = _ConflictOnce(shop.storage, conflicts=3)  # type: ignore[assignment]

    with pytest.raises(StorageConflictError):
        boss.submit("SubAccountCreate", email="new@example.com")

    shop.storage = shop.storage._storage  # type: ignore[attr-defined]
    assert shop.state() == before


def _demote(client: Client, member: str) -> tuple[bool, list[str]]:
    """Success and codes of one demotion, or what it raised, as picklable values."""
    try:
        result = client.submit("UpdateSubAccount", memberId=member, admin="false")
    except Exception as error:  # reported by _check_round
        return False, [f"raised {type(error).__name__}: {error}"]
    return result.success, sorted(result.codes)


def _check_round(answers: list[Any], storage: Storage, company: str) -> None:
    for success, codes in answers:
        assert success or codes == ["unauthorized"], codes  # an answer, never an exception
    assert [success for success, _ in answers].count(True) == 1
    assert len(_usable_admins(storage, company)) == 1


def _promote_both(storage: Storage, ids: tuple[str, str], round_: int) -> None:
    for account_id in ids:
        storage.accounts.update_account(
            account_id, {"admin": True, "rights_stamp": f"round-{round_}"}
        )


def test_attack3_6_mutual_demotion_threads_postgresql(request: pytest.FixtureRequest) -> None:
    """20 rounds of two admins demoting each other at once, in two threads on PostgreSQL:
    each request gets an answer, and one admin who can act is always left."""
    schema = sqlstores.postgres_storage()
    storage = SqlStorage(schema.url, schema=schema.schema, connect_args=QUICK_DEADLOCKS)
    request.addfinalizer(storage.close)
    shop = Harness(storage=storage)
    owner, co_admin, _ = _company(shop)
    company = owner.company_id or ""
    a, b = _logged_in(shop, owner), _logged_in(shop, co_admin)

    def run(barrier: threading.Barrier, answers: list[Any], i: int, by: Client, to: str) -> None:
        barrier.wait(10)
        answers[i] = _demote(by, to)

    for round_ in range(ROUNDS):
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]
        threads = [
            threading.Thread(target=run, args=(barrier, results, 0, a, co_admin.id)),
            threading.Thread(target=run, args=(barrier, results, 1, b, owner.id)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        _check_round(results, shop.storage, company)
        _promote_both(shop.storage, (owner.id, co_admin.id), round_)


def _demoting_worker(
    factory: Callable[[], Storage],
    cookie: dict[str, Any],
    member: str,
    barrier: Any,
    results: Any,
) -> None:
    """Demote *member* once per round, as the admin logged in to *cookie*."""
    shop = Harness(storage=factory())
    client = shop.client()
    client.cookie.update(cookie)
    for _ in range(ROUNDS):
        barrier.wait(60)
        results.put(_demote(client, member))
        barrier.wait(60)  # the parent checks and promotes both again


def test_attack3_6_mutual_demotion_processes_postgresql(request: pytest.FixtureRequest) -> None:
    """The same 20 rounds with two processes (each its own pool of connections)."""
    schema = sqlstores.postgres_storage()
    storage = SqlStorage(schema.url, schema=schema.schema, connect_args=QUICK_DEADLOCKS)
    request.addfinalizer(storage.close)
    shop = Harness(storage=storage)
    owner, co_admin, _ = _company(shop)
    company = owner.company_id or ""
    a, b = _logged_in(shop, owner), _logged_in(shop, co_admin)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    factory = functools.partial(
        SqlStorage, schema.url, schema=schema.schema, connect_args=QUICK_DEADLOCKS
    )
    workers = [
        context.Process(
            target=_demoting_worker,
            args=(factory, dict(client.cookie), member, barrier, results),
            daemon=True,
        )
        for client, member in ((a, co_admin.id), (b, owner.id))
    ]
    for worker in workers:
        worker.start()
    try:
        for round_ in range(ROUNDS):
            barrier.wait(120)
            answers: list[Any] = []
            for _ in workers:
                try:
                    answers.append(results.get(timeout=60))
                except Empty:
                    pytest.fail(f"round {round_}: a worker gave no answer")
            _check_round(answers, storage, company)
            _promote_both(storage, (owner.id, co_admin.id), round_)
            barrier.wait(60)
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
