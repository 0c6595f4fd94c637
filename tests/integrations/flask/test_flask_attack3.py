"""Attack run 3 on the Flask adapter: ``next`` on the login page (2), Flask-WTF's check
before the action in either order of setup (5), no printed mails in production (8)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import flask
import pytest
from flask.testing import FlaskClient

from helpers import PW
from wsactions import Account, BackgroundMailer, ConsoleMailer, RecordingMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.flask import WsActions, login_required
from wsactions.errors import ConfigurationError
from wsactions.pages import DEFAULT_GROUPS
from wsactions.security.passwords import hasher_for
from wsactions.settings import TESTING_HASHING

EMAIL = "ann@example.com"
SECRET = "flask-attack3-test-secret-key-0123456789"

#: ``next`` values a browser turns into another host (it drops tabs and line breaks).
UNSAFE_NEXT = [
    "/\t/evil.example/",
    "/\r/evil.example/",
    "/\n/evil.example/",
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
]
GOOD_NEXT = "/account/addresses?x=1"


def make_app(
    tmp_path: Path, *, csrf: str | None = None, **config: Any
) -> tuple[flask.Flask, MemoryStorage, RecordingMailer]:
    """An app with the account area; *csrf* ``"before"``/``"after"``: CSRFProtect(app) is
    set up before or after WsActions(app)."""
    from flask_wtf.csrf import CSRFProtect

    app = flask.Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY=SECRET,
        TESTING=csrf is None,  # Flask-WTF checks outside testing only
        WSACTIONS_BASE_URL="http://localhost",
        WSACTIONS_SETTINGS={"password_hashing": TESTING_HASHING},
        WSACTIONS_PAGES=(*DEFAULT_GROUPS, "session"),
        **config,
    )
    storage, mailer = MemoryStorage(), RecordingMailer()
    if csrf == "before":
        CSRFProtect(app)
    WsActions(app, storage=storage, mailer=mailer)
    if csrf == "after":
        CSRFProtect(app)

    @app.route("/private")
    @login_required
    def private() -> str:
        return "private"

    return app, storage, mailer


def add_account(storage: MemoryStorage) -> None:
    account = Account(
        id="acc-ann",
        email=EMAIL,
        email_key=EMAIL,
        password_hash=hasher_for(TESTING_HASHING).hash(PW),
        verified=True,
        security_stamp="stamp",
    )
    assert storage.accounts.add_account(account)


def page_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form of *action* on *page*."""
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = {}
        for tag in re.findall(r"<input\b[^>]*>", form):
            attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}
            if attrs.get("type") == "hidden" and "name" in attrs:
                fields[attrs["name"]] = attrs.get("value", "")
        if fields.get("wsact") == action:
            return fields
    raise AssertionError(f"no form of {action} on the page")


def links_and_values(page: str) -> list[str]:
    """Every ``href`` and ``value`` of *page*, unescaped."""
    return [html.unescape(v) for v in re.findall(r'\b(?:href|value)="([^"]*)"', page)]


