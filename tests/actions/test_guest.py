"""Tests for guest conversion: GuestRegister and SaveGuestDataToUser."""

from __future__ import annotations

import pytest

from helpers import PW, assert_fails
from wsactions import Account, ActionError, ActionResult, GuestCheckout, RateLimit
from wsactions.testing import Client, Harness

WEAK = "password123"

BILL = {
    "type": "bill",
    "firstName": "Gina",
    "lastName": "Guest",
    "street": "Main Street",
    "houseNumber": "1",
    "zip": "10115",
    "city": "Berlin",
    "country": "DE",
}
DELIVERY = {
    "type": "delivery",
    "firstName": "Gina",
    "lastName": "Guest",
    "street": "Side Street",
    "houseNumber": "2",
    "zip": "80331",
    "city": "München",
    "country": "DE",
}
CHECKOUT = GuestCheckout(
    email="Gina.Guest@Example.com", addresses=(BILL, DELIVERY), display_name="Gina Guest"
)


def record(client: Client, checkout: GuestCheckout = CHECKOUT) -> None:
    """Record a finished guest checkout in *client*'s session, as the host does."""
    client.session.set_guest_checkout(checkout)


def guest_register(client: Client, password: str = PW, **extra: str) -> ActionResult:
    """Submit GuestRegister with a repeated password."""
    fields = {"guestMail": "Gina.Guest@example.com", **extra}
    return client.submit("GuestRegister", password=password, passwordRepeat=password, **fields)


def save_guest(client: Client, password: str = PW, **extra: str) -> ActionResult:
    """Submit SaveGuestDataToUser for the recorded address with a repeated password."""
    fields = {"id": "Gina.Guest@example.com", **extra}
    return client.submit(
        "SaveGuestDataToUser", password=password, passwordRepeat=password, **fields
    )



def created(shop: Harness) -> Account:
    """The one account the shop holds."""
    (account,) = shop.state()["accounts"].values()
    assert isinstance(account, Account)
    return account


def assert_converted(shop: Harness, client: Client) -> Account:
    """The checkout became an account with its addresses, a verify mail, no login."""
    account = created(shop)
    assert account.email == "Gina.Guest@example.com"
    assert account.email_key == "gina.guest@example.com"
    assert account.display_name == "Gina Guest"
    assert not account.verified
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    addresses = {a.id: a for a in shop.accounts.list_addresses(account.id)}
    assert len(addresses) == 2
    bill = addresses[account.default_bill_address_id]
    delivery = addresses[account.default_delivery_address_id]
    assert bill.type == "bill"
    assert delivery.type == "delivery"
    assert dict(bill.fields) == {k: v for k, v in BILL.items() if k != "type"}
    assert dict(delivery.fields) == {k: v for k, v in DELIVERY.items() if k != "type"}
    assert account.main_address_id == bill.id
    (mail,) = shop.outbox
    assert mail.purpose == "verify"
    assert mail.to == "Gina.Guest@example.com"
    assert len(mail.links) == 1
    assert mail.links[0].startswith("https://shop.example/")
    assert "wsact=EmailVerify" in mail.links[0]
    assert client.session.guest_checkout is None
    assert client.session.account_id is None
    return account


