"""Tests for the customer account actions: one class per action, every declared code."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import argon2
import pytest

from helpers import PW, assert_fails, log_in, tokens_but_notices
from wsactions import (
    TESTING_HASHING,
    Account,
    ActionError,
    ActionResult,
    Address,
    MappingSession,
    PrivilegeGroup,
    Privileges,
    RateLimit,
)
from wsactions.mail import Mail
from wsactions.testing import Client, Harness

NEW_PW = "zebra violin cactus 19"
WEAK = "password123"
WRONG = "not the password at all 7"
BASE = "https://shop.example/"


# helpers -------------------------------------------------------------------------------


def register(client: Client, email: str, password: str = PW) -> ActionResult:
    """Submit AccountRegister with a repeated password."""
    return client.submit("AccountRegister", email=email, password=password, passwordRepeat=password)



def mails(shop: Harness, purpose: str) -> list[Mail]:
    """The sent mails of *purpose*."""
    return [m for m in shop.outbox if m.purpose == purpose]


def only_link(shop: Harness, purpose: str) -> str:
    """The one link of the one mail of *purpose*."""
    found = mails(shop, purpose)
    assert len(found) == 1, found
    assert len(found[0].links) == 1
    link = found[0].links[0]
    assert link in found[0].text
    return link


def query(link: str) -> dict[str, str]:
    """The query of *link* as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def block(client: Client, email: str, times: int = 10) -> None:
    """Fail *times* logins for *email*."""
    for _ in range(times):
        assert log_in(client, email, WRONG).codes == {"invalidCredentials"}


def stored(shop: Harness, account: Account) -> Account | None:
    """The stored version of *account*."""
    result: Account | None = shop.accounts.get_account(account.id)
    return result



def member(shop: Harness, editable: set[str] | None, admin: bool = False) -> Account:
    """A B2B employee of company ``co-1`` in a group whose editable fields are *editable*."""
    shop.accounts.add_group(
        PrivilegeGroup(
            id="grp-1",
            company_id="co-1",
            name="Staff",
            privileges=Privileges(editable_fields=editable),
        )
    )
    return shop.create_account(
        "employee@example.com",
        PW,
        admin=admin,
        company_id="co-1",
        privilege_group_id="grp-1",
    )


@pytest.fixture
def account(shop: Harness) -> Account:
    """An active, verified account alice@example.com with password PW."""
    return shop.create_account("alice@example.com", PW)


@pytest.fixture
def logged_in(shop: Harness, alice: Client, account: Account) -> Client:
    """alice logged in to ``account`` (no Login attempt counted: ``Harness.log_in``)."""
    shop.log_in(alice, account)
    return alice


# registration ---------------------------------------------------------------------------


