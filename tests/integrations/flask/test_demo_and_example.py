"""``wsactions demo`` and ``examples/flask_shop.py`` through Flask's test client."""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import flask
import pytest
from flask.testing import FlaskClient

from wsactions import RecordingMailer
from wsactions.contrib.demo import DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_PASSWORD, Outbox, create_app
from wsactions.mail import Mail

ROOT = Path(__file__).parents[3]
EXAMPLE = ROOT / "examples" / "flask_shop.py"
PW = "velvet Harbor 7 lanterns drift"
NEW_PW = "quiet Comet 42 orchards hum"
#: Example code a reader has to take in: lines that are neither blank nor comments.
EXAMPLE_MAX_LINES = 25

_FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def form(page: str, button: str) -> dict[str, str]:
    """The hidden fields of the form of *page* whose submit button says *button*."""
    for body in _FORM.findall(page):
        if re.search(rf"<button[^>]*>\s*{re.escape(button)}\s*</button>", body):
            return {name: html.unescape(value) for name, value in _HIDDEN.findall(body)}
    raise AssertionError(f"no form with a {button!r} button")


def submit(client: FlaskClient, path: str, button: str, fields: dict[str, str]) -> tuple[int, str]:
    """Open *path*, post its *button* form with *fields*, follow the redirect: (status, page)."""
    page = client.get(path).get_data(as_text=True)
    response = client.post(path, data={**form(page, button), **fields}, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def local(url: str) -> str:
    """The path and query of an absolute link of a mail."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def link_to(mails: list[Mail], to: str, purpose: str) -> str:
    """The first link of the newest mail to *to* of *purpose*."""
    for mail in reversed(mails):
        if mail.to == to and mail.purpose == purpose:
            return local(mail.links[0])
    raise AssertionError(f"no {purpose} mail to {to}: {[(m.to, m.purpose) for m in mails]}")


# the demo --------------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[flask.Flask]:
    """The demo app on a fresh data folder."""
    app = create_app(tmp_path / "demo", base_url="http://127.0.0.1:8000")
    yield app
    app.extensions["wsactions"].storage.close()


def test_demo_home_names_the_seeded_company(demo: flask.Flask) -> None:
    """The home page links the account pages, the outbox and the demo routes."""
    page = demo.test_client().get("/").get_data(as_text=True)
    for text in (DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_PASSWORD, 'href="/outbox"'):
        assert text in page
    for path in ("/account/register", "/account/login"):
        assert f'href="{path}"' in page
    for path in ("/demo/guest-checkout", "/demo/failed-payment"):
        assert f'<form method="post" action="{path}">' in page


def test_demo_outbox_shows_mails_with_their_links(demo: flask.Flask) -> None:
    """Mails land in the outbox (newest first) with clickable links; the links work."""
    client = demo.test_client()
    assert "No mails yet." in client.get("/outbox").get_data(as_text=True)
    fields = {"email": "ada@example.com", "password": PW, "passwordRepeat": PW}
    status, page = submit(client, "/account/register", "Create account", fields)
    assert status == 200
    assert 'role="status"' in page
    outbox: Outbox = demo.extensions["wsactions_demo_outbox"]
    assert [mail.to for mail in outbox.mails] == ["ada@example.com"]
    link = outbox.mails[0].links[0]
    assert link.startswith("http://127.0.0.1:8000/account/confirm?")
    page = client.get("/outbox").get_data(as_text=True)
    assert "To: ada@example.com" in page
    assert html.escape(outbox.mails[0].subject) in page
    assert f'<a class="wsa-outbox-link" href="{html.escape(link)}">Open the link</a>' in page
    confirmed = client.get(local(link)).get_data(as_text=True)
    assert "Confirm your email address" in confirmed
    assert 'role="status"' in confirmed
    assert 'role="alert"' not in confirmed


def test_demo_guest_checkout_shows_the_email_read_only(demo: flask.Flask) -> None:
    """The guest checkout button fills the session; the guest page shows its email read-only."""
    client = demo.test_client()
    fields = form(client.get("/").get_data(as_text=True), "Finish a guest checkout")
    response = client.post("/demo/guest-checkout", data=fields)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/guest"
    page = client.get("/account/guest").get_data(as_text=True)
    field = re.search(r'<input type="email" id="[^"]*" name="guestMail"[^>]*>', page)
    assert field is not None, page
    assert " readonly" in field.group(0)
    email = re.search(r'value="(guest-[0-9a-f]{6}@example\.com)"', field.group(0))
    assert email is not None
    assert "Create customer account" in page


def test_demo_failed_payment_locks_and_unlocks_the_session(demo: flask.Flask) -> None:
    """The failed payment button locks the session; the session page's button unlocks it."""
    client = demo.test_client()
    fields = form(client.get("/").get_data(as_text=True), "Fail a payment")
    response = client.post("/demo/failed-payment", data=fields)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/session"
    page = client.get("/account/session").get_data(as_text=True)
    assert "Your order details are locked" in page
    status, page = submit(client, "/account/session", "Unlock order details", {})
    assert status == 200
    assert "Your order details are locked" not in page
    assert 'role="status"' in page


# examples/flask_shop.py ------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[flask.Flask]:
    """The example app imported from a copy in *tmp_path* (its instance folder is there)."""
    copy = tmp_path / "flask_shop.py"
    shutil.copy(EXAMPLE, copy)
    monkeypatch.setenv("SECRET_KEY", "flask-shop-example-secret-key-0123456789abcdef")
    monkeypatch.delenv("BASE_URL", raising=False)
    spec = importlib.util.spec_from_file_location("flask_shop", copy)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "flask_shop", module)
    spec.loader.exec_module(module)
    app: flask.Flask = module.app
    app.extensions["wsactions"].mailer = RecordingMailer()
    yield app
    app.extensions["wsactions"].storage.close()


