"""The template pack speaks the shop's language: every page, in every state, in German.

Each scenario drives the pages through :class:`wsactions.web.AccountArea` (the
request cycle every adapter shares) in a shop that offers German and English
to a browser asking for German, and collects what each page shows. A page
fails when it asks the catalogue for an English text that has no German
translation (the cycle's ``gettext`` is wrapped to record them), or when a
visible English word of the pack is left on it (a string that never went
through ``_()``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import wsactions.optin
import wsactions.web
from helpers import DownStorage
from pagetext import english_words, shown_text
from wsactions import GuestCheckout, MappingSession, RecordingMailer, Settings
from wsactions.actions.payment import save_card
from wsactions.backends.memory import MemoryStorage
from wsactions.i18n import catalogs
from wsactions.models import PrivilegeGroup, Privileges
from wsactions.pages import GROUPS
from wsactions.settings import TESTING_HASHING
from wsactions.testing import TEST_SECRET_KEY, Harness
from wsactions.web import AccountArea, WebRequest

PW = "velvet Harbor 7 lanterns drift"
NEW_PW = "quiet Comet 42 orchards hum"
#: German address data (the test's own data must not look like the pack's English).
ADDRESS = {
    "type": "bill",
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.company": "Käse GmbH",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.addressLine2": "Hinterhaus",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.phone": "+49 221 123456",
    "address.country": "DE",
}


class Pages:
    """What the scenarios rendered (state -> page) and which English texts had no German."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.untranslated: set[str] = set()

    def add(self, state: str, html: str) -> str:
        assert state not in self.seen, f"two states named {state!r}"
        self.seen[state] = html
        return html


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pages]:
    """Records every English text the request cycle translates to German without a
    translation in the German catalogue; checks every page rendered when the test ends."""
    found = Pages()
    translate = wsactions.web.gettext

    def recording(settings: Settings, locale: str, message: str) -> str:
        if locale == "de" and catalogs(settings).get("de", message) is None:
            found.untranslated.add(message)
        return translate(settings, locale, message)

    monkeypatch.setattr(wsactions.web, "gettext", recording)
    yield found
    assert sorted(found.untranslated) == []
    for state, html in found.seen.items():
        lang, text = shown_text(html)
        assert lang == "de", state
        assert english_words(text) == [], f"{state}: {text!r}"


class Shop:
    """A shop offering every page group, German and English, for browsers asking for German."""

    def __init__(self, pages: Pages, **settings: Any) -> None:
        self.pages = pages
        self.mailer = RecordingMailer()
        config = {
            "MAILER": self.mailer,
            "BASE_URL": "https://shop.example",
            "SHOP_NAME": "Käserei Beispiel",
            "PAGES": list(GROUPS),
            "SETTINGS": {
                "locales": ("de", "en"),
                "password_hashing": TESTING_HASHING,
                "timezone": "Europe/Berlin",
                "customer_data_fields": frozenset({"phone", "vatId"}),
                **settings,
            },
        }
        self.area = AccountArea.from_config(
            config.get, secret_key=TEST_SECRET_KEY, default_storage=MemoryStorage
        )
        self.harness = Harness(settings=self.area.settings, storage=self.area.storage)

    def browser(self) -> Browser:
        """A new browser (its own session) asking for German."""
        return Browser(self.area, self.pages)

    def link(self, to: str, purpose: str) -> str:
        """The link of the newest mail to *to* of *purpose*."""
        for mail in reversed(self.mailer.outbox):
            if mail.to == to and mail.purpose == purpose and mail.links:
                return mail.links[0]
        raise AssertionError(f"no {purpose} mail to {to}")

    def customer(self, email: str, **fields: Any) -> Browser:
        """A browser logged in (through the login form) to a new account of *email*;
        a private customer unless *fields* say otherwise."""
        values = {"company_id": None, "admin": False, **fields}
        self.harness.create_account(email, PW, **values)
        browser = self.browser()
        browser.submit("login", "Login", id=email, password=PW)
        return browser


