"""The headless JSON API on Flask: the browser client (cookie session, X-CSRF-Token), the
app client (X-Session-Token, no cookies), flows, statuses, bodies of any shape, CORS, and
every answer checked against the served OpenAPI document."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import jsonschema
import pyotp
import pytest
from openapi_spec_validator import validate
from werkzeug.datastructures import MultiDict

from helpers import PW, DownStorage
from wsactions import RecordingMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.flask import WsActions
from wsactions.errors import ConfigurationError
from wsactions.headless import MAX_BODY
from wsactions.logins import login_id
from wsactions.openapi import document
from wsactions.settings import TESTING_HASHING
from wsactions.testing import FakeClock, Harness

API = "/_wsa/v1/"
EMAIL = "ann@example.com"
NEW_PW = "another long passphrase 42"
ORIGIN = "https://spa.shop.example"


class Shop:
    """A Flask shop with the API on, its storage and outbox, and a document checker."""

    def __init__(self, tmp_path: Path, **config: Any) -> None:
        self.app = flask.Flask("shop", instance_path=str(tmp_path))
        self.sent = RecordingMailer()
        self.storage = Harness.default_storage()  # --storage: memory, SQLite, PostgreSQL
        settings = {"password_hashing": TESTING_HASHING, **config.pop("SETTINGS", {})}
        self.app.config.update(
            SECRET_KEY="headless-api-tests-secret-key-0123456789",
            WSACTIONS_BASE_URL="http://localhost",
            WSACTIONS_SETTINGS=settings,
            **{f"WSACTIONS_{k}": v for k, v in {"API": True, **config}.items()},
        )
        WsActions(self.app, storage=self.storage, mailer=self.sent)
        self.document = self.app.test_client().get(API + "openapi.json").json

    def browser(self) -> Browser:
        return Browser(self)

    def app_client(self) -> AppClient:
        return AppClient(self)

    def conforms(self, method: str, path: str, response: Any) -> dict[str, Any]:
        """*response* is JSON and matches the document's schema for its status."""
        operation = self.document["paths"][path][method.lower()]
        assert str(response.status_code) in operation["responses"], response.status_code
        described = operation["responses"][str(response.status_code)]
        body = response.get_json()
        assert isinstance(body, dict)
        schema = described["content"]["application/json"]["schema"]
        jsonschema.validate(body, {**schema, "components": self.document["components"]})
        assert response.headers["Cache-Control"] == "no-store"
        return body

    def account(self, email: str = EMAIL) -> Any:
        return self.storage.accounts.find_account(email)

    def link(self) -> dict[str, str]:
        """The parameters of the link in the last mail."""
        found = re.search(r"https?://\S+", self.sent.outbox[-1].text)
        assert found
        return {k: v[0] for k, v in parse_qs(urlsplit(found.group()).query).items()}


class Browser:
    """The browser client: Flask's test client keeps the cookie; each POST sends the
    latest meta.csrfToken unless told otherwise."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.http = shop.app.test_client()
        self.csrf = ""

    def account(self) -> dict[str, Any]:
        response = self.http.get(API + "browser/account")
        body = self.shop.conforms("GET", API + "browser/account", response)
        self.csrf = body["meta"]["csrfToken"]
        return body

    def post(self, action: str, csrf: str | None = None, **values: Any) -> tuple[int, Any]:
        if not self.csrf and csrf is None:
            self.account()
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf}
        response = self.http.post(API + "browser/" + action, json=values, headers=headers)
        body = self.shop.conforms("POST", API + "browser/" + action, response)
        self.csrf = body["meta"]["csrfToken"]
        return response.status_code, body


class AppClient:
    """The app client: no cookies, the token in X-Session-Token."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.http = shop.app.test_client(use_cookies=False)
        self.token = ""

    def _headers(self) -> dict[str, str]:
        return {"X-Session-Token": self.token} if self.token else {}

    def account(self) -> dict[str, Any]:
        response = self.http.get(API + "app/account", headers=self._headers())
        assert "Set-Cookie" not in response.headers
        return self.shop.conforms("GET", API + "app/account", response)

    def post(self, action: str, **values: Any) -> tuple[int, Any]:
        response = self.http.post(API + "app/" + action, json=values, headers=self._headers())
        assert "Set-Cookie" not in response.headers  # an app's request sets no cookie
        body = self.shop.conforms("POST", API + "app/" + action, response)
        if body["meta"]["sessionToken"]:
            self.token = body["meta"]["sessionToken"]
        return response.status_code, body


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path)


