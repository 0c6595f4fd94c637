"""B2B journeys end to end: the employee invitation, and the budget under concurrent orders."""

from __future__ import annotations

import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from helpers import PW
from wsactions import ActionError, PrivilegeGroup, Privileges, rights
from wsactions.testing import Harness

EMP_PW = "Employee passphrase 77 zz"
WEAK = "password123"


def test_invitation_journey(shop: Harness) -> None:
    """Admin invites, the employee accepts, sets its first password and logs in."""
    shop.create_account("boss@a.example", PW)
    boss = shop.client(client_address="203.0.113.1")
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    assert boss.view().wsAccount.isAdmin

    created = boss.submit("SubAccountCreate", email="Jane.Doe@A.example")
    assert created.success
    member_id = created.data["memberId"]
    assert [m.id for m in boss.view().wsAccount.members][-1] == member_id

    [mail] = shop.outbox
    assert mail.purpose == "invitation"
    assert mail.to == "Jane.Doe@a.example"
    [link] = mail.links
    assert link in mail.text
    assert link.startswith("https://shop.example/")
    assert parse_qs(urlsplit(link).query)["wsact"] == ["AcceptInvitation"]

    jane = shop.client(client_address="198.51.100.50")
    login = jane.submit("Login", id="jane.doe@a.example", password=EMP_PW)
    assert login.errors == (ActionError("invalidCredentials"),)

    accepted = jane.follow(link)
    assert accepted is not None
    assert accepted.name == "AcceptInvitation"
    assert accepted.success
    view = jane.view()
    assert view.wsActions.current.name == "AcceptInvitation"
    assert view.wsActions.current.success
    assert view.wsOptIn.current.valid
    assert view.wsOptIn.current.purpose == "invitation"
    assert not view.wsAccount.isLoggedIn
    login = shop.client().submit("Login", id="jane.doe@a.example", password=EMP_PW)
    assert login.errors == (ActionError("invalidCredentials"),)

    before = shop.state()
    weak = jane.submit("ResetPassword", newPassword=WEAK, newPasswordRepeat=WEAK)
    assert not weak.success
    assert [e.code for e in weak.errors] == ["passwordCheckFailed"]
    assert weak.errors[0].field == "newPassword"
    assert shop.state() == before
    assert jane.view().wsOptIn.current.valid

    first = jane.submit("ResetPassword", newPassword=EMP_PW, newPasswordRepeat=EMP_PW)
    assert first.success, first.errors
    assert not jane.view().wsOptIn.current.valid
    stored = shop.accounts.get_account(member_id)
    assert stored is not None
    assert not stored.invitation_pending
    assert stored.may_log_in
    assert not stored.admin

    again = shop.client().follow(link)
    assert again is not None
    assert again.errors == (ActionError("unauthorized"),)

    jane.leave()
    assert jane.submit("Login", id="jane.doe@a.example", password=EMP_PW).success
    account = jane.view().wsAccount
    assert account.isLoggedIn
    assert account.id == member_id
    assert not account.isAdmin
    assert jane.submit("SubAccountCreate", email="x@a.example").errors == (
        ActionError("unauthorized"),
    )


def test_invitation_can_be_skipped_to_first_password(shop: Harness) -> None:
    """ResetPassword with the invitation token alone also accepts the invitation."""
    shop.create_account("boss@a.example", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    assert boss.submit("SubAccountCreate", email="jane@a.example").success
    token = parse_qs(urlsplit(shop.outbox[-1].links[0]).query)["wsoptin"][0]
    jane = shop.client(client_address="198.51.100.51")
    jane.optin = token
    assert jane.submit("ResetPassword", newPassword=EMP_PW, newPasswordRepeat=EMP_PW).success
    jane.leave()
    assert jane.submit("Login", id="jane@a.example", password=EMP_PW).success


# the budget under concurrent orders -------------------------------------------------------


def _race(amount: Decimal, threads: int = 16) -> tuple[list[bool], Decimal]:
    """*threads* concurrent record_order(amount) calls against a 100 budget."""
    shop = Harness()
    boss = shop.create_account("boss@a.example", PW)
    company = boss.company_id or ""
    shop.accounts.add_group(
        PrivilegeGroup(
            id="grp",
            company_id=company,
            name="Buyers",
            privileges=Privileges(
                payment_limit=Decimal("100"), payment_limit_per_order=Decimal("100")
            ),
        )
    )
    member = shop.create_account(
        "buyer@a.example", EMP_PW, admin=False, company_id=company, privilege_group_id="grp"
    )
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def order() -> None:
        member_rights = rights.for_account(shop.accounts, member)
        barrier.wait()
        outcome = member_rights.record_order(amount)
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=order) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    group = shop.accounts.get_group(company, "grp")
    assert group is not None
    return results, group.spent


@pytest.mark.parametrize(
    ("amount", "winners", "spent"),
    [(Decimal("60"), 1, Decimal("60")), (Decimal("30"), 3, Decimal("90"))],
)
def test_budget_race(amount: Decimal, winners: int, spent: Decimal) -> None:
    """Concurrent orders never spend the same remaining budget twice."""
    results, total = _race(amount)
    assert len(results) == 16
    assert results.count(True) == winners
    assert results.count(False) == 16 - winners
    assert total == spent
