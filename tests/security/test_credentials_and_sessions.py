"""SECURITY.md requirements for accounts, one test (or more) per requirement number.

P1-P7 passwords, T8-T16 opt-in tokens and identity, L17-L19 throttling,
S20-S24 sessions, E28 enumeration, I32 secrets in events and mails.
"""

from __future__ import annotations

import base64
import threading
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import argon2
import pytest

from helpers import PW, is_logged_in, log_in, tokens_but_notices
from wsactions import (
    TESTING_HASHING,
    Account,
    ActionError,
    ActionResult,
    GuestCheckout,
    MappingSession,
    PasswordPolicy,
    RateLimit,
    TokenLifetimes,
)
from wsactions.mail import Mail
from wsactions.security import passwords
from wsactions.security.tokens import hash_token
from wsactions.testing import Client, Harness

NEW_PW = "zebra violin cactus 19"
WRONG = "not the password at all 7"

#: An address and a display name whose parts make otherwise acceptable passwords weak.
CONTEXT_EMAIL = "zanzibar.quixotic@example.com"
CONTEXT_NAME = "Wilhelmina Featherstonehaugh"
COMMON = "password123"
EMAIL_PASSWORD = "zanzibarquixotic"
NAME_PASSWORD = "WilhelminaFeatherstonehaugh"
SHOP_PASSWORD = "Example Shop!"

T = TypeVar("T")


# helpers ---------------------------------------------------------------------------------


def register(client: Client, email: str, password: str = PW) -> ActionResult:
    """Submit AccountRegister with a repeated password."""
    return client.submit("AccountRegister", email=email, password=password, passwordRepeat=password)



def reset(client: Client, new: str = NEW_PW, **extra: str) -> ActionResult:
    """Submit ResetPassword with *new* repeated."""
    return client.submit("ResetPassword", newPassword=new, newPasswordRepeat=new, **extra)


def mails(shop: Harness, purpose: str) -> list[Mail]:
    """The sent mails of *purpose*."""
    return [m for m in shop.outbox if m.purpose == purpose]


def newest_link(shop: Harness, purpose: str) -> str:
    """The link of the newest mail of *purpose*."""
    found = mails(shop, purpose)
    assert found, f"no {purpose} mail"
    (link,) = found[-1].links
    return link


def token_of(link: str) -> str:
    """The wsoptin token of *link*."""
    (token,) = parse_qs(urlsplit(link).query)["wsoptin"]
    return token


def reset_link(shop: Harness, client: Client, email: str) -> str:
    """Request a reset link for *email* and return it."""
    assert client.submit("PasswordForgotten", email=email).success
    return newest_link(shop, "password")


def block(client: Client, email: str, times: int = 10) -> None:
    """Fail *times* logins for *email*."""
    for _ in range(times):
        assert log_in(client, email, WRONG).codes == {"invalidCredentials"}



