"""A30: B2B access control as a role × action matrix, self-elevation and rights changes.

Deny by default; members act only inside their own company; no self-elevation;
changes to rights take effect on the next request. (ASVS 8.2.1, 8.3.2, 8.4.1)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from helpers import PW
from wsactions import Account, ActionError, PrivilegeGroup, Privileges, default_registry, rights
from wsactions.testing import Client, Harness

EMP_PW = "Employee passphrase 77 zz"

OK = "success"
OWN = "success in own company only"

ROLES = ("anonymous", "employee", "admin A", "admin B")

#: What each role gets for each B2B action aimed at company A's objects.
#: AcceptInvitation is run with the invitation link of a pending member of A.
MATRIX: dict[str, dict[str, str]] = {
    "SubAccountCreate": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": OWN,
    },
    "SubAccountDelete": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": "invalidMemberId",
    },
    "UpdateSubAccount": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": "invalidMemberId",
    },
    "AcceptInvitation": {
        "anonymous": OK,
        "employee": "actionNotAllowed",
        "admin A": "actionNotAllowed",
        "admin B": "actionNotAllowed",
    },
    "UpdatePrivileges": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": "invalidPrivilegeId",
    },
    "CreatePrivilegeGroup": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": OWN,
    },
    "DeletePrivilegeGroup": {
        "anonymous": "notLoggedIn",
        "employee": "unauthorized",
        "admin A": OK,
        "admin B": "invalidId",
    },
}

B2B_ACTIONS = tuple(MATRIX)
ALL_ACTIONS = tuple(spec.name for spec in default_registry().actions)


@attrs.define
class World:
    """Two companies: A (admin, employee, target member, pending invitee, groups) and B."""

    shop: Harness
    admin_a: Account
    employee: Account
    target: Account
    invitee_id: str
    invitation: str
    admin_b: Account
    clients: dict[str, Client]

    @property
    def company_a(self) -> str:
        """Company A's id."""
        return self.admin_a.company_id or ""

    @property
    def company_b(self) -> str:
        """Company B's id."""
        return self.admin_b.company_id or ""


def build_world() -> World:
    """A fresh shop with companies A and B and a browser per role."""
    shop = Harness()
    admin_a = shop.create_account("boss@a.example", PW)
    company_a = admin_a.company_id or ""
    shop.accounts.add_group(
        PrivilegeGroup(
            id="grp-staff",
            company_id=company_a,
            name="Staff",
            privileges=Privileges(editable_fields=frozenset(), payment_limit=Decimal("100")),
        )
    )
    shop.accounts.add_group(PrivilegeGroup(id="grp-free", company_id=company_a, name="Unused"))
    employee = shop.create_account(
        "emp@a.example", EMP_PW, admin=False, company_id=company_a, privilege_group_id="grp-staff"
    )
    target = shop.create_account("target@a.example", PW, admin=False, company_id=company_a)
    admin_b = shop.create_account("boss@b.example", PW)
    clients = {role: shop.client(client_address=f"198.51.100.{i}") for i, role in enumerate(ROLES)}
    for role, email, password in (
        ("employee", "emp@a.example", EMP_PW),
        ("admin A", "boss@a.example", PW),
        ("admin B", "boss@b.example", PW),
    ):
        assert clients[role].submit("Login", id=email, password=password).success
    invited = clients["admin A"].submit("SubAccountCreate", email="invitee@a.example")
    assert invited.success
    [link] = shop.outbox[-1].links
    return World(
        shop=shop,
        admin_a=admin_a,
        employee=employee,
        target=target,
        invitee_id=invited.data["memberId"],
        invitation=link,
        admin_b=admin_b,
        clients=clients,
    )


def company_state(shop: Harness, company: str) -> dict[str, Any]:
    """Everything stored that belongs to *company*: members, their addresses/tokens, groups."""
    snap = shop.storage.snapshot()
    members = {k: v for k, v in snap["accounts"].items() if v.company_id == company}
    return {
        "members": members,
        "addresses": {k: v for k, v in snap["addresses"].items() if k in members},
        "tokens": {k: v for k, v in snap["tokens"].items() if v.account_id in members},
        "groups": snap["groups"].get(company, {}),
    }


def fields_for(world: World, action: str) -> dict[str, str]:
    """The form of *action* aimed at company A's objects."""
    return {
        "SubAccountCreate": {"email": "fresh@a.example"},
        "SubAccountDelete": {"memberId": world.target.id},
        "UpdateSubAccount": {"memberId": world.target.id, "admin": "true", "active": "false"},
        "AcceptInvitation": {},
        "UpdatePrivileges": {
            "privilegeId": "grp-staff",
            "type": "global",
            "privileges": '{"paymentLimit": 1000000, "editableFields": ["address"]}',
        },
        "CreatePrivilegeGroup": {"name": "Intruders"},
        "DeletePrivilegeGroup": {"id": "grp-free"},
    }[action]