def register(shop: Shop, email: str = EMAIL) -> None:
    """An account with a confirmed address, made through the API."""
    browser = shop.browser()
    status, _ = browser.post("AccountRegister", email=email, password=PW, passwordRepeat=PW)
    assert status == 200
    status, body = browser.post("EmailVerify", wsoptin=shop.link()["wsoptin"])
    assert (status, body["success"]) == (200, True)
    assert shop.account(email).verified


def snapshot(shop: Shop) -> tuple[Any, ...]:
    """Everything an action could change: what is stored, and the mails sent."""
    return shop.storage.snapshot(), len(shop.sent.outbox)


# the document --------------------------------------------------------------------------------


def test_the_served_document_is_valid_and_is_the_generated_one(shop: Shop) -> None:
    validate(shop.document)
    registry = shop.app.extensions["wsactions"].registry
    assert shop.document == json.loads(json.dumps(document(registry.actions, prefix=API)))
    paths = shop.document["paths"]
    assert f"{API}browser/SessionUpdate" in paths
    assert f"{API}app/SessionUpdate" not in paths  # browser-only state
    assert f"{API}app/Login" in paths
    assert f"{API}config" in paths


def test_config_tells_a_client_what_it_needs(shop: Shop) -> None:
    response = shop.app.test_client().get(API + "config")
    assert response.status_code == 200
    config = response.json
    assert config["passwordPolicy"] == {"minLength": 8, "maxLength": 128, "minScore": 3}
    assert config["locales"] == ["en", "de"]
    actions = {a["name"]: a for a in config["actions"]}
    assert actions["Login"]["clients"] == ["browser", "app"]
    assert actions["SessionUpdate"]["clients"] == ["browser"]
    assert actions["EmailVerify"]["optin"] is True
    assert {"name": "password", "required": True, "secret": True, "prefix": False} in actions[
        "Login"
    ]["params"]
    assert config["clients"]["browser"]["csrfHeader"] == "X-CSRF-Token"


# the browser client -------------------------------------------------------------------------


def test_c25_a_browser_post_without_the_csrf_header_is_refused(shop: Shop) -> None:
    """No header, an empty or a wrong one, another session's token, or a form token of the
    pack's in the body: 403 csrfCheckFailed, and nothing changed."""
    register(shop)
    other = shop.browser()
    other.account()
    browser = shop.browser()
    browser.account()
    before = snapshot(shop)
    page = browser.http.get("/account/login").get_data(as_text=True)
    form_token = re.search(r'name="wscsrf" value="([^"]+)"', page)
    assert form_token
    attempts = [
        browser.http.post(API + "browser/Login", json={"id": EMAIL, "password": PW}),
        browser.http.post(
            API + "browser/Login",
            json={"id": EMAIL, "password": PW, "wscsrf": form_token.group(1)},
        ),
        browser.http.post(
            API + "browser/Login", data={"id": EMAIL, "password": PW, "wsact": "Login"}
        ),
    ]
    for token in ("", "x" * 43, other.csrf, form_token.group(1), "ü"):
        attempts.append(
            browser.http.post(
                API + "browser/Login",
                json={"id": EMAIL, "password": PW},
                headers={"X-CSRF-Token": token},
            )
        )
    for response in attempts:
        body = shop.conforms("POST", API + "browser/Login", response)
        assert response.status_code == 403
        assert [e["code"] for e in body["errors"]] == ["csrfCheckFailed"]
        assert body["meta"]["authenticated"] is False
    assert snapshot(shop) == before
    assert browser.account()["authenticated"] is False