def test_example_is_short() -> None:
    """The example stays a few lines: at most 25 non-blank, non-comment lines of Python."""
    lines = [line.strip() for line in EXAMPLE.read_text("utf-8").splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]
    assert len(code) <= EXAMPLE_MAX_LINES, f"{len(code)} lines"


def test_example_shop_journey(shop: flask.Flask, tmp_path: Path) -> None:
    """Register, confirm, log in, reset a forgotten password, log in again, save an address."""
    assert Path(shop.instance_path) == tmp_path / "instance"
    assert (tmp_path / "instance" / "wsactions.db").is_file()
    mails: RecordingMailer = shop.extensions["wsactions"].mailer
    client = shop.test_client()
    email = "grace@example.com"
    assert "Welcome, guest" in client.get("/").get_data(as_text=True)

    fields = {"email": email, "password": PW, "passwordRepeat": PW}
    _, page = submit(client, "/account/register", "Create account", fields)
    assert 'role="status"' in page
    page = client.get(link_to(mails.outbox, email, "verify")).get_data(as_text=True)
    assert 'role="status"' in page

    _, page = submit(client, "/account/login", "Log in", {"id": email, "password": PW})
    assert "Email confirmed" in page
    assert f"Hello {email}" in client.get("/").get_data(as_text=True)

    client.get(html.unescape(re.findall(r'href="([^"]*Logout[^"]*)"', page)[0]))
    assert "Welcome, guest" in client.get("/").get_data(as_text=True)
    _, page = submit(client, "/account/forgot", "Send link", {"email": email})
    assert 'role="status"' in page
    reset = link_to(mails.outbox, email, "password")
    new = {"newPassword": NEW_PW, "newPasswordRepeat": NEW_PW}
    _, page = submit(client, reset, "Save new password", new)
    assert 'role="status"' in page

    _, page = submit(client, "/account/login", "Log in", {"id": email, "password": PW})
    assert 'role="alert"' in page
    assert "Welcome, guest" in client.get("/").get_data(as_text=True)
    _, page = submit(client, "/account/login", "Log in", {"id": email, "password": NEW_PW})
    assert f"Hello {email}" in client.get("/").get_data(as_text=True)

    address = {
        "type": "delivery",
        "address.firstName": "Grace",
        "address.lastName": "Hopper",
        "address.street": "Heidestraße",
        "address.houseNumber": "17",
        "address.zip": "51147",
        "address.city": "Köln",
        "address.country": "DE",
    }
    _, page = submit(client, "/account/addresses", "Save address", address)
    assert 'aria-invalid="true"' not in page
    assert "51147 Köln" in page
    assert "Main address" in page
