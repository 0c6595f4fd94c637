"""M45 security notices: a change that matters mails the owner what, when, from where, and a
link that resets the password and ends every login; budgeted; never a secret."""

from __future__ import annotations

import pyotp

from helpers import PW, account_logged_in, is_logged_in
from wsactions import RateLimit
from wsactions.testing import Client, Harness


def notices(shop: Harness, to: str = "ann@example.com") -> list[str]:
    return [m.text for m in shop.outbox if m.purpose == "security_notice" and m.to == to]


def enrol(shop: Harness, client: Client) -> tuple[str, list[str]]:
    secret = client.submit("TotpSetup").data["secret"]
    done = client.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now()))
    assert done.success
    return secret, list(done.data["recoveryCodes"])


def test_m45_second_factor_changes_mail_the_owner() -> None:
    """Turning TOTP on, new recovery codes and turning it off each mail a notice in the
    owner's language: what, when (the shop's time zone), client address and browser, and a
    reset link; neither the secret nor a recovery code is in it."""
    shop = Harness(timezone="Europe/Berlin")
    client = shop.client()
    client.client_address = "203.0.113.7"
    client.user_agent = "Firefox/140.0 <script>"
    account_logged_in(shop, client, "ann@example.com")
    secret, codes = enrol(shop, client)
    assert client.submit("RecoveryCodesRegenerate").success
    assert client.submit("TotpDisable").success
    texts = notices(shop)
    assert len(texts) == 3
    assert "Two-step login was turned on" in texts[0]
    assert "New recovery codes were made" in texts[1]
    assert "Two-step login was turned off" in texts[2]
    for text in texts:
        assert "2027-01-15 09:00 CET" in text  # the fake clock's moment, in Berlin
        assert "203.0.113.7" in text
        assert "Firefox/140.0 <script>" in text
        assert "wsoptin=" in text
        assert secret not in text
        assert all(code not in text for code in codes)
    html = next(m.html or "" for m in shop.outbox if m.purpose == "security_notice")
    assert "<script>" not in html
    assert "Firefox/140.0 &lt;script&gt;" in html


def test_m45_the_link_takes_the_account_back() -> None:
    """The notice's link opens ResetPassword with a token: a new password ends every login
    (also the session that made the change)."""
    shop = Harness()
    intruder = shop.client()
    account_logged_in(shop, intruder, "ann@example.com")
    enrol(shop, intruder)
    (mail,) = [m for m in shop.outbox if m.purpose == "security_notice"]
    owner = shop.client()
    owner.follow(mail.links[0])
    new = "a completely new passphrase 9"
    assert owner.submit("ResetPassword", newPassword=new, newPasswordRepeat=new).success
    assert not is_logged_in(intruder)
    assert "The password of your customer account was changed" in notices(shop)[-1]


def test_m45_password_change_and_unlock_notices() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    new = "another fine passphrase 8"
    result = client.submit("ResetPassword", newPassword=new, newPasswordRepeat=new, passwordAuth=PW)
    assert result.success
    assert "The password of your customer account was changed" in notices(shop)[-1]


def test_m45_notices_are_budgeted_per_address() -> None:
    """Notices count against mail_per_address (their own kind): a burst of changes mails at
    most the limit; the changes themselves still happen."""
    shop = Harness(mail_per_address=RateLimit(limit=2, window=3600))
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    enrol(shop, client)
    for _ in range(3):
        assert client.submit("RecoveryCodesRegenerate").success
    assert len(notices(shop)) == 2


def test_m45_low_recovery_codes() -> None:
    """A login with a recovery code that leaves two or fewer sends a notice."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    _, codes = enrol(shop, client)
    for code in codes[:8]:
        browser = shop.client()
        browser.create("Login")
        assert browser.submit("Login", id="ann@example.com", password=PW).codes == {
            "secondFactorRequired"
        }
        assert browser.submit("LoginSecondFactor", code=code).success
    low = [t for t in notices(shop) if "only a few are left" in t]
    assert len(low) == 1  # after the 8th: two left


def test_m45_b2b_rights_and_budget_changes_mail_the_member() -> None:
    """An admin's change of a member's rights (UpdateSubAccount) or of its group's
    privileges (UpdatePrivileges) mails the member a notice; a name change does not, and the
    admin is not told of its own changes."""
    shop = Harness()
    admin = shop.client()
    boss = account_logged_in(shop, admin, "boss@a.example")
    member = shop.create_account("emp@a.example", PW, admin=False, company_id=boss.company_id)
    assert admin.submit(
        "UpdatePrivileges", privilegeId="grp", createMissing="yes", privileges='{"paymentLimit": 9}'
    ).success
    assert notices(shop, "emp@a.example") == []  # not in the group yet
    assert admin.submit("UpdateSubAccount", memberId=member.id, privilegeGroupId="grp").success
    assert len(notices(shop, "emp@a.example")) == 1
    assert admin.submit("UpdateSubAccount", memberId=member.id, displayName="Emp").success
    assert len(notices(shop, "emp@a.example")) == 1
    lowered = admin.submit("UpdatePrivileges", privilegeId="grp", privileges='{"paymentLimit": 5}')
    assert lowered.success
    texts = notices(shop, "emp@a.example")
    assert len(texts) == 2
    assert "changed your rights or your budget" in texts[-1]
    assert notices(shop, "boss@a.example") == []
