"""The Flask adapter on the shared request cycle: a German shop, a Jinja layout of the
shop's own, page groups and paths, and 503 when the database is down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import flask
import pytest

from helpers import PW
from wsactions import RecordingMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.flask import WsActions
from wsactions.errors import StorageUnavailableError
from wsactions.settings import TESTING_HASHING

LAYOUT = """<!doctype html><html lang="{{ wsLang }}"><head><title>{{ wsTitle }} · Laden</title>
{{ wsHead }}</head><body><header>Ladenkopf {{ wsNav }}</header><main>{{ wsContent }}</main>
<footer>Impressum: Laden GmbH</footer>{{ wsScripts }}</body></html>"""


def make_app(tmp_path: Path, **config: Any) -> tuple[flask.Flask, RecordingMailer]:
    templates = tmp_path / "templates" / "shop"
    templates.mkdir(parents=True)
    (templates / "layout.html").write_text(LAYOUT, "utf-8")
    app = flask.Flask(
        "webshop", instance_path=str(tmp_path), template_folder=str(tmp_path / "templates")
    )
    sent = RecordingMailer()
    settings = {"password_hashing": TESTING_HASHING, "locales": ("de",)}
    app.config.update(
        SECRET_KEY="flask-web-secret-key-0123456789-0123456789",
        WSACTIONS_BASE_URL="http://localhost",
        WSACTIONS_SETTINGS={**settings, **config.pop("WSACTIONS_SETTINGS", {})},
        **config,
    )
    WsActions(app, storage=MemoryStorage(), mailer=sent)
    return app, sent


def hidden(page: str, action: str) -> dict[str, str]:
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        if fields.get("wsact") == action:
            return fields
    raise AssertionError(action)


def test_a_german_shop_for_an_english_browser(tmp_path: Path) -> None:
    """Settings.locales = ("de",): pages, messages and mails German, the account's mail
    language German, whatever Accept-Language says."""
    app, sent = make_app(tmp_path)
    client = app.test_client()
    english = {"Accept-Language": "en-US,en;q=0.9"}
    page = client.get("/account/register", headers=english).get_data(as_text=True)
    assert '<html lang="de">' in page
    form = hidden(page, "AccountRegister")
    values = {"email": "ann@example.com", "password": PW, "passwordRepeat": PW}
    client.post("/account/register", data={**form, **values}, headers=english)
    assert sent.outbox[-1].locale == "de"
    assert "E-Mail-Adresse" in sent.outbox[-1].subject
    storage = app.extensions["wsactions"].storage
    account = storage.accounts.find_account("ann@example.com")
    assert account is not None
    assert account.locale == "de"
    assert "wsa-language" not in page  # one language: no switcher


def test_pages_in_the_shops_jinja_layout(tmp_path: Path) -> None:
    """WSACTIONS_LAYOUT names a Jinja template of the app: the pack's page inside it."""
    app, _ = make_app(tmp_path, WSACTIONS_LAYOUT="shop/layout.html")
    page = app.test_client().get("/account/login").get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "Ladenkopf" in page
    assert "<nav" in page.split("<header>", 1)[1].split("</header>", 1)[0]
    assert 'name="wsact" value="Login"' in page
    assert "&lt;form" not in page
    assert "Impressum: Laden GmbH" in page
    assert " · Laden</title>" in page


def test_page_groups_and_paths(tmp_path: Path) -> None:
    """WSACTIONS_PAGES and WSACTIONS_PATHS: pages left out are 404, renamed paths served."""
    app, _ = make_app(
        tmp_path, WSACTIONS_PAGES=["account"], WSACTIONS_PATHS={"register": "registrieren"}
    )
    client = app.test_client()
    assert client.get("/account/cards").status_code == 404
    assert client.get("/account/register").status_code == 404
    assert client.get("/account/registrieren").status_code == 200


def test_database_down_is_503(tmp_path: Path) -> None:
    """A StorageUnavailableError in a host view is a 503 page in the shop's language."""
    app, _ = make_app(tmp_path)

    @app.route("/broken")
    def broken() -> str:
        raise StorageUnavailableError("the database did not answer")

    response = app.test_client().get("/broken")
    assert response.status_code == 503
    assert '<html lang="de">' in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["smtp", 42])
def test_mailer_mistakes_name_the_key(tmp_path: Path, value: Any) -> None:
    """A MAILER that is no Mailer is refused, naming WSACTIONS_MAILER."""
    from wsactions.errors import ConfigurationError

    app = flask.Flask("x", instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="x" * 40, WSACTIONS_MAILER=value)
    with pytest.raises(ConfigurationError, match="WSACTIONS_MAILER"):
        WsActions(app, storage=MemoryStorage())


