"""Login by an emailed code: LoginCodeRequest and LoginCode, every code, bound to the
browser that asked, three tries, single use (16 threads: one login), the second factor,
and the mail budgets."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest

from helpers import PW, account_logged_in, assert_fails, is_logged_in
from wsactions import ActionError
from wsactions.actions.login_codes import CODE_TRIES, code_hash, new_code, normalized
from wsactions.logins import current_login_id
from wsactions.testing import Client, Harness

EMAIL = "ann@example.com"


def mailed_code(shop: Harness, to: str = EMAIL) -> str:
    mail = shop.outbox[-1]
    assert mail.to == to
    assert mail.purpose == "login_code"
    found = re.search(r"^\s*([0-9]{6}|[A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.text, re.M)
    assert found, mail.text
    assert found.group(1) in mail.subject
    assert not mail.links
    return found.group(1)


def asked(shop: Harness, email: str = EMAIL) -> tuple[Client, str]:
    """A browser that asked for a code, and the mailed code."""
    browser = shop.client()
    assert browser.submit("LoginCodeRequest", email=email).success
    return browser, mailed_code(shop, email)


def state(shop: Harness) -> tuple[Any, ...]:
    return shop.state(), len(shop.outbox)


# LoginCodeRequest ------------------------------------------------------------------------


def test_a_known_address_gets_a_code_and_logs_in_with_it() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    assert re.fullmatch(r"[0-9]{6}", code)
    assert "3 minutes" in shop.outbox[-1].text
    assert not is_logged_in(browser)
    done = browser.submit("LoginCode", code=code)
    assert done.success
    assert code not in repr(done)  # the code is a secret parameter
    assert is_logged_in(browser)
    login = shop.logins.get_login(current_login_id(browser.session) or "")
    assert login is not None
    assert login.proven_by == "code"


@pytest.mark.parametrize("email", ["nobody@example.com", "inactive@example.com"])
def test_e37_an_unknown_or_inactive_address_answers_alike_without_mail(email: str) -> None:
    """E37: success, and this browser waits for a code all the same; no mail, no token."""
    shop = Harness()
    shop.create_account("inactive@example.com", PW, active=False)
    before = shop.state()
    browser = shop.client()
    result = browser.submit("LoginCodeRequest", email=email)
    assert result.success
    assert browser.session.pending_code is not None
    assert shop.outbox == []
    assert shop.state()["tokens"] == before["tokens"]
    assert_fails(browser.submit("LoginCode", code="123456"), ActionError("invalidCode", "code"))


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({}, ActionError("missingEmail", "email")),
        ({"email": ""}, ActionError("missingEmail", "email")),
        ({"email": "not an address"}, ActionError("emailCheckFailed", "email")),
    ],
)
def test_request_codes(values: dict[str, str], error: ActionError) -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    before = state(shop)
    browser = shop.client()
    assert_fails(browser.submit("LoginCodeRequest", **values), error)
    assert state(shop) == before
    assert browser.session.pending_code is None


def test_l38_the_mail_budget_of_an_address_is_its_own() -> None:
    """Login codes spend a budget of their own per address (and the client's): a stranger
    asking for codes cannot stop the owner's password reset mail."""
    shop = Harness()
    shop.create_account(EMAIL, PW)
    limit = shop.settings.mail_per_address.limit
    browser = shop.client()
    for _ in range(limit):
        assert browser.submit("LoginCodeRequest", email=EMAIL).success
    before = state(shop)
    assert_fails(browser.submit("LoginCodeRequest", email=EMAIL), ActionError("tooManyRequests"))
    assert state(shop)[1] == before[1]  # no further mail
    assert shop.client().submit("PasswordForgotten", email=EMAIL).success
    assert shop.outbox[-1].purpose == "password"


def test_only_the_newest_code_counts() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, first = asked(shop)
    assert browser.submit("LoginCodeRequest", email=EMAIL).success
    second = mailed_code(shop)
    if first != second:
        assert_fails(browser.submit("LoginCode", code=first), ActionError("invalidCode", "code"))
    assert browser.submit("LoginCode", code=second).success


# LoginCode -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "   ", "--"])
def test_missing_code(typed: str) -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, _ = asked(shop)
    before = state(shop)
    assert_fails(browser.submit("LoginCode", code=typed), ActionError("missingCode", "code"))
    assert state(shop) == before


def test_m41_a_code_without_a_request_in_this_browser_is_invalid() -> None:
    """Bound to the browser that asked: the right code typed in another browser (even one
    that asked for a code of its own, for another address) is wrong."""
    shop = Harness()
    shop.create_account(EMAIL, PW)
    shop.create_account("bob@example.com", PW)
    _, code = asked(shop)
    other = shop.client()
    assert_fails(other.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    assert other.submit("LoginCodeRequest", email="bob@example.com").success
    before = shop.state()["logins"]
    assert_fails(other.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    assert shop.state()["logins"] == before
    assert not is_logged_in(other)


def test_m42_a_code_works_once_and_not_after_its_lifetime() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    assert browser.submit("LoginCode", code=code).success
    assert browser.submit("Logout").success
    assert_fails(browser.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    late, code = asked(shop)
    shop.clock.advance(shop.settings.login_code_lifetime + 1)
    before = shop.state()["logins"]
    assert_fails(late.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    assert shop.state()["logins"] == before


def test_m42_three_wrong_tries_void_the_code() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(CODE_TRIES - 1):
        assert_fails(browser.submit("LoginCode", code=wrong), ActionError("invalidCode", "code"))
    assert browser.submit("LoginCode", code=code).success  # the third try, right
    assert browser.submit("Logout").success
    browser, code = asked(shop)
    for _ in range(CODE_TRIES):
        assert_fails(browser.submit("LoginCode", code=wrong), ActionError("invalidCode", "code"))
    before = shop.state()["logins"]
    assert_fails(browser.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    assert shop.state()["logins"] == before
    assert not is_logged_in(browser)


def test_m42_a_replayed_session_does_not_reset_the_tries() -> None:
    """The tries count on the server: a browser that sends its old session again (a
    copied signed cookie) does not get three new ones."""
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    copy = dict(browser.session.data)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(CODE_TRIES):
        browser.session.data.clear()
        browser.session.data.update(copy)
        assert_fails(browser.submit("LoginCode", code=wrong), ActionError("invalidCode", "code"))
    browser.session.data.clear()
    browser.session.data.update(copy)
    assert_fails(browser.submit("LoginCode", code=code), ActionError("invalidCode", "code"))


def test_an_inactive_account_is_told_after_the_right_code() -> None:
    shop = Harness()
    account = shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    shop.accounts.update_account(account.id, {"active": False})
    before = shop.state()["logins"]
    assert_fails(browser.submit("LoginCode", code=code), ActionError("accountInactive"))
    assert shop.state()["logins"] == before


def test_m41_an_account_with_a_second_factor_needs_it_after_the_code() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    secret = client.submit("TotpSetup").data["secret"]
    assert client.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now())).success
    browser, code = asked(shop)
    before = shop.state()["logins"]
    assert_fails(browser.submit("LoginCode", code=code), ActionError("secondFactorRequired"))
    assert shop.state()["logins"] == before
    assert not is_logged_in(browser)
    # the code is used up even though the answer was a failure (its unit of work rolled back)
    assert not [t for t in shop.state()["tokens"].values() if t.purpose == "login_code"]
    assert_fails(browser.submit("LoginCode", code=code), ActionError("invalidCode", "code"))
    shop.clock.advance(30)
    done = browser.submit("LoginSecondFactor", code=pyotp.TOTP(secret).at(shop.clock.now()))
    assert done.success
    assert is_logged_in(browser)


def test_letter_codes() -> None:
    shop = Harness(login_code_style="letters")
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert not set(code) & set("01258BILOSZ")
    assert browser.submit("LoginCode", code=" " + code.lower().replace("-", " ") + " ").success


def test_code_helpers() -> None:
    assert normalized(" ab-cd efgh ") == "ABCDEFGH"
    assert normalized("1" * 100) == "1" * 32
    assert code_hash("n", "123456") == code_hash("n", "123 456")
    assert code_hash("n", "123456") != code_hash("m", "123456")
    assert len({new_code("digits") for _ in range(200)}) > 150


def test_m42_16_threads_with_one_code_log_in_once() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW)
    browser, code = asked(shop)
    session = dict(browser.session.data)
    barrier = threading.Barrier(16)

    def attempt(_: int) -> bool:
        clone = shop.client()
        clone.session.data.update(session)
        barrier.wait()
        return clone.submit("LoginCode", code=code).success

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count(True) == 1
    assert len(shop.logins.list_logins(shop.accounts.find_account(EMAIL).id)) == 1


def test_a_subshop_limit_is_told_after_the_right_code() -> None:
    shop = Harness()
    shop.create_account(EMAIL, PW, allowed_subshops={"de"})
    elsewhere = shop.client(subshop="fr")
    assert elsewhere.submit("LoginCodeRequest", email=EMAIL).success
    code = mailed_code(shop)
    before = shop.state()["logins"]
    assert_fails(elsewhere.submit("LoginCode", code=code), ActionError("subshopNotAllowed"))
    assert shop.state()["logins"] == before
    assert not is_logged_in(elsewhere)
