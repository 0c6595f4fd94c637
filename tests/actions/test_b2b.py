"""Tests for the B2B actions: one class per action, every declared code.

Every refusal asserts the exact errors and that nothing stored changed
(``shop.state()`` before and after, plus the member and group records).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import wsactions
from helpers import PW, assert_fails, log_in
from wsactions import Account, ActionError, PrivilegeGroup, Privileges, rights
from wsactions.testing import Client, Harness

EMP_PW = "Employee passphrase 77 zz"
WEAK = "password123"
ADMIN_ACTIONS: dict[str, dict[str, str]] = {
    "SubAccountCreate": {"email": "new@a.example"},
    "SubAccountDelete": {"memberId": "placeholder"},
    "UpdateSubAccount": {"memberId": "placeholder", "displayName": "X"},
    "UpdatePrivileges": {"privilegeId": "grp-a", "privileges": '{"paymentLimit": 5}'},
    "CreatePrivilegeGroup": {"name": "Buyers"},
    "DeletePrivilegeGroup": {"id": "grp-a"},
}


# helpers -------------------------------------------------------------------------------




def stored(shop: Harness, account: Account | str) -> Account | None:
    """The stored version of *account* (or of the account with that id)."""
    account_id = account if isinstance(account, str) else account.id
    found: Account | None = shop.accounts.get_account(account_id)
    return found


def group_of(shop: Harness, company: str, group_id: str) -> PrivilegeGroup | None:
    """The stored group *group_id* of *company*."""
    found: PrivilegeGroup | None = shop.accounts.get_group(company, group_id)
    return found


def add_group(
    shop: Harness, company: str, group_id: str, kind: str = "account", **privileges: Any
) -> PrivilegeGroup:
    """Store a privilege group of *company* directly."""
    group = PrivilegeGroup(
        id=group_id,
        company_id=company,
        name=group_id,
        type=kind,
        privileges=Privileges(**privileges),
    )
    shop.accounts.add_group(group)
    return group


def query(link: str) -> dict[str, str]:
    """The query of *link* as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def invite(shop: Harness, admin_client: Client, email: str) -> tuple[str, str]:
    """Invite *email* through SubAccountCreate; the member id and the mailed link."""
    result = admin_client.submit("SubAccountCreate", email=email)
    assert result.success, result
    mail = shop.outbox[-1]
    assert mail.purpose == "invitation"
    assert len(mail.links) == 1
    return result.data["memberId"], mail.links[0]


@pytest.fixture
def admin(shop: Harness, alice: Client) -> Account:
    """The admin of company A (its own company), logged in on ``alice``."""
    account = shop.create_account("boss@a.example", PW)
    assert log_in(alice, "boss@a.example").success
    return account


@pytest.fixture
def company(admin: Account) -> str:
    """Company A's id."""
    assert admin.company_id is not None
    return admin.company_id


@pytest.fixture
def group(shop: Harness, company: str) -> PrivilegeGroup:
    """Group ``grp-a`` of company A, no member assigned."""
    return add_group(shop, company, "grp-a", payment_limit=Decimal("100"))


@pytest.fixture
def employee(shop: Harness, company: str) -> Account:
    """A non-admin member of company A with password EMP_PW."""
    return shop.create_account("emp@a.example", EMP_PW, admin=False, company_id=company)


@pytest.fixture
def employee_client(shop: Harness, employee: Account) -> Client:
    """A browser logged in as ``employee``."""
    client = shop.client(client_address="198.51.100.7")
    assert log_in(client, "emp@a.example", EMP_PW).success
    return client


@pytest.fixture
def other(shop: Harness) -> Account:
    """The admin of company B, with an employee and a group ``grp-b``."""
    boss = shop.create_account("boss@b.example", PW)
    assert boss.company_id is not None
    shop.create_account("emp@b.example", EMP_PW, admin=False, company_id=boss.company_id)
    add_group(shop, boss.company_id, "grp-b", payment_limit=Decimal("7"))
    return boss


@pytest.fixture
def other_employee(shop: Harness, other: Account) -> Account:
    """Company B's employee."""
    found: Account | None = shop.accounts.find_account("emp@b.example")
    assert found is not None
    return found


def refused_by_access(
    shop: Harness, client: Client, name: str, fields: dict[str, str], code: str
) -> None:
    """Posting *name* from *client* answers *code* (no field) and changes nothing."""
    before = shop.state()
    assert_fails(client.submit(name, fields), ActionError(code))
    assert shop.state() == before


# SubAccountCreate ----------------------------------------------------------------------


