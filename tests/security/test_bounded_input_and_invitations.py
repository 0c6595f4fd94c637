"""Regression tests for the findings of the attack run and the seed audit (one per finding)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import pytest

import wsactions
from helpers import PW
from strategies import ACTION_NAMES, DE, PREFIX_PARAMS, SINGLE_PARAMS, log_in_member
from wsactions import ActionResult, GuestCheckout, PrivilegeGroup, Privileges, RateLimit, rights
from wsactions.codes import ENGINE_CODES
from wsactions.security import passwords
from wsactions.testing import Client, Harness

#: Combining marks in non-canonical order: NFKC needs quadratic time to reorder them.
ADVERSARIAL = "a" + "\u0301\u0316" * 49_999


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of every string normalised from now on."""
    lengths: list[int] = []
    real = unicodedata.normalize

    def recording(form: Any, value: str) -> str:
        lengths.append(len(value))
        return real(form, value)

    monkeypatch.setattr(unicodedata, "normalize", recording)
    return lengths


def documented(shop: Harness, result: ActionResult) -> bool:
    spec = shop.registry.get(result.name)
    return result.codes <= ENGINE_CODES | set(spec.codes if spec else ())


FIELDS = (
    *SINGLE_PARAMS,
    *(f"{p}zip" for p in PREFIX_PARAMS if p == "address."),
    "address.phone",
    "address.houseNumber",
    "address.city",
    "session.note",
    "customerData.phone",
)


@pytest.mark.parametrize("name", ACTION_NAMES)
@pytest.mark.parametrize("logged_in", [False, True])
def test_i34_adversarial_unicode_is_never_normalised_at_length(
    name: str, logged_in: bool, normalised: list[int]
) -> None:
    """Finding 1: combining-mark floods in every parameter are refused before NFKC."""
    shop = Harness(customer_data_fields={"phone"})
    client = shop.client()
    if logged_in:
        log_in_member(shop, client)
    for field in FIELDS:
        before = shop.state()
        result = client.submit(name, {field: ADVERSARIAL})
        assert documented(shop, result)
        if not result.success:
            assert shop.state() == before
    assert max(normalised, default=0) <= passwords.MAX_RAW_LENGTH


def test_i34_login_with_a_huge_password_is_a_wrong_password(normalised: list[int]) -> None:
    """Finding 1: a password longer than any policy allows costs one dummy verify, unread."""
    shop = Harness()
    shop.create_account("ann@example.com", PW)
    normalised.clear()
    result = shop.client().submit("Login", id="ann@example.com", password=ADVERSARIAL)
    assert result.codes == {"invalidCredentials"}
    assert max(normalised, default=0) <= 254  # the address only


def test_i34_policy_refuses_long_input_unread(normalised: list[int]) -> None:
    """Finding 1: the policy answers maxlen for input beyond 4 × max_length without NFKC."""
    policy = Harness().settings.password_policy
    assert passwords.policy_failures(ADVERSARIAL, policy) == ("maxlen",)
    assert normalised == []


def test_i34_address_field_refused_before_normalising(normalised: list[int]) -> None:
    """Finding 1: an address field far beyond its limit is maxlen, never normalised."""
    shop = Harness()
    client = shop.client()
    log_in_member(shop, client)
    fields = {f"address.{k}": v for k, v in DE.items()}
    result = client.submit("AddressCreate", {**fields, "address.zip": ADVERSARIAL})
    assert [(e.field, e.subcodes) for e in result.errors] == [("address.zip", ("maxlen",))]
    assert max(normalised, default=0) <= 254


def test_i34_pasted_passphrase_near_the_limit_still_counts() -> None:
    """Finding 1: composed/decomposed text up to the policy max is still normalised and accepted."""
    shop = Harness()
    client = shop.client()
    decomposed = "e\u0301" * 60 + " Zyx 93 qwv"  # 131 code points, 71 after NFKC
    result = client.submit(
        "AccountRegister", email="ann@example.com", password=decomposed, passwordRepeat=decomposed
    )
    assert result.success, result.errors


