"""The headless API on Django: the same API as on Flask (tests/headless), through Django's
session, its CSRF middleware (the API is exempt: it checks its own header) and URLconf."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from django.core import mail
from django.test import Client
from django.urls import include, path

from helpers import PW
from wsactions.contrib.django import conf
from wsactions.contrib.django.conf import get_config
from wsactions.logins import login_id

pytestmark = pytest.mark.django_db

API = "/_wsa/v1/"
EMAIL = "ann@example.com"

urlpatterns = [
    path("account/", include("wsactions.contrib.django.urls")),
    path("_wsa/v1/", include("wsactions.contrib.django.api_urls")),
]


@pytest.fixture(autouse=True)
def project(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "wsactions.contrib.django.middleware.WsActionsMiddleware",
    ]
    settings.WSACTIONS = {
        **settings.WSACTIONS,
        "API": True,
        "API_CORS_ORIGINS": ["https://spa.example"],
    }
    mail.outbox = []
    conf.reset()
    yield
    conf.reset()


def conforms(method: str, route: str, response: Any) -> dict[str, Any]:
    document = get_config().api.document()  # type: ignore[union-attr]
    operation = document["paths"][route][method.lower()]
    described = operation["responses"][str(response.status_code)]
    body = json.loads(response.content)
    schema = described["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": document["components"]})
    return body


def post(client: Client, route: str, values: dict[str, Any], **headers: str) -> tuple[int, Any]:
    response = client.post(
        route, data=json.dumps(values), content_type="application/json", headers=headers
    )
    return response.status_code, conforms("POST", route, response)


def test_browser_and_app_clients_on_django() -> None:
    browser = Client(enforce_csrf_checks=True)  # Django's CSRF check is on, as in production
    response = browser.get(API + "browser/account")
    csrf = conforms("GET", API + "browser/account", response)["meta"]["csrfToken"]
    values = {"email": EMAIL, "password": PW, "passwordRepeat": PW}
    status, body = post(browser, API + "browser/AccountRegister", values)
    assert (status, body["errors"][0]["code"]) == (403, "csrfCheckFailed")
    assert mail.outbox == []
    status, body = post(browser, API + "browser/AccountRegister", values, X_CSRF_Token=csrf)
    assert (status, body["success"]) == (200, True), body
    link = re.search(r"https?://\S+", mail.outbox[-1].body)
    assert link
    token = parse_qs(urlsplit(link.group()).query)["wsoptin"][0]
    csrf = body["meta"]["csrfToken"]
    status, body = post(browser, API + "browser/EmailVerify", {"wsoptin": token}, X_CSRF_Token=csrf)
    assert status == 200
    status, body = post(
        browser, API + "browser/Login", {"id": EMAIL, "password": PW}, X_CSRF_Token=csrf
    )
    assert (status, body["meta"]["authenticated"]) == (200, True)
    assert body["meta"]["csrfToken"] != csrf  # rotated with the session key

    app = Client()
    status, body = post(app, API + "app/Login", {"id": EMAIL, "password": PW})
    assert status == 200
    assert not app.cookies  # no session cookie for an app
    session_token = body["meta"]["sessionToken"]
    assert get_config().storage.logins.get_login(login_id(session_token)) is not None
    response = app.get(API + "app/account", headers={"X-Session-Token": session_token})
    assert conforms("GET", API + "app/account", response)["account"]["email"] == EMAIL
    status, body = post(app, API + "app/Logout", {}, X_Session_Token=session_token)
    assert (status, body["meta"]["authenticated"]) == (200, False)
    response = app.get(API + "app/account", headers={"X-Session-Token": session_token})
    assert conforms("GET", API + "app/account", response)["authenticated"] is False
    assert not app.cookies


def test_cors_and_bodies_on_django() -> None:
    client = Client()
    response = client.get(API + "config", headers={"Origin": "https://spa.example"})
    assert response["Access-Control-Allow-Origin"] == "https://spa.example"
    response = client.options(
        API + "browser/Login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert not response.has_header("Access-Control-Allow-Origin")
    response = client.post(API + "app/Login", data=b"[", content_type="application/json")
    assert conforms("POST", API + "app/Login", response)["errors"][0]["code"] == "invalidParameter"
    response = client.post(API + "app/Login", data={"id": EMAIL, "password": "wrong"})
    assert response.status_code == 400  # a form body, read by Django
    assert json.loads(response.content)["errors"][0]["code"] == "invalidCredentials"
    assert client.get(API + "app/Login").status_code == 405
