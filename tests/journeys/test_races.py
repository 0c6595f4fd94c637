"""Races through the engine: 16 threads released together, the invariant holds every time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from helpers import PW
from wsactions import ActionResult, PrivilegeGroup, Privileges, RateLimit, rights
from wsactions.security import passwords
from wsactions.testing import Client, Harness

WRONG = "not the password at all 7"
T = TypeVar("T")
ROUNDS = range(5)


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run *work(i)* in *count* threads released at the same moment; the results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def logged_in(shop: Harness, email: str) -> Client:
    client = shop.client()
    assert client.submit("Login", id=email, password=PW).success
    return client


@pytest.mark.parametrize("round_", ROUNDS)
def test_token_consumed_once(round_: int) -> None:
    """16 browsers follow one verification link: it verifies exactly once."""
    shop = Harness()
    clients = [shop.client(client_address=f"198.51.100.{i}") for i in range(16)]
    assert clients[0].submit(
        "AccountRegister", email="ann@example.com", password=PW, passwordRepeat=PW
    ).success
    [link] = shop.outbox[-1].links
    results = race(16, lambda i: clients[i].follow(link))
    assert sum(1 for r in results if r is not None and r.success) == 1


@pytest.mark.parametrize("round_", ROUNDS)
def test_same_address_registers_once(round_: int) -> None:
    """16 registrations of one address from 16 clients: exactly one account."""
    shop = Harness()
    clients = [shop.client(client_address=f"198.51.100.{i}") for i in range(16)]
    results = race(
        16,
        lambda i: clients[i].submit(
            "AccountRegister", email="Ann@Example.com", password=PW, passwordRepeat=PW
        ),
    )
    assert sum(r.success for r in results) == 1
    assert {c for r in results for c in r.codes} <= {"accountAlreadyExists", "tooManyRequests"}
    assert shop.accounts.find_account("ann@example.com") is not None


@pytest.mark.parametrize("round_", ROUNDS)
def test_budget_charge_vs_privilege_edit(round_: int) -> None:
    """Orders and privilege edits at once: the budget is never overspent, no charge is lost."""
    shop = Harness()
    boss = shop.create_account("boss@a.example", PW)
    company = boss.company_id or ""
    member = shop.create_account("emp@a.example", PW, company_id=company, admin=False)
    assert shop.accounts.add_group(
        PrivilegeGroup(
            id="grp", company_id=company, name="grp", privileges=Privileges(payment_limit=100)
        )
    )
    shop.accounts.update_account(member.id, {"privilege_group_id": "grp"})
    employee = shop.accounts.get_account(member.id)
    admin = logged_in(shop, "boss@a.example")

    def work(i: int) -> bool | ActionResult:
        if i % 2:
            return rights.for_account(shop.accounts, employee).record_order(Decimal(30))
        return admin.submit(
            "UpdatePrivileges", privilegeId="grp", privileges=f'{{"blockedUrls": ["/x{i}"]}}'
        )

    results = race(16, work)
    charged = sum(1 for r in results if r is True)
    group = shop.accounts.get_group(company, "grp")
    assert group is not None
    assert charged == 3
    assert group.spent == Decimal(30) * charged


@pytest.mark.parametrize("round_", ROUNDS)
def test_group_delete_vs_assignment(round_: int) -> None:
    """Group deletion races 15 assignments: no member is left in a deleted group."""
    shop = Harness()
    boss = shop.create_account("boss@a.example", PW)
    company = boss.company_id or ""
    members = [
        shop.create_account(f"emp{i}@a.example", PW, company_id=company, admin=False)
        for i in range(15)
    ]
    assert shop.accounts.add_group(PrivilegeGroup(id="grp", company_id=company, name="grp"))
    admins = [logged_in(shop, "boss@a.example") for _ in range(16)]

    def work(i: int) -> ActionResult:
        if i == 0:
            return admins[0].submit("DeletePrivilegeGroup", id="grp")
        return admins[i].submit(
            "UpdateSubAccount", memberId=members[i - 1].id, privilegeGroupId="grp"
        )

    results = race(16, work)
    exists = shop.accounts.get_group(company, "grp") is not None
    assigned = [m for m in shop.accounts.list_members(company) if m.privilege_group_id == "grp"]
    assert exists or not assigned
    assert results[0].success is not exists


@pytest.mark.parametrize("round_", ROUNDS)
def test_parallel_wrong_passwords_checked_at_most_limit(
    round_: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 parallel wrong passwords with a limit of 4: at most 4 passwords are checked."""
    shop = Harness(login_throttle=RateLimit(limit=4, window=900))
    shop.create_account("ann@example.com", PW)
    checked = 0
    lock = threading.Lock()
    real_verify = passwords.Hasher.verify

    def counting(self: passwords.Hasher, password_hash: str | None, password: str) -> bool:
        nonlocal checked
        with lock:
            checked += 1
        return real_verify(self, password_hash, password)

    monkeypatch.setattr(passwords.Hasher, "verify", counting)
    clients = [shop.client(client_address=f"198.51.100.{i}") for i in range(12)]
    results = race(12, lambda i: clients[i].submit("Login", id="ann@example.com", password=WRONG))
    assert checked <= 4
    assert sum(r.codes == {"invalidCredentials"} for r in results) == 4
    assert sum(r.codes == {"loginBlocked"} for r in results) == 8
    assert shop.client().submit("Login", id="ann@example.com", password=PW).codes == {
        "loginBlocked"
    }
    assert len([m for m in shop.outbox if m.purpose == "unlock"]) == 1