@pytest.mark.parametrize(
    ("fullwidth", "plain"),
    [("ｐａｓｓｗｏｒｄ１２３４", "password1234"), ("ｑｗｅｒｔｙｕｉｏｐ１", "qwertyuiop1")],
)
def test_p3_fullwidth_common_password_refused(fullwidth: str, plain: str) -> None:
    """Finding 8: strength is scored on the NFKC form that is hashed."""
    shop = Harness()
    client = shop.client()
    before = shop.state()
    result = client.submit(
        "AccountRegister", email="ann@example.com", password=fullwidth, passwordRepeat=fullwidth
    )
    assert [(e.code, e.subcodes) for e in result.errors] == [("passwordCheckFailed", ("weak",))]
    assert shop.state() == before
    strength = client.submit("CheckPasswordStrength", password=fullwidth)
    assert strength.data["accepted"] is False
    assert strength.data["value"] == client.submit("CheckPasswordStrength", password=plain).data[
        "value"
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("strauß@example.com", "strauss@example.com"),
        ("a@faß.de", "a@fass.de"),
    ],
)
def test_t15_sharp_s_addresses_are_two_mailboxes(first: str, second: str) -> None:
    """Finding 9: ß and ss are different mailboxes; each gets its own account and mail."""
    shop = Harness()
    for email in (first, second):
        client = shop.client(client_address=f"198.51.100.{len(shop.outbox)}")
        result = client.submit("AccountRegister", email=email, password=PW, passwordRepeat=PW)
        assert result.success, result.errors
    assert [m.to for m in shop.outbox] == [first, second]
    one = shop.accounts.find_account(first)
    two = shop.accounts.find_account(second)
    assert one is not None
    assert two is not None
    assert one.id != two.id


def test_t15_case_and_width_still_fold() -> None:
    """Finding 9: case and full-width forms of one mailbox remain one identity."""
    shop = Harness()
    shop.create_account("Mike@example.com", PW)
    result = shop.client().submit(
        "AccountRegister", email="ｍIKE@example.com", password=PW, passwordRepeat=PW
    )
    assert result.codes == {"accountAlreadyExists"}


@pytest.mark.parametrize("raw", ["[" * 5000, "{" * 5000, '{"a":' * 5000, "[" * 9 + "]" * 9])
def test_i34_deep_json_in_allowed_subshops(raw: str) -> None:
    """Finding 10: deeply nested JSON answers invalidValue, never RecursionError."""
    shop = Harness()
    admin = shop.client()
    member = log_in_member(shop, admin)
    employee = shop.create_account("emp@a.example", PW, company_id=member.company_id, admin=False)
    before = shop.state()
    result = admin.submit("UpdateSubAccount", memberId=employee.id, allowedSubshops=raw)
    assert [(e.code, e.field) for e in result.errors] == [("invalidValue", "allowedSubshops")]
    assert shop.state() == before


@pytest.mark.parametrize("raw", ['{"allowedPaymentMethods":' + "[" * 5000, "[" * 9 + "]" * 9])
def test_i34_deep_json_in_privileges(raw: str) -> None:
    """Finding 10: the privileges JSON is bounded in depth too."""
    shop = Harness()
    admin = shop.client()
    log_in_member(shop, admin)
    before = shop.state()
    result = admin.submit("UpdatePrivileges", privilegeId="x", createMissing="yes", privileges=raw)
    assert result.codes == {"invalidPrivileges"}
    assert shop.state() == before


@pytest.mark.parametrize(
    "amount", [Decimal("9e999999"), Decimal("1e16"), Decimal("-1"), Decimal("NaN")]
)
def test_i34_huge_order_amounts_raise_value_error(amount: Decimal) -> None:
    """Finding 11: check_order / record_order refuse huge amounts with ValueError."""
    shop = Harness()
    boss = shop.create_account("boss@a.example", PW)
    company = boss.company_id or ""
    emp = shop.create_account("emp@a.example", PW, company_id=company, admin=False)
    shop.accounts.add_group(
        PrivilegeGroup(
            id="g", company_id=company, name="g", privileges=Privileges(payment_limit=Decimal(9))
        )
    )
    shop.accounts.update_account(emp.id, {"privilege_group_id": "g"})
    member = rights.for_account(shop.accounts, shop.accounts.get_account(emp.id))
    before = shop.state()
    with pytest.raises(ValueError, match="order amounts"):
        member.check_order(amount)
    with pytest.raises(ValueError, match="order amounts"):
        member.record_order(amount)
    assert shop.state() == before


def address_form(**changes: str) -> dict[str, str]:
    return {f"address.{k}": v for k, v in {**DE, **changes}.items()}


def test_seed_13_removed_default_bill_stays_empty(shop: Harness, alice: Client) -> None:
    """Finding 13: after RemoveDefaultBillAddress a new bill address is not preselected."""
    shop.create_account("ann@example.com", PW)
    assert alice.submit("Login", id="ann@example.com", password=PW).success
    first = alice.submit("AddressCreate", address_form()).data["addressId"]
    assert alice.view().wsAccount.defaultBillAddress.id == first  # type: ignore[union-attr]
    assert alice.submit("RemoveDefaultBillAddress").success
    assert alice.submit("AddressCreate", address_form(city="Bonn")).success
    view = alice.view().wsAccount
    assert view.defaultBillAddress is None
    assert view.mainAddress.id == first  # type: ignore[union-attr]