class Browser:
    """One browser: a session, and requests through an area's request cycle."""

    def __init__(self, area: AccountArea, pages: Pages) -> None:
        self.area = area
        self.pages = pages
        self.session: dict[str, Any] = {}

    def _cycle(
        self, method: str, page: str, query: Mapping[str, str], form: Mapping[str, str]
    ) -> wsactions.web.RequestCycle:
        request = WebRequest(
            method=method,
            path=self.area.pages.url(page),
            query=dict(query),
            form=dict(form),
            accept_language="de-DE,de;q=0.9,en;q=0.5",
            client_address="203.0.113.9",
        )
        return self.area.cycle(request, MappingSession(self.session))

    def open(self, state: str, page: str, query: Mapping[str, str] | None = None) -> str:
        """Page *page* (following the action its query names), recorded as *state*."""
        cycle = self._cycle("GET", page, query or {}, {})
        return self._answer(state, page, cycle)

    def follow(self, state: str, url: str) -> str:
        """Open a mailed link, recorded as *state*."""
        parts = urlsplit(url)
        return self.open(state, self._page_of(parts.path), dict(parse_qsl(parts.query)))

    def submit(
        self,
        page: str,
        action: str,
        state: str | None = None,
        query: Mapping[str, str] | None = None,
        **fields: str,
    ) -> str:
        """Post *action*'s form on *page* (opened with *query*), as the page's form does;
        the page that answers, recorded as *state* when given."""
        query = dict(query or {})
        handle = self.area.registry.create(self._cycle("GET", page, query, {}).ctx, action)
        form = {"wsact": handle.id, "wscsrf": handle.csrf, **fields}
        if "wsoptin" in query:
            form["wsoptin"] = query["wsoptin"]
        return self._answer(state, page, self._cycle("POST", page, query, form))

    def _answer(self, state: str | None, page: str, cycle: wsactions.web.RequestCycle) -> str:
        answer = cycle.run()
        if answer is not None and answer.location is not None:
            target = urlsplit(answer.location)
            cycle = self._cycle(
                "GET", self._page_of(target.path), dict(parse_qsl(target.query)), {}
            )
            page = self._page_of(target.path)
        elif answer is not None:
            raise AssertionError(f"{state}: answered {answer.status}")
        html = cycle.page(page).html or ""
        return self.pages.add(state, html) if state else html

    def _page_of(self, path: str) -> str:
        table = self.area.pages
        for name in table.pages:
            if table.url(name) == path or table.url(name).rstrip("/") == path.rstrip("/"):
                return name
        raise AssertionError(f"no page at {path}")


@pytest.fixture
def shop(pages: Pages) -> Shop:
    """A shop whose pages the test checks."""
    return Shop(pages)


def test_pages_logged_out(shop: Shop) -> None:
    """Every page for a visitor who is not logged in."""
    visitor = shop.browser()
    for page in shop.area.pages.pages:
        visitor.open(f"{page}, logged out", page)


