"""Settings.optin_codes: the registration and password-reset mails carry a typed code beside
their link, for the browser that asked; EmailVerifyCode and ResetPasswordCode take it
(M42: three tries, single use, bound to the browser, a limited lifetime)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import PW, assert_fails, is_logged_in, log_in
from wsactions import ActionError
from wsactions.testing import Client, Harness

EMAIL = "ann@example.com"
NEW = "another long passphrase 42"


def mailed_code(shop: Harness) -> str:
    found = re.search(r"^\s*(\d{6})\s*$", shop.outbox[-1].text, re.M)
    assert found, shop.outbox[-1].text
    return found.group(1)


def registered(shop: Harness) -> tuple[Client, str]:
    browser = shop.client()
    assert browser.submit("AccountRegister", email=EMAIL, password=PW, passwordRepeat=PW).success
    return browser, mailed_code(shop)


def forgot(shop: Harness) -> tuple[Client, str]:
    shop.create_account(EMAIL, PW)
    browser = shop.client()
    assert browser.submit("PasswordForgotten", email=EMAIL).success
    return browser, mailed_code(shop)


def state(shop: Harness) -> tuple[Any, ...]:
    return shop.state(), len(shop.outbox)


def test_without_the_setting_mails_carry_no_code() -> None:
    shop = Harness()
    browser = shop.client()
    assert browser.submit("AccountRegister", email=EMAIL, password=PW, passwordRepeat=PW).success
    assert not re.search(r"^\s*\d{6}\s*$", shop.outbox[-1].text, re.M)
    assert_fails(
        browser.submit("EmailVerifyCode", code="123456"), ActionError("invalidCode", "code")
    )


def test_registration_confirmed_by_the_code() -> None:
    shop = Harness(optin_codes=True)
    browser, code = registered(shop)
    assert "15 minutes" in shop.outbox[-1].text
    assert shop.outbox[-1].links  # the link is still there
    done = browser.submit("EmailVerifyCode", code=code)
    assert done.success
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    assert account.verified
    assert_fails(browser.submit("EmailVerifyCode", code=code), ActionError("invalidCode", "code"))


def test_password_reset_by_the_code() -> None:
    shop = Harness(optin_codes=True)
    browser, code = forgot(shop)
    done = browser.submit("ResetPasswordCode", code=code, newPassword=NEW, newPasswordRepeat=NEW)
    assert done.success, done.errors
    assert NEW not in repr(done)
    assert not log_in(shop.client(), EMAIL, PW).success
    other = shop.client()
    assert log_in(other, EMAIL, NEW).success
    assert is_logged_in(other)
    assert_fails(
        browser.submit("ResetPasswordCode", code=code, newPassword=PW, newPasswordRepeat=PW),
        ActionError("invalidCode", "code"),
    )


def test_a_weak_password_keeps_the_code() -> None:
    shop = Harness(optin_codes=True)
    browser, code = forgot(shop)
    before = state(shop)
    weak = browser.submit(
        "ResetPasswordCode", code=code, newPassword="abc", newPasswordRepeat="abc"
    )
    assert not weak.success
    assert {e.code for e in weak.errors} == {"passwordCheckFailed"}
    assert state(shop) == before
    assert browser.submit(
        "ResetPasswordCode", code=code, newPassword=NEW, newPasswordRepeat=NEW
    ).success


@pytest.mark.parametrize("action", ["EmailVerifyCode", "ResetPasswordCode"])
def test_m42_codes_change_nothing_and_die_after_three_tries(action: str) -> None:
    shop = Harness(optin_codes=True)
    browser, code = registered(shop) if action == "EmailVerifyCode" else forgot(shop)
    values = {"newPassword": NEW, "newPasswordRepeat": NEW} if action == "ResetPasswordCode" else {}
    before = state(shop)
    assert_fails(browser.submit(action, code="", **values), ActionError("missingCode", "code"))
    stranger = shop.client()  # the right code, in another browser
    assert_fails(stranger.submit(action, code=code, **values), ActionError("invalidCode", "code"))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        assert_fails(
            browser.submit(action, code=wrong, **values), ActionError("invalidCode", "code")
        )
    assert_fails(browser.submit(action, code=code, **values), ActionError("invalidCode", "code"))
    assert state(shop) == before


@pytest.mark.parametrize("action", ["EmailVerifyCode", "ResetPasswordCode"])
def test_m42_a_code_expires(action: str) -> None:
    shop = Harness(optin_codes=True)
    browser, code = registered(shop) if action == "EmailVerifyCode" else forgot(shop)
    values = {"newPassword": NEW, "newPasswordRepeat": NEW} if action == "ResetPasswordCode" else {}
    shop.clock.advance(shop.settings.optin_code_lifetime + 1)
    before = state(shop)
    assert_fails(browser.submit(action, code=code, **values), ActionError("invalidCode", "code"))
    assert state(shop) == before


def test_the_reset_link_never_takes_a_code() -> None:
    """ResetPassword's opt-in token path does not accept a typed code's token: only
    ResetPasswordCode, which counts the tries."""
    shop = Harness(optin_codes=True)
    browser, code = forgot(shop)
    nonce = browser.session.pending_code
    assert nonce is not None
    before = state(shop)
    result = browser.submit(
        "ResetPassword",
        newPassword=NEW,
        newPasswordRepeat=NEW,
        wsoptin=f"code.{nonce[0]}.{code}",
    )
    assert not result.success
    assert state(shop) == before