def log_in(client: FlaskClient) -> None:
    fields = form_of(page_of(client, "/account/login"), "Login")
    response = client.post("/account/login", data={**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 303


# 2: the login page renders only a next the engine would redirect to ----------------------


@pytest.mark.parametrize("logged_in", [False, True], ids=["form", "link"])
@pytest.mark.parametrize("unsafe", UNSAFE_NEXT)
def test_attack3_2_login_page_never_renders_an_unsafe_next(
    tmp_path: Path, unsafe: str, logged_in: bool
) -> None:
    """A next with a tab, CR, LF, ``//``, a foreign host or a backslash appears in no link and
    no field of the login page (logged out: the form's wstarget; logged in: the link)."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    client = app.test_client()
    if logged_in:
        log_in(client)
    page = page_of(client, f"/account/login?next={quote(unsafe, safe='')}")
    assert not [v for v in links_and_values(page) if "evil.example" in v]
    assert "evil.example" not in html.unescape(page)
    if logged_in:
        assert '<a href="/account/">your account</a>' in page
    else:
        assert form_of(page, "Login")["wstarget"] == "/account/"


def test_attack3_2_login_page_keeps_a_good_next(tmp_path: Path) -> None:
    """A same-site next is posted as wstarget, linked when logged in, and followed."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    client = app.test_client()
    url = f"/account/login?next={quote(GOOD_NEXT, safe='')}"
    fields = form_of(page_of(client, url), "Login")
    assert fields["wstarget"] == GOOD_NEXT
    response = client.post(url, data={**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 303
    assert response.headers["Location"] == GOOD_NEXT
    assert GOOD_NEXT in links_and_values(page_of(client, url))


def test_attack3_2_login_required_sends_only_a_safe_next(tmp_path: Path) -> None:
    """@login_required puts the current URL into next only when the engine would redirect
    back there: a raw tab or backslash in the query string leaves next out."""
    app, _, _ = make_app(tmp_path)
    client = app.test_client()
    response = client.get("/private", query_string="x=1")
    assert response.headers["Location"] == "/account/login?next=/private?x%3D1"
    for raw in ("x=\t/evil.example", "x=\\evil.example"):
        response = client.get("/private", query_string=raw)
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/login"


# 5: Flask-WTF's CSRF check runs before the action, whatever the order of setup -----------


@pytest.mark.parametrize("order", ["before", "after"])
def test_attack3_5_flask_wtf_checks_before_the_action(tmp_path: Path, order: str) -> None:
    """CSRFProtect set up before or after WsActions: a wsactions form posted without
    Flask-WTF's token is refused (400) and its action has not run (no account, no mail);
    with the token it runs."""
    app, storage, mailer = make_app(tmp_path, csrf=order)
    client = app.test_client()
    fields = form_of(page_of(client, "/account/register"), "AccountRegister")
    assert "csrf_token" in fields
    values = {"email": EMAIL, "password": PW, "passwordRepeat": PW}
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    for forged in (without, {**without, "csrf_token": "forged"}):
        refused = client.post("/account/register", data={**forged, **values})
        assert refused.status_code == 400
        assert storage.accounts.find_account(EMAIL) is None
        assert mailer.outbox == []
    accepted = client.post("/account/register", data={**fields, **values})
    assert accepted.status_code == 200
    assert "Thank you for registering" in accepted.get_data(as_text=True)
    assert storage.accounts.find_account(EMAIL) is not None
    assert [mail.to for mail in mailer.outbox] == [EMAIL]


@pytest.mark.parametrize("order", ["before", "after"])
def test_attack3_5_login_without_target_renews_flask_wtf_token(tmp_path: Path, order: str) -> None:
    """A Login posted without wstarget (the page renders, no redirect) passes CSRFProtect's
    own check, which comes after the action when set up later; the page it renders carries
    a new Flask-WTF token, and the one learnt before the login is refused."""
    app, storage, _ = make_app(tmp_path, csrf=order)
    add_account(storage)
    client = app.test_client()
    fields = form_of(page_of(client, "/account/login"), "Login")
    learnt = fields["csrf_token"]
    del fields["wstarget"]
    response = client.post("/account/login", data={**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You are logged in" in page
    fresh = form_of(page_of(client, "/account/session"), "SessionUpdate")
    assert fresh["csrf_token"] != learnt
    stale = {**fresh, "csrf_token": learnt, "session.step": "pay"}
    assert client.post("/account/session", data=stale).status_code == 400
    assert client.post("/account/session", data={**fresh, "session.step": "pay"}).status_code in (
        200,
        303,
    )


def test_attack3_5_exempted_views_stay_exempt(tmp_path: Path) -> None:
    """A blueprint the host exempted from Flask-WTF (``csrf.exempt``) is not checked by it
    when CSRFProtect comes after WsActions; wsactions' own token still is."""
    app, storage, _ = make_app(tmp_path, csrf="after")
    app.extensions["csrf"].exempt(app.blueprints["wsactions"])
    add_account(storage)
    client = app.test_client()
    fields = form_of(page_of(client, "/account/login"), "Login")
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    forged = client.post(
        "/account/login", data={**without, "wscsrf": "forged", "id": EMAIL, "password": PW}
    )
    assert forged.status_code == 200
    assert "You are logged in" not in forged.get_data(as_text=True)
    response = client.post("/account/login", data={**without, "id": EMAIL, "password": PW})
    assert response.status_code == 303


# 8: no printed mails outside debugging and testing ---------------------------------------


def bare_app(tmp_path: Path, **config: Any) -> flask.Flask:
    app = flask.Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY=SECRET, WSACTIONS_BASE_URL="https://shop.example", **config)
    return app


def test_attack3_8_no_mailer_in_production_is_refused(tmp_path: Path) -> None:
    """Neither debugging nor testing, no SMTP host and no mailer: WsActions refuses to start
    and says how to configure one, instead of printing reset links."""
    app = bare_app(tmp_path)
    with pytest.raises(ConfigurationError, match="WSACTIONS_SMTP_HOST") as refused:
        WsActions(app, storage=MemoryStorage())
    assert "WSACTIONS_MAILER" in str(refused.value)
    assert "wsactions" not in app.extensions


def test_attack3_8_console_mailer_only_by_name(tmp_path: Path) -> None:
    """``WSACTIONS_MAILER = "console"`` prints mails; debugging and testing keep the console
    default; an SMTP host gets SMTP; another name is refused."""

    def mailer_of(app: flask.Flask) -> Any:
        WsActions(app, storage=MemoryStorage())
        return app.extensions["wsactions"].mailer

    assert isinstance(mailer_of(bare_app(tmp_path, WSACTIONS_MAILER="console")), ConsoleMailer)
    assert isinstance(mailer_of(bare_app(tmp_path, DEBUG=True)), ConsoleMailer)
    assert isinstance(mailer_of(bare_app(tmp_path, TESTING=True)), ConsoleMailer)
    smtp = bare_app(tmp_path, WSACTIONS_SMTP_HOST="smtp.shop.example")
    assert isinstance(mailer_of(smtp), BackgroundMailer)
    own = RecordingMailer()
    assert mailer_of(bare_app(tmp_path, WSACTIONS_MAILER=own)) is own
    with pytest.raises(ConfigurationError, match="console"):
        mailer_of(bare_app(tmp_path, WSACTIONS_MAILER="smtp"))