def test_browser_journey_register_confirm_login_address_logout(shop: Shop) -> None:
    browser = shop.browser()
    assert browser.account() == {
        "authenticated": False,
        "account": None,
        "meta": {"authenticated": False, "flow": None, "csrfToken": browser.csrf},
    }
    status, body = browser.post("AccountRegister", email=EMAIL, password=PW, passwordRepeat=PW)
    assert (status, body["success"]) == (200, True)
    assert PW not in json.dumps(body)
    status, body = browser.post("EmailVerify", wsoptin=shop.link()["wsoptin"])
    assert status == 200
    before = browser.csrf
    status, body = browser.post("Login", id=EMAIL, password=PW)
    assert (status, body["meta"]["authenticated"]) == (200, True)
    assert browser.csrf != before  # a login rotates the binding: a new token
    status, body = browser.post("AccountDelete", csrf=before)
    assert status == 403  # the token of before the login is worthless
    assert shop.account() is not None
    status, body = browser.post(
        "AddressCreate",
        **{
            "address.firstName": "Ann",
            "address.lastName": "Smith",
            "address.street": "Main Street 1",
            "address.zip": "10115",
            "address.city": "Berlin",
            "address.country": "DE",
        },
    )
    assert (status, body["success"]) == (200, True), body
    account = browser.account()["account"]
    assert account["email"] == EMAIL
    assert account["isVerified"] is True
    assert [a["fields"]["city"] for a in account["addresses"]] == ["Berlin"]
    assert [login["current"] for login in account["logins"]] == [True]
    assert "password" not in json.dumps(account).lower()
    status, body = browser.post("Logout")
    assert (status, body["meta"]["authenticated"]) == (200, False)
    assert browser.account()["authenticated"] is False
    status, body = browser.post("AddressDelete", addressId="x")
    assert status == 401
    assert [e["code"] for e in body["errors"]] == ["notLoggedIn"]


def test_messages_come_in_the_requests_language(shop: Shop) -> None:
    browser = shop.browser()
    browser.account()
    response = browser.http.post(
        API + "browser/Login",
        json={"id": EMAIL, "password": "wrong"},
        headers={"X-CSRF-Token": browser.csrf, "Accept-Language": "de"},
    )
    body = shop.conforms("POST", API + "browser/Login", response)
    assert response.status_code == 400
    assert body["errors"][0]["code"] == "invalidCredentials"
    assert "Passwort" in body["errors"][0]["message"]


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_c25_every_action_needs_the_csrf_header(shop: Shop, logged_in: bool) -> None:
    """Every action of the registry, through the browser client, without the header or
    with another session's token: 403 csrfCheckFailed, and nothing changed."""
    browser = shop.browser()
    if logged_in:
        register(shop)
        assert browser.post("Login", id=EMAIL, password=PW)[0] == 200
    else:
        browser.account()
    other = shop.browser()
    other.account()
    before = snapshot(shop)
    for spec in shop.app.extensions["wsactions"].registry.actions:
        for headers in ({}, {"X-CSRF-Token": other.csrf}):
            response = browser.http.post(API + "browser/" + spec.name, json={}, headers=headers)
            body = shop.conforms("POST", API + "browser/" + spec.name, response)
            assert response.status_code == 403, spec.name
            assert [e["code"] for e in body["errors"]] == ["csrfCheckFailed"], spec.name
    assert snapshot(shop) == before
    assert browser.account()["authenticated"] is logged_in


def test_s20_the_api_token_of_before_a_login_is_dead_after_it(shop: Shop) -> None:
    register(shop)
    browser = shop.browser()
    browser.account()
    before = browser.csrf
    assert browser.post("Login", id=EMAIL, password=PW)[0] == 200
    assert browser.csrf != before
    before_state = snapshot(shop)
    status, body = browser.post("AccountSetCustomerData", csrf=before, **{"customerData.x": "1"})
    assert (status, [e["code"] for e in body["errors"]]) == (403, ["csrfCheckFailed"])
    assert snapshot(shop) == before_state


# the app client -----------------------------------------------------------------------------


def logged_in_app(shop: Shop) -> AppClient:
    register(shop)
    app = shop.app_client()
    status, body = app.post("Login", id=EMAIL, password=PW)
    assert (status, body["meta"]["authenticated"]) == (200, True)
    assert app.token
    assert len(app.token) == 43
    assert shop.storage.logins.get_login(login_id(app.token)) is not None
    assert app.account()["account"]["email"] == EMAIL
    return app


