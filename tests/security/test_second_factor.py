"""M41-M43 the TOTP second factor: once on, every login needs it; codes are single use and
throttled; the secret is encrypted at rest and never shown again after enrolment."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from helpers import PW, account_logged_in, assert_fails, is_logged_in, log_in
from wsactions import ActionError
from wsactions.actions.factors import PENDING_SECONDS, PENDING_TRIES
from wsactions.logins import current_login_id
from wsactions.testing import TEST_SECRET_KEY, Client, Harness


def enrolled(shop: Harness, email: str = "ann@example.com") -> tuple[Client, str, list[str]]:
    """A logged-in browser of an account with TOTP on: (browser, secret, recovery codes)."""
    client = shop.client()
    account_logged_in(shop, client, email)
    setup = client.submit("TotpSetup")
    assert setup.success
    secret = setup.data["secret"]
    confirm = client.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now()))
    assert confirm.success
    return client, secret, list(confirm.data["recoveryCodes"])


def code(shop: Harness, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(shop.clock.now() + 30 * steps)


def password_step(shop: Harness, email: str = "ann@example.com") -> Client:
    """A new browser that gave the right password: its login waits for the second factor."""
    browser = shop.client()
    browser.create("Login")
    assert_fails(log_in(browser, email), ActionError("secondFactorRequired"))
    return browser


def test_m41_enrolment_then_every_login_needs_the_second_factor() -> None:
    """TotpSetup shows the secret, an otpauth URI naming the shop and an SVG QR code;
    TotpConfirm turns it on with 10 recovery codes; from then on the right password alone
    logs nothing in: no login record, no logged-in session, until LoginSecondFactor."""
    shop = Harness(shop_name="Laden")
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    setup = client.submit("TotpSetup")
    assert setup.success
    assert setup.data["uri"].startswith("otpauth://totp/")
    assert "issuer=Laden" in setup.data["uri"]
    assert setup.data["qr"].startswith("<svg")
    secret = setup.data["secret"]
    confirmed = client.submit("TotpConfirm", code=code(shop, secret))
    assert confirmed.success
    assert len(confirmed.data["recoveryCodes"]) == 10
    assert len(set(confirmed.data["recoveryCodes"])) == 10
    logins_before = shop.state()
    browser = password_step(shop)
    assert not is_logged_in(browser)
    assert shop.state() == logins_before  # no login record was made
    shop.clock.advance(30)
    done = browser.submit("LoginSecondFactor", code=code(shop, secret))
    assert done.success
    assert is_logged_in(browser)
    current = current_login_id(browser.session)
    assert current is not None
    record = shop.logins.get_login(current)
    assert record is not None
    assert record.proven_by == "totp"


def test_m41_wrong_password_says_nothing_of_the_second_factor() -> None:
    """An account with TOTP answers a wrong password as any other (E37)."""
    shop = Harness()
    enrolled(shop)
    browser = shop.client()
    browser.create("Login")
    assert_fails(
        log_in(browser, "ann@example.com", "wrong password 12"), ActionError("invalidCredentials")
    )
    assert browser.session.pending_login is None


def test_m41_pending_login_is_bound_to_its_browser() -> None:
    """Another browser cannot finish the pending login, even with the right code."""
    shop = Harness()
    _, secret, _ = enrolled(shop)
    password_step(shop)
    stranger = shop.client()
    before = shop.state()
    assert_fails(
        stranger.submit("LoginSecondFactor", code=code(shop, secret, 1)),
        ActionError("noPendingLogin"),
    )
    assert shop.state() == before
    assert not is_logged_in(stranger)


def test_m41_pending_login_expires() -> None:
    shop = Harness()
    _, secret, _ = enrolled(shop)
    browser = password_step(shop)
    shop.clock.advance(PENDING_SECONDS + 1)
    assert_fails(
        browser.submit("LoginSecondFactor", code=code(shop, secret)),
        ActionError("noPendingLogin"),
    )
    assert not is_logged_in(browser)


def test_m42_a_code_is_refused_again_in_its_step() -> None:
    """The code that completed a login (or the enrolment) does not work a second time."""
    shop = Harness()
    _, secret, _ = enrolled(shop)
    enrolment_code = code(shop, secret)
    first = password_step(shop)
    assert_fails(
        first.submit("LoginSecondFactor", code=enrolment_code), ActionError("invalidCode", "code")
    )
    shop.clock.advance(30)
    used = code(shop, secret)
    assert first.submit("LoginSecondFactor", code=used).success
    second = password_step(shop)
    before = shop.state()
    assert_fails(second.submit("LoginSecondFactor", code=used), ActionError("invalidCode", "code"))
    assert shop.state() == before
    shop.clock.advance(30)
    assert second.submit("LoginSecondFactor", code=code(shop, secret)).success


def test_m42_a_recovery_code_works_once() -> None:
    shop = Harness()
    _, _, recovery = enrolled(shop)
    browser = password_step(shop)
    done = browser.submit("LoginSecondFactor", code=recovery[0].lower().replace("-", " "))
    assert done.success
    assert done.data["recoveryCodesLeft"] == 9
    current = current_login_id(browser.session)
    assert current is not None
    record = shop.logins.get_login(current)
    assert record is not None
    assert record.proven_by == "recovery"
    again = password_step(shop)
    assert_fails(
        again.submit("LoginSecondFactor", code=recovery[0]), ActionError("invalidCode", "code")
    )
    assert again.submit("LoginSecondFactor", code=recovery[1]).success


def test_m42_a_pending_login_is_void_after_its_tries() -> None:
    """Five wrong codes end the pending login: the right code then finds none."""
    shop = Harness()
    _, secret, _ = enrolled(shop)
    browser = password_step(shop)
    for _ in range(PENDING_TRIES):
        assert_fails(
            browser.submit("LoginSecondFactor", code="000000"), ActionError("invalidCode", "code")
        )
    shop.clock.advance(30)
    assert_fails(
        browser.submit("LoginSecondFactor", code=code(shop, secret)),
        ActionError("noPendingLogin"),
    )
    assert not is_logged_in(browser)


def test_m42_guesses_are_throttled_per_account() -> None:
    """Across new pending logins, the account's code counter stops guessing at
    login_throttle's limit (the password step is needed for each, so a stranger without
    the password cannot spend it: L38)."""
    shop = Harness()
    _, secret, _ = enrolled(shop)
    limit = shop.settings.login_throttle.limit
    guesses = 0
    while guesses < limit:
        browser = password_step(shop)
        for _ in range(min(PENDING_TRIES, limit - guesses)):
            browser.submit("LoginSecondFactor", code="000000")
            guesses += 1
    browser = password_step(shop)
    shop.clock.advance(30)
    assert_fails(
        browser.submit("LoginSecondFactor", code=code(shop, secret)), ActionError("loginBlocked")
    )


def test_m43_the_secret_is_encrypted_at_rest_and_survives_a_key_rotation() -> None:
    """The stored factor holds neither the secret nor the recovery codes; after the shop's
    key is rotated (the old one a fallback), codes still work."""
    shop = Harness()
    _, secret, recovery = enrolled(shop)
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    stored = repr(shop.storage.snapshot()) + account.totp_secret
    assert secret not in stored
    assert all(c.replace("-", "") not in stored and c not in stored for c in recovery)
    rotated = Harness(
        storage=shop.storage,
        secret_key="a-new-secret-key-for-the-shop-0123456789",
        secret_key_fallbacks=(TEST_SECRET_KEY,),
    )
    rotated.clock = shop.clock
    browser = password_step(rotated)
    shop.clock.advance(30)
    assert browser.submit("LoginSecondFactor", code=code(shop, secret)).success


def test_m43_no_secret_in_events_or_later_results() -> None:
    """Events never carry the secret, codes or recovery codes; a later TotpSetup answers
    secondFactorEnabled without them."""
    shop = Harness()
    client, secret, recovery = enrolled(shop)
    text = repr(shop.events)
    assert secret not in text
    assert all(c not in text for c in recovery)
    again = client.submit("TotpSetup")
    assert_fails(again, ActionError("secondFactorEnabled"))
    assert secret not in repr(again)


def test_m43_setup_needs_a_confirmed_address() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com", verified=False)
    before = shop.state()
    assert_fails(client.submit("TotpSetup"), ActionError("emailNotVerified"))
    assert shop.state() == before


def test_m43_confirm_without_setup_and_with_a_wrong_code() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    before = shop.state()
    assert_fails(client.submit("TotpConfirm", code="123456"), ActionError("noSecondFactorSetup"))
    assert shop.state() == before
    assert client.submit("TotpSetup").success
    before = shop.state()
    assert_fails(client.submit("TotpConfirm", code="12345x"), ActionError("invalidCode", "code"))
    assert shop.state() == before
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert not account.has_second_factor


def test_m44_disable_and_regenerate_need_a_fresh_login() -> None:
    """TotpDisable and RecoveryCodesRegenerate answer reauthenticationRequired after the
    timeout; regenerating voids the old set; disabling lets the password alone log in."""
    shop = Harness()
    client, _, old = enrolled(shop)
    shop.clock.advance(shop.settings.reauthentication_timeout + 1)
    before = shop.state()
    assert_fails(client.submit("RecoveryCodesRegenerate"), ActionError("reauthenticationRequired"))
    assert_fails(client.submit("TotpDisable"), ActionError("reauthenticationRequired"))
    assert shop.state() == before
    assert client.submit("Reauthenticate", password=PW).success
    fresh = client.submit("RecoveryCodesRegenerate")
    assert fresh.success
    browser = password_step(shop)
    assert_fails(
        browser.submit("LoginSecondFactor", code=old[0]), ActionError("invalidCode", "code")
    )
    assert browser.submit("LoginSecondFactor", code=fresh.data["recoveryCodes"][0]).success
    assert client.submit("TotpDisable").success
    plain = shop.client()
    plain.create("Login")
    assert log_in(plain, "ann@example.com").success
    assert_fails(client.submit("TotpDisable"), ActionError("noSecondFactor"))


@pytest.mark.parametrize("name", ["TotpDisable", "RecoveryCodesRegenerate"])
def test_m44_without_a_factor(name: str) -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    before: Any = shop.state()
    assert_fails(client.submit(name), ActionError("noSecondFactor"))
    assert shop.state() == before


def test_m44_reauthenticate_with_a_code() -> None:
    """An account with a second factor renews its proof with a TOTP code (a used step is
    refused) or a recovery code (spent); a wrong code answers invalidCode, changes nothing."""
    shop = Harness()
    client, secret, recovery = enrolled(shop)
    shop.clock.advance(shop.settings.reauthentication_timeout + 1)
    before = shop.state()
    assert_fails(client.submit("Reauthenticate", code="000000"), ActionError("invalidCode", "code"))
    assert_fails(client.submit("Reauthenticate"), ActionError("missingPassword", "password"))
    assert shop.state() == before
    assert client.submit("Reauthenticate", code=code(shop, secret)).success
    current = current_login_id(client.session)
    assert current is not None
    record = shop.logins.get_login(current)
    assert record is not None
    assert record.proven_by == "totp"
    assert_fails(
        client.submit("Reauthenticate", code=code(shop, secret)), ActionError("invalidCode", "code")
    )
    assert client.submit("Reauthenticate", code=recovery[0]).success
    assert_fails(
        client.submit("Reauthenticate", code=recovery[0]), ActionError("invalidCode", "code")
    )
    assert client.submit("TotpDisable").success


def test_m44_a_code_is_no_proof_without_a_second_factor() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    assert_fails(
        client.submit("Reauthenticate", code="123456"), ActionError("missingPassword", "password")
    )


def test_codes_missing_code_and_account_inactive() -> None:
    """LoginSecondFactor without a code answers missingCode; for an account deactivated
    meanwhile accountInactive; TotpConfirm without a code missingCode: nothing changes."""
    shop = Harness()
    _, secret, _ = enrolled(shop)
    browser = password_step(shop)
    before = shop.state()
    assert_fails(browser.submit("LoginSecondFactor", code="  "), ActionError("missingCode", "code"))
    assert shop.state() == before
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert shop.accounts.update_account(account.id, {"deactivated": True})
    shop.clock.advance(30)
    before = shop.state()
    assert_fails(
        browser.submit("LoginSecondFactor", code=code(shop, secret)),
        ActionError("accountInactive"),
    )
    assert shop.state() == before
    assert not is_logged_in(browser)
    other = Harness()
    client = other.client()
    account_logged_in(other, client, "bob@example.com")
    assert client.submit("TotpSetup").success
    before = other.state()
    assert_fails(client.submit("TotpConfirm", code=""), ActionError("missingCode", "code"))
    assert other.state() == before


def test_totp_confirm_guesses_are_throttled() -> None:
    """Wrong enrolment codes count per account: at login_throttle's limit TotpConfirm
    answers loginBlocked even for the right code, and the factor stays off."""
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, "ann@example.com")
    secret = client.submit("TotpSetup").data["secret"]
    for _ in range(shop.settings.login_throttle.limit):
        assert_fails(
            client.submit("TotpConfirm", code="000000"), ActionError("invalidCode", "code")
        )
    before = shop.state()
    assert_fails(client.submit("TotpConfirm", code=code(shop, secret)), ActionError("loginBlocked"))
    assert shop.state() == before
    account = shop.accounts.find_account("ann@example.com")
    assert account is not None
    assert not account.has_second_factor