def run(world: World, role: str, action: str) -> Any:
    """Perform *action* as *role*; the ActionResult."""
    client = world.clients[role]
    if action == "AcceptInvitation":
        return client.follow(world.invitation)
    return client.submit(action, fields_for(world, action))


def assert_effect(world: World, action: str, actor: Account | None) -> None:
    """The successful *action* did what it says, in the actor's company only."""
    shop, a = world.shop, world.company_a
    if action == "SubAccountCreate":
        created = shop.accounts.find_account("fresh@a.example")
        assert created is not None
        assert actor is not None
        assert created.company_id == actor.company_id
        assert created.invitation_pending
        assert not created.admin
    elif action == "SubAccountDelete":
        assert shop.accounts.get_account(world.target.id) is None
    elif action == "UpdateSubAccount":
        target = shop.accounts.get_account(world.target.id)
        assert target is not None
        assert target.admin
        assert target.deactivated
    elif action == "AcceptInvitation":
        invitee = shop.accounts.get_account(world.invitee_id)
        assert invitee is not None
        assert not invitee.invitation_pending
    elif action == "UpdatePrivileges":
        group = shop.accounts.get_group(a, "grp-staff")
        assert group is not None
        assert group.privileges.payment_limit == Decimal("1000000")
        assert group.type == "global"
    elif action == "CreatePrivilegeGroup":
        assert actor is not None
        names = [g.name for g in shop.accounts.list_groups(actor.company_id or "")]
        assert names.count("Intruders") == 1
    elif action == "DeletePrivilegeGroup":
        assert shop.accounts.get_group(a, "grp-free") is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", B2B_ACTIONS)
def test_a30_role_action_matrix(action: str, role: str) -> None:
    """Each role gets exactly the tabled answer; refusals leave company A untouched."""
    world = build_world()
    shop = world.shop
    expected = MATRIX[action][role]
    actor = {"admin A": world.admin_a, "admin B": world.admin_b, "employee": world.employee}.get(
        role
    )
    before_all = shop.state()
    before_a = company_state(shop, world.company_a)
    result = run(world, role, action)
    assert result is not None
    assert result.name == action
    if expected == OK:
        assert result.success, result.errors
        assert_effect(world, action, actor)
    elif expected == OWN:
        assert result.success, result.errors
        assert company_state(shop, world.company_a) == before_a
        assert_effect(world, action, actor)
    else:
        assert not result.success
        field = {
            "invalidMemberId": "memberId",
            "invalidPrivilegeId": "privilegeId",
            "invalidId": "id",
        }.get(expected)
        assert result.errors == (ActionError(expected, field),)
        assert shop.state() == before_all
        assert company_state(shop, world.company_a) == before_a