def test_current_password_check_is_throttled() -> None:
    """ResetPassword's current-password check stops answering at the login limit."""
    shop = Harness(login_throttle=RateLimit(limit=5, window=900))
    shop.create_account("ann@example.com", PW)
    ann = logged_in(shop, "ann@example.com")
    new = "a brand new passphrase 99"

    def change(current: str) -> ActionResult:
        return ann.submit(
            "ResetPassword", newPassword=new, newPasswordRepeat=new, passwordAuth=current
        )

    codes = [change(f"{WRONG} {i}").codes for i in range(5)]
    assert codes == [{"failedPasswordAuth"}] * 5
    before = shop.state()
    assert change(PW).codes == {"tooManyRequests"}  # the right one is no longer checked
    assert shop.state() == before
    shop.clock.advance(901)
    assert change(PW).success


def _enrolled(shop: Harness) -> tuple[str, str]:
    """An account with TOTP on: (account id, secret)."""
    import pyotp

    shop.create_account("totp@example.com", PW)
    owner = logged_in(shop, "totp@example.com")
    secret = owner.submit("TotpSetup").data["secret"]
    assert owner.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now())).success
    account = shop.accounts.find_account("totp@example.com")
    assert account is not None
    return account.id, secret


def _pending(shop: Harness, account_id: str, count: int) -> list[Client]:
    """*count* browsers whose login of *account_id* waits for its second factor (as the
    password step leaves it)."""
    browsers = [shop.client() for _ in range(count)]
    for browser in browsers:
        browser.session.set_pending_login((account_id, shop.clock.now() + 300, 0))
    return browsers


@pytest.mark.parametrize("round_", ROUNDS)
def test_race_second_factor_guesses_are_throttled_exactly(round_: int) -> None:
    """16 wrong codes at once against the account's limit of 10: exactly 10 are judged
    (invalidCode), 6 answer loginBlocked; none logs in (M42 under threads)."""
    shop = Harness(login_throttle=RateLimit(limit=10, window=900))
    account_id, _ = _enrolled(shop)
    browsers = _pending(shop, account_id, 16)
    results = race(16, lambda i: browsers[i].submit("LoginSecondFactor", code="000000"))
    codes = sorted(code for r in results for code in r.codes)
    assert codes == ["invalidCode"] * 10 + ["loginBlocked"] * 6
    assert not any(r.success for r in results)


@pytest.mark.parametrize("round_", ROUNDS)
def test_race_one_code_logs_in_once(round_: int) -> None:
    """The same valid code from 16 browsers at once: exactly one login (the step is spent
    inside the unit of work, under the account's lock)."""
    import pyotp

    shop = Harness(login_throttle=RateLimit(limit=100, window=900))
    account_id, secret = _enrolled(shop)
    shop.clock.advance(30)
    browsers = _pending(shop, account_id, 16)
    code = pyotp.TOTP(secret).at(shop.clock.now())
    results = race(16, lambda i: browsers[i].submit("LoginSecondFactor", code=code))
    assert sum(r.success for r in results) == 1
    assert all(r.success or r.codes == {"invalidCode"} for r in results)
    assert len(shop.logins.list_logins(account_id)) == 2  # the owner's and the one new