class TestAccountRegister:
    """AccountRegister creates an account with a normalised address and mails EmailVerify."""

    def test_creates_account_with_normalised_email(self, shop: Harness, alice: Client) -> None:
        """The account is stored with the normalised address and its identity key."""
        result = register(alice, "  Alice@Example.COM ")
        assert result.success
        assert result.errors == ()
        (created,) = shop.state()["accounts"].values()
        assert created.email == "Alice@example.com"
        assert created.email_key == "alice@example.com"
        assert created.active
        assert not created.verified
        assert created.password_hash.startswith("$argon2id$")
        assert argon2.PasswordHasher().verify(created.password_hash, PW)
        assert alice.session.account_id is None

    def test_mails_verification_link(self, shop: Harness, alice: Client) -> None:
        """One verify mail goes to the stored address with an EmailVerify link."""
        register(alice, "Alice@Example.com")
        link = only_link(shop, "verify")
        assert shop.outbox[0].to == "Alice@example.com"
        assert link.startswith(BASE)
        assert query(link)["wsact"] == "EmailVerify"
        (record,) = shop.state()["tokens"].values()
        assert record.purpose == "verify"

    def test_password_never_echoed(self, alice: Client) -> None:
        """Only the email is echoed."""
        result = register(alice, "alice@example.com")
        assert dict(result.params) == {"email": "alice@example.com"}

    @pytest.mark.parametrize("email", ["", "   "])
    def test_missing_id(self, shop: Harness, alice: Client, email: str) -> None:
        """An empty email gives missingId on email; nothing changes."""
        before = shop.state()
        assert_fails(register(alice, email), ActionError("missingId", "email"))
        assert shop.state() == before

    def test_missing_id_absent(self, shop: Harness, alice: Client) -> None:
        """An absent email gives missingId too."""
        before = shop.state()
        result = alice.submit("AccountRegister", password=PW, passwordRepeat=PW)
        assert_fails(result, ActionError("missingId", "email"))
        assert shop.state() == before

    def test_missing_password(self, shop: Harness, alice: Client) -> None:
        """An empty password gives missingPassword; nothing changes."""
        before = shop.state()
        result = alice.submit("AccountRegister", email="a@example.com", password="")
        assert_fails(result, ActionError("missingPassword", "password"))
        assert shop.state() == before

    def test_password_mismatch(self, shop: Harness, alice: Client) -> None:
        """A differing repetition gives passwordMismatch on passwordRepeat."""
        before = shop.state()
        result = alice.submit(
            "AccountRegister", email="a@example.com", password=PW, passwordRepeat=PW + "x"
        )
        assert_fails(result, ActionError("passwordMismatch", "passwordRepeat"))
        assert shop.state() == before

    def test_email_check_failed(self, shop: Harness, alice: Client) -> None:
        """An invalid address gives emailCheckFailed on email."""
        before = shop.state()
        assert_fails(register(alice, "not-an-email"), ActionError("emailCheckFailed", "email"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("password", "subcode"),
        [("short1!", "minlen"), ("x" * 129, "maxlen"), (WEAK, "weak")],
        ids=["minlen", "maxlen", "weak"],
    )
    def test_password_check_failed(
        self, shop: Harness, alice: Client, password: str, subcode: str
    ) -> None:
        """A password outside the policy gives passwordCheckFailed with its sub-code."""
        before = shop.state()
        result = register(alice, "a@example.com", password)
        assert_fails(result, ActionError("passwordCheckFailed", "password", (subcode,)))
        assert shop.state() == before

    def test_context_password_refused(self, shop: Harness, alice: Client) -> None:
        """A password built from the address's parts is weak."""
        before = shop.state()
        result = register(alice, "zanzibar.quixotic@example.com", "zanzibarquixotic")
        assert_fails(result, ActionError("passwordCheckFailed", "password", ("weak",)))
        assert shop.state() == before

    def test_every_failing_field_at_once(self, shop: Harness, alice: Client) -> None:
        """Bad email, mismatch and short password are reported together."""
        before = shop.state()
        result = alice.submit(
            "AccountRegister", email="nope", password="short", passwordRepeat="other"
        )
        assert_fails(
            result,
            ActionError("emailCheckFailed", "email"),
            ActionError("passwordMismatch", "passwordRepeat"),
            ActionError("passwordCheckFailed", "password", ("minlen",)),
        )
        assert shop.state() == before

    def test_account_already_exists(self, shop: Harness, alice: Client, account: Account) -> None:
        """A taken address (any case) gives accountAlreadyExists; nothing changes."""
        before = shop.state()
        assert_fails(
            register(alice, "ALICE@example.com"), ActionError("accountAlreadyExists", "email")
        )
        assert shop.state() == before

    def test_enumeration_protection_mails_owner(self) -> None:
        """With enumeration_protection a taken address answers success and mails the owner."""
        shop = Harness(enumeration_protection=True)
        owner = shop.create_account("Alice@example.com", PW)
        before = shop.state()
        result = register(shop.client(), "alice@EXAMPLE.com", NEW_PW)
        assert result.success
        after = shop.state()
        assert after["accounts"] == before["accounts"]
        assert after["tokens"] == before["tokens"]
        (mail,) = shop.outbox
        assert mail.purpose == "account_exists"
        assert mail.to == owner.email
        assert mail.links == ()
        assert stored(shop, owner) == owner

    def test_too_many_requests(self) -> None:
        """Beyond the per-client mail limit: tooManyRequests, no account, no mail."""
        shop = Harness(mail_per_client=RateLimit(limit=1, window=3600))
        client = shop.client()
        assert register(client, "first@example.com").success
        before = shop.state()
        assert_fails(register(client, "second@example.com"), ActionError("tooManyRequests"))
        assert shop.state() == before


class TestAccountActivate:
    """AccountActivate mails an AccountActivateOptIn link to an inactive account."""

    def test_inactive_account_activated_by_link(
        self, shop: Harness, alice: Client, bob: Client
    ) -> None:
        """An inactive account gets the link; following it activates; then it logs in."""
        inactive = shop.create_account("ina@example.com", PW, active=False, verified=False)
        assert log_in(bob, "ina@example.com").codes == {"accountInactive"}
        result = alice.submit("AccountActivate", id="INA@example.com")
        assert result.success
        link = only_link(shop, "activate")
        assert shop.outbox[-1].to == "ina@example.com"
        assert link.startswith(BASE)
        assert query(link)["wsact"] == "AccountActivateOptIn"
        assert not stored(shop, inactive).active  # type: ignore[union-attr]
        followed = bob.follow(link)
        assert followed is not None
        assert followed.success
        now = stored(shop, inactive)
        assert now is not None
        assert now.active
        assert now.verified
        bob.leave()
        assert log_in(bob, "ina@example.com").success

    def test_active_account(self, shop: Harness, alice: Client, account: Account) -> None:
        """An active account gives accountAlreadyExists on id; nothing changes."""
        before = shop.state()
        result = alice.submit("AccountActivate", id="alice@example.com")
        assert_fails(result, ActionError("accountAlreadyExists", "id"))
        assert shop.state() == before

    def test_active_account_with_enumeration_protection(self) -> None:
        """Under enumeration_protection an active account answers success without mail."""
        shop = Harness(enumeration_protection=True)
        shop.create_account("alice@example.com", PW)
        before = shop.state()
        assert shop.client().submit("AccountActivate", id="alice@example.com").success
        assert shop.state() == before

    def test_unknown_address(self, shop: Harness, alice: Client) -> None:
        """An unknown address answers success and nothing is sent."""
        before = shop.state()
        assert alice.submit("AccountActivate", id="nobody@example.com").success
        assert shop.state() == before

    def test_missing_id(self, shop: Harness, alice: Client) -> None:
        """An empty id gives missingId."""
        before = shop.state()
        assert_fails(alice.submit("AccountActivate", id=""), ActionError("missingId", "id"))
        assert shop.state() == before

    def test_email_check_failed(self, shop: Harness, alice: Client) -> None:
        """An invalid id gives emailCheckFailed."""
        before = shop.state()
        result = alice.submit("AccountActivate", id="a@@example.com")
        assert_fails(result, ActionError("emailCheckFailed", "id"))
        assert shop.state() == before

    def test_too_many_requests(self) -> None:
        """Beyond the per-address mail limit: tooManyRequests and no mail."""
        shop = Harness(mail_per_address=RateLimit(limit=1, window=3600))
        shop.create_account("ina@example.com", PW, active=False)
        client = shop.client()
        assert client.submit("AccountActivate", id="ina@example.com").success
        before = shop.state()
        result = client.submit("AccountActivate", id="Ina@example.com")
        assert_fails(result, ActionError("tooManyRequests"))
        assert shop.state() == before


class TestAccountActivateOptIn:
    """AccountActivateOptIn needs a valid activate token."""

    def test_without_token(self, shop: Harness, alice: Client) -> None:
        """No token: unauthorized, nothing changes."""
        shop.create_account("ina@example.com", PW, active=False)
        before = shop.state()
        assert_fails(alice.submit("AccountActivateOptIn"), ActionError("unauthorized"))
        assert shop.state() == before

    def test_link_works_once(self, shop: Harness, alice: Client) -> None:
        """A second use of the link is unauthorized."""
        shop.create_account("ina@example.com", PW, active=False)
        alice.submit("AccountActivate", id="ina@example.com")
        link = only_link(shop, "activate")
        assert alice.follow(link).success  # type: ignore[union-attr]
        before = shop.state()
        again = alice.follow(link)
        assert again is not None
        assert_fails(again, ActionError("unauthorized"))
        assert shop.state() == before

    def test_token_of_other_purpose(self, shop: Harness, alice: Client) -> None:
        """A verify token does not activate."""
        register(alice, "new@example.com")
        account = shop.accounts.find_account("new@example.com")
        shop.accounts.update_account(account.id, {"active": False})
        token = query(only_link(shop, "verify"))["wsoptin"]
        before = shop.state()
        result = alice.follow(f"{BASE}?wsact=AccountActivateOptIn&wsoptin={token}")
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before


class TestEmailVerify:
    """EmailVerify confirms the address once."""

    def test_link_verifies_once(self, shop: Harness, alice: Client) -> None:
        """The link verifies the account; used again it gives actionNotAllowed."""
        register(alice, "new@example.com")
        link = only_link(shop, "verify")
        first = alice.follow(link)
        assert first is not None
        assert first.success
        assert first.name == "EmailVerify"
        assert shop.accounts.find_account("new@example.com").verified
        before = shop.state()
        second = alice.follow(link)
        assert second is not None
        assert_fails(second, ActionError("actionNotAllowed"))
        assert shop.state() == before

    def test_without_token(self, shop: Harness, alice: Client) -> None:
        """Without a token: actionNotAllowed, nothing changes."""
        register(alice, "new@example.com")
        before = shop.state()
        assert_fails(alice.submit("EmailVerify"), ActionError("actionNotAllowed"))
        assert shop.state() == before
        assert not shop.accounts.find_account("new@example.com").verified

    def test_bogus_token(self, shop: Harness, alice: Client) -> None:
        """A made-up token: actionNotAllowed."""
        register(alice, "new@example.com")
        before = shop.state()
        result = alice.follow(f"{BASE}?wsact=EmailVerify&wsoptin=made-up-token")
        assert result is not None
        assert_fails(result, ActionError("actionNotAllowed"))
        assert shop.state() == before


# login ------------------------------------------------------------------------------------


class TestLogin:
    """Login: generic failures, throttling, inactive accounts, session rotation, rehash."""

    def test_success(self, shop: Harness, alice: Client, account: Account) -> None:
        """The right password logs the session in; only the id is echoed."""
        result = log_in(alice, "Alice@Example.com")
        assert result.success
        assert dict(result.params) == {"id": "Alice@Example.com"}
        assert alice.session.account_id == account.id
        assert alice.view().wsAccount.isLoggedIn
        assert alice.view().wsAccount.email == "alice@example.com"

    def test_missing_id(self, shop: Harness, alice: Client) -> None:
        """An empty id gives missingId."""
        before = shop.state()
        assert_fails(log_in(alice, ""), ActionError("missingId", "id"))
        assert shop.state() == before

    def test_missing_password(self, shop: Harness, alice: Client, account: Account) -> None:
        """An empty password gives missingPassword."""
        before = shop.state()
        assert_fails(
            log_in(alice, "alice@example.com", ""), ActionError("missingPassword", "password")
        )
        assert shop.state() == before

    def test_missing_both(self, shop: Harness, alice: Client) -> None:
        """Both missing are reported together."""
        result = alice.submit("Login")
        assert_fails(
            result, ActionError("missingId", "id"), ActionError("missingPassword", "password")
        )

    def test_email_check_failed(self, shop: Harness, alice: Client) -> None:
        """An invalid id gives emailCheckFailed."""
        before = shop.state()
        assert_fails(log_in(alice, "alice"), ActionError("emailCheckFailed", "id"))
        assert shop.state() == before

    def test_unknown_id(self, shop: Harness, alice: Client, account: Account) -> None:
        """An unknown id gives invalidCredentials and no login."""
        before = shop.state()
        assert_fails(log_in(alice, "nobody@example.com"), ActionError("invalidCredentials"))
        assert shop.state() == before
        assert alice.session.account_id is None

    def test_wrong_password(self, shop: Harness, alice: Client, account: Account) -> None:
        """A wrong password gives invalidCredentials and no login."""
        before = shop.state()
        assert_fails(log_in(alice, "alice@example.com", WRONG), ActionError("invalidCredentials"))
        assert shop.state() == before
        assert alice.session.account_id is None

    def test_no_case_folding_of_password(self, alice: Client, account: Account) -> None:
        """The password is case-sensitive."""
        assert log_in(alice, "alice@example.com", PW.upper()).codes == {"invalidCredentials"}

    def test_blocked_after_ten_failures(
        self, shop: Harness, alice: Client, bob: Client, account: Account
    ) -> None:
        """After 10 failures even the right password gives loginBlocked."""
        block(bob, "alice@example.com")
        before = shop.state()
        assert_fails(log_in(alice, "alice@example.com"), ActionError("loginBlocked"))
        assert shop.state() == before
        assert alice.session.account_id is None

    def test_nine_failures_do_not_block(self, alice: Client, account: Account) -> None:
        """Nine failures still let the right password in."""
        block(alice, "alice@example.com", 9)
        assert log_in(alice, "alice@example.com").success

    def test_block_is_per_identifier(self, shop: Harness, alice: Client, account: Account) -> None:
        """Blocking one identifier leaves others alone."""
        shop.create_account("carol@example.com", PW)
        block(alice, "alice@example.com")
        assert log_in(alice, "carol@example.com").success

    def test_one_unlock_mail_when_blocked(
        self, shop: Harness, alice: Client, account: Account
    ) -> None:
        """The failure that blocks sends one UnlockLogin link; later attempts send nothing."""
        block(alice, "alice@example.com", 9)
        assert shop.outbox == []
        before = shop.state()
        assert_fails(log_in(alice, "alice@example.com", WRONG), ActionError("invalidCredentials"))
        link = only_link(shop, "unlock")
        assert shop.outbox[0].to == "alice@example.com"
        assert query(link)["wsact"] == "UnlockLogin"
        assert link.startswith(BASE)
        after = shop.state()
        assert after["accounts"] == before["accounts"]
        assert [r.purpose for r in after["tokens"].values()] == ["unlock"]
        for password in (WRONG, PW):
            assert log_in(alice, "alice@example.com", password).codes == {"loginBlocked"}
        assert len(shop.outbox) == 1

    def test_block_expires_with_window(
        self, shop: Harness, alice: Client, account: Account
    ) -> None:
        """After the throttle window the right password works again."""
        block(alice, "alice@example.com")
        shop.clock.advance(shop.settings.login_throttle.window)
        assert log_in(alice, "alice@example.com").success

    def test_inactive_account(self, shop: Harness, alice: Client) -> None:
        """An inactive account: wrong password invalidCredentials, right one accountInactive."""
        shop.create_account("ina@example.com", PW, active=False)
        before = shop.state()
        assert_fails(log_in(alice, "ina@example.com", WRONG), ActionError("invalidCredentials"))
        assert_fails(log_in(alice, "ina@example.com"), ActionError("accountInactive"))
        assert shop.state() == before
        assert alice.session.account_id is None

    def test_deactivated_account(self, shop: Harness, alice: Client) -> None:
        """A deactivated account gives accountInactive with the right password."""
        shop.create_account("off@example.com", PW, deactivated=True)
        assert_fails(log_in(alice, "off@example.com"), ActionError("accountInactive"))
        assert alice.session.account_id is None

    def test_unverified_logs_in_by_default(self, shop: Harness, alice: Client) -> None:
        """Without require_verified_email an unverified account logs in."""
        shop.create_account("unv@example.com", PW, verified=False)
        assert log_in(alice, "unv@example.com").success

    def test_require_verified_email(self) -> None:
        """With require_verified_email an unverified account is inactive until EmailVerify."""
        shop = Harness(require_verified_email=True)
        client = shop.client()
        assert register(client, "new@example.com").success
        before = shop.state()
        assert_fails(log_in(client, "new@example.com"), ActionError("accountInactive"))
        assert shop.state() == before
        assert client.follow(only_link(shop, "verify")).success  # type: ignore[union-attr]
        client.leave()
        assert log_in(client, "new@example.com").success

    def test_subshop_not_allowed(self, shop: Harness) -> None:
        """An account limited to subshops logs in only there, and is told so only after the
        password was right."""
        shop.create_account("sub@example.com", PW, allowed_subshops={"de"})
        elsewhere = shop.client(subshop="fr")
        before = shop.state()
        assert_fails(log_in(elsewhere, "sub@example.com", WRONG), ActionError("invalidCredentials"))
        assert_fails(log_in(elsewhere, "sub@example.com"), ActionError("subshopNotAllowed"))
        assert_fails(log_in(shop.client(), "sub@example.com"), ActionError("subshopNotAllowed"))
        assert shop.state() == before
        assert elsewhere.session.account_id is None
        assert log_in(shop.client(subshop="de"), "sub@example.com").success

    def test_session_rotated(self, shop: Harness, alice: Client, account: Account) -> None:
        """Login cycles the session id; a CSRF token minted before login fails after."""
        cycles: list[int] = []
        alice.session = MappingSession(alice.cookie, cycle_id=lambda: cycles.append(1))
        stale = alice.create("SessionUpdate")
        binding = alice.session.csrf_binding(create=False)
        assert log_in(alice, "alice@example.com").success
        assert cycles
        assert alice.session.csrf_binding(create=False) != binding
        result = alice.post({"wsact": stale.id, "wscsrf": stale.csrf, "session.x": "1"})
        assert_fails(result, ActionError("csrfCheckFailed", "wscsrf"))
        assert alice.session.get("x") is None

    def test_rehash_on_login(self, shop: Harness, alice: Client, account: Account) -> None:
        """A hash made with other argon2 parameters is replaced at login and still verifies."""
        other = argon2.Parameters(
            type=argon2.low_level.Type.ID,
            version=19,
            salt_len=16,
            hash_len=16,
            time_cost=1,
            memory_cost=8,
            parallelism=1,
        )
        assert other != TESTING_HASHING
        old_hash = argon2.PasswordHasher.from_parameters(other).hash(PW)
        shop.accounts.update_account(account.id, {"password_hash": old_hash})
        assert log_in(alice, "alice@example.com").success
        new_hash = stored(shop, account).password_hash  # type: ignore[union-attr]
        assert new_hash != old_hash
        assert new_hash.startswith("$argon2id$")
        assert argon2.extract_parameters(new_hash) == TESTING_HASHING
        assert argon2.PasswordHasher.from_parameters(TESTING_HASHING).verify(new_hash, PW)
        alice.submit("Logout")
        assert log_in(alice, "alice@example.com").success

    def test_no_rehash_with_current_parameters(
        self, shop: Harness, alice: Client, account: Account
    ) -> None:
        """A current hash is left alone."""
        before = shop.state()["accounts"]
        assert log_in(alice, "alice@example.com").success
        assert shop.state()["accounts"] == before


class TestLogout:
    """Logout ends the login, by signed link or by form."""

    def test_by_link(self, logged_in: Client) -> None:
        """Following wsActions.url("Logout", "/") logs out and redirects to the target."""
        link = logged_in.url("Logout", "/account")
        result = logged_in.follow(link)
        assert result is not None
        assert result.success
        assert result.redirect == "/account"
        assert logged_in.session.account_id is None
        assert not logged_in.view().wsAccount.isLoggedIn

    def test_by_submit(self, logged_in: Client) -> None:
        """A posted Logout form logs out."""
        assert logged_in.submit("Logout").success
        assert logged_in.session.account_id is None

    def test_other_sessions_stay(self, shop: Harness, logged_in: Client, bob: Client) -> None:
        """Logging out one browser leaves another session of the account logged in."""
        assert log_in(bob, "alice@example.com").success
        logged_in.submit("Logout")
        assert bob.view().wsAccount.isLoggedIn

    def test_foreign_link_does_nothing(self, logged_in: Client, bob: Client) -> None:
        """A Logout link made for another session fails with csrfCheckFailed."""
        link = bob.url("Logout", "/")
        result = logged_in.follow(link)
        assert result is not None
        assert_fails(result, ActionError("csrfCheckFailed", "wscsrf"))
        assert logged_in.view().wsAccount.isLoggedIn

    def test_when_not_logged_in(self, shop: Harness, alice: Client) -> None:
        """Logging out without a login is harmless."""
        before = shop.state()
        assert alice.submit("Logout").success
        assert shop.state() == before


class TestUnlockLogin:
    """UnlockLogin clears the failure counter by link or for the logged-in account."""

    def test_by_link(self, shop: Harness, alice: Client, bob: Client, account: Account) -> None:
        """Following the unlock link clears the block."""
        block(bob, "alice@example.com")
        link = only_link(shop, "unlock")
        result = alice.follow(link)
        assert result is not None
        assert result.success
        assert result.name == "UnlockLogin"
        assert tokens_but_notices(shop) == {}  # the notice mailed the owner a reset link
        alice.leave()
        assert log_in(alice, "alice@example.com").success

    def test_link_works_once(self, shop: Harness, alice: Client, account: Account) -> None:
        """The unlock link used a second time gives unauthorized."""
        block(alice, "alice@example.com")
        link = only_link(shop, "unlock")
        assert alice.follow(link).success  # type: ignore[union-attr]
        before = shop.state()
        again = alice.follow(link)
        assert again is not None
        assert_fails(again, ActionError("unauthorized"))
        assert shop.state() == before

    def test_when_logged_in(
        self, shop: Harness, logged_in: Client, bob: Client, account: Account
    ) -> None:
        """A logged-in account unlocks its own login without a token."""
        block(bob, "alice@example.com")
        assert log_in(bob, "alice@example.com").codes == {"loginBlocked"}
        assert logged_in.submit("UnlockLogin").success
        assert log_in(bob, "alice@example.com").success

    def test_unauthorized(self, shop: Harness, alice: Client, account: Account) -> None:
        """Neither login nor token: unauthorized and the block stays."""
        block(alice, "alice@example.com")
        before = shop.state()
        assert_fails(alice.submit("UnlockLogin"), ActionError("unauthorized"))
        assert shop.state() == before
        assert log_in(alice, "alice@example.com").codes == {"loginBlocked"}


# passwords ------------------------------------------------------------------------------


class TestPasswordForgotten:
    """PasswordForgotten mails a reset link to the stored address."""

    def test_mails_reset_link(self, shop: Harness, alice: Client, account: Account) -> None:
        """The link carries a password token and goes to the stored address."""
        result = alice.submit("PasswordForgotten", email="ALICE@example.com")
        assert result.success
        link = only_link(shop, "password")
        assert shop.outbox[0].to == "alice@example.com"
        assert link.startswith(BASE)
        assert set(query(link)) == {"wsoptin"}
        (record,) = shop.state()["tokens"].values()
        assert record.purpose == "password"
        assert record.account_id == account.id

    def test_missing_email(self, shop: Harness, alice: Client) -> None:
        """An empty email gives missingEmail."""
        before = shop.state()
        result = alice.submit("PasswordForgotten", email="")
        assert_fails(result, ActionError("missingEmail", "email"))
        assert shop.state() == before

    def test_email_check_failed(self, shop: Harness, alice: Client) -> None:
        """An invalid address gives emailCheckFailed."""
        before = shop.state()
        result = alice.submit("PasswordForgotten", email="alice@")
        assert_fails(result, ActionError("emailCheckFailed", "email"))
        assert shop.state() == before

    def test_password_recovery_failed(self, shop: Harness, alice: Client, account: Account) -> None:
        """An unknown address gives passwordRecoveryFailed and no mail."""
        before = shop.state()
        result = alice.submit("PasswordForgotten", email="nobody@example.com")
        assert_fails(result, ActionError("passwordRecoveryFailed", "email"))
        assert shop.state() == before

    def test_enumeration_protection(self) -> None:
        """With enumeration_protection unknown addresses answer success without mail."""
        shop = Harness(enumeration_protection=True)
        shop.create_account("alice@example.com", PW)
        client = shop.client()
        before = shop.state()
        unknown = client.submit("PasswordForgotten", email="nobody@example.com")
        assert unknown.success
        assert shop.state() == before
        known = client.submit("PasswordForgotten", email="alice@example.com")
        assert known.success
        assert len(mails(shop, "password")) == 1
        assert (unknown.success, unknown.errors, unknown.data) == (
            known.success,
            known.errors,
            known.data,
        )

    def test_too_many_requests(self, shop: Harness, alice: Client, account: Account) -> None:
        """The sixth request within the hour gives tooManyRequests and no mail."""
        for _ in range(5):
            assert alice.submit("PasswordForgotten", email="alice@example.com").success
        before = shop.state()
        result = alice.submit("PasswordForgotten", email="alice@example.com")
        assert_fails(result, ActionError("tooManyRequests"))
        assert shop.state() == before


def reset_link(shop: Harness, client: Client, email: str = "alice@example.com") -> str:
    """Request a reset link for *email* and return it."""
    assert client.submit("PasswordForgotten", email=email).success
    return mails(shop, "password")[-1].links[0]


def reset(client: Client, new: str = NEW_PW, **extra: str) -> ActionResult:
    """Submit ResetPassword with *new* repeated."""
    return client.submit("ResetPassword", newPassword=new, newPasswordRepeat=new, **extra)


class TestResetPassword:
    """ResetPassword: by token without the current password, or logged in with it."""

    def test_with_token(self, shop: Harness, alice: Client, bob: Client, account: Account) -> None:
        """The token's account gets the new password; old fails, new works."""
        assert alice.follow(reset_link(shop, alice)) is None
        assert alice.view().wsOptIn.current.valid
        result = reset(alice)
        assert result.success
        assert dict(result.params) == {}
        assert log_in(bob, "alice@example.com").codes == {"invalidCredentials"}
        assert log_in(bob, "alice@example.com", NEW_PW).success
        updated = stored(shop, account)
        assert updated is not None
        assert updated.security_stamp != account.security_stamp

    def test_token_reuse(self, shop: Harness, alice: Client, account: Account) -> None:
        """The token works once; then notLoggedIn."""
        alice.follow(reset_link(shop, alice))
        assert reset(alice).success
        before = shop.state()
        assert_fails(reset(alice, "another fine passphrase 9"), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_failed_validation_keeps_token(
        self, shop: Harness, alice: Client, account: Account
    ) -> None:
        """A validation failure does not use the token up."""
        alice.follow(reset_link(shop, alice))
        before = shop.state()
        result = alice.submit("ResetPassword", newPassword=NEW_PW, newPasswordRepeat="typo")
        assert_fails(result, ActionError("passwordMismatch", "newPasswordRepeat"))
        assert shop.state() == before
        assert reset(alice).success

    def test_other_sessions_logged_out(
        self, shop: Harness, alice: Client, bob: Client, account: Account
    ) -> None:
        """After a reset by token, other sessions of the account are no longer logged in."""
        assert log_in(bob, "alice@example.com").success
        alice.follow(reset_link(shop, alice))
        assert reset(alice).success
        assert not bob.view().wsAccount.isLoggedIn
        assert bob.session.account_id is None

    def test_tokens_revoked(self, shop: Harness, alice: Client, account: Account) -> None:
        """Outstanding password and unlock tokens are revoked by a reset."""
        block(alice, "alice@example.com")  # unlock token
        first = reset_link(shop, alice)
        second = reset_link(shop, alice)
        assert first != second
        purposes = sorted(r.purpose for r in shop.state()["tokens"].values())
        assert purposes == ["password", "unlock"]
        alice.follow(second)
        assert reset(alice).success
        assert tokens_but_notices(shop) == {}  # old links revoked; the notice has a new one
        assert alice.follow(only_link(shop, "unlock")).codes == {"unauthorized"}  # type: ignore[union-attr]

    def test_counter_cleared(self, shop: Harness, alice: Client, account: Account) -> None:
        """A reset clears the failed-login counter."""
        block(alice, "alice@example.com")
        alice.follow(reset_link(shop, alice))
        assert reset(alice).success
        alice.leave()
        assert log_in(alice, "alice@example.com", NEW_PW).success

    def test_logged_in_success(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """Logged in with the right passwordAuth: changed, and this session is logged out."""
        result = reset(logged_in, passwordAuth=PW)
        assert result.success
        assert dict(result.params) == {}
        assert logged_in.session.account_id is None
        assert log_in(logged_in, "alice@example.com", NEW_PW).success

    def test_missing_password_auth(self, shop: Harness, logged_in: Client) -> None:
        """Logged in without passwordAuth: missingPasswordAuth."""
        before = shop.state()
        assert_fails(reset(logged_in), ActionError("missingPasswordAuth", "passwordAuth"))
        assert shop.state() == before
        assert logged_in.view().wsAccount.isLoggedIn

    def test_failed_password_auth(self, shop: Harness, logged_in: Client) -> None:
        """Logged in with a wrong passwordAuth: failedPasswordAuth."""
        before = shop.state()
        result = reset(logged_in, passwordAuth=WRONG)
        assert_fails(result, ActionError("failedPasswordAuth", "passwordAuth"))
        assert shop.state() == before
        assert logged_in.view().wsAccount.isLoggedIn

    def test_not_logged_in(self, shop: Harness, alice: Client, account: Account) -> None:
        """Neither token nor login: notLoggedIn."""
        before = shop.state()
        assert_fails(reset(alice, passwordAuth=PW), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_missing_password(self, shop: Harness, alice: Client, account: Account) -> None:
        """An empty newPassword: missingPassword on newPassword."""
        alice.follow(reset_link(shop, alice))
        before = shop.state()
        result = alice.submit("ResetPassword", newPassword="", newPasswordRepeat="")
        assert_fails(result, ActionError("missingPassword", "newPassword"))
        assert shop.state() == before

    def test_password_mismatch(self, shop: Harness, logged_in: Client) -> None:
        """A differing repetition: passwordMismatch."""
        before = shop.state()
        result = logged_in.submit(
            "ResetPassword", newPassword=NEW_PW, newPasswordRepeat=PW, passwordAuth=PW
        )
        assert_fails(result, ActionError("passwordMismatch", "newPasswordRepeat"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("password", "subcode"),
        [
            ("short1!", "minlen"),
            ("y" * 129, "maxlen"),
            (WEAK, "weak"),
            ("alice@example.com", "weak"),
            ("Example Shop!", "weak"),
        ],
        ids=["minlen", "maxlen", "weak", "email-context", "shop-context"],
    )
    def test_password_check_failed(
        self, shop: Harness, alice: Client, account: Account, password: str, subcode: str
    ) -> None:
        """A new password outside the policy: passwordCheckFailed with its sub-code."""
        alice.follow(reset_link(shop, alice))
        before = shop.state()
        result = reset(alice, password)
        assert_fails(result, ActionError("passwordCheckFailed", "newPassword", (subcode,)))
        assert shop.state() == before

    def test_every_failing_field_at_once(self, shop: Harness, logged_in: Client) -> None:
        """Mismatch, policy and missing passwordAuth are reported together."""
        result = logged_in.submit("ResetPassword", newPassword="short", newPasswordRepeat="x")
        assert_fails(
            result,
            ActionError("passwordMismatch", "newPasswordRepeat"),
            ActionError("passwordCheckFailed", "newPassword", ("minlen",)),
            ActionError("missingPasswordAuth", "passwordAuth"),
        )


class TestCheckPasswordStrength:
    """CheckPasswordStrength scores with the policy's context and never echoes."""

    def check(self, client: Client, password: str) -> dict[str, Any]:
        """The data of a CheckPasswordStrength call; asserts success and no echo."""
        result = client.submit("CheckPasswordStrength", password=password)
        assert result.success
        assert dict(result.params) == {}
        assert not password or password not in repr(result)
        data = dict(result.data)
        assert set(data) == {"value", "max", "accepted"}
        assert type(data["value"]) is int
        assert 0 <= data["value"] <= 4
        assert data["max"] == 4
        assert type(data["accepted"]) is bool
        return data

    def test_strong(self, alice: Client) -> None:
        """A passphrase scores high and is accepted."""
        data = self.check(alice, PW)
        assert data["value"] >= 3
        assert data["accepted"] is True

    def test_weak(self, alice: Client) -> None:
        """A common password scores low and is not accepted."""
        data = self.check(alice, WEAK)
        assert data["value"] < 3
        assert data["accepted"] is False

    def test_short_not_accepted(self, alice: Client) -> None:
        """A password below min length is not accepted whatever its score."""
        assert self.check(alice, "Zq!9#v")["accepted"] is False

    def test_empty(self, alice: Client) -> None:
        """An empty password scores 0."""
        assert self.check(alice, "") == {"value": 0, "max": 4, "accepted": False}

    def test_shop_name_is_context(self, alice: Client) -> None:
        """The shop name lowers the score."""
        data = self.check(alice, "Example Shop!")
        assert data["value"] < 3
        assert data["accepted"] is False

    def test_email_is_context(self, shop: Harness, alice: Client, bob: Client) -> None:
        """The logged-in account's email parts lower the score."""
        shop.create_account("zanzibar.quixotic@example.com", PW)
        anonymous = self.check(bob, "zanzibarquixotic")
        assert anonymous["accepted"] is True
        assert log_in(alice, "zanzibar.quixotic@example.com").success
        known = self.check(alice, "zanzibarquixotic")
        assert known["value"] < anonymous["value"]
        assert known["accepted"] is False

    def test_display_name_is_context(self, shop: Harness, alice: Client, bob: Client) -> None:
        """The logged-in account's display name lowers the score."""
        shop.create_account("dn@example.com", PW, display_name="Wilhelmina Featherstonehaugh")
        anonymous = self.check(bob, "WilhelminaFeatherstonehaugh")
        assert log_in(alice, "dn@example.com").success
        known = self.check(alice, "WilhelminaFeatherstonehaugh")
        assert known["value"] < anonymous["value"]
        assert known["accepted"] is False

    def test_changes_nothing(self, shop: Harness, alice: Client) -> None:
        """Checking stores and sends nothing."""
        before = shop.state()
        self.check(alice, PW)
        assert shop.state() == before


# email change ------------------------------------------------------------------------------


class TestEmailUpdate:
    """EmailUpdate mails the new address a link and the old one a notice."""

    def test_not_logged_in(self, shop: Harness, alice: Client, account: Account) -> None:
        """Without a login: notLoggedIn."""
        before = shop.state()
        result = alice.submit("EmailUpdate", email="new@example.com")
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_missing_email(self, shop: Harness, logged_in: Client) -> None:
        """An empty email: missingEmail."""
        before = shop.state()
        assert_fails(
            logged_in.submit("EmailUpdate", email=""), ActionError("missingEmail", "email")
        )
        assert shop.state() == before

    def test_email_check_failed(self, shop: Harness, logged_in: Client) -> None:
        """An invalid email: emailCheckFailed."""
        before = shop.state()
        result = logged_in.submit("EmailUpdate", email="new at example.com")
        assert_fails(result, ActionError("emailCheckFailed", "email"))
        assert shop.state() == before

    def test_account_already_exists(self, shop: Harness, logged_in: Client) -> None:
        """Another account's address: accountAlreadyExists, no mail."""
        shop.create_account("carol@example.com", PW)
        before = shop.state()
        result = logged_in.submit("EmailUpdate", email="CAROL@example.com")
        assert_fails(result, ActionError("accountAlreadyExists", "email"))
        assert shop.state() == before

    def test_enumeration_protection(self) -> None:
        """Under enumeration_protection a taken address answers success: nothing goes to the
        taken address, and the requester gets the same notice as for a free one (E37)."""
        shop = Harness(enumeration_protection=True)
        shop.create_account("alice@example.com", PW)
        shop.create_account("carol@example.com", PW)
        client = shop.client()
        assert log_in(client, "alice@example.com").success
        before = shop.state()
        assert client.submit("EmailUpdate", email="carol@example.com").success
        assert shop.state()["accounts"] == before["accounts"]
        [notice] = shop.outbox
        assert (notice.to, notice.purpose) == ("alice@example.com", "email_update_notice")
        assert [r.purpose for r in shop.state()["tokens"].values()] == ["password"]

    def test_mails_link_and_notice(
        self, shop: Harness, logged_in: Client, account: Account
    ) -> None:
        """The new address gets the EmailUpdateOptIn link, the old one a notice."""
        before = shop.state()
        result = logged_in.submit("EmailUpdate", email="New@Example.com")
        assert result.success
        link = only_link(shop, "email_update")
        (confirm,) = mails(shop, "email_update")
        assert confirm.to == "New@example.com"
        assert query(link)["wsact"] == "EmailUpdateOptIn"
        assert link.startswith(BASE)
        (notice,) = mails(shop, "email_update_notice")
        assert notice.to == "alice@example.com"
        (reset_link,) = notice.links  # a new password cancels the change (T35)
        assert "wsact" not in query(reset_link)
        assert reset_link in notice.text
        assert len(shop.outbox) == 2
        assert shop.state()["accounts"] == before["accounts"]
        records = sorted(shop.state()["tokens"].values(), key=lambda r: r.purpose)
        assert [r.purpose for r in records] == ["email_update", "password"]
        assert records[0].email == "New@example.com"

    def test_old_address_logs_in_until_confirmed(
        self, shop: Harness, logged_in: Client, bob: Client
    ) -> None:
        """Before confirmation the old address is the login, the new one is not."""
        logged_in.submit("EmailUpdate", email="new@example.com")
        assert log_in(bob, "new@example.com").codes == {"invalidCredentials"}
        assert log_in(bob, "alice@example.com").success

    def test_too_many_requests(self, shop: Harness, logged_in: Client) -> None:
        """Beyond the per-address limit: tooManyRequests and no mail."""
        for _ in range(5):
            assert logged_in.submit("EmailUpdate", email="new@example.com").success
        before = shop.state()
        result = logged_in.submit("EmailUpdate", email="new@example.com")
        assert_fails(result, ActionError("tooManyRequests"))
        assert shop.state() == before


class TestEmailUpdateOptIn:
    """EmailUpdateOptIn (alias EMailUpdateOptIn) makes the new address the login."""

    def request(self, shop: Harness, client: Client, email: str = "new@example.com") -> str:
        """Ask for an email change and return the confirmation link."""
        assert client.submit("EmailUpdate", email=email).success
        return mails(shop, "email_update")[-1].links[0]

    def test_confirm(self, shop: Harness, logged_in: Client, bob: Client, account: Account) -> None:
        """Following the link changes the address; new logs in, old does not."""
        link = self.request(shop, logged_in, "New@Example.com")
        result = bob.follow(link)
        assert result is not None
        assert result.success
        assert result.name == "EmailUpdateOptIn"
        updated = stored(shop, account)
        assert updated is not None
        assert updated.email == "New@example.com"
        assert updated.email_key == "new@example.com"
        assert updated.verified
        bob.leave()
        assert log_in(bob, "alice@example.com").codes == {"invalidCredentials"}
        assert log_in(bob, "new@example.com").success

    def test_alias(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """The link also works under the documented spelling EMailUpdateOptIn."""
        link = self.request(shop, logged_in).replace(
            "wsact=EmailUpdateOptIn", "wsact=EMailUpdateOptIn"
        )
        assert "EMailUpdateOptIn" in link
        result = logged_in.follow(link)
        assert result is not None
        assert result.success
        assert result.name == "EmailUpdateOptIn"
        assert stored(shop, account).email == "new@example.com"  # type: ignore[union-attr]

    def test_other_sessions_end(self, shop: Harness, logged_in: Client, bob: Client) -> None:
        """Other sessions of the account end; the confirming session stays logged in."""
        assert log_in(bob, "alice@example.com").success
        link = self.request(shop, logged_in)
        assert logged_in.follow(link).success  # type: ignore[union-attr]
        assert logged_in.view().wsAccount.isLoggedIn
        assert logged_in.view().wsAccount.email == "new@example.com"
        assert not bob.view().wsAccount.isLoggedIn

    def test_without_token(self, shop: Harness, logged_in: Client) -> None:
        """No token: unauthorized."""
        self.request(shop, logged_in)
        before = shop.state()
        assert_fails(logged_in.submit("EmailUpdateOptIn"), ActionError("unauthorized"))
        assert shop.state() == before

    def test_link_works_once(self, shop: Harness, logged_in: Client) -> None:
        """A second use: unauthorized."""
        link = self.request(shop, logged_in)
        assert logged_in.follow(link).success  # type: ignore[union-attr]
        before = shop.state()
        again = logged_in.follow(link)
        assert again is not None
        assert_fails(again, ActionError("unauthorized"))
        assert shop.state() == before

    def test_address_taken_meanwhile(self, shop: Harness, logged_in: Client, bob: Client) -> None:
        """If the new address got an account meanwhile: unauthorized, nothing changes."""
        link = self.request(shop, logged_in)
        shop.create_account("NEW@example.com", PW)
        before = shop.state()
        result = bob.follow(link)
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before


# deletion ------------------------------------------------------------------------------------


class TestAccountDelete:
    """AccountDelete removes the account (immediately or after confirmation)."""

    def test_not_logged_in(self, shop: Harness, alice: Client, account: Account) -> None:
        """Without a login: notLoggedIn."""
        before = shop.state()
        assert_fails(alice.submit("AccountDelete"), ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_immediate(
        self, shop: Harness, logged_in: Client, bob: Client, account: Account
    ) -> None:
        """The account, its addresses and tokens go; every session is logged out."""
        shop.accounts.add_address(
            Address(id="addr-1", account_id=account.id, type="bill", fields={"firstName": "A"})
        )
        other = shop.create_account("carol@example.com", PW)
        assert logged_in.submit("PasswordForgotten", email="alice@example.com").success
        assert log_in(bob, "alice@example.com").success
        result = logged_in.submit("AccountDelete")
        assert result.success
        state = shop.state()
        assert set(state["accounts"]) == {other.id}
        assert state["addresses"] == {}
        assert state["tokens"] == {}
        assert shop.accounts.find_account("alice@example.com") is None
        assert logged_in.session.account_id is None
        assert not bob.view().wsAccount.isLoggedIn
        assert log_in(bob, "alice@example.com").codes == {"invalidCredentials"}

    def test_with_confirmation(self) -> None:
        """With delete_requires_confirmation a link is mailed; following it deletes."""
        shop = Harness(delete_requires_confirmation=True)
        account = shop.create_account("alice@example.com", PW)
        alice, bob = shop.client(), shop.client()
        assert log_in(alice, "alice@example.com").success
        result = alice.submit("AccountDelete")
        assert result.success
        assert dict(result.data) == {"confirmationSent": True}
        assert stored(shop, account) == account
        assert alice.view().wsAccount.isLoggedIn
        link = only_link(shop, "delete")
        assert shop.outbox[0].to == "alice@example.com"
        assert query(link)["wsact"] == "AccountDeleteOptIn"
        followed = bob.follow(link)
        assert followed is not None
        assert followed.success
        assert stored(shop, account) is None
        assert shop.state()["tokens"] == {}
        assert not alice.view().wsAccount.isLoggedIn

    def test_too_many_requests(self) -> None:
        """Confirmation mails are rate limited like every mail: the sixth gets tooManyRequests."""
        shop = Harness(delete_requires_confirmation=True)
        shop.create_account("alice@example.com", PW)
        client = shop.client()
        assert log_in(client, "alice@example.com").success
        for _ in range(5):
            assert client.submit("AccountDelete").success
        before = shop.state()
        assert_fails(client.submit("AccountDelete"), ActionError("tooManyRequests"))
        assert shop.state() == before


class TestAccountDeleteOptIn:
    """AccountDeleteOptIn needs a valid delete token."""

    def test_without_token(self, shop: Harness, logged_in: Client) -> None:
        """A logged-in session without a token: unauthorized, nothing deleted."""
        before = shop.state()
        assert_fails(logged_in.submit("AccountDeleteOptIn"), ActionError("unauthorized"))
        assert shop.state() == before

    def test_other_purpose_token(self, shop: Harness, alice: Client, account: Account) -> None:
        """A password token does not delete."""
        token = query(reset_link(shop, alice))["wsoptin"]
        before = shop.state()
        result = alice.follow(f"{BASE}?wsact=AccountDeleteOptIn&wsoptin={token}")
        assert result is not None
        assert_fails(result, ActionError("unauthorized"))
        assert shop.state() == before

    def test_link_works_once(self) -> None:
        """The confirmation link used again: unauthorized."""
        shop = Harness(delete_requires_confirmation=True)
        shop.create_account("alice@example.com", PW)
        client = shop.client()
        log_in(client, "alice@example.com")
        client.submit("AccountDelete")
        link = only_link(shop, "delete")
        assert client.follow(link).success  # type: ignore[union-attr]
        before = shop.state()
        again = client.follow(link)
        assert again is not None
        assert_fails(again, ActionError("unauthorized"))
        assert shop.state() == before


# profile ----------------------------------------------------------------------------------


class TestAccountDisplayNameUpdate:
    """accountDisplayNameUpdate sets a bounded, plain-text display name."""

    def test_success(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """The trimmed name is stored and shown."""
        result = logged_in.submit("accountDisplayNameUpdate", displayName="  Alice Smith ")
        assert result.success
        assert stored(shop, account).display_name == "Alice Smith"  # type: ignore[union-attr]
        assert logged_in.view().wsAccount.displayName == "Alice Smith"

    def test_max_length_accepted(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """A name of exactly the maximum length is accepted."""
        name = "n" * shop.settings.display_name_max_length
        assert logged_in.submit("accountDisplayNameUpdate", displayName=name).success
        assert stored(shop, account).display_name == name  # type: ignore[union-attr]

    def test_not_logged_in(self, shop: Harness, alice: Client, account: Account) -> None:
        """Without a login: notLoggedIn."""
        before = shop.state()
        result = alice.submit("accountDisplayNameUpdate", displayName="X")
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    @pytest.mark.parametrize("name", ["", "   "])
    def test_missing_display_name(self, shop: Harness, logged_in: Client, name: str) -> None:
        """An empty name: missingDisplayName."""
        before = shop.state()
        result = logged_in.submit("accountDisplayNameUpdate", displayName=name)
        assert_fails(result, ActionError("missingDisplayName", "displayName"))
        assert shop.state() == before

    @pytest.mark.parametrize("name", ["n" * 101, "Alice\tSmith", "Alice\u202eSmith"])
    def test_invalid_parameter(self, shop: Harness, logged_in: Client, name: str) -> None:
        """Too long or not plain text: invalidParameter."""
        before = shop.state()
        result = logged_in.submit("accountDisplayNameUpdate", displayName=name)
        assert_fails(result, ActionError("invalidParameter", "displayName"))
        assert shop.state() == before

    def test_field_not_editable(self, shop: Harness, alice: Client) -> None:
        """A member whose group does not list displayName: fieldNotEditable."""
        member(shop, {"customerData.phone"})
        assert log_in(alice, "employee@example.com").success
        before = shop.state()
        result = alice.submit("accountDisplayNameUpdate", displayName="Emp")
        assert_fails(result, ActionError("fieldNotEditable", "displayName"))
        assert shop.state() == before

    def test_member_with_editable_field(self, shop: Harness, alice: Client) -> None:
        """A member whose group lists displayName may change it."""
        employee = member(shop, {"displayName"})
        assert log_in(alice, "employee@example.com").success
        assert alice.submit("accountDisplayNameUpdate", displayName="Emp").success
        assert stored(shop, employee).display_name == "Emp"  # type: ignore[union-attr]


class TestAccountSetCustomerData:
    """AccountSetCustomerData writes allow-listed, bounded fields, all or nothing."""

    def test_success(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """Allowed fields are stored trimmed and echoed."""
        result = logged_in.submit(
            "AccountSetCustomerData",
            {"customerData.phone": " +49 30 1234 ", "customerData.birthDate": "1990-01-02"},
        )
        assert result.success
        assert dict(result.params) == {
            "customerData.phone": " +49 30 1234 ",
            "customerData.birthDate": "1990-01-02",
        }
        data = dict(stored(shop, account).customer_data)  # type: ignore[union-attr]
        assert data == {"phone": "+49 30 1234", "birthDate": "1990-01-02"}

    def test_empty_value_removes(self, shop: Harness, logged_in: Client, account: Account) -> None:
        """An empty value removes the field; others stay."""
        logged_in.submit(
            "AccountSetCustomerData", {"customerData.phone": "1", "customerData.vatId": "DE1"}
        )
        assert logged_in.submit("AccountSetCustomerData", {"customerData.phone": ""}).success
        assert dict(stored(shop, account).customer_data) == {"vatId": "DE1"}  # type: ignore[union-attr]

    def test_not_logged_in(self, shop: Harness, alice: Client, account: Account) -> None:
        """Without a login: notLoggedIn."""
        before = shop.state()
        result = alice.submit("AccountSetCustomerData", {"customerData.phone": "1"})
        assert_fails(result, ActionError("notLoggedIn"))
        assert shop.state() == before

    def test_empty_customer_data(self, shop: Harness, logged_in: Client) -> None:
        """No customerData.* field: emptyCustomerData."""
        before = shop.state()
        result = logged_in.submit("AccountSetCustomerData", {"phone": "1"})
        assert_fails(result, ActionError("emptyCustomerData", "customerData."))
        assert shop.state() == before

    def test_field_outside_allow_list(self, shop: Harness, logged_in: Client) -> None:
        """A field outside the allow-list: invalidParameter, nothing written."""
        before = shop.state()
        result = logged_in.submit(
            "AccountSetCustomerData",
            {"customerData.phone": "1", "customerData.admin": "true"},
        )
        assert_fails(result, ActionError("invalidParameter", "customerData.admin"))
        assert shop.state() == before

    def test_too_long(self, shop: Harness, logged_in: Client) -> None:
        """A value over the maximum length: invalidParameter."""
        before = shop.state()
        value = "1" * (shop.settings.customer_data_max_length + 1)
        result = logged_in.submit("AccountSetCustomerData", {"customerData.phone": value})
        assert_fails(result, ActionError("invalidParameter", "customerData.phone"))
        assert shop.state() == before

    def test_not_plain_text(self, shop: Harness, logged_in: Client) -> None:
        """A value with control characters: invalidParameter."""
        before = shop.state()
        result = logged_in.submit("AccountSetCustomerData", {"customerData.title": "Dr\nX"})
        assert_fails(result, ActionError("invalidParameter", "customerData.title"))
        assert shop.state() == before

    def test_field_not_editable(self, shop: Harness, alice: Client) -> None:
        """A member whose group does not list customerData.phone: fieldNotEditable."""
        member(shop, {"displayName"})
        assert log_in(alice, "employee@example.com").success
        before = shop.state()
        result = alice.submit("AccountSetCustomerData", {"customerData.phone": "1"})
        assert_fails(result, ActionError("fieldNotEditable", "customerData.phone"))
        assert shop.state() == before

    def test_member_with_editable_field(self, shop: Harness, alice: Client) -> None:
        """A member whose group lists customerData.phone may set it."""
        employee = member(shop, {"customerData.phone"})
        assert log_in(alice, "employee@example.com").success
        assert alice.submit("AccountSetCustomerData", {"customerData.phone": "1"}).success
        assert dict(stored(shop, employee).customer_data) == {"phone": "1"}  # type: ignore[union-attr]

    def test_admin_member_unrestricted(self, shop: Harness, alice: Client) -> None:
        """A company admin edits any allowed field whatever its group says."""
        employee = member(shop, {"displayName"}, admin=True)
        assert log_in(alice, "employee@example.com").success
        assert alice.submit("AccountSetCustomerData", {"customerData.phone": "1"}).success
        assert dict(stored(shop, employee).customer_data) == {"phone": "1"}  # type: ignore[union-attr]