class TestSubAccountCreate:
    def test_success_creates_pending_member_and_mails_invitation(
        self, shop: Harness, alice: Client, admin: Account, company: str
    ) -> None:
        """An invited member belongs to the company, cannot log in and gets the link."""
        result = alice.submit("SubAccountCreate", email=" New.Member@A.example ")
        assert result.success
        assert result.errors == ()
        member = stored(shop, result.data["memberId"])
        assert member is not None
        assert (member.company_id, member.admin) == (company, False)
        assert member.invitation_pending
        assert not member.may_log_in
        assert member.password_hash is None
        assert member.privilege_group_id is None
        assert member.email_key == "new.member@a.example"
        [mail] = shop.outbox
        assert (mail.purpose, mail.to) == ("invitation", member.email)
        [link] = mail.links
        assert link.startswith("https://shop.example/")
        assert link in mail.text
        params = query(link)
        assert params["wsact"] == "AcceptInvitation"
        assert len(params["wsoptin"]) >= 22
        assert log_in(shop.client(), "new.member@a.example").codes == {"invalidCredentials"}

    @pytest.mark.parametrize("email", ["", "   "])
    def test_missing_id(self, shop: Harness, alice: Client, admin: Account, email: str) -> None:
        """An empty email answers missingId and creates nothing."""
        before = shop.state()
        assert_fails(
            alice.submit("SubAccountCreate", email=email), ActionError("missingId", "email")
        )
        assert shop.state() == before

    def test_missing_parameter(self, shop: Harness, alice: Client, admin: Account) -> None:
        """No email parameter at all answers missingId."""
        before = shop.state()
        assert_fails(alice.submit("SubAccountCreate"), ActionError("missingId", "email"))
        assert shop.state() == before

    @pytest.mark.parametrize("email", ["not-an-email", "a@", "a b@example.com", "@a.example"])
    def test_email_check_failed(
        self, shop: Harness, alice: Client, admin: Account, email: str
    ) -> None:
        """An invalid address answers emailCheckFailed and creates nothing."""
        before = shop.state()
        result = alice.submit("SubAccountCreate", email=email)
        assert_fails(result, ActionError("emailCheckFailed", "email"))
        assert shop.state() == before

    @pytest.mark.parametrize("email", ["emp@b.example", "EMP@B.example", "boss@a.example"])
    def test_account_already_exists(
        self, shop: Harness, alice: Client, admin: Account, other: Account, email: str
    ) -> None:
        """An address that has an account (any company, any case) is refused, no mail."""
        existing = shop.accounts.find_account("emp@b.example")
        before = shop.state()
        result = alice.submit("SubAccountCreate", email=email)
        assert_fails(result, ActionError("accountAlreadyExists", "email"))
        assert shop.state() == before
        assert shop.outbox == []
        assert shop.accounts.find_account("emp@b.example") == existing

    def test_unauthorized_for_employee(
        self, shop: Harness, employee: Account, employee_client: Client
    ) -> None:
        """A member without admin rights gets unauthorized."""
        refused_by_access(
            shop, employee_client, "SubAccountCreate", {"email": "x@a.example"}, "unauthorized"
        )
        assert stored(shop, employee) == employee

    def test_not_logged_in(self, shop: Harness, bob: Client, admin: Account) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(shop, bob, "SubAccountCreate", {"email": "x@a.example"}, "notLoggedIn")


# SubAccountDelete ----------------------------------------------------------------------