def test_registration_login_and_password_pages(shop: Shop) -> None:
    """Registration, activation, login, forgotten password: errors, notices, opt-in links."""
    visitor = shop.browser()
    email = "neu@example.com"
    visitor.submit("register", "AccountRegister", "register, errors", email="x", password="a")
    visitor.submit(
        "register",
        "AccountRegister",
        "register, success",
        email=email,
        password=PW,
        passwordRepeat=PW,
    )
    visitor.submit("confirm", "AccountActivate", "confirm, activation request error", id="")
    visitor.submit("confirm", "AccountActivate", "confirm, activation request sent", id=email)
    visitor.follow(
        "confirm, invalid link",
        "https://shop.example/account/confirm?wsoptin=abc&wsact=EmailVerify",
    )
    confirmed = visitor.follow("confirm, link confirmed", shop.link(email, "verify"))
    assert 'id="activate-heading"' not in confirmed  # only the success, no new link to ask for
    visitor.submit("login", "Login", "login, wrong password", id=email, password="falsch falsch")
    visitor.submit("forgot", "PasswordForgotten", "forgot, error", email="")
    visitor.submit("forgot", "PasswordForgotten", "forgot, link sent", email=email)
    reset = urlsplit(shop.link(email, "password"))
    query = dict(parse_qsl(reset.query))
    visitor.open("reset, valid link", "reset", query)
    visitor.submit(
        "reset", "ResetPassword", "reset, errors", query, newPassword="kurz", newPasswordRepeat="x"
    )
    visitor.submit(
        "reset",
        "ResetPassword",
        "reset, success",
        query,
        newPassword=NEW_PW,
        newPasswordRepeat=NEW_PW,
    )
    visitor.open("reset, used link", "reset", query)
    visitor.submit("login", "Login", "login, success", id=email, password=NEW_PW)
    for page in ("login", "register", "guest", "reset", "company", "cards"):
        visitor.open(f"{page}, logged in", page)


def test_blocked_login_and_unlock(shop: Shop) -> None:
    """A login blocked after too many attempts, and its unlock link."""
    email = "gesperrt@example.com"
    shop.harness.create_account(email, PW, company_id=None, admin=False)
    visitor = shop.browser()
    for attempt in range(shop.area.settings.login_throttle.limit + 1):
        html = visitor.submit("login", "Login", id=email, password=f"falsch {attempt} falsch")
    shop.pages.add("login, blocked", html)
    visitor.follow("login, unlocked", shop.link(email, "unlock"))
    visitor.follow("login, unlock link used", shop.link(email, "unlock"))


def test_account_page_forms(shop: Shop) -> None:
    """The account overview logged in: each form's errors and notices, logins, deletion."""
    email = "kundin@example.com"
    customer = shop.customer(email, verified=False)
    customer.open("account, logged in, email not confirmed", "account")
    customer.submit("account", "accountDisplayNameUpdate", "account, name error", displayName="")
    customer.submit(
        "account", "accountDisplayNameUpdate", "account, name saved", displayName="Erika"
    )
    customer.submit(
        "account",
        "AccountSetCustomerData",
        "account, contact error",
        **{"customerData.phone": "x" * 300},
    )
    customer.submit(
        "account",
        "AccountSetCustomerData",
        "account, contact saved",
        **{"customerData.phone": "+49 221 123456", "customerData.vatId": "DE123456789"},
    )
    customer.submit("account", "EmailUpdate", "account, email error", email="kein-gültiger")
    customer.submit("account", "EmailUpdate", "account, email link sent", email="neu@example.com")
    customer.submit(
        "account",
        "ResetPassword",
        "account, password error",
        passwordAuth="falsch falsch",
        newPassword=NEW_PW,
        newPasswordRepeat=NEW_PW,
    )
    customer.follow("email_confirm, confirmed", shop.link("neu@example.com", "email_update"))
    customer.follow("email_confirm, link used", shop.link("neu@example.com", "email_update"))
    customer.submit(
        "account",
        "ResetPassword",
        "account, password changed: logged out",
        passwordAuth=PW,
        newPassword=NEW_PW,
        newPasswordRepeat=NEW_PW,
    )
    customer.submit("login", "Login", id="neu@example.com", password=NEW_PW)
    customer.submit("account", "AccountDelete", "account, deleted: logged out")


def test_account_deleted_by_link(pages: Pages) -> None:
    """A shop that confirms deletions by mail: the link sent, followed, and a wrong one."""
    shop = Shop(pages, delete_requires_confirmation=True)
    customer = shop.customer("weg@example.com")
    customer.submit("account", "AccountDelete", "account, deletion link sent")
    customer.follow(
        "delete_confirm, invalid link",
        "https://shop.example/account/delete/confirm?wsoptin=abc&wsact=AccountDeleteOptIn",
    )
    customer.follow("delete_confirm, deleted", shop.link("weg@example.com", "delete"))


