"""Real customer journeys in Chromium against the served demo shop (see conftest.py)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wsactions.contrib.demo import DEMO_ADMIN, DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, expect

    from conftest import DemoServer  # tests/browser/conftest.py
else:

    def expect(target: Any) -> Any:
        """Playwright's ``expect``, imported on use: without Playwright the folder is skipped
        (conftest.py), so this module must import without it."""
        from playwright.sync_api import expect as playwright_expect

        return playwright_expect(target)


def label(text: str) -> re.Pattern[str]:
    """The exact text of a field's label; a required field's label ends in " *" (shown, but
    hidden from assistive technology, which Playwright's label text still includes)."""
    return re.compile(rf"^{re.escape(text)}( \*)?$")


PASSWORD = "velvet Harbor 7 lanterns drift"
NEW_PASSWORD = "quiet Comet 42 orchards hum"


def unique_email(tag: str) -> str:
    """An address no other test (or run) uses."""
    return f"{tag}-{secrets.token_hex(4)}@example.com"


def register(page: Page, server: DemoServer, email: str, password: str = PASSWORD) -> None:
    """Fill in and send the registration form."""
    page.goto(server.page("/account/register"))
    page.get_by_label(label("Email address")).fill(email)
    page.get_by_label(label("Password")).fill(password)
    page.get_by_label(label("Repeat the password")).fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_be_visible()


def confirm_email(page: Page, server: DemoServer, email: str) -> None:
    """Open the verification link mailed to *email*."""
    page.goto(server.outbox_link(email, "verify"))
    expect(page.get_by_role("status")).to_be_visible()


def log_in(page: Page, server: DemoServer, email: str, password: str) -> None:
    """Send the login form (the caller checks what it answered)."""
    page.goto(server.page("/account/login"))
    page.get_by_label(label("Email address")).fill(email)
    page.get_by_label(label("Password")).fill(password)
    page.get_by_role("button", name="Log in").click()


def expect_account_of(page: Page, email: str) -> None:
    """The account page is open for *email*."""
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)


def expect_login_refused(page: Page) -> None:
    """The login form answered with an error and nobody is logged in."""
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.locator(".signed-in")).to_have_count(0)


def new_customer(page: Page, server: DemoServer, tag: str) -> str:
    """Register, confirm and log in a new customer; its address."""
    email = unique_email(tag)
    register(page, server, email)
    confirm_email(page, server, email)
    log_in(page, server, email, PASSWORD)
    expect_account_of(page, email)
    return email


def log_out(page: Page) -> None:
    """Click the navigation's logout link."""
    page.get_by_role("navigation", name="Customer account").get_by_role(
        "link", name="Log out"
    ).click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def test_register_confirm_and_log_in(page: Page, server: DemoServer) -> None:
    """Register, open the verify link on the /outbox page, log in: the account shows the email."""
    email = unique_email("register")
    register(page, server, email)
    page.goto(server.page("/outbox"))
    mail = page.locator("article", has_text=f"To: {email}").first
    mail.get_by_role("link", name="Open the link").click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="log in").click()
    page.get_by_label(label("Email address")).fill(email)
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect_account_of(page, email)
    expect(page.get_by_text("Email confirmed")).to_be_visible()


def test_blocked_login_unlocked_by_mail(page: Page, server: DemoServer) -> None:
    """Ten wrong passwords block the login; the mailed unlock link opens it again."""
    email = unique_email("blocked")
    register(page, server, email)
    limit = server.app.extensions["wsactions"].registry.settings.login_throttle.limit
    for attempt in range(limit):
        log_in(page, server, email, f"wrong guess number {attempt}")
        expect_login_refused(page)
    log_in(page, server, email, PASSWORD)  # even the right password is refused now
    expect(page.get_by_role("alert")).to_contain_text("blocked after too many failed attempts")
    expect(page.get_by_role("link", name="choose a new password")).to_be_visible()
    page.goto(server.outbox_link(email, "unlock"))
    expect(page.get_by_role("status")).to_be_visible()
    log_in(page, server, email, PASSWORD)
    expect_account_of(page, email)


def test_forgotten_password_reset(page: Page, server: DemoServer) -> None:
    """A reset link sets a new password: the old one is refused afterwards, the new one works."""
    email = unique_email("forgot")
    register(page, server, email)
    confirm_email(page, server, email)
    page.goto(server.page("/account/forgot"))
    page.get_by_label(label("Email address")).fill(email)
    page.get_by_role("button", name="Send link").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(server.outbox_link(email, "password"))
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("Repeat the new password")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("status")).to_be_visible()
    log_in(page, server, email, NEW_PASSWORD)
    expect_account_of(page, email)
    log_out(page)
    log_in(page, server, email, PASSWORD)
    expect_login_refused(page)
    log_in(page, server, email, NEW_PASSWORD)
    expect_account_of(page, email)


