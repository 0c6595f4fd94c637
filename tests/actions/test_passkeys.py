"""Passkeys: registration, login as both factors, every code with nothing changed, W47
(single-use challenges that expire, relying party id and origin checked, counters that go
back refused, the last credential of an account without a password kept, a fresh login to
add or remove one) and M41 (user verification required)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pyotp
import pytest

from helpers import PW, account_logged_in, assert_fails, is_logged_in
from softkey import SoftKey
from wsactions import ActionError
from wsactions.actions.passkeys import CHALLENGE_SECONDS
from wsactions.logins import current_login_id
from wsactions.testing import Client, Harness

EMAIL = "ann@example.com"
ORIGIN = "https://shop.example"


def state(shop: Harness) -> tuple[Any, ...]:
    return shop.state(), len(shop.outbox)


def with_passkey(shop: Harness, key: SoftKey | None = None) -> tuple[Client, SoftKey]:
    """A logged-in browser of EMAIL's account with one passkey."""
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    key = key or SoftKey()
    options = client.submit("PasskeyRegisterOptions")
    assert options.success, options.errors
    done = client.submit(
        "PasskeyRegister", credential=key.create(options.data["options"], ORIGIN), name="Phone"
    )
    assert done.success, done.errors
    return client, key


def login_options(browser: Client) -> str:
    options = browser.submit("PasskeyLoginOptions")
    assert options.success
    return str(options.data["options"])


def passkeys(shop: Harness) -> list[Any]:
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    return list(shop.storage.passkeys.list_passkeys(account.id))


# registration ------------------------------------------------------------------------------