def test_m44_pack_asks_for_the_password_before_a_sensitive_change(tmp_path: Path) -> None:
    """A stale login: the account page's email change answers with the re-authentication
    prompt (German); a wrong password shows it again with its error; the right one renews
    the proof and the change then goes through."""
    import time

    app, sent = make_app(
        tmp_path,
        WSACTIONS_SETTINGS={"reauthentication_timeout": 0.05},
    )
    storage = app.extensions["wsactions"].storage
    from wsactions.testing import Harness

    Harness(storage=storage).create_account("ann@example.com", PW)
    client = app.test_client()
    login = hidden(client.get("/account/login").get_data(as_text=True), "Login")
    client.post("/account/login", data={**login, "id": "ann@example.com", "password": PW})
    time.sleep(0.1)
    form = hidden(client.get("/account/").get_data(as_text=True), "EmailUpdate")
    page = client.post("/account/", data={**form, "email": "neu@example.com"}).get_data(
        as_text=True
    )
    assert "Zu Ihrer Sicherheit bestätigen Sie bitte" in page
    assert 'name="wsact" value="Reauthenticate"' in page
    mails = len(sent.outbox)
    proof = hidden(page, "Reauthenticate")
    wrong = client.post("/account/", data={**proof, "password": "falsches passwort 1"})
    page = wrong.get_data(as_text=True)
    assert 'name="wsact" value="Reauthenticate"' in page
    assert "Dieses Passwort ist nicht korrekt." in page
    proof = hidden(page, "Reauthenticate")
    page = client.post("/account/", data={**proof, "password": PW}).get_data(as_text=True)
    assert "Sicherheitseinstellungen" in page  # the notice of a renewed proof
    form = hidden(page, "EmailUpdate")
    client.post("/account/", data={**form, "email": "neu@example.com"})
    assert len(sent.outbox) > mails  # the confirmation link went out
    assert PW not in page


def test_m41_pack_login_asks_for_the_second_factor(tmp_path: Path) -> None:
    """The pack's login page: the right password of an account with TOTP shows the code
    form (German); a wrong code shows it again; the right one logs in and redirects."""
    import time

    import pyotp

    from wsactions.testing import FakeClock, Harness

    app, _ = make_app(tmp_path)
    storage = app.extensions["wsactions"].storage
    shop = Harness(storage=storage, secret_key=app.config["SECRET_KEY"])
    shop.clock = FakeClock(time.time() - 60)  # the shop below runs on the real clock
    browser = shop.client()
    shop.log_in(browser, shop.create_account("ann@example.com", PW))
    secret = browser.submit("TotpSetup").data["secret"]
    assert browser.submit("TotpConfirm", code=pyotp.TOTP(secret).at(shop.clock.now())).success
    client = app.test_client()
    login = hidden(client.get("/account/login").get_data(as_text=True), "Login")
    page = client.post(
        "/account/login", data={**login, "id": "ann@example.com", "password": PW}
    ).get_data(as_text=True)
    assert "Code aus Ihrer Authenticator-App" in page
    second = hidden(page, "LoginSecondFactor")
    page = client.post("/account/login", data={**second, "code": "000000"}).get_data(as_text=True)
    assert "Dieser Code ist nicht korrekt" in page
    second = hidden(page, "LoginSecondFactor")
    done = client.post("/account/login", data={**second, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    assert "ann@example.com" in client.get("/account/").get_data(as_text=True)
    assert secret not in page


def test_typed_codes_on_the_register_and_forgot_pages(tmp_path: Path) -> None:
    """Settings.optin_codes: after registering, the page asks for the mailed code and
    confirms the address with it; after PasswordForgotten, the page takes the code and a
    new password."""
    app, sent = make_app(tmp_path, WSACTIONS_SETTINGS={"locales": ("en",), "optin_codes": True})
    client = app.test_client()
    page = client.get("/account/register").get_data(as_text=True)
    values = {"email": "ann@example.com", "password": PW, "passwordRepeat": PW}
    page = client.post(
        "/account/register", data={**hidden(page, "AccountRegister"), **values}
    ).get_data(as_text=True)
    code = re.search(r"^\s*(\d{6})\s*$", sent.outbox[-1].text, re.M)
    assert code
    page = client.post(
        "/account/register", data={**hidden(page, "EmailVerifyCode"), "code": code.group(1)}
    ).get_data(as_text=True)
    assert "Your email address has been confirmed" in page
    storage = app.extensions["wsactions"].storage
    assert storage.accounts.find_account("ann@example.com").verified

    other = app.test_client()
    page = other.get("/account/forgot").get_data(as_text=True)
    page = other.post(
        "/account/forgot",
        data={**hidden(page, "PasswordForgotten"), "email": "ann@example.com"},
    ).get_data(as_text=True)
    code = re.search(r"^\s*(\d{6})\s*$", sent.outbox[-1].text, re.M)
    assert code
    new = "another long passphrase 42"
    page = other.post(
        "/account/forgot",
        data={
            **hidden(page, "ResetPasswordCode"),
            "code": code.group(1),
            "newPassword": new,
            "newPasswordRepeat": new,
        },
    ).get_data(as_text=True)
    assert "Your new password is saved" in page
