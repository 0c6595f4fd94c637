"""Parity: one scripted journey through Flask's and Django's test clients answers alike.

Both adapters only translate into the shared request cycle (wsactions.web), so the
same requests get the same statuses, redirect targets, JSON bodies and mails, whatever
the framework (and whatever the storage: the ORM for Django, memory for Flask).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
from django.core import mail
from django.test import Client
from django.urls import include, path

from helpers import PW
from wsactions import RecordingMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.django import conf
from wsactions.contrib.flask import WsActions
from wsactions.settings import TESTING_HASHING

pytestmark = pytest.mark.django_db

EMAIL = "parity@example.com"
WSACTIONS: dict[str, Any] = {
    "BASE_URL": "http://testserver",
    "SHOP_NAME": "Test shop",
    "SETTINGS": {"password_hashing": TESTING_HASHING, "locales": ("en", "de")},
}

urlpatterns = [path("account/", include("wsactions.contrib.django.urls"))]


class Browser:
    """One framework's test client, with the answers as plain values."""

    def __init__(
        self,
        get: Callable[..., Any],
        post: Callable[..., Any],
        outbox: Callable[[], list[tuple[str, str, str]]],
    ) -> None:
        self._get, self._post, self.outbox = get, post, outbox

    def get(self, url: str) -> tuple[int, str, str]:
        status, body, location = self._get(url)
        return status, body, location

    def form(self, url: str, action: str) -> dict[str, str]:
        """The hidden fields of the form of *action* on the page at *url*."""
        _, page, _ = self.get(url)
        for form in re.findall(r"<form\b.*?</form>", page, re.S):
            fields = {
                html.unescape(name): html.unescape(value)
                for name, value in re.findall(
                    r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form
                )
            }
            if fields.get("wsact") == action:
                return fields
        raise AssertionError(f"no form of {action} on {url}")

    def submit(
        self, url: str, action: str, values: dict[str, str], *, json: bool = False
    ) -> tuple[int, Any, str]:
        fields = self.form(url, action)
        fields.pop("csrf_token", None)  # no Flask-WTF here; Django's token stays
        status, body, location = self._post(url, {**fields, **values}, json)
        return status, body, location


def flask_browser(tmp_path: Path) -> Browser:
    app = flask.Flask("parity", instance_path=str(tmp_path))
    sent = RecordingMailer()
    app.config.update(
        SECRET_KEY="parity-secret-key-0123456789-0123456789",
        **{f"WSACTIONS_{key}": value for key, value in WSACTIONS.items()},
    )
    WsActions(app, storage=MemoryStorage(), mailer=sent)
    client = app.test_client()

    def get(url: str) -> tuple[int, str, str]:
        response = client.get(url)
        return response.status_code, response.get_data(as_text=True), response.location or ""

    def post(url: str, data: dict[str, str], json: bool) -> tuple[int, Any, str]:
        headers = {"Accept": "application/json"} if json else {}
        response = client.post(url, data=data, headers=headers)
        body = response.get_json() if json else response.get_data(as_text=True)
        return response.status_code, body, response.location or ""

    def outbox() -> list[tuple[str, str, str]]:
        return [(m.to, m.subject, m.text) for m in sent.outbox]

    return Browser(get, post, outbox)


def django_browser() -> Browser:
    client = Client(enforce_csrf_checks=True)

    def get(url: str) -> tuple[int, str, str]:
        response = client.get(url)
        return response.status_code, response.content.decode(), response.get("Location", "")

    def post(url: str, data: dict[str, str], json: bool) -> tuple[int, Any, str]:
        extra = {"HTTP_ACCEPT": "application/json"} if json else {}
        response = client.post(url, data, **extra)
        body = response.json() if json else response.content.decode()
        return response.status_code, body, response.get("Location", "")

    def outbox() -> list[tuple[str, str, str]]:
        return [(m.to[0], m.subject, m.body) for m in mail.outbox]

    return Browser(get, post, outbox)


def mailed_path(browser: Browser) -> str:
    found = re.search(r"https?://\S+", browser.outbox()[-1][2])
    assert found is not None
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}"


def journey(browser: Browser) -> list[Any]:
    """The same requests, and what each answered (bodies of pages only by their language)."""
    seen: list[Any] = []

    def page(url: str) -> None:
        status, body, location = browser.get(url)
        lang = re.search(r'<html lang="([^"]+)"', body) if status == 200 else None
        shown = re.sub(r"wsoptin=[^&]+", "wsoptin=…", url)  # tokens differ, of course
        seen.append(("GET", shown, status, location, lang.group(1) if lang else None))

    def answer(result: tuple[int, Any, str]) -> None:
        status, body, location = result
        seen.append((status, body if isinstance(body, dict) else None, location))

    page("/account/register")
    register = {"email": EMAIL, "password": "short", "passwordRepeat": "short"}
    answer(browser.submit("/account/register", "AccountRegister", register, json=True))
    register.update(password=PW, passwordRepeat=PW, wstarget="/account/login")
    answer(browser.submit("/account/register", "AccountRegister", register))
    seen.append(("mail", browser.outbox()[-1][:2], mailed_path(browser).split("wsoptin=")[0]))
    page(mailed_path(browser))
    wrong = {"id": EMAIL, "password": "wrong password 1 x"}
    answer(browser.submit("/account/login", "Login", wrong, json=True))
    right = {"id": EMAIL, "password": PW, "wstarget": "/x"}
    answer(browser.submit("/account/login", "Login", right))
    page("/account/")
    answer(browser.submit("/account/", "LanguageUpdate", {"locale": "de"}, json=True))
    answer(browser.submit("/account/", "accountDisplayNameUpdate", {"displayName": ""}, json=True))
    page("/account/addresses")
    page("/account/session")  # not offered by default: 404 in both
    answer(browser.submit("/account/", "AccountDelete", {}, json=True))
    page("/account/")
    return seen


def test_flask_and_django_answer_alike(tmp_path: Path, settings: Any) -> None:
    """Statuses, redirect targets, JSON bodies, page languages and mails are the same."""
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WSACTIONS = WSACTIONS
    mail.outbox = []
    conf.reset()
    try:
        through_django = journey(django_browser())
    finally:
        conf.reset()
    through_flask = journey(flask_browser(tmp_path))
    assert through_flask == through_django
    assert ("GET", "/account/addresses", 200, "", "de") in through_flask  # the switch held