def test_register_then_log_in_without_an_address() -> None:
    shop = Harness(shop_name="Laden")
    client, key = with_passkey(shop)
    [stored] = passkeys(shop)
    assert (stored.id, stored.name, stored.transports) == (key.id, "Phone", ("internal",))
    assert shop.outbox[-1].purpose == "security_notice"  # M45
    assert "passkey was added" in shop.outbox[-1].text
    options = json.loads(client.submit("PasskeyRegisterOptions").data["options"])
    assert options["rp"] == {"id": "shop.example", "name": "Laden"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    browser = shop.client()
    options = login_options(browser)
    assert json.loads(options)["allowCredentials"] == []  # the browser offers its passkeys
    done = browser.submit("PasskeyLogin", credential=key.get(options, ORIGIN))
    assert done.success, done.errors
    assert is_logged_in(browser)
    login = shop.logins.get_login(current_login_id(browser.session) or "")
    assert login is not None
    assert login.proven_by == "passkey"
    assert passkeys(shop)[0].sign_count == 1
    assert passkeys(shop)[0].last_used == shop.clock.now()


def test_w47_adding_needs_a_fresh_login() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    shop.clock.advance(shop.settings.reauthentication_timeout + 1)
    before = state(shop)
    assert_fails(client.submit("PasskeyRegisterOptions"), ActionError("reauthenticationRequired"))
    assert_fails(
        client.submit("PasskeyRegister", credential="{}"), ActionError("reauthenticationRequired")
    )
    assert state(shop) == before


def test_register_codes_change_nothing() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    key = SoftKey()
    anonymous = shop.client()
    before = state(shop)
    assert_fails(anonymous.submit("PasskeyRegisterOptions"), ActionError("notLoggedIn"))
    assert_fails(anonymous.submit("PasskeyRegister", credential="{}"), ActionError("notLoggedIn"))
    assert_fails(client.submit("PasskeyRegister", credential="{}"), ActionError("noChallenge"))
    assert state(shop) == before
    options = client.submit("PasskeyRegisterOptions").data["options"]
    cases = [
        ({"credential": "not json"}, ActionError("passkeyInvalid", "credential")),
        ({"credential": "[1]"}, ActionError("passkeyInvalid", "credential")),
        (
            {"credential": key.create(options, "https://evil.example")},
            ActionError("passkeyInvalid", "credential"),
        ),
        (
            {"credential": key.create(options, ORIGIN, rp_id="evil.example")},
            ActionError("passkeyInvalid", "credential"),
        ),
        (
            {"credential": SoftKey(user_verified=False).create(options, ORIGIN)},
            ActionError("passkeyInvalid", "credential"),
        ),
    ]
    for values, error in cases:
        client.submit("PasskeyRegisterOptions")
        options = client.session.passkey_challenge
        assert options is not None
        before = shop.state()["passkeys"]
        assert_fails(client.submit("PasskeyRegister", **values), error)
        assert shop.state()["passkeys"] == before
    client.submit("PasskeyRegisterOptions")
    assert_fails(
        client.submit("PasskeyRegister", credential="{}", name="x" * 101),
        ActionError("invalidValue", "name"),
    )


def test_w47_a_registration_challenge_works_once() -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    key = SoftKey()
    options = client.submit("PasskeyRegisterOptions").data["options"]
    copy = dict(client.session.data)
    credential = key.create(options, ORIGIN)
    assert client.submit("PasskeyRegister", credential=credential).success
    client.session.data.update(copy)  # a replayed session still holds the challenge
    before = shop.state()
    assert_fails(
        client.submit("PasskeyRegister", credential=SoftKey().create(options, ORIGIN)),
        ActionError("noChallenge"),
    )
    assert shop.state() == before


def test_the_same_passkey_twice_is_refused() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    options = client.submit("PasskeyRegisterOptions").data["options"]
    before = shop.state()["passkeys"]
    assert_fails(
        client.submit("PasskeyRegister", credential=key.create(options, ORIGIN)),
        ActionError("passkeyExists"),
    )
    assert shop.state()["passkeys"] == before


def test_passkeys_unavailable_without_a_base_url() -> None:
    shop = Harness(base_url=None)
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    before = state(shop)
    for name, values in (
        ("PasskeyRegisterOptions", {}),
        ("PasskeyRegister", {"credential": "{}"}),
        ("PasskeyLoginOptions", {}),
        ("PasskeyLogin", {"credential": "{}"}),
    ):
        assert_fails(client.submit(name, **values), ActionError("passkeysUnavailable"))
    assert state(shop) == before


# login -------------------------------------------------------------------------------------


def test_login_codes_change_nothing() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    other = SoftKey()
    browser = shop.client()
    before = state(shop)
    assert_fails(browser.submit("PasskeyLogin", credential="{}"), ActionError("noChallenge"))
    cases = [
        lambda options: other.get(options, ORIGIN),  # unknown credential
        lambda options: key.get(options, "https://evil.example"),  # wrong origin
        lambda options: key.get(options, ORIGIN, rp_id="evil.example"),  # wrong relying party
        lambda options: "not json",
        lambda options: "{}",
    ]
    for make in cases:
        credential = make(login_options(browser))
        assert_fails(
            browser.submit("PasskeyLogin", credential=credential),
            ActionError("passkeyInvalid", "credential"),
        )
        assert not is_logged_in(browser)
    assert shop.state()["logins"] == before[0]["logins"]
    assert shop.state()["passkeys"] == before[0]["passkeys"]


def test_m41_user_verification_is_required() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    key.user_verified = False
    browser = shop.client()
    before = shop.state()
    assert_fails(
        browser.submit("PasskeyLogin", credential=key.get(login_options(browser), ORIGIN)),
        ActionError("passkeyInvalid", "credential"),
    )
    assert shop.state() == before


def test_w47_a_login_challenge_works_once_and_expires() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    browser = shop.client()
    options = login_options(browser)
    copy = dict(browser.session.data)
    assert browser.submit("PasskeyLogin", credential=key.get(options, ORIGIN)).success
    replay = shop.client()
    replay.session.data.update(copy)
    before = shop.state()["logins"]
    assert_fails(
        replay.submit("PasskeyLogin", credential=key.get(options, ORIGIN)),
        ActionError("noChallenge"),
    )
    assert shop.state()["logins"] == before
    late = shop.client()
    options = login_options(late)
    shop.clock.advance(CHALLENGE_SECONDS + 1)
    assert_fails(
        late.submit("PasskeyLogin", credential=key.get(options, ORIGIN)),
        ActionError("noChallenge"),
    )
    assert not is_logged_in(late)


def test_w47_a_failed_answer_uses_the_challenge_up_too() -> None:
    """A wrong answer rolls its unit of work back; the challenge stays used."""
    shop = Harness()
    _, key = with_passkey(shop)
    browser = shop.client()
    options = login_options(browser)
    copy = dict(browser.session.data)
    assert_fails(
        browser.submit("PasskeyLogin", credential=key.get(options, "https://evil.example")),
        ActionError("passkeyInvalid", "credential"),
    )
    browser.session.data.update(copy)
    assert_fails(
        browser.submit("PasskeyLogin", credential=key.get(options, ORIGIN)),
        ActionError("noChallenge"),
    )


def test_w47_a_counter_that_goes_back_is_refused() -> None:
    shop = Harness()
    _, key = with_passkey(shop, SoftKey(counter=10))
    browser = shop.client()
    assert browser.submit(
        "PasskeyLogin", credential=key.get(login_options(browser), ORIGIN)
    ).success
    assert passkeys(shop)[0].sign_count == 11
    clone = shop.client()
    before = shop.state()
    for counter in (11, 5):
        assert_fails(
            clone.submit(
                "PasskeyLogin", credential=key.get(login_options(clone), ORIGIN, counter=counter)
            ),
            ActionError("passkeyInvalid", "credential"),
        )
    assert not is_logged_in(clone)
    assert shop.state()["passkeys"] == before["passkeys"]


def test_an_inactive_account_is_told_after_the_passkey() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    shop.accounts.update_account(account.id, {"active": False})
    browser = shop.client()
    before = shop.state()["logins"]
    assert_fails(
        browser.submit("PasskeyLogin", credential=key.get(login_options(browser), ORIGIN)),
        ActionError("accountInactive"),
    )
    assert shop.state()["logins"] == before


def test_m41_a_passkey_is_both_factors_and_can_finish_a_pending_login() -> None:
    """An account with TOTP logs in with its passkey alone (user verification); after the
    password, the options name its passkeys and one finishes the login."""
    shop = Harness()
    client, key = with_passkey(shop)
    secret = client.submit("TotpSetup").data["secret"]
    assert client.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now())).success
    browser = shop.client()
    assert browser.submit(
        "PasskeyLogin", credential=key.get(login_options(browser), ORIGIN)
    ).success
    pending = shop.client()
    pending.create("Login")
    assert_fails(
        pending.submit("Login", id=EMAIL, password=PW), ActionError("secondFactorRequired")
    )
    options = login_options(pending)
    assert [c["id"] for c in json.loads(options)["allowCredentials"]] == [key.id]
    assert pending.submit("PasskeyLogin", credential=key.get(options, ORIGIN)).success
    assert is_logged_in(pending)