class TestGuestRegister:
    """GuestRegister turns the session's guest checkout into an account."""

    def test_converts_checkout(self, shop: Harness, alice: Client) -> None:
        """The checkout's address and addresses become the account; a verify mail is sent."""
        record(alice)
        result = guest_register(alice)
        assert result.success
        assert dict(result.params) == {"guestMail": "Gina.Guest@example.com"}
        assert_converted(shop, alice)

    def test_guest_mail_from_form_ignored(self, shop: Harness, alice: Client) -> None:
        """The address comes from the checkout record, not from guestMail."""
        record(alice)
        assert guest_register(alice, guestMail="mallory@example.com").success
        assert_converted(shop, alice)
        assert shop.accounts.find_account("mallory@example.com") is None

    def test_verification_link_verifies(self, shop: Harness, alice: Client) -> None:
        """The mailed link verifies the new account and it can log in."""
        record(alice)
        guest_register(alice)
        assert alice.follow(shop.outbox[0].links[0]).success  # type: ignore[union-attr]
        assert created(shop).verified
        alice.leave()
        assert alice.submit("Login", id="gina.guest@example.com", password=PW).success

    def test_missing_guest_data(self, shop: Harness, alice: Client) -> None:
        """Without a recorded checkout: missingGuestData."""
        before = shop.state()
        assert_fails(guest_register(alice), ActionError("missingGuestData"))
        assert shop.state() == before

    def test_logged_in(self, shop: Harness, alice: Client) -> None:
        """A logged-in session: missingGuestData, nothing created."""
        shop.create_account("alice@example.com", PW)
        assert alice.submit("Login", id="alice@example.com", password=PW).success
        record(alice)
        before = shop.state()
        assert_fails(guest_register(alice), ActionError("missingGuestData"))
        assert shop.state() == before

    def test_missing_password(self, shop: Harness, alice: Client) -> None:
        """An empty password: missingPassword."""
        record(alice)
        before = shop.state()
        result = alice.submit("GuestRegister", guestMail="x@example.com", password="")
        assert_fails(result, ActionError("missingPassword", "password"))
        assert shop.state() == before
        assert alice.session.guest_checkout == CHECKOUT

    def test_password_mismatch(self, shop: Harness, alice: Client) -> None:
        """A differing repetition: passwordMismatch."""
        record(alice)
        before = shop.state()
        result = alice.submit("GuestRegister", password=PW, passwordRepeat=PW + "!")
        assert_fails(result, ActionError("passwordMismatch", "passwordRepeat"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("password", "subcode"),
        [
            ("short1!", "minlen"),
            ("z" * 129, "maxlen"),
            (WEAK, "weak"),
            ("gina.guest.shop", "weak"),
            ("Example Shop!", "weak"),
        ],
        ids=["minlen", "maxlen", "weak", "name-context", "shop-context"],
    )
    def test_password_check_failed(
        self, shop: Harness, alice: Client, password: str, subcode: str
    ) -> None:
        """A password outside the policy: passwordCheckFailed with its sub-code."""
        record(alice)
        before = shop.state()
        result = guest_register(alice, password)
        assert_fails(result, ActionError("passwordCheckFailed", "password", (subcode,)))
        assert shop.state() == before

    def test_account_already_exists(self, shop: Harness, alice: Client) -> None:
        """The checkout address has an account: accountAlreadyExists, nothing changes."""
        shop.create_account("gina.guest@example.com", PW)
        record(alice)
        before = shop.state()
        assert_fails(guest_register(alice), ActionError("accountAlreadyExists", "guestMail"))
        assert shop.state() == before
        assert alice.session.guest_checkout == CHECKOUT

    def test_too_many_requests(self, alice: Client) -> None:
        """Beyond the per-client mail limit: tooManyRequests, nothing created."""
        shop = Harness(mail_per_client=RateLimit(limit=1, window=3600))
        client = shop.client()
        assert client.submit("PasswordForgotten", email="x@example.com").codes == {
            "passwordRecoveryFailed"
        }
        record(client)
        before = shop.state()
        assert_fails(guest_register(client), ActionError("tooManyRequests"))
        assert shop.state() == before

    def test_session_locked(self, shop: Harness, alice: Client) -> None:
        """A locked session: sessionLocked."""
        record(alice)
        alice.session.lock()
        before = shop.state()
        assert_fails(guest_register(alice), ActionError("sessionLocked"))
        assert shop.state() == before

    def test_only_standard_fields_and_types(self, shop: Harness, alice: Client) -> None:
        """Unknown address keys are dropped; an unknown type becomes a billing address."""
        odd = {"type": "office", "firstName": "Gina", "city": "Köln", "isAdmin": "1"}
        record(alice, GuestCheckout(email="gina@example.com", addresses=(odd,)))
        assert guest_register(alice).success
        account = created(shop)
        (address,) = shop.accounts.list_addresses(account.id)
        assert address.type == "bill"
        assert dict(address.fields) == {"firstName": "Gina", "city": "Köln"}
        assert account.main_address_id == address.id
        assert account.default_bill_address_id == address.id
        assert account.default_delivery_address_id is None


class TestSaveGuestDataToUser:
    """SaveGuestDataToUser converts the checkout whose email the form names."""

    def test_converts_checkout(self, shop: Harness, alice: Client) -> None:
        """A matching id (any case) converts the checkout."""
        record(alice)
        result = save_guest(alice, id="GINA.GUEST@example.com")
        assert result.success
        assert dict(result.params) == {"id": "GINA.GUEST@example.com"}
        assert_converted(shop, alice)

    def test_non_guest_account(self, shop: Harness, alice: Client) -> None:
        """A logged-in session: nonGuestAccount."""
        shop.create_account("alice@example.com", PW)
        assert alice.submit("Login", id="alice@example.com", password=PW).success
        record(alice)
        before = shop.state()
        assert_fails(save_guest(alice), ActionError("nonGuestAccount"))
        assert shop.state() == before

    def test_missing_id(self, shop: Harness, alice: Client) -> None:
        """An empty id: missingId."""
        record(alice)
        before = shop.state()
        assert_fails(save_guest(alice, id=""), ActionError("missingId", "id"))
        assert shop.state() == before

    def test_missing_password(self, shop: Harness, alice: Client) -> None:
        """An empty password: missingPassword."""
        record(alice)
        before = shop.state()
        result = alice.submit("SaveGuestDataToUser", id="gina.guest@example.com", password="")
        assert_fails(result, ActionError("missingPassword", "password"))
        assert shop.state() == before

    def test_password_mismatch(self, shop: Harness, alice: Client) -> None:
        """A differing repetition: passwordMismatch."""
        record(alice)
        before = shop.state()
        result = alice.submit(
            "SaveGuestDataToUser",
            id="gina.guest@example.com",
            password=PW,
            passwordRepeat="other",
        )
        assert_fails(result, ActionError("passwordMismatch", "passwordRepeat"))
        assert shop.state() == before

    @pytest.mark.parametrize(
        ("password", "subcode"),
        [("short1!", "minlen"), ("z" * 129, "maxlen"), (WEAK, "weak"), ("gina.guest.shop", "weak")],
        ids=["minlen", "maxlen", "weak", "name-context"],
    )
    def test_password_check_failed(
        self, shop: Harness, alice: Client, password: str, subcode: str
    ) -> None:
        """A password outside the policy: passwordCheckFailed with its sub-code."""
        record(alice)
        before = shop.state()
        result = save_guest(alice, password)
        assert_fails(result, ActionError("passwordCheckFailed", "password", (subcode,)))
        assert shop.state() == before

    def test_every_failing_field_at_once(self, shop: Harness, alice: Client) -> None:
        """Missing id, mismatch and short password are reported together."""
        record(alice)
        result = alice.submit(
            "SaveGuestDataToUser", id="", password="short", passwordRepeat="other"
        )
        assert_fails(
            result,
            ActionError("missingId", "id"),
            ActionError("passwordMismatch", "passwordRepeat"),
            ActionError("passwordCheckFailed", "password", ("minlen",)),
        )

    def test_missing_guest_data(self, shop: Harness, alice: Client) -> None:
        """Without a recorded checkout: missingGuestData."""
        before = shop.state()
        assert_fails(save_guest(alice), ActionError("missingGuestData"))
        assert shop.state() == before

    def test_missing_guest_data_and_fields(self, shop: Harness, alice: Client) -> None:
        """Without a checkout the missing fields are reported as well."""
        before = shop.state()
        result = alice.submit("SaveGuestDataToUser")
        assert_fails(
            result,
            ActionError("missingId", "id"),
            ActionError("missingPassword", "password"),
            ActionError("missingGuestData"),
        )
        assert shop.state() == before

    def test_id_other_than_recorded(self, shop: Harness, alice: Client) -> None:
        """An id that is not the recorded email: missingGuestData on id."""
        record(alice)
        before = shop.state()
        result = save_guest(alice, id="mallory@example.com")
        assert_fails(result, ActionError("missingGuestData", "id"))
        assert shop.state() == before
        assert alice.session.guest_checkout == CHECKOUT

    def test_existing_account(self, shop: Harness, alice: Client) -> None:
        """An address with an account: success, the owner is told, nothing is created."""
        owner = shop.create_account("GINA.guest@example.com", PW)
        record(alice)
        before = shop.state()
        assert save_guest(alice).success
        after = shop.state()
        assert after["accounts"] == before["accounts"]
        assert after["addresses"] == before["addresses"]
        assert after["tokens"] == before["tokens"]
        (mail,) = shop.outbox
        assert mail.purpose == "account_exists"
        assert mail.to == owner.email
        assert mail.links == ()
        assert alice.session.guest_checkout is None
        assert alice.session.account_id is None

    def test_session_locked(self, shop: Harness, alice: Client) -> None:
        """A locked session: sessionLocked."""
        record(alice)
        alice.session.lock()
        before = shop.state()
        assert_fails(save_guest(alice), ActionError("sessionLocked"))
        assert shop.state() == before