def assert_token_ended(shop: Shop, app: AppClient) -> None:
    body = app.account()
    assert body == {
        "authenticated": False,
        "account": None,
        "meta": {"authenticated": False, "flow": None, "sessionToken": None},
    }
    before = snapshot(shop)
    status, body = app.post("AccountSetCustomerData", **{"customerData.note": "x"})
    assert status == 401
    assert [e["code"] for e in body["errors"]] == ["notLoggedIn"]
    assert snapshot(shop) == before


def test_s21_an_app_token_ends_with_logout(shop: Shop) -> None:
    app = logged_in_app(shop)
    token = app.token
    status, body = app.post("Logout")
    assert (status, body["meta"]["authenticated"]) == (200, False)
    assert shop.storage.logins.get_login(login_id(token)) is None
    assert_token_ended(shop, app)


def test_s22_an_app_token_ends_with_a_password_change_through_it(shop: Shop) -> None:
    app = logged_in_app(shop)
    status, body = app.post(
        "ResetPassword", passwordAuth=PW, newPassword=NEW_PW, newPasswordRepeat=NEW_PW
    )
    assert (status, body["success"]) == (200, True), body
    assert NEW_PW not in json.dumps(body)
    assert_token_ended(shop, app)


def test_s22_an_app_token_ends_with_a_password_change_elsewhere(shop: Shop) -> None:
    app = logged_in_app(shop)
    browser = shop.browser()
    assert browser.post("Login", id=EMAIL, password=PW)[0] == 200
    status, _ = browser.post(
        "ResetPassword", passwordAuth=PW, newPassword=NEW_PW, newPasswordRepeat=NEW_PW
    )
    assert status == 200
    assert_token_ended(shop, app)


def test_an_app_token_ends_after_the_logins_lifetime(shop: Shop) -> None:
    app = logged_in_app(shop)
    area = shop.app.extensions["wsactions"]
    area.clock = FakeClock(time.time())
    area.clock.advance(area.settings.login_lifetime.idle - 5)
    assert app.account()["authenticated"] is True  # still within its lifetime: it is seen
    area.clock.advance(area.settings.login_lifetime.idle + 1)
    assert_token_ended(shop, app)


def test_s21_an_app_token_ends_when_the_login_is_ended_elsewhere(shop: Shop) -> None:
    app = logged_in_app(shop)
    browser = shop.browser()
    assert browser.post("Login", id=EMAIL, password=PW)[0] == 200
    mine = next(x for x in browser.account()["account"]["logins"] if not x["current"])
    assert mine["id"] == login_id(app.token)
    from wsactions.logins import end_login

    assert end_login(shop.storage, shop.account().id, mine["id"])
    assert_token_ended(shop, app)


@pytest.mark.parametrize(
    "token",
    ["", "x", "ü" * 10, "p.", "p.e30.AAAA", "y" * 2000, "\x00", "Bearer x"],
    ids=["empty", "short", "non-ascii", "p", "forged-pending", "long", "nul", "bearer"],
)
def test_a_bad_token_is_anonymous(shop: Shop, token: str) -> None:
    register(shop)
    http = shop.app.test_client(use_cookies=False)
    response = http.get(API + "app/account", headers={"X-Session-Token": token})
    assert shop.conforms("GET", API + "app/account", response)["authenticated"] is False
    response = http.post(
        API + "app/LoginSecondFactor", json={"code": "123456"}, headers={"X-Session-Token": token}
    )
    body = shop.conforms("POST", API + "app/LoginSecondFactor", response)
    assert [e["code"] for e in body["errors"]] == ["noPendingLogin"]


def test_browser_only_actions_are_not_offered_to_apps(shop: Shop) -> None:
    app = shop.app_client()
    for name in ("SessionUpdate", "LanguageUpdate", "GuestRegister"):
        response = app.http.post(API + "app/" + name, json={"locale": "de"})
        assert response.status_code == 404
        assert [e["code"] for e in response.json["errors"]] == ["unknownAction"]


# flows --------------------------------------------------------------------------------------


