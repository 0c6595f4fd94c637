"""The Flask adapter: the engine once per request, redirects, JSON answers, helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import flask
import pytest
from flask.testing import FlaskClient

from helpers import PW
from wsactions import Account, ConfigurationError, RecordingMailer, current_account
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.flask import WsActions, context, login_required
from wsactions.contrib.flask import current_account as flask_current_account
from wsactions.security.passwords import hasher_for
from wsactions.settings import TESTING_HASHING

SECRET = "flask-adapter-test-secret-key-0123456789"

PAGE = """
{% set a = wsActions.create(name) %}{% set c = wsActions.current %}
<form method="post">
  <input name="wsact" value="{{ a.id }}"><input name="wscsrf" value="{{ a.csrf }}">
  {% set host = wsHostCsrf() %}
  {% if host %}<input name="{{ host[0] }}" value="{{ host[1] }}">{% endif %}
</form>
<p id="current">{{ c.name }}|{{ c.success }}|{{ c.message() }}</p>
<p id="account">{{ wsAccount.email }}</p>
"""


def make_app(tmp_path: Path, **config: Any) -> tuple[flask.Flask, MemoryStorage, RecordingMailer]:
    app = flask.Flask(__name__, instance_path=str(tmp_path))
    values: dict[str, Any] = {
        "SECRET_KEY": SECRET,
        "TESTING": True,
        "WSACTIONS_BASE_URL": "http://localhost",
        "WSACTIONS_SETTINGS": {"password_hashing": TESTING_HASHING},
    }
    values.update(config)
    app.config.update(values)
    storage, mailer = MemoryStorage(), RecordingMailer()
    WsActions(app, storage=storage, mailer=mailer)

    @app.route("/page/<name>", methods=["GET", "POST"])
    def page(name: str) -> str:
        return flask.render_template_string(PAGE, name=name)

    @app.route("/logout-link")
    def logout_link() -> str:
        return flask.render_template_string('{{ wsActions.url("Logout", "/done") }}')

    @app.route("/private")
    @login_required
    def private() -> str:
        account = flask_current_account()
        return account.email if account else "nobody"

    return app, storage, mailer


def add_account(storage: MemoryStorage, email: str = "ann@example.com") -> Account:
    account = Account(
        id="acc-ann",
        email=email,
        email_key=email,
        password_hash=hasher_for(TESTING_HASHING).hash(PW),
        verified=True,
        security_stamp="stamp",
    )
    assert storage.accounts.add_account(account)
    return account


def form_of(client: FlaskClient, name: str) -> dict[str, str]:
    html = client.get(f"/page/{name}").get_data(as_text=True)
    import re

    return dict(re.findall(r'<input name="([^"]+)" value="([^"]*)">', html))


def test_posted_form_runs_once_and_redirects(tmp_path: Path) -> None:
    """A posted form with wstarget runs its action and answers 303 to the target."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    client = app.test_client()
    form = {**form_of(client, "Login"), "id": "ann@example.com", "password": PW, "wstarget": "/x"}
    response = client.post("/page/Login", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/x"
    assert client.get("/private").get_data(as_text=True) == "ann@example.com"


def test_failed_form_renders_messages(tmp_path: Path) -> None:
    """A failed action renders the page with its message in the request's language."""
    app, _, _ = make_app(tmp_path)
    client = app.test_client()
    form = {**form_of(client, "Login"), "id": "x@example.com", "password": "wrong password 1 x"}
    html = client.post("/page/Login", data=form, headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )
    assert "Login|False|" in html
    assert "E-Mail-Adresse" in html or "Passwort" in html


def test_json_answer_for_ajax(tmp_path: Path) -> None:
    """Accept: application/json gets the core's JSON answer; secrets never in it."""
    app, _, _ = make_app(tmp_path)
    client = app.test_client()
    form = {**form_of(client, "CheckPasswordStrength"), "password": "Tr0ub4dor&3 horse"}
    response = client.post(
        "/page/CheckPasswordStrength", data=form, headers={"Accept": "application/json"}
    )
    data = response.get_json()
    assert data["name"] == "CheckPasswordStrength"
    assert data["success"] is True
    assert set(data["data"]) == {"value", "max", "accepted"}
    assert "Tr0ub4dor" not in response.get_data(as_text=True)


def logout_url(client: FlaskClient) -> str:
    return client.get("/logout-link").get_data(as_text=True).replace("&amp;", "&")


def test_logout_link_logs_out_and_redirects(tmp_path: Path) -> None:
    """The signed Logout link runs through follow and redirects."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    client = app.test_client()
    form = {**form_of(client, "Login"), "id": "ann@example.com", "password": PW}
    client.post("/page/Login", data=form)
    assert client.get("/private").get_data(as_text=True) == "ann@example.com"
    response = client.get(logout_url(client))
    assert response.status_code == 303
    assert response.headers["Location"] == "/done"
    assert client.get("/private").status_code == 303


def test_login_required_redirects_to_login(tmp_path: Path) -> None:
    """A protected view sends visitors to the login page with next."""
    app, _, _ = make_app(tmp_path)
    response = app.test_client().get("/private")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/account/login?next=")


def test_copied_cookie_dies_with_logout(tmp_path: Path) -> None:
    """A copy of Flask's signed session cookie is logged out after Logout (S21)."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    owner = app.test_client()
    form = {**form_of(owner, "Login"), "id": "ann@example.com", "password": PW}
    owner.post("/page/Login", data=form)
    cookie = owner.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/private").get_data(as_text=True) == "ann@example.com"

    owner.get(logout_url(owner))
    assert thief.get("/private").status_code == 303


def test_works_beside_flask_wtf_csrf(tmp_path: Path) -> None:
    """With CSRFProtect on, wsactions forms pass through wsHostCsrf, no view exempted."""
    from flask_wtf.csrf import CSRFProtect

    app, storage, _ = make_app(tmp_path)
    app.config["TESTING"] = False
    CSRFProtect(app)
    add_account(storage)
    client = app.test_client()
    form = form_of(client, "Login")
    assert "csrf_token" in form
    response = client.post(
        "/page/Login", data={**form, "id": "ann@example.com", "password": PW, "wstarget": "/"}
    )
    assert response.status_code == 303
    without = {k: v for k, v in form.items() if k != "csrf_token"}
    refused = client.post("/page/Login", data={**without, "id": "ann@example.com", "password": PW})
    assert refused.status_code == 400  # Flask-WTF still protects


def test_flask_wtf_token_renewed_at_login_and_logout(tmp_path: Path) -> None:
    """Login (and Logout) drop Flask-WTF's CSRF secret: a token learnt before the login
    (CSRF token fixation) is refused after it; the new page's token works."""
    from flask_wtf.csrf import CSRFProtect

    app, storage, _ = make_app(tmp_path)
    app.config["TESTING"] = False
    CSRFProtect(app)
    add_account(storage)
    client = app.test_client()
    form = form_of(client, "Login")
    learnt = form["csrf_token"]
    response = client.post(
        "/page/Login", data={**form, "id": "ann@example.com", "password": PW, "wstarget": "/"}
    )
    assert response.status_code == 303
    update = form_of(client, "SessionUpdate")
    stale = {**update, "csrf_token": learnt, "session.step": "pay"}
    assert client.post("/page/SessionUpdate", data=stale).status_code == 400
    fresh = client.post("/page/SessionUpdate", data={**update, "session.step": "pay"})
    assert "SessionUpdate|True|" in fresh.get_data(as_text=True)


def test_secret_key_fallbacks_accept_old_tokens(tmp_path: Path) -> None:
    """A form rendered before a key rotation still posts (SECRET_KEY_FALLBACKS)."""
    app, _, _ = make_app(tmp_path)
    client = app.test_client()
    form = form_of(client, "Login")
    cookie = client.get_cookie("session")
    assert cookie is not None
    new_key = "a-brand-new-secret-key-0123456789abcdef"
    rotated, storage, _ = make_app(tmp_path, SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[SECRET])
    add_account(storage)
    browser = rotated.test_client()
    browser.set_cookie("session", cookie.value)  # Flask honours the same fallbacks
    response = browser.post(
        "/page/Login", data={**form, "id": "ann@example.com", "password": PW, "wstarget": "/"}
    )
    assert response.status_code == 303
    unrotated, other, _ = make_app(tmp_path, SECRET_KEY=new_key)
    add_account(other)
    stranger = unrotated.test_client()
    stranger.set_cookie("session", cookie.value)
    refused = stranger.post("/page/Login", data={**form, "id": "ann@example.com", "password": PW})
    assert "Login|False|" in refused.get_data(as_text=True)


def test_default_storage_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    """Without a storage, WsActions migrates and opens instance/wsactions.db."""
    app = flask.Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY=SECRET, TESTING=True, WSACTIONS_BASE_URL="http://localhost")
    WsActions(app)
    assert (tmp_path / "instance" / "wsactions.db").is_file()
    storage = app.extensions["wsactions"].storage
    try:
        assert storage.accounts.find_account("nobody@example.com") is None
    finally:
        storage.close()


def test_missing_secret_key_is_refused(tmp_path: Path) -> None:
    """No SECRET_KEY: the extension refuses to start with a clear message."""
    app = flask.Flask(__name__, instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        WsActions(app, storage=MemoryStorage())


def test_context_is_built_once_per_request(tmp_path: Path) -> None:
    """context() returns the same context within one request."""
    app, _, _ = make_app(tmp_path)
    with app.test_request_context("/"):
        assert context() is context()
        assert current_account(context()) is None


def test_login_required_view_reads_the_login_once(tmp_path: Path) -> None:
    """@login_required and the view's current_account() share one read of the login and its
    account (RequestCycle.account)."""
    app, storage, _ = make_app(tmp_path)
    add_account(storage)
    client = app.test_client()
    form = {**form_of(client, "Login"), "id": "ann@example.com", "password": PW}
    client.post("/page/Login", data=form)
    spy = mock.patch.object(
        storage.logins, "get_login_account", wraps=storage.logins.get_login_account
    )
    with spy as read:
        assert client.get("/private").get_data(as_text=True) == "ann@example.com"
    assert read.call_count == 1