class TestSubAccountDelete:
    def test_success_deletes_and_ends_sessions(
        self,
        shop: Harness,
        alice: Client,
        employee: Account,
        employee_client: Client,
        other: Account,
    ) -> None:
        """The member is gone and its logged-in session is no longer logged in."""
        other_before = shop.accounts.list_members(other.company_id)
        assert alice.submit("SubAccountDelete", memberId=employee.id).success
        assert stored(shop, employee) is None
        assert shop.accounts.find_account("emp@a.example") is None
        assert employee_client.view().wsAccount.isLoggedIn is False
        assert log_in(shop.client(), "emp@a.example", EMP_PW).codes == {"invalidCredentials"}
        assert shop.accounts.list_members(other.company_id) == other_before

    def test_success_revokes_pending_invitation(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """Deleting an invited member kills its invitation link."""
        member_id, link = invite(shop, alice, "invited@a.example")
        assert alice.submit("SubAccountDelete", memberId=member_id).success
        result = shop.client().follow(link)
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_missing_member_id(
        self, shop: Harness, alice: Client, employee: Account, value: str | None
    ) -> None:
        """No or an empty memberId answers missingMemberId."""
        fields = {} if value is None else {"memberId": value}
        before = shop.state()
        result = alice.submit("SubAccountDelete", fields)
        assert_fails(result, ActionError("missingMemberId", "memberId"))
        assert shop.state() == before
        assert stored(shop, employee) == employee

    def test_invalid_member_id_unknown(
        self, shop: Harness, alice: Client, employee: Account
    ) -> None:
        """An id that does not exist answers invalidMemberId."""
        before = shop.state()
        result = alice.submit("SubAccountDelete", memberId="no-such-member")
        assert_fails(result, ActionError("invalidMemberId", "memberId"))
        assert shop.state() == before

    def test_invalid_member_id_other_company(
        self, shop: Harness, alice: Client, admin: Account, other_employee: Account
    ) -> None:
        """Another company's member answers like an unknown id and stays untouched."""
        before = shop.state()
        result = alice.submit("SubAccountDelete", memberId=other_employee.id)
        assert_fails(result, ActionError("invalidMemberId", "memberId"))
        assert shop.state() == before
        assert stored(shop, other_employee) == other_employee

    def test_deletion_not_allowed_for_self(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """An admin cannot delete its own account here."""
        before = shop.state()
        result = alice.submit("SubAccountDelete", memberId=admin.id)
        assert_fails(result, ActionError("deletionNotAllowed", "memberId"))
        assert shop.state() == before
        assert stored(shop, admin) == admin
        assert alice.view().wsAccount.isLoggedIn

    def test_deletion_not_allowed_for_other_admin(
        self, shop: Harness, alice: Client, company: str
    ) -> None:
        """Another admin of the same company cannot be deleted."""
        co_admin = shop.create_account("co@a.example", PW, admin=True, company_id=company)
        before = shop.state()
        result = alice.submit("SubAccountDelete", memberId=co_admin.id)
        assert_fails(result, ActionError("deletionNotAllowed", "memberId"))
        assert shop.state() == before
        assert stored(shop, co_admin) == co_admin

    def test_unauthorized_for_employee(
        self, shop: Harness, admin: Account, employee_client: Client, company: str
    ) -> None:
        """A member without admin rights cannot delete a colleague."""
        colleague = shop.create_account("col@a.example", PW, admin=False, company_id=company)
        refused_by_access(
            shop, employee_client, "SubAccountDelete", {"memberId": colleague.id}, "unauthorized"
        )
        assert stored(shop, colleague) == colleague

    def test_not_logged_in(self, shop: Harness, bob: Client, employee: Account) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(shop, bob, "SubAccountDelete", {"memberId": employee.id}, "notLoggedIn")
        assert stored(shop, employee) == employee


# UpdateSubAccount ----------------------------------------------------------------------


class TestUpdateSubAccount:
    @pytest.mark.parametrize(
        ("param", "value", "attribute", "expected"),
        [
            ("displayName", "  Jane Doe  ", "display_name", "Jane Doe"),
            ("active", "false", "deactivated", True),
            ("active", " FALSE ", "deactivated", True),
            ("active", "0", "deactivated", True),
            ("admin", "true", "admin", True),
            ("admin", "1", "admin", True),
            ("privilegeGroupId", "grp-a", "privilege_group_id", "grp-a"),
            ("defaultAddressVisibility", "shared", "default_address_visibility", "shared"),
            (
                "allowedSubshops",
                '{"shop1": true, "shop2": 1}',
                "allowed_subshops",
                {"shop1", "shop2"},
            ),
            ("allowedSubshops", '{"shop1": true, "shop2": false}', "allowed_subshops", {"shop1"}),
            ("allowedSubshops", "{}", "allowed_subshops", set()),
            ("allowedSubshops", "null", "allowed_subshops", None),
            ("allowedSubshops", "", "allowed_subshops", None),
        ],
    )
    def test_each_field(
        self,
        shop: Harness,
        alice: Client,
        employee: Account,
        group: PrivilegeGroup,
        param: str,
        value: str,
        attribute: str,
        expected: Any,
    ) -> None:
        """Each parameter changes its own attribute and nothing else."""
        result = alice.submit("UpdateSubAccount", {"memberId": employee.id, param: value})
        assert result.success, result
        after = stored(shop, employee)
        assert after is not None
        assert getattr(after, attribute) == expected
        untouched = {
            "display_name",
            "deactivated",
            "admin",
            "privilege_group_id",
            "default_address_visibility",
            "allowed_subshops",
        } - {attribute}
        for name in untouched:
            assert getattr(after, name) == getattr(employee, name), name

    def test_clearing_group_and_reactivating(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """An empty privilegeGroupId removes the group; active=true reactivates."""
        member = shop.create_account(
            "m@a.example",
            PW,
            admin=False,
            company_id=company,
            privilege_group_id="grp-a",
            deactivated=True,
        )
        result = alice.submit(
            "UpdateSubAccount", memberId=member.id, privilegeGroupId="", active="true"
        )
        assert result.success
        after = stored(shop, member)
        assert after is not None
        assert after.privilege_group_id is None
        assert not after.deactivated
        assert log_in(shop.client(), "m@a.example").success

    @pytest.mark.parametrize(
        ("param", "value"),
        [
            ("active", "yes"),
            ("active", ""),
            ("active", "on"),
            ("admin", "maybe"),
            ("admin", "truee"),
            ("privilegeGroupId", "grp-b"),
            ("privilegeGroupId", "no-such-group"),
            ("defaultAddressVisibility", "public"),
            ("defaultAddressVisibility", "Shared"),
            ("defaultAddressVisibility", ""),
            ("allowedSubshops", '["shop1"]'),
            ("allowedSubshops", '"shop1"'),
            ("allowedSubshops", "not json"),
            ("allowedSubshops", '{"": true}'),
        ],
    )
    def test_invalid_value(
        self,
        shop: Harness,
        alice: Client,
        employee: Account,
        group: PrivilegeGroup,
        other: Account,
        param: str,
        value: str,
    ) -> None:
        """A value outside the allowed set answers invalidValue naming the field."""
        before = shop.state()
        result = alice.submit(
            "UpdateSubAccount", {"memberId": employee.id, "displayName": "Changed", param: value}
        )
        assert_fails(result, ActionError("invalidValue", param))
        assert shop.state() == before
        assert stored(shop, employee) == employee

    def test_invalid_values_reported_together(
        self, shop: Harness, alice: Client, employee: Account
    ) -> None:
        """Every invalid field is named in one answer."""
        before = shop.state()
        result = alice.submit(
            "UpdateSubAccount",
            memberId=employee.id,
            active="x",
            admin="y",
            defaultAddressVisibility="z",
            allowedSubshops="[]",
        )
        assert_fails(
            result,
            ActionError("invalidValue", "active"),
            ActionError("invalidValue", "admin"),
            ActionError("invalidValue", "defaultAddressVisibility"),
            ActionError("invalidValue", "allowedSubshops"),
        )
        assert shop.state() == before

    @pytest.mark.parametrize("value", [None, "", " "])
    def test_missing_member_id(
        self, shop: Harness, alice: Client, admin: Account, value: str | None
    ) -> None:
        """No or an empty memberId answers missingMemberId."""
        fields = {"admin": "true"} if value is None else {"memberId": value, "admin": "true"}
        before = shop.state()
        result = alice.submit("UpdateSubAccount", fields)
        assert_fails(result, ActionError("missingMemberId", "memberId"))
        assert shop.state() == before

    def test_invalid_member_id(
        self, shop: Harness, alice: Client, admin: Account, other_employee: Account
    ) -> None:
        """Unknown ids and other companies' members answer invalidMemberId alike."""
        for member_id in ("no-such-member", other_employee.id):
            before = shop.state()
            result = alice.submit("UpdateSubAccount", memberId=member_id, admin="true")
            assert_fails(result, ActionError("invalidMemberId", "memberId"))
            assert shop.state() == before
        assert stored(shop, other_employee) == other_employee

    def test_self_deactivation_not_allowed(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """An admin cannot deactivate itself and stays logged in."""
        before = shop.state()
        result = alice.submit(
            "UpdateSubAccount", memberId=admin.id, active="false", displayName="Me"
        )
        assert_fails(result, ActionError("selfDeactivationNotAllowed", "active"))
        assert shop.state() == before
        assert stored(shop, admin) == admin
        assert alice.view().wsAccount.isLoggedIn

    def test_self_admin_removal_not_allowed(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """An admin cannot remove its own admin rights."""
        before = shop.state()
        result = alice.submit("UpdateSubAccount", memberId=admin.id, admin="false")
        assert_fails(result, ActionError("selfAdminRemovalNotallowed", "admin"))
        assert shop.state() == before
        assert stored(shop, admin) == admin

    def test_self_update_of_other_fields(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """An admin may change its own other settings (active/admin stay true)."""
        result = alice.submit(
            "UpdateSubAccount", memberId=admin.id, displayName="Boss", active="true", admin="true"
        )
        assert result.success
        after = stored(shop, admin)
        assert after is not None
        assert (after.display_name, after.admin, after.deactivated) == ("Boss", True, False)
        assert alice.view().wsAccount.isLoggedIn

    def test_deactivation_ends_sessions_and_login(
        self, shop: Harness, alice: Client, employee: Account, employee_client: Client
    ) -> None:
        """A deactivated member is logged out at once and its login answers accountInactive."""
        assert employee_client.view().wsAccount.isLoggedIn
        assert alice.submit("UpdateSubAccount", memberId=employee.id, active="false").success
        assert employee_client.view().wsAccount.isLoggedIn is False
        assert log_in(shop.client(), "emp@a.example", EMP_PW).codes == {"accountInactive"}
        assert alice.submit("UpdateSubAccount", memberId=employee.id, active="true").success
        assert employee_client.view().wsAccount.isLoggedIn is False
        assert log_in(shop.client(), "emp@a.example", EMP_PW).success

    def test_deactivation_ends_sessions_for_good(
        self, shop: Harness, alice: Client, employee: Account, employee_client: Client
    ) -> None:
        """Sessions ended by a deactivation stay ended when the member is reactivated."""
        assert alice.submit("UpdateSubAccount", memberId=employee.id, active="false").success
        assert alice.submit("UpdateSubAccount", memberId=employee.id, active="true").success
        assert employee_client.view().wsAccount.isLoggedIn is False
        result = employee_client.submit("accountDisplayNameUpdate", displayName="Still here")
        assert_fails(result, ActionError("notLoggedIn"))

    def test_admin_removal_applies_on_next_request(
        self, shop: Harness, alice: Client, company: str
    ) -> None:
        """A co-admin whose rights are removed gets unauthorized on its next request."""
        shop.create_account("co@a.example", PW, admin=True, company_id=company)
        co = shop.client(client_address="198.51.100.9")
        assert log_in(co, "co@a.example").success
        assert co.submit("SubAccountCreate", email="first@a.example").success
        co_id = shop.accounts.find_account("co@a.example").id
        assert alice.submit("UpdateSubAccount", memberId=co_id, admin="false").success
        before = shop.state()
        result = co.submit("SubAccountCreate", email="second@a.example")
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before
        assert co.view().wsAccount.isLoggedIn
        assert not co.view().wsAccount.isAdmin

    def test_granting_admin_applies_on_next_request(
        self, shop: Harness, alice: Client, employee: Account, employee_client: Client
    ) -> None:
        """A member made admin may use admin actions on its next request."""
        assert employee_client.submit("CreatePrivilegeGroup", name="G").codes == {"unauthorized"}
        assert alice.submit("UpdateSubAccount", memberId=employee.id, admin="true").success
        result = employee_client.submit("CreatePrivilegeGroup", name="G")
        assert result.success
        assert group_of(shop, employee.company_id or "", result.data["id"]) is not None

    def test_unauthorized_for_employee(
        self, shop: Harness, admin: Account, employee: Account, employee_client: Client
    ) -> None:
        """A member without admin rights cannot change anybody (itself included)."""
        for member_id in (employee.id, admin.id):
            refused_by_access(
                shop,
                employee_client,
                "UpdateSubAccount",
                {"memberId": member_id, "admin": "true"},
                "unauthorized",
            )
        assert stored(shop, employee) == employee

    def test_not_logged_in(self, shop: Harness, bob: Client, employee: Account) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(
            shop, bob, "UpdateSubAccount", {"memberId": employee.id, "admin": "true"}, "notLoggedIn"
        )


# AcceptInvitation ----------------------------------------------------------------------


class TestAcceptInvitation:
    def test_success(self, shop: Harness, alice: Client, admin: Account, bob: Client) -> None:
        """Following the link accepts; the token stays valid for the first password."""
        member_id, link = invite(shop, alice, "invited@a.example")
        result = bob.follow(link)
        assert result is not None
        assert result.success
        member = stored(shop, member_id)
        assert member is not None
        assert not member.invitation_pending
        assert member.verified
        assert member.password_hash is None
        view = bob.view()
        assert view.wsOptIn.current.valid
        assert view.wsOptIn.current.purpose == "invitation"
        assert view.wsAccount.isLoggedIn is False

    def test_unauthorized_without_token(
        self, shop: Harness, alice: Client, admin: Account, bob: Client
    ) -> None:
        """No token: a form post is unauthorized; the link with its token removed is not even
        authentic (C40: an opt-in link without a token is refused like a forged form)."""
        invite(shop, alice, "invited@a.example")
        before = shop.state()
        assert_fails(bob.submit("AcceptInvitation"), ActionError("unauthorized"))
        result = bob.follow("https://shop.example/?wsact=AcceptInvitation")
        assert result is not None
        assert_fails(result, ActionError("csrfCheckFailed", "wscsrf"))
        result = bob.follow("https://shop.example/?wsact=AcceptInvitation&wsoptin=forged")
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before

    def test_unauthorized_with_token_of_other_purpose(
        self, shop: Harness, employee: Account, bob: Client
    ) -> None:
        """A password-reset token does not accept invitations and is not used up."""
        assert bob.submit("PasswordForgotten", email="emp@a.example").success
        token = query(shop.outbox[-1].links[0])["wsoptin"]
        before = shop.state()
        result = bob.follow(f"https://shop.example/?wsact=AcceptInvitation&wsoptin={token}")
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before
        assert stored(shop, employee) == employee

    def test_unauthorized_when_expired(
        self, shop: Harness, alice: Client, admin: Account, bob: Client
    ) -> None:
        """The invitation link is valid for its lifetime and not a second longer."""
        _member_id, link = invite(shop, alice, "invited@a.example")
        shop.clock.advance(shop.settings.token_lifetimes.invitation + 1)
        before = shop.state()
        result = bob.follow(link)
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before

    def test_invalid_account_id_when_member_deleted(
        self, shop: Harness, alice: Client, admin: Account, bob: Client
    ) -> None:
        """A token the host issued for an id that is no account answers invalidAccountId.

        (Deleting an account removes its tokens, so only a host-issued token can
        outlive its account.)
        """
        token = wsactions.optin.issue(alice.context(), "no-such-account", "invitation")
        link = wsactions.optin.link(shop.settings, "invitation", token, "AcceptInvitation")
        before = shop.state()
        result = bob.follow(link)
        assert result is not None
        assert_fails(result, ActionError("invalidAccountId"))
        assert shop.state() == before

    def test_action_not_allowed_when_already_accepted(
        self, shop: Harness, alice: Client, admin: Account, bob: Client
    ) -> None:
        """The second acceptance is refused and changes nothing."""
        member_id, link = invite(shop, alice, "invited@a.example")
        accepted = bob.follow(link)
        assert accepted is not None
        assert accepted.success
        record = stored(shop, member_id)
        before = shop.state()
        result = bob.follow(link)
        assert result is not None
        assert_fails(result, ActionError("actionNotAllowed"))
        assert shop.state() == before
        assert stored(shop, member_id) == record

    def test_action_not_allowed_with_other_account_logged_in(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """The admin's own browser (logged in) cannot accept the employee's invitation."""
        member_id, link = invite(shop, alice, "invited@a.example")
        pending = stored(shop, member_id)
        before = shop.state()
        result = alice.follow(link)
        assert result is not None
        assert_fails(result, ActionError("actionNotAllowed"))
        assert shop.state() == before
        assert stored(shop, member_id) == pending
        assert alice.view().wsAccount.id == admin.id

    def test_unauthorized_after_first_password_set(
        self, shop: Harness, alice: Client, admin: Account, bob: Client
    ) -> None:
        """ResetPassword uses the invitation token up: the link is dead afterwards."""
        _member_id, link = invite(shop, alice, "invited@a.example")
        accepted = bob.follow(link)
        assert accepted is not None
        assert accepted.success
        result = bob.submit("ResetPassword", newPassword=EMP_PW, newPasswordRepeat=EMP_PW)
        assert result.success, result
        before = shop.state()
        again = shop.client().follow(link)
        assert again is not None
        assert_fails(again, ActionError("unauthorized"))
        assert shop.state() == before
        assert log_in(shop.client(), "invited@a.example", EMP_PW).success


# CreatePrivilegeGroup ------------------------------------------------------------------


class TestCreatePrivilegeGroup:
    def test_success(self, shop: Harness, alice: Client, company: str) -> None:
        """A new unrestricted group of the admin's company; its id in data."""
        shop.clock.advance(50)
        result = alice.submit("CreatePrivilegeGroup", name="  Purchasing  ")
        assert result.success
        group = group_of(shop, company, result.data["id"])
        assert group is not None
        assert (group.name, group.type, group.company_id) == ("Purchasing", "account", company)
        assert group.privileges == Privileges()
        assert (group.spent, group.budget_since) == (Decimal(0), shop.clock.now())
        second = alice.submit("CreatePrivilegeGroup", name="Purchasing")
        assert second.success
        assert second.data["id"] != result.data["id"]
        assert len(shop.accounts.list_groups(company)) == 2

    @pytest.mark.parametrize("name", [None, "", "   "])
    def test_missing_name(
        self, shop: Harness, alice: Client, admin: Account, name: str | None
    ) -> None:
        """No or an empty name answers missingName."""
        fields = {} if name is None else {"name": name}
        before = shop.state()
        assert_fails(
            alice.submit("CreatePrivilegeGroup", fields), ActionError("missingName", "name")
        )
        assert shop.state() == before

    def test_invalid_name(self, shop: Harness, alice: Client, admin: Account) -> None:
        """Too long or control characters: invalidParameter."""
        for name in ("x" * 201, "a\x07b"):
            before = shop.state()
            result = alice.submit("CreatePrivilegeGroup", name=name)
            assert_fails(result, ActionError("invalidParameter", "name"))
            assert shop.state() == before

    def test_unauthorized_for_employee(
        self, shop: Harness, admin: Account, employee_client: Client
    ) -> None:
        """A member without admin rights cannot create groups."""
        refused_by_access(
            shop, employee_client, "CreatePrivilegeGroup", {"name": "G"}, "unauthorized"
        )

    def test_not_logged_in(self, shop: Harness, bob: Client, admin: Account) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(shop, bob, "CreatePrivilegeGroup", {"name": "G"}, "notLoggedIn")


# UpdatePrivileges ----------------------------------------------------------------------


class TestUpdatePrivileges:
    def test_success_updates_given_fields(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """The keys given replace their fields; the others stay."""
        privileges = (
            '{"allowedPaymentMethods": ["invoice", "prepayment"], "paymentLimitPerOrder": 500,'
            ' "blockedTemplates": ["checkout/*"], "blockedUrls": ["/b2b/admin*"],'
            ' "editableFields": ["displayName", "address"]}'
        )
        result = alice.submit("UpdatePrivileges", privilegeId="grp-a", privileges=privileges)
        assert result.success
        assert result.data["id"] == "grp-a"
        after = group_of(shop, company, "grp-a")
        assert after is not None
        p = after.privileges
        assert p.allowed_payment_methods == frozenset({"invoice", "prepayment"})
        assert p.payment_limit_per_order == Decimal("500")
        assert p.payment_limit == Decimal("100")  # not given: unchanged
        assert p.blocked_templates == ("checkout/*",)
        assert p.blocked_urls == ("/b2b/admin*",)
        assert p.editable_fields == frozenset({"displayName", "address"})
        assert (after.type, after.name) == ("account", "grp-a")

    def test_amounts_are_exact_decimals(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """Amounts are read as Decimal, never through float."""
        privileges = '{"paymentLimitPerOrder": 600.10, "paymentLimit": 0.1}'
        assert alice.submit("UpdatePrivileges", privilegeId="grp-a", privileges=privileges).success
        after = group_of(shop, company, "grp-a")
        assert after is not None
        p = after.privileges
        assert isinstance(p.payment_limit_per_order, Decimal)
        assert str(p.payment_limit_per_order) == "600.10"
        assert p.payment_limit == Decimal("0.1")
        assert str(p.payment_limit) == "0.1"

    def test_setting_payment_limit_resets_budget(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """A new paymentLimit starts a new budget period; other changes keep it."""
        assert shop.accounts.charge_group(company, "grp-a", Decimal("40"))
        shop.clock.advance(3600)
        assert alice.submit("Reauthenticate", password=PW).success  # raising a limit: M44
        assert alice.submit(
            "UpdatePrivileges", privilegeId="grp-a", privileges='{"paymentLimitPerOrder": 50}'
        ).success
        kept = group_of(shop, company, "grp-a")
        assert kept is not None
        assert kept.spent == Decimal("40")
        assert kept.budget_since == 0.0
        current = kept.privileges.payment_limit
        assert alice.submit(
            "UpdatePrivileges", privilegeId="grp-a", privileges=f'{{"paymentLimit": {current}}}'
        ).success
        same = group_of(shop, company, "grp-a")
        assert same is not None
        assert same.spent == Decimal("40")  # the same limit posted again keeps the period
        assert alice.submit(
            "UpdatePrivileges", privilegeId="grp-a", privileges='{"paymentLimit": 150}'
        ).success
        reset = group_of(shop, company, "grp-a")
        assert reset is not None
        assert reset.spent == Decimal(0)
        assert reset.budget_since == shop.clock.now()

    def test_group_name_and_type(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """groupName renames the group; type is stored."""
        result = alice.submit(
            "UpdatePrivileges",
            privilegeId="grp-a",
            type="global",
            privileges='{"groupName": "All"}',
        )
        assert result.success
        after = group_of(shop, company, "grp-a")
        assert after is not None
        assert (after.name, after.type, after.privileges.group_name) == ("All", "global", "All")

    def test_create_missing(self, shop: Harness, alice: Client, company: str) -> None:
        """createMissing=yes creates a group of that id in the admin's company."""
        result = alice.submit(
            "UpdatePrivileges",
            privilegeId="buyers",
            createMissing="yes",
            privileges='{"paymentLimit": 250}',
        )
        assert result.success
        assert result.data["id"] == "buyers"
        created = group_of(shop, company, "buyers")
        assert created is not None
        assert (created.company_id, created.type) == (company, "account")
        assert created.privileges.payment_limit == Decimal("250")

    def test_global_type_makes_group_the_company_default(
        self, shop: Harness, alice: Client, company: str, employee: Account
    ) -> None:
        """type=global makes the group the default of members without a group (latest wins)."""
        for group_id, method in (("first", "invoice"), ("second", "prepayment")):
            result = alice.submit(
                "UpdatePrivileges",
                privilegeId=group_id,
                createMissing="yes",
                type="global",
                privileges=f'{{"allowedPaymentMethods": ["{method}"]}}',
            )
            assert result.success
            member_rights = rights.for_account(shop.accounts, stored(shop, employee))
            assert member_rights.group is not None
            assert member_rights.group.id == group_id
            assert member_rights.may_pay_with(method)

    @pytest.mark.parametrize("value", [None, "", "  "])
    def test_missing_privilege_id(
        self, shop: Harness, alice: Client, admin: Account, value: str | None
    ) -> None:
        """No or an empty privilegeId answers missingPrivilegeId."""
        fields: dict[str, str] = {"createMissing": "yes"}
        if value is not None:
            fields["privilegeId"] = value
        before = shop.state()
        result = alice.submit("UpdatePrivileges", fields)
        assert_fails(result, ActionError("missingPrivilegeId", "privilegeId"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        "fields",
        [
            {"privilegeId": "nope"},
            {"privilegeId": "nope", "createMissing": "no"},
            {"privilegeId": "nope", "createMissing": "YES"},
            {"privilegeId": "no pe", "createMissing": "yes"},
            {"privilegeId": "x" * 65, "createMissing": "yes"},
            {"privilegeId": "grp-b"},
        ],
    )
    def test_invalid_privilege_id(
        self, shop: Harness, alice: Client, admin: Account, other: Account, fields: dict[str, str]
    ) -> None:
        """Unknown (or another company's) group without a valid createMissing."""
        before = shop.state()
        result = alice.submit("UpdatePrivileges", {**fields, "privileges": '{"paymentLimit": 1}'})
        assert_fails(result, ActionError("invalidPrivilegeId", "privilegeId"))
        assert shop.state() == before

    def test_other_company_group_with_create_missing(
        self, shop: Harness, alice: Client, company: str, other: Account
    ) -> None:
        """Another company's group id with createMissing=yes creates a new own group."""
        theirs = group_of(shop, other.company_id or "", "grp-b")
        result = alice.submit(
            "UpdatePrivileges",
            privilegeId="grp-b",
            createMissing="yes",
            privileges='{"paymentLimit": 999}',
        )
        assert result.success
        assert group_of(shop, other.company_id or "", "grp-b") == theirs
        assert theirs is not None
        assert theirs.privileges.payment_limit == Decimal("7")
        mine = group_of(shop, company, "grp-b")
        assert mine is not None
        assert mine.company_id == company
        assert mine.privileges.payment_limit == Decimal("999")

    @pytest.mark.parametrize("kind", ["", "shop", "Global", "ACCOUNT", " global"])
    def test_invalid_type(
        self, shop: Harness, alice: Client, group: PrivilegeGroup, kind: str
    ) -> None:
        """A type other than global/account answers invalidType."""
        before = shop.state()
        result = alice.submit(
            "UpdatePrivileges", privilegeId="grp-a", type=kind, privileges='{"paymentLimit": 1}'
        )
        assert_fails(result, ActionError("invalidType", "type"))
        assert shop.state() == before
        assert group_of(shop, group.company_id, "grp-a") == group

    @pytest.mark.parametrize(
        "privileges",
        [
            "not json",
            "",
            "[]",
            '["paymentLimit", 5]',
            '"text"',
            "5",
            "null",
            '{"unknownKey": 1}',
            '{"paymentLimit": 5, "admin": true}',
            '{"paymentLimit": -1}',
            '{"paymentLimitPerOrder": -0.01}',
            '{"paymentLimit": "100"}',
            '{"paymentLimit": true}',
            '{"paymentLimitPerOrder": false}',
            '{"paymentLimit": NaN}',
            '{"paymentLimit": Infinity}',
            '{"paymentLimit": -Infinity}',
            '{"paymentLimit": 1e13}',
            '{"paymentLimit": [5]}',
            '{"allowedPaymentMethods": [1, 2]}',
            '{"allowedPaymentMethods": ["invoice", null]}',
            '{"allowedPaymentMethods": "invoice"}',
            '{"allowedPaymentMethods": [""]}',
            '{"blockedUrls": [true]}',
            '{"blockedTemplates": {"a": 1}}',
            '{"editableFields": [["address"]]}',
            '{"groupName": 5}',
            '{"groupName": ""}',
            '{"paymentLimit": 1',
        ],
    )
    def test_invalid_privileges(
        self, shop: Harness, alice: Client, group: PrivilegeGroup, privileges: str
    ) -> None:
        """Anything but a JSON object of known keys with valid values: invalidPrivileges."""
        before = shop.state()
        result = alice.submit("UpdatePrivileges", privilegeId="grp-a", privileges=privileges)
        assert_fails(result, ActionError("invalidPrivileges", "privileges"))
        assert shop.state() == before
        assert group_of(shop, group.company_id, "grp-a") == group

    def test_invalid_type_and_privileges_together(
        self, shop: Harness, alice: Client, admin: Account
    ) -> None:
        """Both validation errors are reported; no group is created."""
        before = shop.state()
        result = alice.submit(
            "UpdatePrivileges", privilegeId="new", createMissing="yes", type="x", privileges="[]"
        )
        assert_fails(
            result,
            ActionError("invalidType", "type"),
            ActionError("invalidPrivileges", "privileges"),
        )
        assert shop.state() == before

    def test_unauthorized_for_employee(
        self, shop: Harness, group: PrivilegeGroup, employee_client: Client
    ) -> None:
        """A member without admin rights cannot change privileges."""
        refused_by_access(
            shop,
            employee_client,
            "UpdatePrivileges",
            {"privilegeId": "grp-a", "privileges": '{"paymentLimit": 1000000}'},
            "unauthorized",
        )
        assert group_of(shop, group.company_id, "grp-a") == group

    def test_not_logged_in(self, shop: Harness, bob: Client, group: PrivilegeGroup) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(
            shop,
            bob,
            "UpdatePrivileges",
            {"privilegeId": "grp-a", "createMissing": "yes"},
            "notLoggedIn",
        )


# DeletePrivilegeGroup ------------------------------------------------------------------


class TestDeletePrivilegeGroup:
    def test_success(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup, other: Account
    ) -> None:
        """An unused group of the admin's company is deleted; others stay."""
        theirs = shop.accounts.list_groups(other.company_id)
        assert alice.submit("DeletePrivilegeGroup", id=" grp-a ").success
        assert group_of(shop, company, "grp-a") is None
        assert shop.accounts.list_groups(other.company_id) == theirs

    @pytest.mark.parametrize("value", [None, "", "  "])
    def test_missing_id(
        self, shop: Harness, alice: Client, group: PrivilegeGroup, value: str | None
    ) -> None:
        """No or an empty id answers missingId."""
        fields = {} if value is None else {"id": value}
        before = shop.state()
        assert_fails(alice.submit("DeletePrivilegeGroup", fields), ActionError("missingId", "id"))
        assert shop.state() == before

    def test_invalid_id(
        self, shop: Harness, alice: Client, group: PrivilegeGroup, other: Account
    ) -> None:
        """Unknown ids and other companies' groups answer invalidId alike."""
        theirs = group_of(shop, other.company_id or "", "grp-b")
        for group_id in ("no-such-group", "grp-b"):
            before = shop.state()
            result = alice.submit("DeletePrivilegeGroup", id=group_id)
            assert_fails(result, ActionError("invalidId", "id"))
            assert shop.state() == before
        assert group_of(shop, other.company_id or "", "grp-b") == theirs

    def test_group_has_members(
        self, shop: Harness, alice: Client, company: str, group: PrivilegeGroup
    ) -> None:
        """A group with an assigned member (even a pending one) is kept."""
        member_id, _ = invite(shop, alice, "invited@a.example")
        assert alice.submit(
            "UpdateSubAccount", memberId=member_id, privilegeGroupId="grp-a"
        ).success
        before = shop.state()
        result = alice.submit("DeletePrivilegeGroup", id="grp-a")
        assert_fails(result, ActionError("groupHasMembers", "id"))
        assert shop.state() == before
        assert group_of(shop, company, "grp-a") == group
        assert alice.submit("UpdateSubAccount", memberId=member_id, privilegeGroupId="").success
        assert alice.submit("DeletePrivilegeGroup", id="grp-a").success

    def test_unauthorized_for_employee(
        self, shop: Harness, group: PrivilegeGroup, employee_client: Client
    ) -> None:
        """A member without admin rights cannot delete groups."""
        refused_by_access(
            shop, employee_client, "DeletePrivilegeGroup", {"id": "grp-a"}, "unauthorized"
        )
        assert group_of(shop, group.company_id, "grp-a") == group

    def test_not_logged_in(self, shop: Harness, bob: Client, group: PrivilegeGroup) -> None:
        """Nobody logged in: notLoggedIn."""
        refused_by_access(shop, bob, "DeletePrivilegeGroup", {"id": "grp-a"}, "notLoggedIn")


# B2B switched off ----------------------------------------------------------------------


class TestB2BDisabled:
    @pytest.mark.parametrize("name", sorted(ADMIN_ACTIONS))
    def test_admin_actions_unauthorized(self, name: str) -> None:
        """With b2b_enabled=False even a company admin gets unauthorized."""
        shop = Harness(b2b_enabled=False)
        boss = shop.create_account("boss@a.example", PW)
        assert boss.company_id is not None
        member = shop.create_account("m@a.example", PW, admin=False, company_id=boss.company_id)
        add_group(shop, boss.company_id, "grp-a")
        client = shop.client()
        assert log_in(client, "boss@a.example").success
        fields = dict(ADMIN_ACTIONS[name])
        if "memberId" in fields:
            fields["memberId"] = member.id
        before = shop.state()
        assert_fails(client.submit(name, fields), ActionError("unauthorized"))
        assert shop.state() == before
        assert client.view().wsAccount.isLoggedIn