def enable_totp(shop: Shop, app: AppClient) -> pyotp.TOTP:
    status, body = app.post("TotpSetup")
    assert status == 200, body
    totp = pyotp.TOTP(body["data"]["secret"])
    status, body = app.post("TotpConfirm", code=totp.now())
    assert status == 200, body
    return totp


def test_an_app_login_with_a_second_factor_is_a_flow(shop: Shop) -> None:
    app = logged_in_app(shop)
    totp = enable_totp(shop, app)
    assert app.post("Logout")[0] == 200
    app.token = ""
    status, body = app.post("Login", id=EMAIL, password=PW)
    assert status == 401
    assert [e["code"] for e in body["errors"]] == ["secondFactorRequired"]
    assert body["meta"]["authenticated"] is False
    assert body["meta"]["flow"]["id"] == "secondFactor"
    assert body["meta"]["flow"]["action"] == "LoginSecondFactor"
    pending = app.token
    assert pending.startswith("p.")
    assert shop.storage.logins.get_login(login_id(pending)) is None  # not a login
    assert app.account()["meta"]["flow"]["id"] == "secondFactor"
    # a pending token edited by the app is worthless
    forged = pending[:-2] + ("AA" if not pending.endswith("AA") else "BB")
    http = shop.app.test_client(use_cookies=False)
    response = http.post(
        API + "app/LoginSecondFactor",
        json={"code": totp.now()},
        headers={"X-Session-Token": forged},
    )
    assert [e["code"] for e in response.json["errors"]] == ["noPendingLogin"]
    status, body = app.post("LoginSecondFactor", code="000000")
    assert status == 400
    assert [e["code"] for e in body["errors"]] == ["invalidCode"]
    assert app.token != pending  # the wrong code is counted in a new pending token
    # the code of the next step (the current one was used to confirm the factor)
    status, body = app.post("LoginSecondFactor", code=totp.at(time.time() + 30))
    assert (status, body["meta"]["authenticated"], body["meta"]["flow"]) == (200, True, None)
    assert len(app.token) == 43
    assert app.account()["account"]["hasSecondFactor"] is True


def test_an_app_logs_in_with_an_emailed_code(shop: Shop) -> None:
    """LoginCodeRequest through the app: the code is bound to a sealed token the app keeps
    (meta.flow loginCode); LoginCode with it logs the app in, once."""
    register(shop)
    app = shop.app_client()
    status, body = app.post("LoginCodeRequest", email=EMAIL)
    assert status == 200
    assert body["meta"]["flow"]["id"] == "loginCode"
    pending = app.token
    assert pending.startswith("p.")
    code = re.search(r"^\s*(\d{6})\s*$", shop.sent.outbox[-1].text, re.M)
    assert code
    status, body = app.post("LoginCode", code=code.group(1))
    assert (status, body["meta"]["authenticated"]) == (200, True)
    assert len(app.token) == 43
    replay = shop.app.test_client(use_cookies=False).post(
        API + "app/LoginCode", json={"code": code.group(1)}, headers={"X-Session-Token": pending}
    )
    assert [e["code"] for e in replay.json["errors"]] == ["invalidCode"]


def test_passkeys_through_the_api(shop: Shop) -> None:
    """A browser client adds a passkey; an app logs in with it (its challenge travels in
    the sealed token), and a replayed assertion is refused."""
    from softkey import SoftKey

    register(shop)
    browser = shop.browser()
    assert browser.post("Login", id=EMAIL, password=PW)[0] == 200
    status, body = browser.post("PasskeyRegisterOptions")
    assert status == 200, body
    key = SoftKey()
    credential = key.create(body["data"]["options"], "http://localhost")
    status, body = browser.post("PasskeyRegister", credential=credential, name="Laptop")
    assert (status, body["success"]) == (200, True), body
    assert "credential" not in body["params"]
    app = shop.app_client()
    status, body = app.post("PasskeyLoginOptions")
    assert status == 200
    assert app.token.startswith("p.")  # the challenge, sealed for the app
    assertion = key.get(body["data"]["options"], "http://localhost")
    status, body = app.post("PasskeyLogin", credential=assertion)
    assert (status, body["meta"]["authenticated"]) == (200, True), body
    replay = shop.app_client()
    status, body = replay.post("PasskeyLogin", credential=assertion)
    assert (status, [e["code"] for e in body["errors"]]) == (400, ["noChallenge"])


