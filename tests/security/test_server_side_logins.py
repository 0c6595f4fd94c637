"""S21, S22, S39: logins are records on the server; a copied cookie dies with its login."""

from __future__ import annotations

from decimal import Decimal

import pytest

import wsactions
from helpers import PW
from wsactions import PrivilegeGroup, Privileges, rights
from wsactions.testing import Client, Harness

NEW_PW = "a brand new passphrase 99"


def logged_in(shop: Harness, email: str, client_address: str = "203.0.113.10") -> Client:
    client = shop.client(client_address=client_address)
    assert client.submit("Login", id=email, password=PW).success
    return client


def copy_of(shop: Harness, client: Client) -> Client:
    """Another browser holding a copy of *client*'s session cookie."""
    thief = shop.client(client_address="198.51.100.66")
    thief.cookie.update(client.cookie)
    return thief


def assert_logged_out(shop: Harness, thief: Client) -> None:
    """The copy is logged out: the view says so, and an action is refused, changing nothing."""
    assert not thief.view().wsAccount.isLoggedIn
    before = shop.state()
    result = thief.submit("accountDisplayNameUpdate", displayName="Mallory")
    assert result.codes == {"notLoggedIn"}
    assert shop.state() == before


@pytest.fixture
def ann(shop: Harness) -> Client:
    shop.create_account("ann@example.com", PW)
    return logged_in(shop, "ann@example.com")


def test_s21_copied_cookie_works_before_logout(shop: Harness, ann: Client) -> None:
    """A copy of a logged-in cookie is logged in (it is the same login) until it ends."""
    thief = copy_of(shop, ann)
    assert thief.view().wsAccount.isLoggedIn


def test_s21_logout_ends_a_copied_cookie(shop: Harness, ann: Client) -> None:
    """Logout ends the login on the server: a cookie copied before is logged out."""
    thief = copy_of(shop, ann)
    result = ann.follow(ann.url("Logout"))
    assert result is not None
    assert result.success
    assert_logged_out(shop, thief)
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert shop.logins.list_logins(account.id) == []


def test_s22_password_change_ends_a_copied_cookie(shop: Harness, ann: Client) -> None:
    """A logged-in password change ends every login, copies included."""
    thief = copy_of(shop, ann)
    other = logged_in(shop, "ann@example.com", "203.0.113.99")
    assert ann.submit(
        "ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW, passwordAuth=PW
    ).success
    assert_logged_out(shop, thief)
    assert_logged_out(shop, other)


