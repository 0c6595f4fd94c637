"""Passkeys in Chromium with its virtual authenticator (DevTools: WebAuthn.enable,
WebAuthn.addVirtualAuthenticator; resident keys and user verification on): add a passkey
on the security page, log out, log in with it without typing an address, remove it.

The demo is served as http://localhost:<port>: a passkey's relying party id is a host
name, never an IP address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from test_browser_journeys import expect, label, log_out, new_customer

from conftest import DemoServer, serve_demo

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def localhost(_browser_available: None) -> Iterator[DemoServer]:
    with serve_demo(host="localhost") as served:
        yield served


def authenticator(page: Page) -> str:
    """A virtual platform authenticator for *page* (a passkey provider with biometrics)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return str(added["authenticatorId"])


#: Pages of a tab with this flag in its sessionStorage report no autofill for passkeys
#: (conditional mediation): the virtual authenticator answers an autofill request at once,
#: where a person would pick the passkey from the address field's suggestions.
NO_AUTOFILL = """
if (window.sessionStorage && sessionStorage.getItem("no-passkey-autofill")) {
  PublicKeyCredential.isConditionalMediationAvailable = async () => false;
}
"""


def test_add_a_passkey_log_in_with_it_and_remove_it(page: Page, localhost: DemoServer) -> None:
    authenticator(page)
    page.add_init_script(NO_AUTOFILL)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    email = new_customer(page, localhost, "passkey")

    page.goto(localhost.page("/account/security"))
    page.get_by_label(label("Name of the new passkey")).fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_contain_text("Your passkey was saved")
    expect(page.locator(".passkey-name")).to_have_text(["Test laptop"])
    passkey_mail = [m for m in localhost.outbox.mails if m.to == email]
    assert "passkey was added" in passkey_mail[-1].text  # M45

    log_out(page)
    page.evaluate("sessionStorage.setItem('no-passkey-autofill', '1')")
    page.goto(localhost.page("/account/login"))
    expect(page.locator(".signed-in")).to_have_count(0)
    page.get_by_role("button", name="Use a passkey").click()  # the button: a modal request
    expect(page.locator(".signed-in")).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)  # no address was typed

    log_out(page)
    page.evaluate("sessionStorage.removeItem('no-passkey-autofill')")
    page.goto(localhost.page("/account/login"))  # autofill (conditional mediation)
    expect(page.locator(".signed-in")).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)

    page.goto(localhost.page("/account/security"))
    page.get_by_role("button", name="Remove the passkey Test laptop").click()
    expect(page.get_by_role("status")).to_contain_text("The passkey was removed")
    expect(page.locator(".passkey-name")).to_have_count(0)
    assert errors == []
