"""The demo's own buttons (token-checked POST forms on the home page) in Chromium."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from test_browser_journeys import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from conftest import DemoServer  # tests/browser/conftest.py


def test_attack3_4_fail_a_payment_button_locks_the_session(page: Page, server: DemoServer) -> None:
    """Finding 4: the home page's "Fail a payment" form locks the session; it unlocks."""
    page.goto(server.page("/"))
    page.get_by_role("button", name="Fail a payment").click()
    expect(page.get_by_role("heading", name="Your order details are locked")).to_be_visible()
    page.get_by_role("button", name="Unlock order details").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("heading", name="Your order details are locked")).to_have_count(0)


def test_attack3_4_guest_checkout_button_fills_the_guest_page(
    page: Page, server: DemoServer
) -> None:
    """Finding 4: the home page's "Finish a guest checkout" form opens the guest page with
    the order's email address, read-only."""
    page.goto(server.page("/"))
    page.get_by_role("button", name="Finish a guest checkout").click()
    expect(page.get_by_role("button", name="Create customer account")).to_be_visible()
    email = page.locator('input[name="guestMail"]')
    expect(email).to_have_attribute("readonly", "")
    expect(email).to_have_value(re.compile(r"^guest-[0-9a-f]{6}@example\.com$"))