def test_seed_13_first_of_its_kind_becomes_default(shop: Harness, alice: Client) -> None:
    """Finding 13: the first delivery address becomes the default delivery address."""
    shop.create_account("ann@example.com", PW)
    assert alice.submit("Login", id="ann@example.com", password=PW).success
    alice.submit("AddressCreate", address_form())
    second = alice.submit("AddressCreate", address_form(), type="delivery").data["addressId"]
    third = alice.submit("AddressCreate", address_form(), type="delivery").data["addressId"]
    assert third != second
    assert alice.view().wsAccount.defaultDeliveryAddress.id == second  # type: ignore[union-attr]


def test_seed_14_guest_address_in_wsaccount_email(shop: Harness, alice: Client) -> None:
    """Finding 14: for a guest checkout ``wsAccount.email`` is the guest's address."""
    alice.session.set_guest_checkout(GuestCheckout(email="guest@example.com"))
    view = alice.view()
    assert view.wsAccount.email == "guest@example.com"
    assert view.wsCheckout.guestMail == "guest@example.com"
    assert not view.wsAccount.isLoggedIn
    form = {"id": view.wsAccount.email or "", "password": PW, "passwordRepeat": PW}
    assert alice.submit("SaveGuestDataToUser", **form).success


def test_seed_15_admin_cannot_restrict_its_own_subshops(shop: Harness) -> None:
    """Finding 15: restricting one's own allowedSubshops is refused like self-deactivation."""
    admin = shop.client()
    member = log_in_member(shop, admin)
    before = shop.state()
    result = admin.submit("UpdateSubAccount", memberId=member.id, allowedSubshops='{"s2": true}')
    assert [(e.code, e.field) for e in result.errors] == [
        ("selfDeactivationNotAllowed", "allowedSubshops")
    ]
    assert shop.state() == before


NEW_PW = "a brand new passphrase 99"


def links(shop: Harness, purpose: str) -> list[str]:
    return [link for m in shop.outbox if m.purpose == purpose for link in m.links]