def test_one_pending_token_in_16_threads_logs_in_once(shop: Shop) -> None:
    """The pending login is the app's to keep: 16 requests with the same token and the
    same code at once log in exactly once (the code's step is used up)."""
    app = logged_in_app(shop)
    totp = enable_totp(shop, app)
    assert app.post("Logout")[0] == 200
    app.token = ""
    assert app.post("Login", id=EMAIL, password=PW)[0] == 401
    pending, code = app.token, totp.at(time.time() + 30)
    barrier = threading.Barrier(16)

    def attempt(_: int) -> int:
        http = shop.app.test_client(use_cookies=False)
        barrier.wait()
        response = http.post(
            API + "app/LoginSecondFactor", json={"code": code}, headers={"X-Session-Token": pending}
        )
        return response.status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses.count(200) == 1, statuses
    assert len(shop.storage.logins.list_logins(shop.account().id)) == 1


def test_a_stale_login_gets_the_reauthentication_flow(shop: Shop) -> None:
    app = logged_in_app(shop)
    area = shop.app.extensions["wsactions"]
    area.clock = FakeClock(time.time())
    area.clock.advance(area.settings.reauthentication_timeout + 5)
    before = snapshot(shop)
    status, body = app.post("AccountDelete")
    assert status == 401
    assert [e["code"] for e in body["errors"]] == ["reauthenticationRequired"]
    assert body["meta"]["flow"] == {
        "id": "reauthenticate",
        "action": "Reauthenticate",
        "expiresAt": None,
    }
    assert snapshot(shop) == before
    assert app.post("Reauthenticate", password=PW)[0] == 200
    status, body = app.post("AccountDelete")
    assert status == 200, body
    assert shop.account() is None
    assert_token_ended(shop, app)


# statuses and bodies ------------------------------------------------------------------------


def test_throttled_logins_answer_429(shop: Shop) -> None:
    register(shop)
    app = shop.app_client()
    statuses = [app.post("Login", id=EMAIL, password="wrong")[0] for _ in range(12)]
    assert statuses[0] == 400
    assert statuses[-1] == 429
    status, body = app.post("Login", id=EMAIL, password=PW)
    assert (status, [e["code"] for e in body["errors"]]) == (429, ["loginBlocked"])
    assert not app.token


def test_unknown_actions_and_methods(shop: Shop) -> None:
    http = shop.app.test_client()
    response = http.post(API + "app/NoSuchAction", json={})
    assert response.status_code == 404
    assert [e["code"] for e in response.json["errors"]] == ["unknownAction"]
    assert response.json["name"] == ""
    response = http.get(API + "app/Login")
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")
    response = http.post(API + "config")
    assert response.status_code == 405
    assert http.get(API + "elsewhere/Login").status_code == 404
    assert http.get(API + "app/account/more").status_code == 404


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"null", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"id": "' + b"a" * MAX_BODY + b'"}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"id=x", "text/plain"),
        (b"<xml/>", "application/xml"),
    ],
    ids=["broken", "array", "string", "null", "deep", "too-large", "bytes", "text", "xml"],
)
def test_a_body_that_is_no_object_is_refused(shop: Shop, data: bytes, content_type: str) -> None:
    register(shop)
    before = snapshot(shop)
    response = shop.app.test_client().post(
        API + "app/Login", data=data, headers={"Content-Type": content_type}
    )
    body = shop.conforms("POST", API + "app/Login", response)
    assert response.status_code == 400
    assert [e["code"] for e in body["errors"]] == ["invalidParameter"]
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    "values",
    [
        {"id": EMAIL, "password": 12345678},
        {"id": [EMAIL, EMAIL], "password": PW},
        {"id": {"nested": EMAIL}, "password": PW},
        {"id": None, "password": PW},
        {"id": EMAIL, "password": "x" * 100_001},
        {"id": EMAIL + "\x00", "password": PW},
    ],
    ids=["number", "list", "object", "null", "long", "nul"],
)
def test_values_of_any_shape_get_a_code(shop: Shop, values: dict[str, Any]) -> None:
    register(shop)
    before = snapshot(shop)
    app = shop.app_client()
    status, body = app.post("Login", **values)
    assert status == 400
    assert {e["code"] for e in body["errors"]} <= {"invalidParameter", "duplicateParameter"}
    assert body["errors"]
    assert not app.token
    assert snapshot(shop) == before