def test_w47_16_threads_with_one_assertion_log_in_once() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    browser = shop.client()
    credential = key.get(login_options(browser), ORIGIN)
    session = dict(browser.session.data)
    barrier = threading.Barrier(16)

    def attempt(_: int) -> bool:
        clone = shop.client()
        clone.session.data.update(session)
        barrier.wait()
        return clone.submit("PasskeyLogin", credential=credential).success

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count(True) == 1
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    assert len(shop.logins.list_logins(account.id)) == 2  # the registering browser's, and one


# managing ----------------------------------------------------------------------------------


def test_rename_and_delete() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    assert client.submit("PasskeyRename", passkeyId=key.id, name="  Work   laptop ").success
    assert passkeys(shop)[0].name == "Work laptop"
    mails = len(shop.outbox)
    assert client.submit("PasskeyDelete", passkeyId=key.id).success
    assert passkeys(shop) == []
    assert len(shop.outbox) == mails + 1
    assert "passkey was removed" in shop.outbox[-1].text


def test_rename_and_delete_codes_change_nothing() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    stranger = shop.client()
    account_logged_in(shop, stranger, "bob@example.com")
    anonymous = shop.client()
    before = state(shop)
    assert_fails(
        anonymous.submit("PasskeyRename", passkeyId=key.id, name="x"), ActionError("notLoggedIn")
    )
    assert_fails(anonymous.submit("PasskeyDelete", passkeyId=key.id), ActionError("notLoggedIn"))
    for who in (stranger, client):
        missing = "nope" if who is client else key.id  # another account's passkey: not found
        assert_fails(
            who.submit("PasskeyRename", passkeyId=missing, name="x"),
            ActionError("passkeyNotFound", "passkeyId"),
        )
        assert_fails(
            who.submit("PasskeyDelete", passkeyId=missing),
            ActionError("passkeyNotFound", "passkeyId"),
        )
    for name in ("", "   ", "x" * 101):
        assert_fails(
            client.submit("PasskeyRename", passkeyId=key.id, name=name),
            ActionError("invalidValue", "name"),
        )
    shop.clock.advance(shop.settings.reauthentication_timeout + 1)
    assert_fails(
        client.submit("PasskeyRename", passkeyId=key.id, name="x"),
        ActionError("reauthenticationRequired"),
    )
    assert_fails(
        client.submit("PasskeyDelete", passkeyId=key.id), ActionError("reauthenticationRequired")
    )
    assert state(shop)[0]["passkeys"] == before[0]["passkeys"]