def test_t35_owner_reset_revokes_pending_email_change(shop: Harness) -> None:
    """Finding 2: an attacker's pending email change dies with the owner's password reset."""
    shop.create_account("ann@example.com", PW)
    attacker = shop.client(client_address="198.51.100.66")
    assert attacker.submit("Login", id="ann@example.com", password=PW).success
    assert attacker.submit("EmailUpdate", email="mallory@example.com").success
    [confirm] = links(shop, "email_update")
    owner = shop.client()
    assert owner.submit("PasswordForgotten", email="ann@example.com").success
    owner.follow(links(shop, "password")[-1])
    assert owner.submit("ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW).success
    before = shop.state()
    result = attacker.follow(confirm)
    assert result is not None
    assert result.codes == {"unauthorized"}
    assert shop.state() == before
    assert shop.accounts.find_account("ann@example.com") is not None
    assert shop.accounts.find_account("mallory@example.com") is None


def test_t35_notice_carries_a_cancelling_reset_link(shop: Harness) -> None:
    """Finding 2: the notice to the old address carries a reset link that cancels the change."""
    shop.create_account("ann@example.com", PW)
    attacker = shop.client(client_address="198.51.100.66")
    assert attacker.submit("Login", id="ann@example.com", password=PW).success
    assert attacker.submit("EmailUpdate", email="mallory@example.com").success
    [confirm] = links(shop, "email_update")
    [notice] = [m for m in shop.outbox if m.purpose == "email_update_notice"]
    assert notice.to == "ann@example.com"
    owner = shop.client()
    owner.follow(notice.links[0])
    assert owner.submit("ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW).success
    result = attacker.follow(confirm)
    assert result is not None
    assert result.codes == {"unauthorized"}
    assert not attacker.view().wsAccount.isLoggedIn


def test_t35_password_change_revokes_deletion_link() -> None:
    """Finding 2: a pending deletion confirmation dies with a password change."""
    shop = Harness(delete_requires_confirmation=True)
    shop.create_account("ann@example.com", PW)
    attacker = shop.client(client_address="198.51.100.66")
    assert attacker.submit("Login", id="ann@example.com", password=PW).success
    assert attacker.submit("AccountDelete").data == {"confirmationSent": True}
    [delete] = links(shop, "delete")
    owner = shop.client()
    assert owner.submit("Login", id="ann@example.com", password=PW).success
    assert owner.submit(
        "ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW, passwordAuth=PW
    ).success
    result = shop.client().follow(delete)
    assert result is not None
    assert result.codes == {"unauthorized"}
    assert shop.accounts.find_account("ann@example.com") is not None


def test_c40_bare_cross_site_unlock_link_changes_nothing() -> None:
    """Finding 7: a GET of UnlockLogin without token or signature does not reset the counter."""
    shop = Harness(login_throttle=RateLimit(limit=5, window=900))
    shop.create_account("ann@example.com", PW)
    victim = shop.client()
    assert victim.submit("Login", id="ann@example.com", password=PW).success
    guesser = shop.client(client_address="198.51.100.66")
    for _ in range(28):
        guesser.submit("Login", id="ann@example.com", password="wrong guess 1234 x")
        result = victim.follow("https://shop.example/?wsact=UnlockLogin")
        assert result is not None
        assert result.codes == {"csrfCheckFailed"}
    assert guesser.submit("Login", id="ann@example.com", password=PW).codes == {"loginBlocked"}


def test_c40_unlock_by_csrf_checked_post_still_works() -> None:
    """Finding 7: the logged-in owner can still unlock with a CSRF-checked POST."""
    shop = Harness(login_throttle=RateLimit(limit=5, window=900))
    shop.create_account("ann@example.com", PW)
    owner = shop.client()
    assert owner.submit("Login", id="ann@example.com", password=PW).success
    guesser = shop.client(client_address="198.51.100.66")
    for _ in range(5):
        guesser.submit("Login", id="ann@example.com", password="wrong guess 1234 x")
    assert owner.submit("UnlockLogin").success
    assert guesser.submit("Login", id="ann@example.com", password=PW).success


def test_a36_b2c_customer_is_no_company_admin() -> None:
    """Finding 3: a registered B2C customer cannot invite anyone (no company by default)."""
    shop = Harness()
    client = shop.client()
    assert client.submit(
        "AccountRegister", email="ann@example.com", password=PW, passwordRepeat=PW
    ).success
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert (account.company_id, account.admin) == (None, False)
    assert client.submit("Login", id="ann@example.com", password=PW).success
    before = shop.state()
    result = client.submit("SubAccountCreate", email="victim@example.com")
    assert result.codes == {"unauthorized"}
    assert shop.state() == before


def test_a36_companies_on_registration_and_host_api() -> None:
    """Finding 3: a shop founds companies for every registration, or per account."""
    shop = Harness(companies_on_registration=True)
    client = shop.client()
    assert client.submit(
        "AccountRegister", email="boss@example.com", password=PW, passwordRepeat=PW
    ).success
    boss = shop.accounts.find_account("boss@example.com")
    assert boss is not None
    assert (boss.company_id, boss.admin) == (boss.id, True)
    b2c = Harness()
    ann = b2c.create_account("ann@example.com", PW, company_id=None, admin=False)
    assert wsactions.companies.found(b2c.storage, ann.id)
    assert not wsactions.companies.found(b2c.storage, ann.id)  # once
    assert not wsactions.companies.found(b2c.storage, "no-such-account")
    stored = b2c.accounts.get_account(ann.id)
    assert stored is not None
    assert (stored.company_id, stored.admin) == (ann.id, True)


def test_a36_invitation_never_blocks_own_registration(shop: Harness) -> None:
    """Finding 3: the invitee registers its own account; the invitation is withdrawn."""
    shop.create_account("boss@a.example", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    assert boss.submit("SubAccountCreate", email="victim@example.com").success
    [invitation] = links(shop, "invitation")
    victim = shop.client(client_address="198.51.100.77")
    result = victim.submit(
        "AccountRegister", email="victim@example.com", password=PW, passwordRepeat=PW
    )
    assert result.success
    account = shop.accounts.find_account("victim@example.com")
    assert account is not None
    assert account.company_id is None
    assert not account.invitation_pending
    accepted = shop.client().follow(invitation)
    assert accepted is not None
    assert not accepted.success
    assert [m.email for m in boss.view().wsAccount.members] == ["boss@a.example"]


def test_a36_invitee_reset_answers_like_no_account(shop: Harness) -> None:
    """Finding 3: PasswordForgotten for an invited address mails nothing and joins nothing."""
    shop.create_account("boss@a.example", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    assert boss.submit("SubAccountCreate", email="victim@example.com").success
    mails = len(shop.outbox)
    result = shop.client().submit("PasswordForgotten", email="victim@example.com")
    assert result.codes == {"passwordRecoveryFailed"}
    assert len(shop.outbox) == mails


def test_a36_email_change_takes_an_invited_address(shop: Harness) -> None:
    """Finding 3: an invitation to an address does not block its owner's email change."""
    shop.create_account("boss@a.example", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    assert boss.submit("SubAccountCreate", email="new@example.com").success
    shop.create_account("ann@example.com", PW, company_id=None, admin=False)
    ann = shop.client(client_address="198.51.100.5")
    assert ann.submit("Login", id="ann@example.com", password=PW).success
    assert ann.submit("EmailUpdate", email="new@example.com").success
    result = ann.follow(links(shop, "email_update")[-1])
    assert result is not None
    assert result.success
    moved = shop.accounts.find_account("new@example.com")
    assert moved is not None
    assert moved.company_id is None
