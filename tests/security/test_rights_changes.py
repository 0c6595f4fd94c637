"""Security tests for session renewal on rights changes and enumeration in B2B and guest paths."""

from __future__ import annotations

from helpers import PW
from wsactions import ActionError, GuestCheckout
from wsactions.testing import Client, Harness


def _log_in(shop: Harness, email: str) -> Client:
    client = shop.client()
    assert client.submit("Login", id=email, password=PW).success
    return client


def test_s20_rights_change_gives_member_a_new_session_id() -> None:
    """After an admin changes a member's rights, its session gets a new id (CSRF binding)."""
    shop = Harness()
    boss_account = shop.create_account("boss@example.com", PW)
    member = shop.create_account(
        "emp@example.com", PW, admin=False, company_id=boss_account.company_id
    )
    boss, emp = _log_in(shop, "boss@example.com"), _log_in(shop, "emp@example.com")
    stale = emp.create("accountDisplayNameUpdate")
    binding = emp.session.csrf_binding(create=False)
    assert boss.submit("UpdateSubAccount", memberId=member.id, admin="true").success

    assert emp.view().wsAccount.isAdmin  # still logged in, with the new right
    assert emp.session.csrf_binding(create=False) != binding
    form = {"wsact": stale.id, "wscsrf": stale.csrf, "displayName": "X"}
    assert emp.post(form).errors == (ActionError("csrfCheckFailed", "wscsrf"),)
    assert emp.submit("CreatePrivilegeGroup", name="G").success


def test_s20_group_privilege_change_renews_member_sessions() -> None:
    """Changing a group's privileges renews the sessions of the group's members."""
    shop = Harness()
    boss_account = shop.create_account("boss@example.com", PW)
    company = boss_account.company_id
    boss = _log_in(shop, "boss@example.com")
    assert boss.submit("UpdatePrivileges", privilegeId="g", createMissing="yes").success
    shop.create_account(
        "emp@example.com", PW, admin=False, company_id=company, privilege_group_id="g"
    )
    emp = _log_in(shop, "emp@example.com")
    binding = emp.session.csrf_binding(create=False)
    assert boss.submit(
        "UpdatePrivileges", privilegeId="g", privileges='{"editableFields": []}'
    ).success
    assert emp.view().wsAccount.isLoggedIn
    assert emp.session.csrf_binding(create=False) != binding


def test_e28_sub_account_create_hides_taken_addresses() -> None:
    """With enumeration_protection SubAccountCreate answers alike for taken and free addresses."""
    shop = Harness(enumeration_protection=True)
    shop.create_account("boss@example.com", PW)
    shop.create_account("taken@example.com", PW)
    boss = _log_in(shop, "boss@example.com")
    before = shop.state()
    taken = boss.submit("SubAccountCreate", email="taken@example.com")
    assert shop.state() == before
    free = boss.submit("SubAccountCreate", email="free@example.com")
    assert (taken.success, taken.errors, dict(taken.data)) == (True, (), {})
    assert (free.success, free.errors, dict(free.data)) == (True, (), {})
    assert [m.to for m in shop.outbox] == ["free@example.com"]


def test_e28_guest_register_hides_taken_addresses() -> None:
    """With enumeration_protection GuestRegister answers success and mails the owner a notice."""
    shop = Harness(enumeration_protection=True)
    shop.create_account("taken@example.com", PW)
    guest = shop.client()
    guest.session.set_guest_checkout(GuestCheckout(email="taken@example.com"))
    before = shop.state()
    result = guest.submit("GuestRegister", guestMail="x", password=PW, passwordRepeat=PW)
    assert result.success
    assert shop.state()["accounts"] == before["accounts"]
    assert [(m.to, m.purpose) for m in shop.outbox] == [("taken@example.com", "account_exists")]
    assert guest.session.guest_checkout is None


def test_a36_password_reset_never_accepts_a_pending_invitation() -> None:
    """A pending invitation answers PasswordForgotten like an unknown address: no link that
    could accept it (only the invitation's own link does)."""
    shop = Harness()
    shop.create_account("boss@example.com", PW)
    boss = _log_in(shop, "boss@example.com")
    assert boss.submit("SubAccountCreate", email="emp@example.com").success
    emp = shop.client()
    mails = len(shop.outbox)
    before = shop.state()["accounts"], shop.state()["tokens"]
    result = emp.submit("PasswordForgotten", email="emp@example.com")
    unknown = shop.client().submit("PasswordForgotten", email="nobody@example.com")
    assert result.codes == unknown.codes == {"passwordRecoveryFailed"}
    assert len(shop.outbox) == mails
    assert (shop.state()["accounts"], shop.state()["tokens"]) == before


def test_s20_deleting_the_company_default_group_renews_sessions() -> None:
    """Deleting the global group changes the rights of members without a group: new session id."""
    shop = Harness()
    boss_account = shop.create_account("boss@example.com", PW)
    boss = _log_in(shop, "boss@example.com")
    assert boss.submit(
        "UpdatePrivileges", privilegeId="g", createMissing="yes", type="global"
    ).success
    shop.create_account("emp@example.com", PW, admin=False, company_id=boss_account.company_id)
    emp = _log_in(shop, "emp@example.com")
    binding = emp.session.csrf_binding(create=False)
    assert boss.submit("DeletePrivilegeGroup", id="g").success
    assert emp.view().wsAccount.isLoggedIn
    assert emp.session.csrf_binding(create=False) != binding


def test_s20_unchanged_group_renews_nothing() -> None:
    """UpdatePrivileges that changes nothing leaves the members' sessions as they are."""
    shop = Harness()
    boss_account = shop.create_account("boss@example.com", PW)
    boss = _log_in(shop, "boss@example.com")
    assert boss.submit("UpdatePrivileges", privilegeId="g", createMissing="yes").success
    shop.create_account(
        "emp@example.com",
        PW,
        admin=False,
        company_id=boss_account.company_id,
        privilege_group_id="g",
    )
    emp = _log_in(shop, "emp@example.com")
    binding = emp.session.csrf_binding(create=False)
    assert boss.submit("UpdatePrivileges", privilegeId="g").success
    assert emp.view().wsAccount.isLoggedIn
    assert emp.session.csrf_binding(create=False) == binding