def test_confirmation_pages_ask_for_a_click(pages: Pages) -> None:
    """Shops with optin_requires_post: each mailed link opens a page with a button."""
    shop = Shop(pages, optin_requires_post=True, delete_requires_confirmation=True)
    email = "klick@example.com"
    visitor = shop.browser()
    visitor.submit("register", "AccountRegister", email=email, password=PW, passwordRepeat=PW)
    visitor.follow("confirm, verify button", shop.link(email, "verify"))
    shop.harness.create_account("import@example.com", PW, active=False, company_id=None)
    visitor.submit("confirm", "AccountActivate", id="import@example.com")
    visitor.follow("confirm, activate button", shop.link("import@example.com", "activate"))
    customer = shop.customer("kunde@example.com")
    customer.submit("account", "EmailUpdate", email="anders@example.com")
    customer.follow("email_confirm, button", shop.link("anders@example.com", "email_update"))
    customer.submit("account", "AccountDelete")
    customer.follow("delete_confirm, button", shop.link("kunde@example.com", "delete"))
    for attempt in range(shop.area.settings.login_throttle.limit + 1):
        visitor.submit("login", "Login", id=email, password=f"falsch {attempt} falsch")
    visitor.follow("login, unlock button", shop.link(email, "unlock"))


def test_address_book(shop: Shop) -> None:
    """The address book: empty, a wrong postal code, saved addresses with every role."""
    customer = shop.customer("adressen@example.com")
    customer.open("addresses, empty", "addresses")
    customer.submit(
        "addresses", "AddressCreate", "addresses, create error", **{**ADDRESS, "address.zip": "1"}
    )
    html = customer.submit("addresses", "AddressCreate", "addresses, created", **ADDRESS)
    assert 'value="Erika"' not in html.split('id="new-address-heading"')[1]  # the form is empty
    customer.submit(
        "addresses",
        "AddressCreate",
        **{
            **ADDRESS,
            "type": "delivery",
            "address.country": "US",
            "address.state": "NY",
            "address.zip": "10001",
            "address.city": "Albany",
        },
    )
    stored = shop.harness.accounts.find_account("adressen@example.com")
    assert stored is not None
    first, second = (a.id for a in shop.harness.accounts.list_addresses(stored.id))
    customer.submit("addresses", "SetMainAddress", "addresses, main set", addressId=second)
    customer.submit("addresses", "SetDefaultBillAddress", "addresses, bill set", addressId=first)
    customer.submit(
        "addresses", "SetDefaultDeliveryAddress", "addresses, delivery set", addressId=second
    )
    customer.submit(
        "addresses",
        "AddressUpdate",
        "addresses, update error",
        **{**ADDRESS, "addressId": first, "address.zip": "x"},
    )
    customer.submit("addresses", "AddressUpdate", "addresses, updated", **ADDRESS, addressId=first)
    customer.submit("addresses", "RemoveDefaultBillAddress", "addresses, bill removed")
    customer.submit("addresses", "AddressDelete", "addresses, delete error", addressId="nix")
    customer.submit("addresses", "AddressDelete", "addresses, deleted", addressId=first)


def test_address_link_without_login(shop: Shop) -> None:
    """A host-issued address link lets a customer save an address without logging in."""
    account = shop.harness.create_account("link@example.com", PW, company_id=None)
    ctx = shop.harness.client().context()
    token = wsactions.optin.issue(ctx, account.id, "address")
    visitor = shop.browser()
    query = {"wsoptin": token}
    visitor.open("addresses, address link", "addresses", query)
    visitor.submit(
        "addresses",
        "AddressCreate",
        "addresses, address link error",
        query,
        **{**ADDRESS, "address.zip": "1"},
    )
    visitor.submit("addresses", "AddressCreate", "addresses, address link saved", query, **ADDRESS)


