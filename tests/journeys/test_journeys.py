"""End-to-end customer journeys through the testing harness, as a shop's browser sees them."""

from __future__ import annotations

from helpers import PW, is_logged_in
from wsactions.mail import Mail
from wsactions.testing import Client, Harness

NEW_PW = "zebra violin cactus 19"
WRONG = "not the password at all 7"


def last_mail(shop: Harness, purpose: str, to: str) -> Mail:
    """The newest mail of *purpose* to *to*."""
    found = [m for m in shop.outbox if m.purpose == purpose and m.to == to]
    assert found, f"no {purpose} mail to {to}: {shop.outbox}"
    return found[-1]


def link(shop: Harness, purpose: str, to: str) -> str:
    """The one link of the newest mail of *purpose* to *to*."""
    (url,) = last_mail(shop, purpose, to).links
    assert url.startswith("https://shop.example/")
    return url



def log_in(client: Client, email: str, password: str) -> bool:
    """Log *client* in; whether it worked."""
    return bool(client.submit("Login", id=email, password=password).success)


def test_register_verify_login_logout() -> None:
    """Register, open the verification link, log in, log out by link."""
    shop = Harness(require_verified_email=True)
    browser = shop.client()
    result = browser.submit(
        "AccountRegister", email="Dana@Example.com", password=PW, passwordRepeat=PW
    )
    assert result.success
    assert not is_logged_in(browser)
    assert browser.submit("Login", id="dana@example.com", password=PW).codes == {"accountInactive"}

    verified = browser.follow(link(shop, "verify", "Dana@example.com"))
    assert verified is not None
    assert verified.success
    assert browser.view().wsActions.current.name == "EmailVerify"
    browser.leave()

    assert log_in(browser, "DANA@example.com", PW)
    assert is_logged_in(browser)
    assert browser.view().wsAccount.email == "Dana@example.com"

    out = browser.follow(browser.url("Logout", "/account/overview"))
    assert out is not None
    assert out.success
    assert out.redirect == "/account/overview"
    assert not is_logged_in(browser)


def test_lockout_unlock_login() -> None:
    """Ten wrong passwords block the login; the unlock mail's link lets the owner back in."""
    shop = Harness()
    shop.create_account("erin@example.com", PW)
    attacker, owner = shop.client(client_address="198.51.100.66"), shop.client()
    for _ in range(10):
        assert attacker.submit("Login", id="erin@example.com", password=WRONG).codes == {
            "invalidCredentials"
        }
    assert owner.submit("Login", id="erin@example.com", password=PW).codes == {"loginBlocked"}
    unlock = link(shop, "unlock", "erin@example.com")
    assert len(shop.outbox) == 1

    assert owner.follow(unlock).success  # type: ignore[union-attr]
    owner.leave()
    assert log_in(owner, "erin@example.com", PW)
    assert is_logged_in(owner)
    assert not is_logged_in(attacker)


def test_forgotten_reset_and_link_lifetime() -> None:
    """Forgotten → reset link → new password works, old fails, reuse and expiry fail."""
    shop = Harness()
    shop.create_account("fay@example.com", PW)
    browser, other = shop.client(), shop.client()

    assert browser.submit("PasswordForgotten", email="Fay@example.com").success
    reset_url = link(shop, "password", "fay@example.com")
    assert browser.follow(reset_url) is None  # the page shows the form
    assert browser.view().wsOptIn.current.valid
    assert browser.submit("ResetPassword", newPassword=NEW_PW, newPasswordRepeat=NEW_PW).success

    assert not log_in(other, "fay@example.com", PW)
    assert log_in(other, "fay@example.com", NEW_PW)

    # the same link again
    again = shop.client()
    again.follow(reset_url)
    assert not again.view().wsOptIn.current.valid
    assert again.submit("ResetPassword", newPassword=PW, newPasswordRepeat=PW).codes == {
        "notLoggedIn"
    }

    # a fresh link opened too late
    assert browser.submit("PasswordForgotten", email="fay@example.com").success
    late_url = link(shop, "password", "fay@example.com")
    assert late_url != reset_url
    shop.clock.advance(3601)
    late = shop.client()
    late.follow(late_url)
    assert not late.view().wsOptIn.current.valid
    assert late.submit("ResetPassword", newPassword=PW, newPasswordRepeat=PW).codes == {
        "notLoggedIn"
    }
    assert log_in(shop.client(), "fay@example.com", NEW_PW)


def test_email_change() -> None:
    """Change the address, confirm from the new mailbox, log in with the new address only."""
    shop = Harness()
    shop.create_account("gus@example.com", PW)
    browser, mailbox = shop.client(), shop.client()
    assert log_in(browser, "gus@example.com", PW)

    assert browser.submit("EmailUpdate", email="Gus.New@example.com").success
    assert len(last_mail(shop, "email_update_notice", "gus@example.com").links) == 1
    confirm = link(shop, "email_update", "Gus.New@example.com")
    assert log_in(shop.client(), "gus@example.com", PW)

    assert mailbox.follow(confirm).success  # type: ignore[union-attr]
    assert not mailbox.view().wsAccount.isLoggedIn

    assert not log_in(shop.client(), "gus@example.com", PW)
    fresh = shop.client()
    assert log_in(fresh, "gus.new@example.com", PW)
    assert fresh.view().wsAccount.email == "Gus.New@example.com"
    assert not is_logged_in(browser)  # the change ended the other session


def test_delete_immediately() -> None:
    """Delete the account right away: logged out, gone, the address is free again."""
    shop = Harness()
    shop.create_account("hal@example.com", PW)
    browser = shop.client()
    assert log_in(browser, "hal@example.com", PW)
    assert browser.submit("AccountDelete").success
    assert not is_logged_in(browser)
    assert shop.state()["accounts"] == {}
    assert not log_in(browser, "hal@example.com", PW)
    assert browser.submit(
        "AccountRegister", email="hal@example.com", password=NEW_PW, passwordRepeat=NEW_PW
    ).success


def test_delete_with_confirmation() -> None:
    """With confirmation on, the account goes only when the mailed link is opened."""
    shop = Harness(delete_requires_confirmation=True)
    shop.create_account("ivy@example.com", PW)
    browser = shop.client()
    assert log_in(browser, "ivy@example.com", PW)
    result = browser.submit("AccountDelete")
    assert result.success
    assert result.data["confirmationSent"] is True
    assert is_logged_in(browser)
    assert log_in(shop.client(), "ivy@example.com", PW)

    confirmed = browser.follow(link(shop, "delete", "ivy@example.com"))
    assert confirmed is not None
    assert confirmed.success
    assert not is_logged_in(browser)
    assert shop.state()["accounts"] == {}
    assert not log_in(shop.client(), "ivy@example.com", PW)