def test_c27_a_form_body_works_and_control_fields_are_the_apis(shop: Shop) -> None:
    """A form body runs like JSON; ``wsact`` in the body cannot switch the action, and
    ``wstarget`` gives no redirect."""
    register(shop)
    http = shop.app.test_client(use_cookies=False)
    response = http.post(
        API + "app/Login",
        data={"id": EMAIL, "password": PW, "wsact": "AccountDelete", "wstarget": "/x"},
    )
    body = shop.conforms("POST", API + "app/Login", response)
    assert (response.status_code, body["name"], body["redirect"]) == (200, "Login", None)
    assert shop.account() is not None
    repeated = MultiDict([("id", EMAIL), ("id", EMAIL), ("password", PW)])
    response = http.post(API + "app/Login", data=repeated)
    assert [e["code"] for e in response.json["errors"]] == ["duplicateParameter"]


def test_a_database_that_is_down_answers_503(tmp_path: Path) -> None:
    """Down while the app's token is looked up, and while the action runs."""
    shop = Shop(tmp_path)
    shop.app.extensions["wsactions"].storage = DownStorage()
    http = shop.app.test_client(use_cookies=False)
    messages = []
    for headers in ({"X-Session-Token": "t" * 43, "Accept-Language": "de"}, {}):
        response = http.post(API + "app/Login", json={"id": EMAIL, "password": PW}, headers=headers)
        body = shop.conforms("POST", API + "app/Login", response)
        assert response.status_code == 503
        assert [e["code"] for e in body["errors"]] == ["storageUnavailable"]
        messages.append(body["errors"][0]["message"])
    assert "Shop" in messages[0]  # German, as asked
    assert messages[1].startswith("The shop")
    response = http.get(API + "app/account", headers={"X-Session-Token": "t" * 43})
    assert response.status_code == 503


# CORS ---------------------------------------------------------------------------------------