def test_saved_cards(shop: Shop) -> None:
    """Saved payment cards: none, some, one deleted."""
    customer = shop.customer("karten@example.com")
    customer.open("cards, none", "cards")
    account = shop.harness.accounts.find_account("karten@example.com")
    assert account is not None
    card = save_card(
        shop.harness.accounts,
        account.id,
        brand="Visa",
        last4="4242",
        expiry="12/29",
        holder="Erika Mustermann",
        pseudo_card_id="psp-1",
    )
    save_card(
        shop.harness.accounts,
        account.id,
        brand="Mastercard",
        last4="4444",
        expiry="01/30",
        holder="",
        pseudo_card_id="psp-2",
    )
    customer.open("cards, two", "cards")
    customer.submit("cards", "CreditCardDelete", "cards, delete error", pseudoCCId="nix")
    customer.submit("cards", "CreditCardDelete", "cards, deleted", pseudoCCId=card.id)


def test_guest_checkout(shop: Shop) -> None:
    """The guest page with a guest order: errors, then the account."""
    guest = shop.browser()
    MappingSession(guest.session).set_guest_checkout(
        GuestCheckout(
            email="gast@example.com",
            addresses=({**{k.removeprefix("address."): v for k, v in ADDRESS.items()}},),
            display_name="Gina Gast",
        )
    )
    guest.open("guest, with an order", "guest")
    guest.submit(
        "guest",
        "GuestRegister",
        "guest, errors",
        guestMail="gast@example.com",
        password="a",
        passwordRepeat="b",
    )
    guest.submit(
        "guest",
        "GuestRegister",
        "guest, account created",
        guestMail="gast@example.com",
        password=PW,
        passwordRepeat=PW,
    )
    shop.browser().submit("guest", "GuestRegister", "guest, no order: error", password=PW)


def test_company_pages(shop: Shop) -> None:
    """The company page for its admin (members, groups, budgets, every form) and for an
    employee; the invitation page of an invited employee."""
    admin = shop.customer("chefin@example.com", company_id="firma", admin=True)
    account = shop.harness.accounts.find_account("chefin@example.com")
    assert account is not None
    shop.harness.create_account(
        "einkauf@example.com",
        PW,
        company_id="firma",
        admin=False,
        privilege_group_id="einkauf",
        display_name="Bernd Beispiel",
    )
    shop.area.storage.accounts.add_group(
        PrivilegeGroup(
            id="einkauf",
            company_id="firma",
            name="Einkauf",
            budget_since=1_800_000_000,
            spent=Decimal("1234.50"),
            privileges=Privileges(
                allowed_payment_methods=frozenset({"rechnung"}),
                payment_limit_per_order=Decimal(500),
                payment_limit=Decimal(5000),
                editable_fields=frozenset({"phone"}),
                blocked_urls=frozenset({"/konto/karten"}),
                group_name="Einkauf",
            ),
        )
    )
    shop.area.storage.accounts.add_group(
        PrivilegeGroup(id="alle", company_id="firma", name="Vorgabe", type="global")
    )
    admin.open("company, admin", "company")
    admin.open("account, admin", "account")
    admin.submit("company", "SubAccountCreate", "company, invitation error", email="x")
    admin.submit("company", "SubAccountCreate", "company, invitation sent", email="neu@example.com")
    member = next(m for m in admin_members(shop) if m.email == "einkauf@example.com")
    admin.submit(
        "company",
        "UpdateSubAccount",
        "company, member error",
        memberId=member.id,
        displayName="x" * 300,
    )
    admin.submit(
        "company",
        "UpdateSubAccount",
        "company, member saved",
        memberId=member.id,
        displayName="Bernd",
        active="false",
        admin="false",
        privilegeGroupId="einkauf",
        defaultAddressVisibility="shared",
    )
    admin.submit("company", "CreatePrivilegeGroup", "company, group error", name="")
    admin.submit("company", "CreatePrivilegeGroup", "company, group created", name="Lager")
    admin.submit(
        "company",
        "UpdatePrivileges",
        "company, privileges error",
        privilegeId="einkauf",
        type="account",
        privileges="{kaputt",
    )
    admin.submit(
        "company",
        "UpdatePrivileges",
        "company, privileges saved",
        privilegeId="einkauf",
        type="account",
        privileges='{"paymentLimitPerOrder": 250}',
    )
    admin.submit("company", "DeletePrivilegeGroup", "company, group deleted", id="alle")
    admin.submit("company", "SubAccountDelete", "company, member deleted", memberId=member.id)
    employee = shop.customer("mitarbeiter@example.com", company_id="firma", admin=False)
    employee.open("company, employee", "company")

    invited = shop.browser()
    link = urlsplit(shop.link("neu@example.com", "invitation"))
    query = dict(parse_qsl(link.query))
    invited.follow("invitation, valid link", link.geturl())
    invited.submit(
        "invitation",
        "ResetPassword",
        "invitation, errors",
        query,
        newPassword="a",
        newPasswordRepeat="b",
    )
    invited.submit(
        "invitation",
        "ResetPassword",
        "invitation, password set",
        query,
        newPassword=NEW_PW,
        newPasswordRepeat=NEW_PW,
    )
    invited.follow("invitation, link used", link.geturl())
    invited.follow(
        "invitation, invalid accept link",
        "https://shop.example/account/invitation?wsoptin=abc&wsact=AcceptInvitation",
    )


