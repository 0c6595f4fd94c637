"""The second factor in Chromium: enrol TOTP from the key the security page shows (the
test computes the codes, as an authenticator app would), log out, log in with a code,
then with a recovery code, and turn the factor off again."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyotp
from test_browser_journeys import PASSWORD, expect, label, log_in, log_out, new_customer

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from conftest import DemoServer  # tests/browser/conftest.py


def enter_code(page: Page, code: str) -> None:
    """The login page's second step: type the code and continue."""
    field = page.get_by_label(label("Code from your authenticator app, or a recovery code"))
    expect(field).to_be_visible()
    field.fill(code)
    page.get_by_role("button", name="Continue").click()


def test_enrol_log_in_with_a_code_and_a_recovery_code_then_disable(
    page: Page, server: DemoServer
) -> None:
    email = new_customer(page, server, "totp")
    page.goto(server.page("/account/security"))
    page.get_by_role("button", name="Set up two-step login").click()
    expect(page.locator(".totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label(label("Code shown by the app")).fill(totp.now())
    page.get_by_role("button", name="Turn two-step login on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10

    log_out(page)
    log_in(page, server, email, PASSWORD)
    expect(page.locator(".signed-in")).to_have_count(0)  # the password alone: not yet
    enter_code(page, totp.at(time.time() + 30))  # the next step: the last one was used
    expect(page.locator(".signed-in")).to_be_visible()

    log_out(page)
    log_in(page, server, email, PASSWORD)
    enter_code(page, codes[0])
    expect(page.locator(".signed-in")).to_be_visible()
    page.goto(server.page("/account/security"))
    expect(page.locator("main")).to_contain_text("Unused recovery codes: 9")

    page.get_by_role("button", name="Turn two-step login off").click()
    expect(page.get_by_role("button", name="Set up two-step login")).to_be_visible()
    log_out(page)
    log_in(page, server, email, PASSWORD)
    expect(page.locator(".signed-in")).to_be_visible()
