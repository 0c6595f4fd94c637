"""``wsactions demo --lang de`` in Chromium on a 375 px phone, for a browser that asks for
American English: every page before and after logging in is German (``<html lang="de">``,
none of the pack's English words) and no wider than the phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from test_browser_journeys import PASSWORD, expect, label, unique_email

from conftest import PHONE
from pagetext import english_words, shown_text
from wsactions.contrib.demo import DEMO_ADMIN, DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from conftest import DemoServer  # tests/browser/conftest.py

#: The account area's pages a visitor can open without logging in (all of them answer).
PAGES = (
    "/account/",
    "/account/login",
    "/account/register",
    "/account/forgot",
    "/account/confirm",
    "/account/reset",
    "/account/email/confirm",
    "/account/delete/confirm",
    "/account/addresses",
    "/account/cards",
    "/account/guest",
    "/account/company",
    "/account/invitation",
    "/account/session",
)
#: Opens every ``<details>`` (edit forms) and measures the page: what a phone scrolls.
_WIDTH = """() => {
  for (const details of document.querySelectorAll("details")) details.open = true;
  return document.documentElement.scrollWidth;
}"""


@pytest.fixture
def phone(request: pytest.FixtureRequest, new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh context of the phone's size (an American English browser)."""
    return new_context(viewport=PHONE).new_page()


def check(page: Page, what: str) -> None:
    """The page is German, shows none of the pack's English words, and does not scroll
    sideways on the phone (with its edit forms open)."""
    expect(page.locator("html")).to_have_attribute("lang", "de")
    lang, text = shown_text(page.content())
    assert lang == "de", what
    assert english_words(text) == [], f"{what}: {text}"
    width = page.evaluate(_WIDTH)
    assert width <= PHONE["width"], f"{what} is {width} px wide on a {PHONE['width']} px phone"


def visit(page: Page, server: DemoServer, path: str) -> None:
    """Open *path* and check it."""
    page.goto(server.page(path))
    check(page, path)


def log_in(page: Page, server: DemoServer, email: str, password: str) -> None:
    """Send the German login form."""
    page.goto(server.page("/account/login"))
    page.get_by_label(label("E-Mail-Adresse")).fill(email)
    page.get_by_label(label("Passwort")).fill(password)
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()