def fill_new_address(page: Page, zip_code: str) -> None:
    """Fill the new-address form with a German billing address and save it."""
    form = page.get_by_role("region", name="New address")
    form.get_by_label(label("Type")).select_option("bill")
    form.get_by_label(label("First name")).fill("Erika")
    form.get_by_label(label("Last name")).fill("Mustermann")
    form.get_by_label(label("Street")).fill("Heidestraße")
    form.get_by_label(label("House number")).fill("17")
    form.get_by_label(label("Postal code")).fill(zip_code)
    form.get_by_label(label("City")).fill("Köln")
    form.get_by_label(label("Country")).select_option("DE")
    form.get_by_role("button", name="Save address").click()


def test_address_with_wrong_zip_then_valid(page: Page, server: DemoServer) -> None:
    """A wrong German postal code is flagged at its field; a valid one saves the main address."""
    new_customer(page, server, "address")
    page.goto(server.page("/account/addresses"))
    fill_new_address(page, "1011")
    new_address = page.get_by_role("region", name="New address")
    zip_input = new_address.get_by_label(label("Postal code"))
    expect(zip_input).to_have_attribute("aria-invalid", "true")
    expect(zip_input).to_have_value("1011")
    zip_field = new_address.locator(".field", has=page.get_by_label(label("Postal code")))
    error = zip_field.locator(".field-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("postal code")
    error_id = error.get_attribute("id") or "?"
    expect(zip_input).to_have_attribute("aria-describedby", re.compile(rf"\b{error_id}\b"))
    expect(new_address.get_by_role("alert")).to_have_count(1)  # only the zip is wrong
    fill_new_address(page, "51147")
    expect(page.get_by_role("status")).to_be_visible()
    saved = page.get_by_role("region", name="Your addresses").get_by_role("listitem")
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text("51147 Köln")
    expect(saved.get_by_text("Main address", exact=True)).to_be_visible()
    expect(zip_input).not_to_have_attribute("aria-invalid", "true")


def test_strength_meter_follows_typing(page: Page, server: DemoServer) -> None:
    """The register form's strength meter rates a weak, then a strong password while typing."""
    page.goto(server.page("/account/register"))
    meter = page.locator("meter")
    text = page.locator(".strength-text")
    expect(meter).to_be_visible()
    password = page.get_by_label(label("Password"))
    password.press_sequentially("abc123", delay=20)
    expect(text).to_contain_text("Does not meet the password requirements yet.")
    weak = float(meter.evaluate("m => m.value"))
    assert weak <= 1
    password.fill("")
    password.press_sequentially(PASSWORD, delay=10)
    expect(text).to_have_text("Strong. Meets the password requirements.")
    expect(meter).to_have_js_property("value", 4)


def test_email_change_confirmed_at_new_address(page: Page, server: DemoServer) -> None:
    """The link mailed to a new address makes it the login; the old address no longer logs in."""
    old = new_customer(page, server, "old")
    new = unique_email("new")
    page.get_by_label(label("New email address")).fill(new)
    page.get_by_role("button", name="Change email address").click()
    expect(page.get_by_role("region", name="Email address").get_by_role("status")).to_be_visible()
    page.goto(server.outbox_link(new, "email_update"))
    expect(page.get_by_role("heading", name="Confirm your new email address")).to_be_visible()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(server.page("/account/"))
    expect_account_of(page, new)
    expect(page.get_by_role("main")).not_to_contain_text(old)
    log_out(page)
    log_in(page, server, old, PASSWORD)
    expect_login_refused(page)
    log_in(page, server, new, PASSWORD)
    expect_account_of(page, new)


def test_employee_invitation_accepted(
    page: Page, server: DemoServer, new_context: Callable[[], BrowserContext]
) -> None:
    """An invited employee sets a password, logs in, and is refused the company administration."""
    log_in(page, server, DEMO_ADMIN, DEMO_PASSWORD)
    expect_account_of(page, DEMO_ADMIN)
    page.goto(server.page("/account/company"))
    employee = unique_email("employee")
    page.get_by_label(label("Employee's email address")).fill(employee)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=employee)).to_contain_text(
        "Invitation pending"
    )

    invited = new_context().new_page()
    invited.goto(server.outbox_link(employee, "invitation"))
    expect(invited.get_by_role("heading", name="Choose your password")).to_be_visible()
    invited.get_by_label(label("Password")).fill(NEW_PASSWORD)
    invited.get_by_label(label("Repeat the password")).fill(NEW_PASSWORD)
    invited.get_by_role("button", name="Set my password").click()
    expect(invited.get_by_role("status")).to_be_visible()
    log_in(invited, server, employee, NEW_PASSWORD)
    expect_account_of(invited, employee)
    expect(invited.get_by_role("link", name="Company")).to_have_count(0)
    invited.goto(server.page("/account/company"))
    main = invited.get_by_role("main")
    expect(main).to_contain_text("Only administrators of a company account")
    expect(main.locator("form")).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)


def test_logout_ends_the_login(page: Page, server: DemoServer) -> None:
    """After logging out, the account page asks to log in again."""
    email = new_customer(page, server, "logout")
    log_out(page)
    page.goto(server.page("/account/"))
    expect(page.get_by_role("heading", name="Customer account", level=1)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="log in")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(email)