def test_w47_the_last_credential_of_an_account_without_a_password_stays() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    shop.accounts.update_account(account.id, {"password_hash": None})
    before = state(shop)
    assert_fails(client.submit("PasskeyDelete", passkeyId=key.id), ActionError("lastCredential"))
    assert state(shop) == before
    second = SoftKey()
    options = client.submit("PasskeyRegisterOptions").data["options"]
    assert client.submit("PasskeyRegister", credential=second.create(options, ORIGIN)).success
    assert client.submit("PasskeyDelete", passkeyId=key.id).success
    assert_fails(client.submit("PasskeyDelete", passkeyId=second.id), ActionError("lastCredential"))
    assert [p.id for p in passkeys(shop)] == [second.id]


def test_deleting_the_account_removes_its_passkeys() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    assert client.submit("AccountDelete").success
    assert shop.storage.passkeys.get_passkey(key.id) is None


def test_passkey_records_hold_no_secret() -> None:
    shop = Harness()
    client, key = with_passkey(shop)
    [stored] = passkeys(shop)
    assert "public_key" not in repr(stored)
    assert attrs.asdict(stored)["public_key"]  # a public key: nothing secret, kept
    result = client.submit("PasskeyRegisterOptions")
    assert key.id in result.data["options"]  # excluded credentials are public ids


@pytest.mark.parametrize("name", ["PasskeyLogin", "PasskeyRegister"])
def test_the_credential_is_never_echoed(name: str) -> None:
    shop = Harness()
    client = shop.client()
    account_logged_in(shop, client, EMAIL)
    result = client.submit(name, credential='{"x": "secret-ish"}')
    assert "credential" not in result.params


def test_a_subshop_limit_is_told_after_the_passkey() -> None:
    shop = Harness()
    _, key = with_passkey(shop)
    account = shop.accounts.find_account(EMAIL)
    assert account is not None
    shop.accounts.update_account(account.id, {"allowed_subshops": frozenset({"de"})})
    elsewhere = shop.client(subshop="fr")
    before = shop.state()
    assert_fails(
        elsewhere.submit("PasskeyLogin", credential=key.get(login_options(elsewhere), ORIGIN)),
        ActionError("subshopNotAllowed"),
    )
    assert shop.state()["logins"] == before["logins"]
    assert shop.state()["passkeys"] == before["passkeys"]  # the counter is not spent
    assert not is_logged_in(elsewhere)
    at_home = shop.client(subshop="de")
    assert at_home.submit(
        "PasskeyLogin", credential=key.get(login_options(at_home), ORIGIN)
    ).success


def test_login_challenges_per_client_are_bounded() -> None:
    """Every login challenge is a stored token: one client gets 60 a minute, then
    tooManyRequests and nothing is stored."""
    shop = Harness()
    browser = shop.client()
    for _ in range(60):
        assert browser.submit("PasskeyLoginOptions").success
    before = shop.state()
    assert_fails(browser.submit("PasskeyLoginOptions"), ActionError("tooManyRequests"))
    assert shop.state() == before
    shop.clock.advance(61)
    assert browser.submit("PasskeyLoginOptions").success