def test_german_shop_before_login(phone: Page, german_server: DemoServer) -> None:
    """The home page, the outbox, every page of the account area, the guest checkout and
    the payment lock, before logging in."""
    visit(phone, german_server, "/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("wsactions-Demoshop")
    visit(phone, german_server, "/outbox")
    for path in PAGES:
        visit(phone, german_server, path)
    phone.goto(german_server.page("/"))
    phone.get_by_role("button", name="Gastbestellung abschließen").click()
    expect(phone.get_by_role("button", name="Kundenkonto anlegen")).to_be_visible()
    check(phone, "guest page with an order")
    phone.goto(german_server.page("/"))
    phone.get_by_role("button", name="Zahlung fehlschlagen lassen").click()
    expect(phone.get_by_role("heading", name="Ihre Bestelldaten sind gesperrt")).to_be_visible()
    check(phone, "session page, locked")
    phone.get_by_role("button", name="Bestelldaten entsperren").click()
    expect(phone.get_by_role("status")).to_be_visible()
    check(phone, "session page, unlocked")


def test_german_customer_journey(phone: Page, german_server: DemoServer) -> None:
    """Register with the strength meter, confirm from the outbox, log in, the account
    pages with their forms, a new email address, a new password, log out: all German."""
    server = german_server
    email = unique_email("kunde")
    phone.goto(server.page("/account/register"))
    phone.get_by_label(label("E-Mail-Adresse")).fill(email)
    phone.get_by_label(label("Passwort")).press_sequentially(PASSWORD, delay=5)
    expect(phone.locator(".strength-text")).to_have_text(
        "Stark. Erfüllt die Anforderungen an ein Passwort."
    )
    check(phone, "register, strength meter")
    phone.get_by_label(label("Passwort wiederholen")).fill(PASSWORD)
    phone.get_by_role("button", name="Konto anlegen").click()
    expect(phone.get_by_role("status")).to_be_visible()
    check(phone, "register, done")

    phone.goto(server.page("/outbox"))
    check(phone, "outbox with a mail")
    mail = phone.locator("article", has_text=f"An: {email}").first
    mail.get_by_role("link", name="Link öffnen").click()
    expect(phone.get_by_role("heading", name="E-Mail-Adresse bestätigen")).to_be_visible()
    expect(phone.get_by_role("status")).to_be_visible()
    expect(phone.get_by_role("heading", name="Neuen Aktivierungslink anfordern")).to_have_count(0)
    check(phone, "confirm, done")

    log_in(phone, server, email, PASSWORD)
    expect(phone.get_by_role("heading", name="Ihr Kundenkonto", level=1)).to_be_visible()
    expect(phone.get_by_text("Verwaltet das Firmenkonto")).to_have_count(0)  # a private customer
    expect(phone.get_by_role("link", name="Firma", exact=True)).to_have_count(0)
    expect(phone.get_by_role("link", name="Firmenkonto")).to_have_count(0)
    check(phone, "account")

    phone.get_by_role("link", name="Adressen", exact=True).click()
    check(phone, "addresses, empty")
    new_address = phone.get_by_role("region", name="Neue Adresse")
    new_address.get_by_label(label("Adressart")).select_option("bill")
    new_address.get_by_label(label("Vorname")).fill("Erika")
    new_address.get_by_label(label("Nachname")).fill("Mustermann")
    new_address.get_by_label(label("Straße")).fill("Heidestraße")
    new_address.get_by_label(label("Hausnummer")).fill("17")
    new_address.get_by_label(label("Postleitzahl")).fill("1011")
    new_address.get_by_label(label("Ort")).fill("Köln")
    new_address.get_by_label(label("Land")).select_option(label="Deutschland")
    new_address.get_by_role("button", name="Adresse speichern").click()
    zip_input = new_address.get_by_label(label("Postleitzahl"))
    expect(zip_input).to_have_attribute("aria-invalid", "true")
    check(phone, "addresses, wrong postal code")
    zip_input.fill("51147")
    new_address.get_by_role("button", name="Adresse speichern").click()
    expect(new_address.get_by_role("status")).to_be_visible()
    expect(new_address.get_by_label(label("Vorname"))).to_have_value("")  # no second copy
    expect(new_address.get_by_label(label("Land"))).to_have_value("")
    saved = phone.get_by_role("region", name="Ihre Adressen").get_by_role("listitem")
    expect(saved).to_contain_text("51147 Köln")
    expect(saved).to_contain_text("Deutschland")
    check(phone, "addresses, saved")

    phone.get_by_role("link", name="Zahlungskarten", exact=True).click()
    check(phone, "cards")

    phone.get_by_role("link", name="Übersicht", exact=True).click()
    new_email = unique_email("neu")
    phone.get_by_label(label("Neue E-Mail-Adresse")).fill(new_email)
    phone.get_by_role("button", name="E-Mail-Adresse ändern").click()
    expect(phone.get_by_role("region", name="E-Mail-Adresse").get_by_role("status")).to_be_visible()
    check(phone, "account, email change requested")
    phone.goto(server.outbox_link(new_email, "email_update"))
    expect(phone.get_by_role("status")).to_be_visible()
    check(phone, "email_confirm, done")

    phone.goto(server.page("/account/forgot"))
    phone.get_by_label(label("E-Mail-Adresse")).fill(new_email)
    phone.get_by_role("button", name="Link senden").click()
    expect(phone.get_by_role("status")).to_be_visible()
    check(phone, "forgot, link sent")
    phone.goto(server.outbox_link(new_email, "password"))
    expect(phone.get_by_label(label("Neues Passwort"))).to_be_visible()
    check(phone, "reset, with the link")

    phone.goto(server.page("/account/"))
    phone.get_by_role("navigation", name="Kundenkonto", exact=True).get_by_role(
        "link", name="Abmelden"
    ).click()
    expect(phone.get_by_role("link", name="Anmelden").first).to_be_visible()
    check(phone, "logged out")


def test_german_company_admin(
    phone: Page, german_server: DemoServer, new_context: Callable[..., BrowserContext]
) -> None:
    """The seeded company's admin: the account and company pages with amounts in euros,
    an invitation, and the invited employee's invitation page, in German."""
    server = german_server
    log_in(phone, server, DEMO_ADMIN, DEMO_PASSWORD)
    expect(phone.get_by_text("Verwaltet das Firmenkonto")).to_be_visible()
    check(phone, "account, company admin")
    phone.get_by_role("link", name="Firma", exact=True).click()
    expect(phone.get_by_role("heading", name="Firmenkonto", level=1)).to_be_visible()
    expect(phone.get_by_role("main")).to_contain_text("5.000,00\xa0€")
    check(phone, "company")
    employee = unique_email("mitarbeiter")
    phone.get_by_label(label("E-Mail-Adresse des Mitarbeiters")).fill(employee)
    phone.get_by_role("button", name="Einladung senden").click()
    expect(phone.get_by_role("status")).to_be_visible()
    expect(phone.get_by_role("listitem").filter(has_text=employee)).to_contain_text(
        "Einladung ausstehend"
    )
    check(phone, "company, invitation sent")

    invited = new_context(viewport=PHONE).new_page()
    invited.goto(server.outbox_link(employee, "invitation"))
    expect(invited.get_by_role("heading", name="Wählen Sie Ihr Passwort")).to_be_visible()
    check(invited, "invitation")
    invited.get_by_label(label("Passwort")).fill(PASSWORD)
    invited.get_by_label(label("Passwort wiederholen")).fill(PASSWORD)
    invited.get_by_role("button", name="Passwort festlegen").click()
    expect(invited.get_by_role("status")).to_be_visible()
    check(invited, "invitation, password set")
    log_in(invited, server, employee, PASSWORD)
    expect(invited.get_by_role("heading", name="Ihr Kundenkonto", level=1)).to_be_visible()
    check(invited, "account, employee")
    invited.goto(server.page("/account/company"))
    expect(invited.get_by_role("main")).to_contain_text(re.compile("Nur Administratoren"))
    check(invited, "company, employee")
