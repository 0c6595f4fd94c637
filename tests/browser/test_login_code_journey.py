"""Login by an emailed code in Chromium: on the pack's login page, ask for a code, read it
from the outbox, type it; a wrong code first is refused with a message."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from test_browser_journeys import expect, label, log_out, new_customer

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from conftest import DemoServer  # tests/browser/conftest.py


def mailed_code(server: DemoServer, email: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for mail in reversed(list(server.outbox.mails)):
            if mail.to == email and mail.purpose == "login_code":
                found = re.search(r"^\s*(\d{6})\s*$", mail.text, re.M)
                assert found, mail.text
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no login code mail to {email}")


def test_log_in_with_a_code_from_the_outbox(page: Page, server: DemoServer) -> None:
    email = new_customer(page, server, "code")
    log_out(page)
    page.goto(server.page("/account/login"))
    page.get_by_label(label("Your email address")).fill(email)
    page.get_by_role("button", name="Email me a login code").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent a login code")
    code = mailed_code(server, email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.get_by_label(label("Code from the email")).fill(wrong)
    page.get_by_role("button", name="Log in with the code").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator(".signed-in")).to_have_count(0)
    page.get_by_label(label("Code from the email")).fill(code)
    page.get_by_role("button", name="Log in with the code").click()
    expect(page.locator(".signed-in")).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)