def test_cors_is_off_by_default(shop: Shop) -> None:
    http = shop.app.test_client()
    response = http.get(API + "browser/account", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = http.options(
        API + "browser/Login",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_for_listed_origins_only(tmp_path: Path) -> None:
    shop = Shop(tmp_path, API_CORS_ORIGINS=[ORIGIN + "/"])
    http = shop.app.test_client()
    response = http.get(API + "browser/account", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    response = http.get(API + "app/account", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in response.headers  # apps have no cookies
    preflight = http.options(
        API + "browser/Login",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrf-token",
        },
    )
    assert preflight.status_code == 204
    assert "X-CSRF-Token" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST"
    for origin in (
        "https://evil.example",
        "null",
        ORIGIN + ".evil.example",
        "http://spa.shop.example",
    ):
        response = http.get(API + "browser/account", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers
        preflight = http.options(
            API + "browser/Login",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 403
        assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("API_CORS_ORIGINS", "https://one.example"),
        ("API_CORS_ORIGINS", ["*"]),
        ("API_CORS_ORIGINS", ["https://one.example/path"]),
        ("API", "no-slashes"),
        ("API", 3),
    ],
)
def test_bad_api_configuration_is_refused(tmp_path: Path, key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match="WSACTIONS_API"):
        Shop(tmp_path, **{key: value})


def test_the_api_is_off_unless_configured(tmp_path: Path) -> None:
    app = flask.Flask("plain", instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k" * 40, WSACTIONS_BASE_URL="http://localhost")
    WsActions(app, storage=MemoryStorage(), mailer=RecordingMailer())
    assert app.test_client().get(API + "config").status_code == 404
    response = app.test_client().post(API + "app/Login", json={"id": EMAIL, "password": PW})
    assert response.status_code == 404


@pytest.mark.parametrize("order", ["before", "after"])
def test_flask_wtf_csrf_protect_leaves_the_api_to_its_own_check(tmp_path: Path, order: str) -> None:
    """CSRFProtect set up before WsActions or after it: the API's browser client needs
    its X-CSRF-Token (not Flask-WTF's token), and the pack's forms keep Flask-WTF's check."""
    from flask_wtf.csrf import CSRFProtect

    app = flask.Flask("wtf", instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="k" * 40,
        WSACTIONS_BASE_URL="http://localhost",
        WSACTIONS_API=True,
        WSACTIONS_SETTINGS={"password_hashing": TESTING_HASHING},
    )
    storage = MemoryStorage()
    if order == "before":
        CSRFProtect(app)
    WsActions(app, storage=storage, mailer=RecordingMailer())
    if order == "after":
        CSRFProtect(app)
    http = app.test_client()
    csrf = http.get(API + "browser/account").json["meta"]["csrfToken"]
    values = {"email": EMAIL, "password": PW, "passwordRepeat": PW}
    refused = http.post(API + "browser/AccountRegister", json=values)
    assert refused.status_code == 403
    assert refused.json["errors"][0]["code"] == "csrfCheckFailed"
    done = http.post(API + "browser/AccountRegister", json=values, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert storage.accounts.find_account(EMAIL) is not None
    page = http.post("/account/login", data={"wsact": "Login", "id": EMAIL, "password": PW})
    assert page.status_code == 400  # Flask-WTF's refusal: the pack's forms stay protected


def test_an_admins_account_lists_the_company(tmp_path: Path) -> None:
    """The demo's company admin through the app client: members and privilege groups; an
    employee sees neither."""
    from wsactions.contrib.demo import DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_PASSWORD, create_app

    app = create_app(tmp_path / "demo", base_url="http://localhost")
    try:
        http = app.test_client(use_cookies=False)
        for email, admin in ((DEMO_ADMIN, True), (DEMO_EMPLOYEE, False)):
            login = http.post(API + "app/Login", json={"id": email, "password": DEMO_PASSWORD})
            assert login.status_code == 200, login.json
            token = login.json["meta"]["sessionToken"]
            account = http.get(API + "app/account", headers={"X-Session-Token": token}).json
            account = account["account"]
            assert account["isAdmin"] is admin
            if admin:
                emails = {m["email"] for m in account["members"]}
                assert {DEMO_ADMIN, DEMO_EMPLOYEE} <= emails
                assert account["privilegeGroups"]
                assert all(set(g) == {"id", "name", "type"} for g in account["privilegeGroups"])
            else:
                assert "members" not in account
                assert "privilegeGroups" not in account
            dumped = json.dumps(account)
            assert DEMO_PASSWORD not in dumped
            assert "argon2" not in dumped  # no password hash
    finally:
        app.extensions["wsactions"].storage.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_statements_an_api_request_costs(tmp_path: Path, backend: str) -> None:
    """An app's token is read once and then only checked: the account as JSON is 4 reads
    (the login with its account, addresses, logins, cards) and no write; an action adds
    one read of the login to the action's own statements (its locked read); config and
    the document touch no database."""
    import sqlstores

    storage = sqlstores.sqlite_storage() if backend == "sqlite" else sqlstores.postgres_storage()
    try:
        shop = Shop(tmp_path, SETTINGS={"customer_data_fields": frozenset({"note"})})
        shop.app.extensions["wsactions"].storage = shop.storage = storage
        app = logged_in_app(shop)
        headers = {"X-Session-Token": app.token}
        with sqlstores.counting(storage) as counted:
            response = app.http.get(API + "app/account", headers=headers)
        assert response.json["authenticated"] is True
        assert len(counted.statements) == 4, counted
        assert counted.writes == []
        with sqlstores.counting(storage) as counted:
            status, _ = app.post("AccountSetCustomerData", **{"customerData.note": "x"})
        assert status == 200
        logins = [s for s in counted.statements if "logins" in s]
        assert len(logins) == 2, counted
        assert len(counted.writes) == 1, counted
        with sqlstores.counting(storage) as counted:
            assert app.http.get(API + "config").status_code == 200
            assert app.http.get(API + "openapi.json").status_code == 200
        assert counted.statements == []
    finally:
        storage.close()