def alike(result: ActionResult) -> tuple[Any, ...]:
    """What a result tells apart from the echo of the submitted parameters."""
    return (result.name, result.success, result.errors, dict(result.data), result.redirect)


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` in *count* threads released at once; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    return results


def passphrase(length: int) -> str:
    """A strong passphrase of exactly *length* characters (no repeats of a short pattern)."""
    words = "orbit maple quartz lantern vivid copper falcon meadow tundra ember sable cobalt"
    text = ""
    index = 0
    while len(text) < length:
        text += f"{words.split()[index % 12]}{index} "
        index += 1
    return text[:length]


def stored(shop: Harness, email_key: str) -> Account:
    """The stored account of *email_key*."""
    account = shop.accounts.find_account(email_key)
    assert account is not None
    return account  # type: ignore[no-any-return]


# P passwords ---------------------------------------------------------------------------------


def test_p1_min_length_default_eight() -> None:
    """Seven characters are too short, eight are long enough (strength rule off)."""
    shop = Harness(password_policy=PasswordPolicy(min_score=0))
    client = shop.client()
    result = register(client, "a@example.com", "Zq7!vR2")
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("minlen",)),)
    assert register(client, "a@example.com", "Zq7!vR2#").success


def test_p1_min_length_default_reports_minlen() -> None:
    """With the default policy a seven-character password gets minlen, not weak."""
    result = register(Harness().client(), "a@example.com", "Zq7!vR2")
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("minlen",)),)


def test_p1_min_length_configurable() -> None:
    """A configured min_length of 14 refuses a strong 12-character password."""
    shop = Harness(password_policy=PasswordPolicy(min_length=14))
    result = register(shop.client(), "a@example.com", "Kx9#mW4$tP2!")
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("minlen",)),)
    assert register(shop.client(), "a@example.com", "Kx9#mW4$tP2!ab").success


def test_p1_accepts_64_characters() -> None:
    """A 64-character passphrase registers and logs in."""
    shop = Harness()
    password = passphrase(64)
    assert len(password) == 64
    client = shop.client()
    assert register(client, "a@example.com", password).success
    assert log_in(client, "a@example.com", password).success


@pytest.mark.parametrize("length", [100, 128])
def test_p1_accepts_long_passphrases_up_to_max(length: int) -> None:
    """Passphrases of 100 and 128 characters (the maximum) are accepted and log in."""
    shop = Harness()
    password = passphrase(length)
    assert len(password) == length
    client = shop.client()
    result = register(client, "a@example.com", password)
    assert result.success, result.errors
    assert log_in(client, "a@example.com", password).success


def test_p1_max_length_129_is_maxlen() -> None:
    """129 characters exceed the default maximum: maxlen, nothing stored."""
    shop = Harness()
    before = shop.state()
    result = register(shop.client(), "a@example.com", passphrase(129))
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("maxlen",)),)
    assert shop.state() == before


def test_p1_never_truncated() -> None:
    """A 100-character password's 99-character prefix does not log in."""
    shop = Harness()
    password = passphrase(100)
    shop.create_account("a@example.com", password)
    client = shop.client()
    assert log_in(client, "a@example.com", password[:99]).codes == {"invalidCredentials"}
    assert log_in(client, "a@example.com", password[:72]).codes == {"invalidCredentials"}
    assert log_in(client, "a@example.com", password).success


@pytest.mark.parametrize(
    "password",
    [
        "   spaces   around   words   ",
        "🦄🌈 sparkle pony 🎠🎡",
        "пароль очень длинный секрет",
        "密码是非常安全的东西吧吗",
        "こんにちは世界の秘密の鍵",
        "all lowercase no digits at all",
    ],
    ids=["spaces", "emoji", "cyrillic", "chinese", "japanese", "no-composition"],
)
def test_p2_any_characters_accepted(password: str) -> None:
    """Spaces, emoji and any script are accepted; no composition rules; login works."""
    shop = Harness()
    client = shop.client()
    assert register(client, "a@example.com", password).success
    assert log_in(client, "a@example.com", password).success


def _context_shop() -> Harness:
    """A shop with the context account (email and display name are context words)."""
    shop = Harness()
    shop.create_account(CONTEXT_EMAIL, PW, display_name=CONTEXT_NAME)
    return shop


@pytest.mark.parametrize("password", [EMAIL_PASSWORD, NAME_PASSWORD])
def test_p3_context_passwords_are_otherwise_acceptable(password: str) -> None:
    """Without the context the context passwords pass (so the context is what refuses them)."""
    shop = Harness()
    assert register(shop.client(), "other.person@example.com", password).success


@pytest.mark.parametrize(
    "password", [COMMON, EMAIL_PASSWORD, SHOP_PASSWORD], ids=["common", "email", "shop"]
)
def test_p3_register_refuses_common_and_context(password: str) -> None:
    """AccountRegister refuses common passwords, email parts and the shop name."""
    shop = Harness()
    before = shop.state()
    result = register(shop.client(), CONTEXT_EMAIL, password)
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("weak",)),)
    assert shop.state() == before


@pytest.mark.parametrize(
    "password",
    [COMMON, EMAIL_PASSWORD, NAME_PASSWORD, SHOP_PASSWORD],
    ids=["common", "email", "name", "shop"],
)
def test_p3_reset_by_token_refuses_common_and_context(password: str) -> None:
    """ResetPassword by token refuses common and context passwords."""
    shop = _context_shop()
    client = shop.client()
    client.follow(reset_link(shop, client, CONTEXT_EMAIL))
    before = shop.state()
    result = reset(client, password)
    assert result.errors == (ActionError("passwordCheckFailed", "newPassword", ("weak",)),)
    assert shop.state() == before


@pytest.mark.parametrize(
    "password",
    [COMMON, EMAIL_PASSWORD, NAME_PASSWORD, SHOP_PASSWORD],
    ids=["common", "email", "name", "shop"],
)
def test_p3_reset_logged_in_refuses_common_and_context(password: str) -> None:
    """ResetPassword while logged in refuses common and context passwords."""
    shop = _context_shop()
    client = shop.client()
    assert log_in(client, CONTEXT_EMAIL).success
    before = shop.state()
    result = reset(client, password, passwordAuth=PW)
    assert result.errors == (ActionError("passwordCheckFailed", "newPassword", ("weak",)),)
    assert shop.state() == before


@pytest.mark.parametrize("action", ["GuestRegister", "SaveGuestDataToUser"])
@pytest.mark.parametrize(
    "password",
    [COMMON, EMAIL_PASSWORD, NAME_PASSWORD, SHOP_PASSWORD],
    ids=["common", "email", "name", "shop"],
)
def test_p3_guest_conversion_refuses_common_and_context(action: str, password: str) -> None:
    """Guest conversion refuses common passwords and the checkout's email/name parts."""
    shop = Harness()
    client = shop.client()
    client.session.set_guest_checkout(GuestCheckout(email=CONTEXT_EMAIL, display_name=CONTEXT_NAME))
    before = shop.state()
    result = client.submit(
        action,
        id=CONTEXT_EMAIL,
        guestMail=CONTEXT_EMAIL,
        password=password,
        passwordRepeat=password,
    )
    assert result.errors == (ActionError("passwordCheckFailed", "password", ("weak",)),)
    assert shop.state() == before


def test_p4_composed_and_decomposed_are_one_password() -> None:
    """A password set composed logs in decomposed and the other way round."""
    composed = "café crème brûlée 77"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    shop = Harness()
    client = shop.client()
    assert register(client, "nfc@example.com", composed).success
    assert register(client, "nfd@example.com", decomposed).success
    assert log_in(client, "nfc@example.com", decomposed).success
    assert log_in(shop.client(), "nfd@example.com", composed).success


def test_p4_nfkc_compatibility_forms() -> None:
    """Full-width letters are the same password after NFKC."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    full_width = "ｃｏｒｒｅｃｔ horse battery staple 42"
    assert log_in(shop.client(), "a@example.com", full_width).success


def test_p4_no_case_folding() -> None:
    """ "Password" and "password" are different passwords."""
    shop = Harness()
    shop.create_account("a@example.com", "Correct Horse Battery Staple 42")
    client = shop.client()
    assert log_in(client, "a@example.com", "correct horse battery staple 42").codes == {
        "invalidCredentials"
    }
    assert log_in(client, "a@example.com", "CORRECT HORSE BATTERY STAPLE 42").codes == {
        "invalidCredentials"
    }
    assert log_in(client, "a@example.com", "Correct Horse Battery Staple 42").success


def _hash_of(shop: Harness, email_key: str) -> str:
    password_hash = stored(shop, email_key).password_hash
    assert password_hash is not None
    return password_hash


def test_p5_every_path_stores_argon2id() -> None:
    """Register, reset by token, reset logged in and guest conversion store argon2id hashes."""
    shop = Harness()
    client = shop.client()
    assert register(client, "reg@example.com").success
    assert _hash_of(shop, "reg@example.com").startswith("$argon2id$")

    shop.create_account("tok@example.com", PW)
    client.follow(reset_link(shop, client, "tok@example.com"))
    assert reset(client).success
    assert _hash_of(shop, "tok@example.com").startswith("$argon2id$")

    client.leave()
    shop.create_account("me@example.com", PW)
    assert log_in(client, "me@example.com").success
    assert reset(client, passwordAuth=PW).success
    assert _hash_of(shop, "me@example.com").startswith("$argon2id$")

    guest = shop.client()
    guest.session.set_guest_checkout(GuestCheckout(email="guest@example.com"))
    assert guest.submit("GuestRegister", password=PW, passwordRepeat=PW).success
    assert _hash_of(shop, "guest@example.com").startswith("$argon2id$")

    for account in shop.state()["accounts"].values():
        assert argon2.extract_parameters(account.password_hash) == TESTING_HASHING


@pytest.mark.parametrize(
    "old",
    [
        argon2.Parameters(
            type=argon2.low_level.Type.ID,
            version=19,
            salt_len=16,
            hash_len=16,
            time_cost=1,
            memory_cost=8,
            parallelism=1,
        ),
        argon2.Parameters(
            type=argon2.low_level.Type.I,
            version=19,
            salt_len=8,
            hash_len=4,
            time_cost=1,
            memory_cost=8,
            parallelism=1,
        ),
    ],
    ids=["outdated-argon2id", "argon2i"],
)
def test_p5_outdated_hash_upgraded_at_login(old: argon2.Parameters) -> None:
    """A hash with outdated parameters is replaced by a current argon2id hash at login."""
    shop = Harness()
    account = shop.create_account("a@example.com", PW)
    old_hash = argon2.PasswordHasher.from_parameters(old).hash(PW)
    shop.accounts.update_account(account.id, {"password_hash": old_hash})
    client = shop.client()
    assert log_in(client, "a@example.com", WRONG).codes == {"invalidCredentials"}
    assert _hash_of(shop, "a@example.com") == old_hash  # a failed login changes nothing
    assert log_in(client, "a@example.com").success
    new_hash = _hash_of(shop, "a@example.com")
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$")
    assert argon2.extract_parameters(new_hash) == TESTING_HASHING
    assert argon2.PasswordHasher.from_parameters(TESTING_HASHING).verify(new_hash, PW)
    assert log_in(shop.client(), "a@example.com").success
    assert _hash_of(shop, "a@example.com") == new_hash


def test_p6_strength_answers_for_huge_input() -> None:
    """A 100,000-character input gets an answer in range and is not echoed."""
    shop = Harness()
    client = shop.client()
    huge = ("Tr0ub4dor&3 correct horse " * 4000)[:100_000]
    assert len(huge) == shop.settings.max_value_length
    result = client.submit("CheckPasswordStrength", password=huge)
    assert result.success
    assert 0 <= result.data["value"] <= 4
    assert result.data["max"] == 4
    assert result.data["accepted"] is False  # longer than max_length
    assert dict(result.params) == {}
    assert "Tr0ub4dor" not in repr(result)


def test_p6_long_passphrase_not_capped() -> None:
    """A long strong passphrase within max_length is accepted by the strength check."""
    client = Harness().client()
    result = client.submit("CheckPasswordStrength", password=passphrase(120))
    assert result.success
    assert result.data["accepted"] is True
    assert result.data["value"] >= 3
    assert dict(result.params) == {}


def test_p6_strength_never_echoes() -> None:
    """The checked password appears in no part of the result."""
    client = Harness().client()
    result = client.submit("CheckPasswordStrength", password="Unique-Marker-Passphrase 93")
    assert result.success
    assert "Unique-Marker" not in repr(result)
    assert dict(result.params) == {}


def test_p7_logged_in_change_requires_current_password() -> None:
    """Without or with a wrong passwordAuth the password stays; with the right one it changes."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    assert log_in(client, "a@example.com").success
    before = shop.state()
    assert reset(client).codes == {"missingPasswordAuth"}
    assert reset(client, passwordAuth=WRONG).codes == {"failedPasswordAuth"}
    assert reset(client, passwordAuth=NEW_PW).codes == {"failedPasswordAuth"}
    assert shop.state() == before
    assert reset(client, passwordAuth=PW).success
    assert log_in(shop.client(), "a@example.com", NEW_PW).success


# T opt-in tokens --------------------------------------------------------------------------


def _mail_every_purpose() -> tuple[Harness, dict[str, str]]:
    """A shop that has mailed one link of every purpose; purpose → token."""
    shop = Harness(delete_requires_confirmation=True)
    shop.create_account("tok@example.com", PW)
    shop.create_account("ina@example.com", PW, active=False)
    owner, other, attacker = shop.client(), shop.client(), shop.client()
    assert register(other, "reg@example.com").success
    assert other.submit("AccountActivate", id="ina@example.com").success
    assert log_in(owner, "tok@example.com").success
    assert owner.submit("EmailUpdate", email="tok.new@example.com").success
    assert owner.submit("AccountDelete").success
    assert other.submit("PasswordForgotten", email="tok@example.com").success
    block(attacker, "tok@example.com", times=9)  # the owner's login counted as an attempt
    tokens: dict[str, str] = {}
    for mail in shop.outbox:
        for link in mail.links:
            assert mail.purpose not in tokens
            tokens[mail.purpose] = token_of(link)
    assert set(tokens) == {
        "verify",
        "activate",
        "email_update",
        "email_update_notice",  # its reset link (purpose password) cancels the change
        "delete",
        "password",
        "unlock",
    }
    return shop, tokens


def test_t8_tokens_have_at_least_128_bits() -> None:
    """Every mailed wsoptin decodes to at least 16 random bytes; all differ."""
    _, tokens = _mail_every_purpose()
    for token in tokens.values():
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) >= 16
    assert len(set(tokens.values())) == len(tokens)


def test_t9_store_never_contains_token() -> None:
    """Neither the stored records nor their keys contain a mailed token."""
    shop, tokens = _mail_every_purpose()
    state = repr(shop.state())
    stored_hashes = set(shop.state()["tokens"])
    for purpose, token in tokens.items():
        assert token not in state
        assert token not in stored_hashes
        if purpose != "email_update_notice":  # revoked by the later password reset link
            assert hash_token(token) in stored_hashes


def test_t10_token_single_use_under_race() -> None:
    """16 threads consuming one token: exactly one gets the record."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    token = token_of(reset_link(shop, shop.client(), "a@example.com"))
    token_hash = hash_token(token)
    assert token_hash is not None
    results = race(16, lambda _: shop.tokens.consume(token_hash))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].purpose == "password"
    assert shop.tokens.get(token_hash) is None


def test_t10_verify_link_single_use_under_race() -> None:
    """16 browsers following one EmailVerify link at once: exactly one success."""
    shop = Harness()
    assert register(shop.client(), "a@example.com").success
    link = newest_link(shop, "verify")
    clients = [shop.client() for _ in range(16)]
    results = race(16, lambda i: clients[i].follow(link))
    codes = sorted(tuple(sorted(r.codes)) for r in results if r is not None)
    assert len(codes) == 16
    assert codes.count(()) == 1
    assert codes.count(("actionNotAllowed",)) == 15
    assert stored(shop, "a@example.com").verified


def test_t10_reset_link_single_use_under_race() -> None:
    """16 browsers submitting ResetPassword with one token at once: exactly one success."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    link = reset_link(shop, shop.client(), "a@example.com")
    clients = [shop.client() for _ in range(16)]
    passwords = [f"{NEW_PW} variant {i}" for i in range(16)]
    for client in clients:
        client.follow(link)
    results = race(16, lambda i: reset(clients[i], passwords[i]))
    winners = [i for i, r in enumerate(results) if r.success]
    assert len(winners) == 1
    assert all(r.codes == {"notLoggedIn"} for r in results if not r.success)
    assert log_in(shop.client(), "a@example.com", passwords[winners[0]]).success


def test_t10_register_race_creates_one_account() -> None:
    """16 browsers registering one address (in case/width variants) at once: one account."""
    shop = Harness(
        mail_per_address=RateLimit(limit=100, window=3600),
        mail_per_client=RateLimit(limit=100, window=3600),
    )
    variants = ["race@example.com", "RACE@example.com", "Race@Example.com", "ｒace@example.com"]
    clients = [shop.client() for _ in range(16)]
    results = race(16, lambda i: register(clients[i], variants[i % 4]))
    assert sum(r.success for r in results) == 1
    assert (
        sorted(r.codes for r in results if not r.success)
        == [frozenset({"accountAlreadyExists"})] * 15
    )
    assert len(shop.state()["accounts"]) == 1
    assert len(shop.outbox) == 1


@pytest.mark.parametrize(("extra", "valid"), [(0, True), (1, False)], ids=["at-limit", "after"])
def test_t11_password_token_lifetime(extra: int, valid: bool) -> None:
    """A reset token is valid at its lifetime limit and invalid one second later."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    link = reset_link(shop, client, "a@example.com")
    shop.clock.advance(shop.settings.token_lifetimes.password + extra)
    client.follow(link)
    assert client.view().wsOptIn.current.valid is valid
    before = shop.state()
    result = reset(client)
    if valid:
        assert result.success
    else:
        assert result.codes == {"notLoggedIn"}
        assert shop.state() == before


@pytest.mark.parametrize(("extra", "valid"), [(0, True), (1, False)], ids=["at-limit", "after"])
def test_t11_verify_token_lifetime(extra: int, valid: bool) -> None:
    """A verify token (24 h by default) is valid at its limit and not one second later."""
    shop = Harness()
    assert register(shop.client(), "a@example.com").success
    shop.clock.advance(24 * 3600 + extra)
    result = shop.client().follow(newest_link(shop, "verify"))
    assert result is not None
    assert result.success is valid
    assert stored(shop, "a@example.com").verified is valid


@pytest.mark.parametrize(("extra", "valid"), [(0, True), (1, False)], ids=["at-limit", "after"])
def test_t11_lifetime_is_per_purpose(extra: int, valid: bool) -> None:
    """A configured unlock lifetime of 60 s applies to unlock links only."""
    shop = Harness(token_lifetimes=TokenLifetimes(unlock=60))
    shop.create_account("a@example.com", PW)
    client = shop.client()
    block(client, "a@example.com")
    assert client.submit("PasswordForgotten", email="a@example.com").success
    shop.clock.advance(60 + extra)
    unlock = client.follow(newest_link(shop, "unlock"))
    assert unlock is not None
    assert unlock.success is valid
    # The password link still lives: the newest one, which the unlock's security notice
    # mailed when the unlock went through (one live reset link per account, M45).
    newest = [m for m in shop.outbox if m.purpose in ("password", "security_notice")][-1]
    client.follow(newest.links[0])
    assert client.view().wsOptIn.current.valid


def test_t12_token_bound_to_purpose() -> None:
    """A token works only for its own purpose."""
    shop = Harness()
    client = shop.client()
    assert register(client, "a@example.com").success
    verify_token = token_of(newest_link(shop, "verify"))
    password_token = token_of(reset_link(shop, client, "a@example.com"))
    before = shop.state()

    client.follow(f"https://shop.example/?wsoptin={verify_token}")
    assert reset(client).codes == {"notLoggedIn"}
    for action in ("AccountActivateOptIn", "AccountDeleteOptIn", "EmailUpdateOptIn"):
        result = client.follow(f"https://shop.example/?wsact={action}&wsoptin={password_token}")
        assert result is not None
        assert result.codes == {"unauthorized"}
    result = client.follow(f"https://shop.example/?wsact=EmailVerify&wsoptin={password_token}")
    assert result is not None
    assert result.codes == {"actionNotAllowed"}
    assert shop.state() == before


def test_t12_token_bound_to_account() -> None:
    """A reset token changes only its own account's password."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    shop.create_account("b@example.com", PW)
    client = shop.client()
    client.follow(reset_link(shop, client, "a@example.com"))
    assert reset(client).success
    assert log_in(shop.client(), "b@example.com", PW).success
    assert log_in(shop.client(), "a@example.com", NEW_PW).success


def test_t12_email_token_bound_to_new_address() -> None:
    """An email-change token sets exactly the address it was mailed to; a newer one wins."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    assert log_in(client, "a@example.com").success
    assert client.submit("EmailUpdate", email="first@example.com").success
    first = newest_link(shop, "email_update")
    assert client.submit("EmailUpdate", email="second@example.com").success
    second = newest_link(shop, "email_update")
    assert client.follow(first).codes == {"unauthorized"}  # type: ignore[union-attr]
    assert client.follow(second).success  # type: ignore[union-attr]
    assert stored(shop, "second@example.com").email == "second@example.com"
    assert shop.accounts.find_account("first@example.com") is None


def test_t12_newer_token_revokes_older() -> None:
    """A second PasswordForgotten revokes the first link."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    first = reset_link(shop, client, "a@example.com")
    second = reset_link(shop, client, "a@example.com")
    client.follow(first)
    assert not client.view().wsOptIn.current.valid
    assert reset(client).codes == {"notLoggedIn"}
    client.follow(second)
    assert reset(client).success


def test_t12_password_change_revokes_reset_and_unlock_tokens() -> None:
    """A logged-in password change revokes outstanding reset and unlock links."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    owner, attacker = shop.client(), shop.client()
    assert log_in(owner, "a@example.com").success
    link = reset_link(shop, attacker, "a@example.com")
    block(attacker, "a@example.com", times=9)  # the owner's login counted as an attempt
    unlock = newest_link(shop, "unlock")
    assert reset(owner, passwordAuth=PW).success
    assert tokens_but_notices(shop) == {}  # revoked; the owner's notice has a new link
    attacker.follow(link)
    assert reset(attacker, "attacker chosen passphrase 1").codes == {"notLoggedIn"}
    assert attacker.follow(unlock).codes == {"unauthorized"}  # type: ignore[union-attr]


def test_t13_optin_requires_post() -> None:
    """With optin_requires_post following a link changes nothing; a POST with it does."""
    shop = Harness(optin_requires_post=True)
    client = shop.client()
    assert register(client, "a@example.com").success
    link = newest_link(shop, "verify")
    before = shop.state()
    assert client.follow(link) is None
    assert shop.state() == before
    assert not stored(shop, "a@example.com").verified
    assert client.view().wsOptIn.current.valid
    result = client.submit("EmailVerify")
    assert result.success
    assert stored(shop, "a@example.com").verified


def test_t13_optin_requires_post_for_deletion() -> None:
    """With optin_requires_post the deletion link waits for a POST too."""
    shop = Harness(optin_requires_post=True, delete_requires_confirmation=True)
    shop.create_account("a@example.com", PW)
    client = shop.client()
    assert log_in(client, "a@example.com").success
    assert client.submit("AccountDelete").success
    scanner = shop.client()
    before = shop.state()
    assert scanner.follow(newest_link(shop, "delete")) is None
    assert shop.state() == before
    assert client.follow(newest_link(shop, "delete")) is None
    assert client.submit("AccountDeleteOptIn").success
    assert shop.state()["accounts"] == {}


def test_t14_links_from_base_url() -> None:
    """Links use the configured base URL and path, whatever Host headers the form carries."""
    shop = Harness(
        base_url="https://www.example-shop.test/de",
        optin_paths={"password": "/account/reset"},
    )
    shop.create_account("a@example.com", PW)
    client = shop.client()
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    assert client.submit("PasswordForgotten", {**headers, "email": "a@example.com"}).success
    assert register(client, "b@example.com").success
    reset_url, verify_url = (m.links[0] for m in shop.outbox)
    assert reset_url.startswith("https://www.example-shop.test/de/account/reset?")
    assert verify_url.startswith("https://www.example-shop.test/de/?")
    assert all("evil" not in m.text for m in shop.outbox)


def test_t15_case_and_width_variants_are_one_account() -> None:
    """ "Alice@Example.com" and full-width "ａlice@example.com" name one account."""
    shop = Harness()
    client = shop.client()
    assert register(client, "Alice@Example.com").success
    before = shop.state()
    assert register(client, "ａlice@example.com").codes == {"accountAlreadyExists"}
    assert register(client, "ALICE@EXAMPLE.COM").codes == {"accountAlreadyExists"}
    assert shop.state() == before
    assert log_in(client, "ａlice@example.com").success
    assert log_in(shop.client(), "aLiCe@example.COM").success


def test_t15_dotless_i_is_another_account() -> None:
    """ "mıke@" and "mike@" are distinct; a reset for one never mails the other."""
    shop = Harness()
    client = shop.client()
    assert register(client, "mike@example.com").success
    mailed = len(shop.outbox)
    result = client.submit("PasswordForgotten", email="mıke@example.com")
    assert result.codes == {"passwordRecoveryFailed"}
    assert len(shop.outbox) == mailed
    assert register(client, "mıke@example.com").success
    assert len(shop.state()["accounts"]) == 2
    assert client.submit("PasswordForgotten", email="MIKE@example.com").success
    assert client.submit("PasswordForgotten", email="mıke@example.com").success
    resets = mails(shop, "password")
    assert [m.to for m in resets] == ["mike@example.com", "mıke@example.com"]
    assert log_in(client, "mıke@example.com").success
    assert client.view().wsAccount.email == "mıke@example.com"


def test_t15_mail_goes_to_stored_address() -> None:
    """Mail goes to the address stored with the account, not the one typed."""
    shop = Harness()
    shop.create_account("Alice@example.com", PW)
    assert shop.client().submit("PasswordForgotten", email="ａLICE@EXAMPLE.com").success
    (mail,) = shop.outbox
    assert mail.to == "Alice@example.com"


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("PasswordForgotten", {"email": ["a@example.com", "b@example.com"]}),
        (
            "AccountRegister",
            {"email": ["c@example.com", "d@example.com"], "password": PW, "passwordRepeat": PW},
        ),
        ("AccountActivate", {"id": ["ina@example.com", "inb@example.com"]}),
    ],
    ids=["PasswordForgotten", "AccountRegister", "AccountActivate"],
)
def test_t16_email_twice_refused_without_mail(action: str, fields: dict[str, Any]) -> None:
    """An address field sent twice gives duplicateParameter and sends nothing."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    shop.create_account("b@example.com", PW)
    shop.create_account("ina@example.com", PW, active=False)
    shop.create_account("inb@example.com", PW, active=False)
    before = shop.state()
    result = shop.client().submit(action, fields)
    assert not result.success
    field = next(iter(k for k, v in fields.items() if isinstance(v, list)))
    assert result.errors == (ActionError("duplicateParameter", field),)
    assert shop.state() == before
    assert shop.outbox == []


def test_t16_email_update_twice_refused_without_mail() -> None:
    """EmailUpdate with two addresses gives duplicateParameter and sends nothing."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    assert log_in(client, "a@example.com").success
    before = shop.state()
    result = client.submit("EmailUpdate", email=["x@example.com", "y@example.com"])
    assert result.errors == (ActionError("duplicateParameter", "email"),)
    assert shop.state() == before


def test_t16_login_id_twice_refused() -> None:
    """Login with two ids gives duplicateParameter and logs nobody in."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    result = client.submit("Login", id=["a@example.com", "b@example.com"], password=PW)
    assert result.errors == (ActionError("duplicateParameter", "id"),)
    assert not is_logged_in(client)


# L throttling -------------------------------------------------------------------------------


def test_l17_unknown_identifiers_counted_the_same() -> None:
    """Known and unknown identifiers get the same answers and block after the same count."""
    shop = Harness()
    shop.create_account("known@example.com", PW)
    client = shop.client()
    answers = {
        email: [log_in(client, email, WRONG).codes for _ in range(11)]
        for email in ("known@example.com", "unknown@example.com")
    }
    expected = [frozenset({"invalidCredentials"})] * 10 + [frozenset({"loginBlocked"})]
    assert answers["known@example.com"] == expected
    assert answers["unknown@example.com"] == expected


def test_l17_variants_count_as_one_identifier() -> None:
    """Failures under case and width variants of an address add up."""
    shop = Harness()
    shop.create_account("alice@example.com", PW)
    client = shop.client()
    variants = ["alice@example.com", "ALICE@example.com", "ａlice@example.com", "Alice@EXAMPLE.com"]
    for i in range(10):
        assert log_in(client, variants[i % 4], WRONG).codes == {"invalidCredentials"}
    assert log_in(client, "alice@example.com").codes == {"loginBlocked"}


def test_l18_password_forgotten_works_while_blocked() -> None:
    """A blocked login can still ask for a reset link, and the reset unblocks it."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    block(client, "a@example.com")
    link = reset_link(shop, client, "a@example.com")
    client.follow(link)
    assert reset(client).success
    client.leave()
    assert log_in(client, "a@example.com", NEW_PW).success


def test_l18_unlock_clears_counter() -> None:
    """UnlockLogin clears the counter: ten more failures are needed to block again."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    block(client, "a@example.com")
    assert client.follow(newest_link(shop, "unlock")).success  # type: ignore[union-attr]
    client.leave()
    block(client, "a@example.com", 9)
    assert log_in(client, "a@example.com").success


def test_l18_mail_limit_per_address_counts_variants_as_one() -> None:
    """Five mails per address per hour, whatever case or width; then tooManyRequests."""
    shop = Harness()
    shop.create_account("Alice@example.com", PW)
    variants = [
        "alice@example.com",
        "ALICE@example.com",
        "Alice@EXAMPLE.COM",
        "ａlice@example.com",
        "ａｌｉｃｅ@example.com",
    ]
    for index, email in enumerate(variants):
        client = shop.client(client_address=f"198.51.100.{index + 1}")
        assert client.submit("PasswordForgotten", email=email).success
    assert len(shop.outbox) == 5
    before = shop.state()
    for email in ("alice@example.com", "ＡＬＩＣＥ@example.com"):
        result = shop.client(client_address="192.0.2.99").submit("PasswordForgotten", email=email)
        assert result.errors == (ActionError("tooManyRequests"),)
    assert shop.state() == before
    shop.clock.advance(3600)
    assert shop.client().submit("PasswordForgotten", email="alice@example.com").success


def test_l18_mail_limit_per_client() -> None:
    """A client that mails too many addresses gets tooManyRequests."""
    shop = Harness(mail_per_client=RateLimit(limit=3, window=3600))
    for name in "abcd":
        shop.create_account(f"{name}@example.com", PW)
    client = shop.client()
    for name in "abc":
        assert client.submit("PasswordForgotten", email=f"{name}@example.com").success
    before = shop.state()
    result = client.submit("PasswordForgotten", email="d@example.com")
    assert result.errors == (ActionError("tooManyRequests"),)
    assert shop.state() == before


def test_l18_unknown_addresses_count_too() -> None:
    """Probing unknown addresses uses up the per-client limit like real requests."""
    shop = Harness(mail_per_client=RateLimit(limit=2, window=3600))
    shop.create_account("a@example.com", PW)
    client = shop.client()
    for name in ("x", "y"):
        result = client.submit("PasswordForgotten", email=f"{name}@example.com")
        assert result.codes == {"passwordRecoveryFailed"}
    assert client.submit("PasswordForgotten", email="a@example.com").codes == {"tooManyRequests"}
    assert shop.outbox == []


def test_l19_limits_key_on_client_address() -> None:
    """Per-client limits follow RequestInfo.client_address, not a form's X-Forwarded-For."""
    shop = Harness(mail_per_client=RateLimit(limit=2, window=3600))
    for name in "abcde":
        shop.create_account(f"{name}@example.com", PW)
    first = shop.client(client_address="198.51.100.1")
    second = shop.client(client_address="198.51.100.2")
    assert first.submit("PasswordForgotten", email="a@example.com").success
    assert first.submit("PasswordForgotten", email="b@example.com").success
    spoofed = first.submit(
        "PasswordForgotten", {"X-Forwarded-For": "192.0.2.77", "email": "c@example.com"}
    )
    assert spoofed.codes == {"tooManyRequests"}
    assert second.submit("PasswordForgotten", email="d@example.com").success
    assert second.submit("PasswordForgotten", email="e@example.com").success
    assert len(shop.outbox) == 4


# S sessions -------------------------------------------------------------------------------


def test_s20_login_rotates_session_and_csrf() -> None:
    """Login cycles the session id and the CSRF binding; pre-login tokens die."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    cycles: list[int] = []
    client.session = MappingSession(client.cookie, cycle_id=lambda: cycles.append(1))
    stale = client.create("AccountDelete")
    binding = client.session.csrf_binding(create=False)
    assert log_in(client, "a@example.com").success
    assert cycles == [1]
    assert client.session.csrf_binding(create=False) != binding
    result = client.post({"wsact": stale.id, "wscsrf": stale.csrf})
    assert result.codes == {"csrfCheckFailed"}
    assert len(shop.state()["accounts"]) == 1


def test_s20_failed_login_keeps_session() -> None:
    """A failed login neither rotates the session nor logs in."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    cycles: list[int] = []
    client.session = MappingSession(client.cookie, cycle_id=lambda: cycles.append(1))
    assert log_in(client, "a@example.com", WRONG).codes == {"invalidCredentials"}
    assert cycles == []
    assert client.session.account_id is None


def test_s21_logout_ends_login() -> None:
    """After Logout the session holds no login, its id cycled and login-only actions refuse."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    assert log_in(client, "a@example.com").success
    cycles: list[int] = []
    client.session = MappingSession(client.cookie, cycle_id=lambda: cycles.append(1))
    assert client.follow(client.url("Logout", "/")).success  # type: ignore[union-attr]
    assert cycles == [1]
    assert client.session.account_id is None
    assert "_wsa.account" not in client.cookie
    assert client.submit("AccountDelete").codes == {"notLoggedIn"}
    assert len(shop.state()["accounts"]) == 1


def _reset_by_token(shop: Harness, actor: Client) -> None:
    actor.follow(reset_link(shop, actor, "a@example.com"))
    assert reset(actor).success


def _reset_logged_in(shop: Harness, actor: Client) -> None:
    assert log_in(actor, "a@example.com").success
    assert reset(actor, passwordAuth=PW).success


def _email_change(shop: Harness, actor: Client) -> None:
    assert log_in(actor, "a@example.com").success
    assert actor.submit("EmailUpdate", email="new@example.com").success
    assert actor.follow(newest_link(shop, "email_update")).success  # type: ignore[union-attr]


def _deletion(shop: Harness, actor: Client) -> None:
    assert log_in(actor, "a@example.com").success
    assert actor.submit("AccountDelete").success


def _deactivation(shop: Harness, actor: Client) -> None:
    account = stored(shop, "a@example.com")
    shop.accounts.update_account(account.id, {"deactivated": True})


@pytest.mark.parametrize(
    "change",
    [_reset_by_token, _reset_logged_in, _email_change, _deletion, _deactivation],
    ids=["reset-token", "reset-logged-in", "email-change", "deletion", "deactivation"],
)
def test_s22_changes_end_other_sessions(change: Callable[[Harness, Client], None]) -> None:
    """Reset, change, email change, deletion and deactivation end the other sessions."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    other, actor = shop.client(), shop.client()
    assert log_in(other, "a@example.com").success
    assert is_logged_in(other)
    change(shop, actor)
    assert not is_logged_in(other)
    assert other.session.account_id is None
    assert other.submit("accountDisplayNameUpdate", displayName="X").codes == {"notLoggedIn"}


def test_s23_deleted_account_sessions_and_tokens_die() -> None:
    """After deletion old sessions and links stay dead, even for a new account of the address."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    session, owner = shop.client(), shop.client()
    assert log_in(session, "a@example.com").success
    link = reset_link(shop, owner, "a@example.com")
    assert log_in(owner, "a@example.com").success
    assert owner.submit("AccountDelete").success
    assert shop.state()["tokens"] == {}

    assert register(shop.client(), "a@example.com", NEW_PW).success
    assert not is_logged_in(session)
    reuser = shop.client()
    reuser.follow(link)
    assert reset(reuser, "attacker chosen passphrase 1").codes == {"notLoggedIn"}
    assert log_in(shop.client(), "a@example.com", NEW_PW).success


def test_s24_email_update_needs_login_and_old_address_stays() -> None:
    """EmailUpdate needs a login; the old address is the login until confirmed and is told."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    client = shop.client()
    before = shop.state()
    assert client.submit("EmailUpdate", email="new@example.com").codes == {"notLoggedIn"}
    assert shop.state() == before
    assert log_in(client, "a@example.com").success
    assert client.submit("EmailUpdate", email="new@example.com").success
    (notice,) = mails(shop, "email_update_notice")
    assert notice.to == "a@example.com"
    (confirm,) = mails(shop, "email_update")
    assert confirm.to == "new@example.com"
    assert log_in(shop.client(), "a@example.com").success
    assert log_in(shop.client(), "new@example.com").codes == {"invalidCredentials"}
    assert stored(shop, "a@example.com").email == "a@example.com"


# E enumeration --------------------------------------------------------------------------------


def test_e28_unknown_id_and_wrong_password_same_answer() -> None:
    """Unknown id and wrong password give the same result apart from the echo."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    unknown = log_in(shop.client(), "b@example.com", WRONG)
    wrong = log_in(shop.client(), "a@example.com", WRONG)
    assert alike(unknown) == alike(wrong)
    assert wrong.codes == {"invalidCredentials"}


def test_e28_one_argon2_verify_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown id, wrong and right password each cost exactly one argon2 verify, same params."""
    shop = Harness()
    shop.create_account("a@example.com", PW)
    verified: list[str] = []
    dummies: list[str] = []
    original_verify = argon2.PasswordHasher.verify
    original_dummy = passwords.Hasher.dummy_verify

    def counting_verify(self: argon2.PasswordHasher, password_hash: Any, password: Any) -> bool:
        verified.append(password_hash)
        return original_verify(self, password_hash, password)

    def counting_dummy(self: passwords.Hasher, password: str) -> None:
        dummies.append(password)
        original_dummy(self, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(passwords.Hasher, "dummy_verify", counting_dummy)
    for email, password, dummy in (
        ("nobody@example.com", WRONG, 1),
        ("a@example.com", WRONG, 0),
        ("a@example.com", PW, 0),
    ):
        verified.clear()
        dummies.clear()
        log_in(shop.client(), email, password)
        assert len(verified) == 1, (email, password)
        assert len(dummies) == dummy
        assert argon2.extract_parameters(verified[0]) == TESTING_HASHING


@pytest.mark.parametrize("action", ["PasswordForgotten", "AccountRegister", "EmailUpdate"])
def test_e28_enumeration_protection_answers_alike(action: str) -> None:
    """Under enumeration_protection known and unknown addresses get the same answer."""
    shop = Harness(enumeration_protection=True)
    shop.create_account("known@example.com", PW)
    shop.create_account("me@example.com", PW)
    results = []
    for email in ("known@example.com", "unknown@example.com"):
        client = shop.client()
        if action == "EmailUpdate":
            assert log_in(client, "me@example.com").success
        results.append(client.submit(action, email=email, password=NEW_PW, passwordRepeat=NEW_PW))
    known, unknown = results
    assert known.success
    assert alike(known) == alike(unknown)


def test_e28_default_behaviour_is_documented_codes() -> None:
    """Without enumeration_protection the documented codes reveal existence."""
    shop = Harness()
    shop.create_account("known@example.com", PW)
    client = shop.client()
    assert client.submit("PasswordForgotten", email="unknown@example.com").codes == {
        "passwordRecoveryFailed"
    }
    assert register(client, "known@example.com").codes == {"accountAlreadyExists"}


# I secrets -------------------------------------------------------------------------------------


def test_i32_passwords_never_in_events_mails_or_params() -> None:
    """Passwords never appear in events, mails or echoed params; tokens not in events."""
    secret = "Unmistakable Marker Passphrase 58"
    other = "Second Marker Passphrase 77"
    shop = Harness()
    client, guest = shop.client(), shop.client()
    results = [
        register(client, "a@example.com", secret),
        log_in(client, "a@example.com", "Wrong Marker Passphrase 11"),
        log_in(client, "a@example.com", secret),
        client.submit("CheckPasswordStrength", password=secret),
        reset(client, other, passwordAuth=secret),
        client.submit("PasswordForgotten", email="a@example.com"),
    ]
    client.follow(newest_link(shop, "password"))
    results.append(reset(client, secret))
    guest.session.set_guest_checkout(GuestCheckout(email="g@example.com"))
    results.append(guest.submit("GuestRegister", password=secret, passwordRepeat=secret))
    assert [r.success for r in results] == [True, False, True, True, True, True, True, True]
    assert shop.events
    everything = repr(shop.events) + repr(shop.outbox) + repr(shop.state())
    for marker in ("Marker", secret, other):
        assert marker not in everything
    for result in results:
        assert "Marker" not in repr(dict(result.params))
        assert not {"password", "passwordRepeat", "newPassword", "passwordAuth"} & set(
            result.params
        )
    tokens = [token_of(link) for mail in shop.outbox for link in mail.links]
    assert tokens
    for token in tokens:
        assert token not in repr(shop.events)
