"""Numbered security requirements on the paths other files test without the number."""

from __future__ import annotations

from helpers import PW
from wsactions import ActionError
from wsactions.testing import Client, Harness


def _admin_with_member(shop: Harness) -> tuple[Client, str]:
    boss_account = shop.create_account("boss@example.com", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@example.com", password=PW).success
    assert boss_account.company_id is not None
    result = boss.submit("SubAccountCreate", email="emp@example.com")
    return boss, result.data["memberId"]


def test_p3_employee_first_password_refuses_common_and_context() -> None:
    """An employee's first password follows the policy: common and context words are weak."""
    shop = Harness()
    _admin_with_member(shop)
    emp = shop.client()
    emp.follow(shop.outbox[-1].links[0])
    for weak in ("password123", "emp@example.com", "Example Shop 1"):
        before = shop.state()
        result = emp.submit("ResetPassword", newPassword=weak, newPasswordRepeat=weak)
        assert result.errors == (ActionError("passwordCheckFailed", "newPassword", ("weak",)),)
        assert shop.state() == before


def test_s22_deactivation_by_admin_ends_member_sessions() -> None:
    """UpdateSubAccount active=false logs the member's open sessions out."""
    shop = Harness()
    boss, member_id = _admin_with_member(shop)
    emp = shop.client()
    emp.follow(shop.outbox[-1].links[0])
    assert emp.submit("ResetPassword", newPassword=PW, newPasswordRepeat=PW).success
    emp.leave()
    assert emp.submit("Login", id="emp@example.com", password=PW).success
    assert boss.submit("UpdateSubAccount", memberId=member_id, active="false").success
    assert not emp.view().wsAccount.isLoggedIn


def test_i31_customer_data_only_allow_listed_bounded_keys() -> None:
    """customerData.* writes only allow-listed fields within their length bound."""
    shop = Harness()
    shop.create_account("ann@example.com", PW)
    ann = shop.client()
    assert ann.submit("Login", id="ann@example.com", password=PW).success
    for fields in (
        {"customerData.isAdmin": "1"},
        {"customerData.password_hash": "x"},
        {"customerData.phone": "1" * 256},
    ):
        before = shop.state()
        result = ann.submit("AccountSetCustomerData", fields)
        assert result.codes == {"invalidParameter"}
        assert shop.state() == before


def test_i33_json_that_is_not_an_object_gets_a_code() -> None:
    """JSON parameters that are not objects get their documented codes and change nothing."""
    shop = Harness()
    boss, member_id = _admin_with_member(shop)
    for value in ("[]", '"x"', "1", "null", "{"):
        before = shop.state()
        result = boss.submit(
            "UpdatePrivileges", privilegeId="g", createMissing="yes", privileges=value
        )
        assert result.errors == (ActionError("invalidPrivileges", "privileges"),)
        assert shop.state() == before
    for value in ("[]", '"x"', "1", "{"):
        before = shop.state()
        result = boss.submit("UpdateSubAccount", memberId=member_id, allowedSubshops=value)
        assert result.errors == (ActionError("invalidValue", "allowedSubshops"),)
        assert shop.state() == before
