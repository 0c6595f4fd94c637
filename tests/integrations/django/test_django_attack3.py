"""Attack run 3 on the Django adapter: ``next`` on the login page (2) and the default mailer
(8). Django's CSRF check needs no counterpart of item 5: the system check E005 refuses a
``WsActionsMiddleware`` placed before ``CsrfViewMiddleware``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client
from django.urls import include, path

from helpers import PW
from wsactions import Account, BackgroundMailer, Mail
from wsactions.contrib.django import conf
from wsactions.contrib.django.conf import DjangoMailer, get_config
from wsactions.contrib.django.views import login_required
from wsactions.security.passwords import hasher_for
from wsactions.settings import TESTING_HASHING

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"

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

#: A page in Django's own template language that links back to its ``next``.
DTL_NEXT = (
    "{% load wsactions %}{% wstarget request.GET.next '/account/' as back %}"
    '<a id="back" href="{{ back }}">back</a>'
)


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("private")


def dtl_next(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(DTL_NEXT).render({}, request))


urlpatterns = [
    path("private", private),
    path("dtl/next", dtl_next),
    path("account/", include("wsactions.contrib.django.urls")),
]


@pytest.fixture(autouse=True)
def project(settings: Any) -> Iterator[None]:
    """This module is the project's URLconf; mails go to django.core.mail.outbox."""
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    conf.reset()
    yield
    conf.reset()


def add_account() -> None:
    storage = get_config().storage
    account = Account(
        id="acc-ann",
        email=EMAIL,
        email_key=EMAIL,
        password_hash=hasher_for(TESTING_HASHING).hash(PW),
        verified=True,
        security_stamp="stamp",
    )
    with storage.transaction():
        assert storage.accounts.add_account(account)


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


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


def logged_in() -> Client:
    add_account()
    client = Client(enforce_csrf_checks=True)
    fields = form_of(page_of(client, "/account/login"), "Login")
    response = client.post("/account/login", {**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 303
    return client


# 2: the login page renders only a next the engine would redirect to ----------------------


@pytest.mark.parametrize("is_logged_in", [False, True], ids=["form", "link"])
@pytest.mark.parametrize("unsafe", UNSAFE_NEXT)
def test_attack3_2_login_page_never_renders_an_unsafe_next(unsafe: str, is_logged_in: bool) -> None:
    """The template pack under Django: a next with a tab, CR, LF, ``//``, a foreign host or a
    backslash appears in no link and no field of the login page."""
    client = logged_in() if is_logged_in else Client(enforce_csrf_checks=True)
    page = page_of(client, f"/account/login?next={quote(unsafe, safe='')}")
    assert not [v for v in links_and_values(page) if "evil.example" in v]
    assert "evil.example" not in html.unescape(page)
    if is_logged_in:
        assert '<a href="/account/">your account</a>' in page
    else:
        assert form_of(page, "Login")["wstarget"] == "/account/"


def test_attack3_2_login_page_keeps_a_good_next() -> None:
    """A same-site next is posted as wstarget, linked when logged in, and followed."""
    add_account()
    client = Client(enforce_csrf_checks=True)
    url = f"/account/login?next={quote(GOOD_NEXT, safe='')}"
    fields = form_of(page_of(client, url), "Login")
    assert fields["wstarget"] == GOOD_NEXT
    response = client.post(url, {**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 303
    assert response["Location"] == GOOD_NEXT
    assert GOOD_NEXT in links_and_values(page_of(client, url))


@pytest.mark.parametrize("unsafe", UNSAFE_NEXT)
def test_attack3_2_dtl_tag_wstarget(unsafe: str) -> None:
    """``{% wstarget %}`` (Django's template language) is the same helper: the default for an
    unsafe next, the next itself for a good one."""
    client = Client()
    page = page_of(client, f"/dtl/next?next={quote(unsafe, safe='')}")
    assert '<a id="back" href="/account/">' in page
    assert "evil.example" not in html.unescape(page)
    page = page_of(client, f"/dtl/next?next={quote(GOOD_NEXT, safe='')}")
    assert links_and_values(page) == [GOOD_NEXT]


def test_attack3_2_login_required_sends_only_a_safe_next() -> None:
    """@login_required sends the current URL as next through the engine's rules (Django's
    get_full_path() encodes a backslash, so it stays same-site)."""
    client = Client()
    response = client.get("/private?x=1")
    assert response["Location"] == "/account/login?next=/private%3Fx%3D1"
    response = client.get("/private", QUERY_STRING="x=\\evil.example")
    assert response["Location"] == "/account/login?next=/private%3Fx%3D%255Cevil.example"


# 8: mails never printed by default --------------------------------------------------------


def test_attack3_8_default_mailer_is_djangos_email_backend(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without WSACTIONS["MAILER"] mails go through Django's EMAIL_BACKEND (SMTP unless the
    project chose otherwise), never to standard output, whatever DEBUG says."""
    settings.DEBUG = False
    mailer = get_config().mailer
    inner = mailer.mailer if isinstance(mailer, BackgroundMailer) else mailer
    assert isinstance(inner, DjangoMailer)
    DjangoMailer().send(Mail(to=EMAIL, subject="Reset", text="https://testserver/reset?t=x"))
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert "reset" not in capsys.readouterr().out