def test_a30_matrix_covers_every_b2b_action() -> None:
    """The table names every registered B2B action and every role."""
    b2b = {spec.name for spec in default_registry().actions if spec.family == "b2b"}
    assert set(MATRIX) == b2b
    assert all(set(row) == set(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize("role", ROLES)
def test_a30_accept_invitation_without_token(role: str) -> None:
    """AcceptInvitation without a token is unauthorized for every role."""
    world = build_world()
    before = world.shop.state()
    result = world.clients[role].submit("AcceptInvitation")
    assert result.errors == (ActionError("unauthorized"),)
    assert world.shop.state() == before


@pytest.mark.parametrize("action", [a for a in B2B_ACTIONS if a != "AcceptInvitation"])
def test_a30_admin_flag_without_company_is_refused(action: str) -> None:
    """An admin flag on an account without a company grants nothing: unauthorized, no crash."""
    shop = Harness()
    shop.create_account("loose@example.com", PW, admin=True, company_id=None)
    client = shop.client()
    assert client.submit("Login", id="loose@example.com", password=PW).success
    before = shop.state()
    result = client.submit(
        action,
        {"email": "x@example.com", "memberId": "m", "name": "n", "id": "g", "privilegeId": "g"},
    )
    assert result.errors == (ActionError("unauthorized"),)
    assert shop.state() == before


ELEVATION_FORM = {
    "memberId": "{self}",
    "admin": "true",
    "active": "true",
    "privilegeGroupId": "",
    "privilegeId": "grp-staff",
    "createMissing": "yes",
    "type": "global",
    "privileges": '{"paymentLimit": 1000000, "editableFields": ["address", "displayName"]}',
    "name": "Mine",
    "id": "grp-staff",
    "email": "emp@a.example",
    "displayName": "Boss",
    "customerData.admin": "true",
    "customerData.companyId": "other",
    "session.admin": "true",
    "session.account_id": "{admin}",
}


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_a30_no_self_elevation(action: str) -> None:
    """No action lets an employee make itself admin, leave its group or widen its rights."""
    world = build_world()
    shop, client = world.shop, world.clients["employee"]
    staff_before = shop.accounts.get_group(world.company_a, "grp-staff")
    form = {
        key: value.replace("{self}", world.employee.id).replace("{admin}", world.admin_a.id)
        for key, value in ELEVATION_FORM.items()
    }
    client.submit(action, form)
    me = shop.accounts.get_account(world.employee.id)
    if me is not None:  # AccountDelete may remove it, which is no elevation
        assert not me.admin
        assert me.company_id == world.company_a
        assert me.privilege_group_id == "grp-staff"
    assert shop.accounts.get_group(world.company_a, "grp-staff") == staff_before
    admins = [m.id for m in shop.accounts.list_members(world.company_a) if m.admin]
    assert admins == [world.admin_a.id]
    view = client.view()
    assert not view.wsAccount.isAdmin
    assert view.wsAccount.id in (None, world.employee.id)
    assert view.wsAccount.members == ()
    assert view.wsAccount.privilegeGroups == ()
    member_rights = rights.for_request(client.context())
    if member_rights.account is not None:
        assert member_rights.group == staff_before
        assert not member_rights.may_edit("displayName")


def test_a30_rights_change_next_request() -> None:
    """Group and role changes apply to the member's very next request, both ways."""
    world = build_world()
    shop, boss, emp = world.shop, world.clients["admin A"], world.clients["employee"]
    assert not rights.for_request(emp.context()).may_edit("displayName")
    result = emp.submit("accountDisplayNameUpdate", displayName="Emp")
    assert result.errors == (ActionError("fieldNotEditable", "displayName"),)

    assert boss.submit(
        "UpdatePrivileges",
        privilegeId="grp-staff",
        privileges='{"editableFields": ["displayName"]}',
    ).success
    assert rights.for_request(emp.context()).may_edit("displayName")
    assert emp.submit("accountDisplayNameUpdate", displayName="Emp").success

    assert rights.for_request(emp.context()).check_order(Decimal("100")) is None
    assert boss.submit(
        "UpdatePrivileges", privilegeId="grp-staff", privileges='{"paymentLimitPerOrder": 10}'
    ).success
    assert rights.for_request(emp.context()).check_order(Decimal("11")) == "paymentLimitPerOrder"

    assert boss.submit("UpdateSubAccount", memberId=world.employee.id, privilegeGroupId="").success
    assert rights.for_request(emp.context()).group is None
    assert rights.for_request(emp.context()).check_order(Decimal("11")) is None

    assert emp.submit("CreatePrivilegeGroup", name="G").errors == (ActionError("unauthorized"),)
    assert boss.submit("UpdateSubAccount", memberId=world.employee.id, admin="true").success
    assert emp.view().wsAccount.isAdmin
    assert emp.submit("CreatePrivilegeGroup", name="G").success
    assert boss.submit("UpdateSubAccount", memberId=world.employee.id, admin="false").success
    before = shop.state()
    assert emp.submit("CreatePrivilegeGroup", name="H").errors == (ActionError("unauthorized"),)
    assert shop.state() == before
    assert emp.view().wsAccount.privilegeGroups == ()

    assert boss.submit("UpdateSubAccount", memberId=world.employee.id, active="false").success
    assert emp.view().wsAccount.isLoggedIn is False
    assert emp.submit("accountDisplayNameUpdate", displayName="X").errors == (
        ActionError("notLoggedIn"),
    )


def test_a30_subshop_change_next_request() -> None:
    """A narrowed allowedSubshops ends sessions in other subshops and refuses new logins."""
    world = build_world()
    shop, boss = world.shop, world.clients["admin A"]
    member = shop.client(client_address="198.51.100.99", subshop="shop3")
    assert member.submit("Login", id="emp@a.example", password=EMP_PW).success
    assert rights.for_request(member.context()).subshop_allowed("shop3")
    result = boss.submit(
        "UpdateSubAccount", memberId=world.employee.id, allowedSubshops='{"shop1": true}'
    )
    assert result.success
    assert not member.view().wsAccount.isLoggedIn  # its session in shop3 ended
    member_rights = rights.for_account(shop.accounts, shop.accounts.get_account(world.employee.id))
    assert not member_rights.subshop_allowed("shop3")
    assert member_rights.subshop_allowed("shop1")
    again = shop.client(client_address="198.51.100.98", subshop="shop3")
    login = again.submit("Login", id="emp@a.example", password=EMP_PW)
    assert login.errors == (ActionError("subshopNotAllowed"),)