def admin_members(shop: Shop) -> list[Any]:
    """The accounts of the company "firma"."""
    return list(shop.area.storage.accounts.list_members("firma"))


def test_session_page(shop: Shop) -> None:
    """The session page: a note, its error, the payment lock and unlocking it."""
    visitor = shop.browser()
    visitor.submit(
        "session", "SessionUpdate", "session, note saved", **{"session.note": "Bitte klingeln"}
    )
    visitor.submit(
        "session", "SessionUpdate", "session, note error", **{"session.note": "x" * 5000}
    )
    MappingSession(visitor.session).lock()
    visitor.open("session, locked", "session")
    visitor.submit("session", "SessionUnlock", "session, unlocked")
    customer = shop.customer("bestellung@example.com")
    MappingSession(customer.session).lock()
    customer.submit("addresses", "AddressCreate", "addresses, session locked: error", **ADDRESS)


def test_unavailable_page(pages: Pages) -> None:
    """The 503 page when the database is down."""

    shop = Shop(pages)
    shop.area.storage = DownStorage()
    session = {"_wsa.account": "someone", "_wsa.login": "secret"}
    cycle = shop.area.cycle(
        WebRequest(method="GET", path="/account/", accept_language="de"), MappingSession(session)
    )
    answer = cycle.page("account")
    assert answer.status == 503
    pages.add("unavailable", answer.html or "")


def test_the_demo_in_german(pages: Pages, tmp_path: Path) -> None:
    """The demo's own pages (home, outbox) with --lang de, whatever the browser asks; a
    customer who registers there is a private customer (no company of its own)."""
    pytest.importorskip("flask")
    from wsactions.contrib.demo import create_app

    app = create_app(tmp_path / "demo", base_url="http://127.0.0.1:8000", lang="de")
    try:
        client = app.test_client()
        english = {"Accept-Language": "en-US,en;q=0.9"}
        pages.add("demo home", client.get("/", headers=english).get_data(as_text=True))
        pages.add(
            "demo outbox, empty", client.get("/outbox", headers=english).get_data(as_text=True)
        )
        area = app.extensions["wsactions"]
        Browser(area, pages).submit(
            "register", "AccountRegister", email="demo@example.com", password=PW, passwordRepeat=PW
        )
        customer = area.storage.accounts.find_account("demo@example.com")
        assert customer is not None
        assert (customer.company_id, customer.admin, customer.locale) == (None, False, "de")
        pages.add(
            "demo outbox, a mail", client.get("/outbox", headers=english).get_data(as_text=True)
        )
    finally:
        app.extensions["wsactions"].storage.close()