def test_s22_password_reset_by_link_ends_a_copied_cookie(shop: Harness, ann: Client) -> None:
    """A reset through the mailed link ends every login of the account."""
    thief = copy_of(shop, ann)
    owner = shop.client()
    assert owner.submit("PasswordForgotten", email="ann@example.com").success
    owner.follow(shop.outbox[-1].links[0])
    assert owner.submit("ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW).success
    assert_logged_out(shop, thief)
    assert_logged_out(shop, ann)


def test_s23_deletion_ends_a_copied_cookie(shop: Harness, ann: Client) -> None:
    """Deleting the account removes its logins: a copy is logged out."""
    thief = copy_of(shop, ann)
    assert ann.submit("AccountDelete").success
    assert_logged_out(shop, thief)


def test_s22_email_change_ends_other_logins(shop: Harness, ann: Client) -> None:
    """Confirming a new address ends the other logins; the confirming session stays."""
    other = logged_in(shop, "ann@example.com", "203.0.113.99")
    assert ann.submit("EmailUpdate", email="new@example.com").success
    link = next(m.links[0] for m in shop.outbox if m.purpose == "email_update")
    result = ann.follow(link)
    assert result is not None
    assert result.success
    assert ann.view().wsAccount.email == "new@example.com"
    assert_logged_out(shop, other)


def test_s22_deactivation_ends_the_members_logins(shop: Harness) -> None:
    """An admin's deactivation ends the member's logins on the server."""
    boss = shop.create_account("boss@a.example", PW)
    member = shop.create_account("emp@a.example", PW, company_id=boss.company_id, admin=False)
    employee = logged_in(shop, "emp@a.example")
    admin = logged_in(shop, "boss@a.example")
    assert admin.submit("UpdateSubAccount", memberId=member.id, active="false").success
    assert shop.logins.list_logins(member.id) == []
    assert_logged_out(shop, employee)


def test_s39_host_lists_logins(shop: Harness, ann: Client) -> None:
    """The host lists an account's logins: when made, last seen and from where."""
    logged_in(shop, "ann@example.com", "192.0.2.7")
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    found = wsactions.logins.list_logins(shop.storage, account.id)
    assert [login.client_address for login in found] == ["203.0.113.10", "192.0.2.7"]
    assert all(login.created_at == login.last_seen == shop.clock.now() for login in found)
    assert all(login.account_id == account.id for login in found)


def test_s39_view_marks_the_current_login(shop: Harness, ann: Client) -> None:
    """``wsAccount.logins`` lists the logins and marks the one of this browser."""
    other = logged_in(shop, "ann@example.com", "192.0.2.7")
    view = other.view().wsAccount.logins
    assert [(v.clientAddress, v.current) for v in view] == [
        ("203.0.113.10", False),
        ("192.0.2.7", True),
    ]
    assert not shop.client().view().wsAccount.logins


def test_s39_host_ends_one_login(shop: Harness, ann: Client) -> None:
    """Ending one login logs out that browser (and its copies) and no other."""
    other = logged_in(shop, "ann@example.com", "192.0.2.7")
    thief = copy_of(shop, other)
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    mine = wsactions.logins.current_login_id(other.session)
    assert mine is not None
    assert wsactions.logins.end_login(shop.storage, account.id, mine)
    assert_logged_out(shop, other)
    assert_logged_out(shop, thief)
    assert ann.view().wsAccount.isLoggedIn


def test_s39_host_cannot_end_another_accounts_login(shop: Harness, ann: Client) -> None:
    """A login id of another account is refused and ends nothing."""
    shop.create_account("bob@example.com", PW)
    bob = shop.accounts.find_account("bob@example.com")
    assert bob is not None
    theirs = wsactions.logins.current_login_id(ann.session)
    assert theirs is not None
    assert not wsactions.logins.end_login(shop.storage, bob.id, theirs)
    assert ann.view().wsAccount.isLoggedIn


def test_s39_host_ends_every_other_login(shop: Harness, ann: Client) -> None:
    """``end_all(keep=session)`` ends every login but the one of that session."""
    others = [logged_in(shop, "ann@example.com", f"192.0.2.{i}") for i in range(3)]
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert wsactions.logins.end_all(shop.storage, account.id, keep=ann.session) == 3
    assert ann.view().wsAccount.isLoggedIn
    for other in others:
        assert_logged_out(shop, other)
    assert wsactions.logins.end_all(shop.storage, account.id) == 1
    assert_logged_out(shop, ann)


def test_s39_last_seen_written_at_most_once_a_minute(shop: Harness, ann: Client) -> None:
    """A login's last_seen moves with use, at most once a minute."""
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    [login] = shop.logins.list_logins(account.id)
    shop.clock.advance(30)
    assert ann.view().wsAccount.isLoggedIn
    assert shop.logins.list_logins(account.id)[0].last_seen == login.last_seen
    shop.clock.advance(31)
    assert ann.view().wsAccount.isLoggedIn
    assert shop.logins.list_logins(account.id)[0].last_seen == shop.clock.now()


def test_s39_session_without_login_record_is_logged_out(shop: Harness) -> None:
    """A session that names an account but no login record is not logged in."""
    account = shop.create_account("ann@example.com", PW)
    client = shop.client()
    client.session.log_in(account.id, account.security_stamp)
    assert not client.view().wsAccount.isLoggedIn
    assert wsactions.current_account(client.context()) is None


def test_current_account_is_public(shop: Harness, ann: Client) -> None:
    """``wsactions.current_account`` answers the logged-in account, as every request sees it."""
    found = wsactions.current_account(ann.context())
    assert found is not None
    assert found.email == "ann@example.com"
    assert shop.current_account(ann) == found


class TestCompanyDeletion:
    """Deleting the last admin of a company ends the company: no orphan can log in."""

    def test_last_admin_deletion_ends_the_company(self, shop: Harness) -> None:
        """The owner's deletion removes every member and group; their logins end."""
        boss = shop.create_account("boss@a.example", PW)
        company = boss.company_id or ""
        shop.create_account("emp@a.example", PW, company_id=company, admin=False)
        assert shop.accounts.add_group(PrivilegeGroup(id="grp", company_id=company, name="g"))
        employee = logged_in(shop, "emp@a.example")
        owner = logged_in(shop, "boss@a.example")
        assert owner.submit("AccountDelete").success
        assert shop.accounts.list_members(company) == []
        assert shop.accounts.list_groups(company) == []
        assert_logged_out(shop, employee)
        result = shop.client().submit("Login", id="emp@a.example", password=PW)
        assert result.codes == {"invalidCredentials"}

    def test_company_with_another_admin_stays(self, shop: Harness) -> None:
        """With another admin left, only the deleted account goes."""
        boss = shop.create_account("boss@a.example", PW)
        company = boss.company_id or ""
        shop.create_account("boss2@a.example", PW, company_id=company, admin=True)
        shop.create_account("emp@a.example", PW, company_id=company, admin=False)
        owner = logged_in(shop, "boss@a.example")
        assert owner.submit("AccountDelete").success
        assert [m.email for m in shop.accounts.list_members(company)] == [
            "boss2@a.example",
            "emp@a.example",
        ]
        assert logged_in(shop, "emp@a.example").view().wsAccount.isLoggedIn

    def test_employee_deletion_leaves_the_company(self, shop: Harness) -> None:
        """An employee deleting its own account removes only that account."""
        boss = shop.create_account("boss@a.example", PW)
        company = boss.company_id or ""
        shop.create_account("emp@a.example", PW, company_id=company, admin=False)
        assert logged_in(shop, "emp@a.example").submit("AccountDelete").success
        assert [m.email for m in shop.accounts.list_members(company)] == ["boss@a.example"]


class TestRefund:
    """A cancelled order gives its budget back (within the current budget period)."""

    @pytest.fixture
    def member(self, shop: Harness) -> rights.MemberRights:
        boss = shop.create_account("boss@a.example", PW)
        company = boss.company_id or ""
        emp = shop.create_account("emp@a.example", PW, company_id=company, admin=False)
        assert shop.accounts.add_group(
            PrivilegeGroup(
                id="grp",
                company_id=company,
                name="g",
                privileges=Privileges(payment_limit=Decimal(100)),
                budget_since=shop.clock.now(),
            )
        )
        shop.accounts.update_account(emp.id, {"privilege_group_id": "grp"})
        employee = shop.accounts.get_account(emp.id)
        return rights.for_account(shop.accounts, employee)

    def test_refund_gives_budget_back(self, shop: Harness, member: rights.MemberRights) -> None:
        """After a refund the same amount can be ordered again."""
        charged_at = shop.clock.now()
        assert member.record_order(Decimal(80))
        assert not member.record_order(Decimal(30))
        assert member.refund_order(Decimal(80), charged_at=charged_at)
        assert member.record_order(Decimal(30))

    def test_refund_never_below_zero(self, shop: Harness, member: rights.MemberRights) -> None:
        """Refunding more than was spent leaves nothing spent, not a credit."""
        charged_at = shop.clock.now()
        assert member.record_order(Decimal(10))
        assert member.refund_order(Decimal(50), charged_at=charged_at)
        group = shop.accounts.get_group(member.group.company_id, "grp")  # type: ignore[union-attr]
        assert group is not None
        assert group.spent == 0
        assert not member.record_order(Decimal("100.01"))

    def test_refund_of_an_earlier_period_changes_nothing(
        self, shop: Harness, member: rights.MemberRights
    ) -> None:
        """An order charged before the budget period began is not refunded into it."""
        assert member.record_order(Decimal(60))
        group = member.group
        assert group is not None
        shop.clock.advance(10)
        assert shop.accounts.restart_budget(group.company_id, group.id, shop.clock.now())
        assert member.record_order(Decimal(40))
        assert not member.refund_order(Decimal(60), charged_at=shop.clock.now() - 10)
        stored = shop.accounts.get_group(group.company_id, group.id)
        assert stored is not None
        assert stored.spent == Decimal(40)

    def test_refund_refuses_bad_amounts(self, member: rights.MemberRights) -> None:
        """Negative or non-Decimal amounts raise ValueError like check_order."""
        with pytest.raises(ValueError, match="Decimal"):
            member.refund_order(Decimal(-1), charged_at=0)
