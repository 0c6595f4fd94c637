"""The Django adapter on the shared request cycle: imports from the app package,
``request.customer``, a layout in Django's template language, page groups and paths,
503 when the database is down, and the system checks of that setup."""

from __future__ import annotations

import importlib
import time
from typing import Any
from unittest import mock

import pytest
from django.core.checks import run_checks
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import clear_url_caches, include, path

from helpers import PW
from wsactions.contrib.django import conf
from wsactions.errors import StorageUnavailableError
from wsactions.security.passwords import hasher_for
from wsactions.settings import TESTING_HASHING

pytestmark = pytest.mark.django_db

WSACTIONS: dict[str, Any] = {
    "BASE_URL": "http://testserver",
    "SHOP_NAME": "Test shop",
    "SETTINGS": {"password_hashing": TESTING_HASHING},
}


def customer_view(request: HttpRequest) -> HttpResponse:
    customer = request.customer  # type: ignore[attr-defined]
    return HttpResponse(customer.email if customer else "nobody")


def broken_view(request: HttpRequest) -> HttpResponse:
    raise StorageUnavailableError("the database did not answer")


urlpatterns = [
    path("customer", customer_view),
    path("broken", broken_view),
    path("account/", include("wsactions.contrib.django.urls")),
]


def reload_area(settings: Any, **wsactions: Any) -> None:
    """New WSACTIONS: the configuration is read again and the account area's URLs rebuilt."""
    settings.WSACTIONS = {**WSACTIONS, **wsactions}
    conf.reset()
    from wsactions.contrib.django import urls

    importlib.reload(urls)
    urlpatterns[-1] = path("account/", include("wsactions.contrib.django.urls"))
    clear_url_caches()


@pytest.fixture(autouse=True)
def project(settings: Any) -> Any:
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reload_area(settings)
    yield
    reload_area(settings)


def logged_in() -> Client:
    """A browser logged in to a stored account (through the pack's login form)."""
    config = conf.get_config()
    from wsactions.models import Account
    from wsactions.security.emails import parse_email

    address = parse_email("ann@example.com")
    assert address is not None
    config.storage.accounts.add_account(
        Account(
            id="ann",
            email=address.address,
            email_key=address.key,
            password_hash=hasher_for(TESTING_HASHING).hash(PW),
            verified=True,
            security_stamp="s",
        )
    )
    client = Client()
    page = client.get("/account/login").content.decode()
    form = hidden_fields(page, "Login")
    response = client.post(
        "/account/login", {**form, "id": "ann@example.com", "password": PW, "wstarget": "/x"}
    )
    assert response.status_code == 303
    return client


def test_views_import_from_the_app_package() -> None:
    """``from wsactions.contrib.django import current_account, login_required`` works."""
    from wsactions.contrib.django import context, current_account, login_required, result
    from wsactions.contrib.django.middleware import current_account as from_middleware

    assert current_account is from_middleware
    assert callable(login_required)
    assert callable(context)
    assert callable(result)
    from wsactions.contrib import django as app

    with pytest.raises(AttributeError):
        _ = app.nothing  # type: ignore[attr-defined]


def test_request_customer_is_the_logged_in_account() -> None:
    """``request.customer``: the account when logged in, falsy otherwise."""
    assert Client().get("/customer").content == b"nobody"
    assert logged_in().get("/customer").content == b"ann@example.com"


def customer_twice(request: HttpRequest) -> HttpResponse:
    from wsactions.contrib.django import current_account

    account = current_account(request)
    customer = request.customer  # type: ignore[attr-defined]
    return HttpResponse(f"{account.email if account else ''} {customer.email}")


def test_login_required_view_reads_the_login_once() -> None:
    """@login_required, current_account(request) and request.customer share one read of
    the login and its account (RequestCycle.account)."""
    from wsactions.contrib.django import login_required

    client = logged_in()
    urlpatterns.insert(0, path("twice", login_required(customer_twice)))
    clear_url_caches()
    logins = conf.get_config().storage.logins
    try:
        with mock.patch.object(logins, "get_login_account", wraps=logins.get_login_account) as read:
            assert client.get("/twice").content == b"ann@example.com ann@example.com"
    finally:
        del urlpatterns[0]
        clear_url_caches()
    assert read.call_count == 1


def test_pages_in_a_dtl_layout(settings: Any) -> None:
    """WSACTIONS["LAYOUT"] names a template of Django's language: the pack's page is inside
    it, unescaped, with the head, menu and scripts the layout places."""
    reload_area(settings, LAYOUT="shop/layout.html")
    page = Client().get("/account/register").content.decode()
    assert page.startswith("<!doctype html>")
    header = page.split('<header id="shop-header">', 1)[1].split("</header>", 1)[0]
    assert header.startswith("DTL shop header")
    assert "<nav" in header
    assert 'name="wsact" value="AccountRegister"' in page  # the form, not escaped
    assert "&lt;form" not in page
    assert "wsactions.css" in page
    assert "strength.js" in page
    assert "Impressum: DTL shop GmbH" in page
    assert " · DTL shop</title>" in page


def test_page_groups_and_paths(settings: Any) -> None:
    """PAGES leaves groups out (404, not in the menu); PATHS renames pages and mailed links."""
    reload_area(settings, PAGES=["account"], PATHS={"register": "registrieren"})
    client = Client()
    assert client.get("/account/cards").status_code == 404
    assert client.get("/account/register").status_code == 404
    page = client.get("/account/registrieren").content.decode()
    assert 'href="/account/registrieren"' in page
    assert conf.get_config().settings.optin_paths["activate"] == "/account/confirm"
    assert "invitation" not in conf.get_config().settings.optin_paths


def test_database_down_is_503(settings: Any) -> None:
    """A StorageUnavailableError in any view is a 503 page in the request's language."""
    with override_settings(LANGUAGE_CODE="de"):
        response = Client().get("/broken")
    assert response.status_code == 503
    assert '<html lang="de">' in response.content.decode()


def check_ids() -> set[str]:
    conf.reset()
    found = run_checks(include_deployment_checks=False, databases=["default"])
    return {m.id for m in found if m.id and m.id.startswith("wsactions.")}


def test_check_e009_unapplied_migrations() -> None:
    """wsactions.E009 when the database lacks wsactions' migrations."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.migration import Migration

    assert "wsactions.E009" not in check_ids()
    pending = [(Migration("0002_expiry_indexes", "wsactions"), False)]
    with mock.patch.object(MigrationExecutor, "migration_plan", return_value=pending):
        assert "wsactions.E009" in check_ids()


def test_check_e010_layout_missing(settings: Any) -> None:
    """wsactions.E010 when WSACTIONS["LAYOUT"] names no template."""
    settings.WSACTIONS = {**WSACTIONS, "LAYOUT": "shop/nothing.html"}
    assert "wsactions.E010" in check_ids()
    settings.WSACTIONS = {**WSACTIONS, "LAYOUT": "shop/layout.html"}
    assert "wsactions.E010" not in check_ids()


def test_check_w003_request_context_processor(settings: Any) -> None:
    """wsactions.W003 when Django's templates lack the request context processor."""
    templates = [dict(t) for t in settings.TEMPLATES]
    for backend in templates:
        if backend["BACKEND"].endswith("DjangoTemplates"):
            options = dict(backend.get("OPTIONS", {}))
            options["context_processors"] = [
                p for p in options.get("context_processors", ()) if not p.endswith(".request")
            ]
            backend["OPTIONS"] = options
    settings.TEMPLATES = templates
    assert "wsactions.W003" in check_ids()


def test_the_django_integration_loads_no_sqlalchemy() -> None:
    """Importing the app's storage, middleware, models and views loads neither SQLAlchemy
    nor Alembic (they are the extra wsactions[sql]; Django stores through the ORM)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    script = (
        "import os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'settings'\n"
        "import django\n"
        "django.setup()\n"
        "import wsactions.contrib.django.middleware, wsactions.contrib.django.storage\n"
        "import wsactions.contrib.django.models, wsactions.contrib.django.views\n"
        "from wsactions.contrib.django.conf import get_config\n"
        "get_config()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))\n"
    )
    paths = [str(here), str(here.parents[1]), *sys.path]
    done = subprocess.run(  # noqa: S603 - a fixed script with the running interpreter
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def dtl_page(request: HttpRequest) -> HttpResponse:
    from django.template import engines

    template = engines["django"].from_string(
        "{% if wsAccount.isLoggedIn %}{{ wsAccount.email }}{% else %}guest{% endif %}"
        " <a href='{{ wsPages.login }}'>log in</a>"
    )
    return HttpResponse(template.render({}, request))


urlpatterns.insert(0, path("dtl-page", dtl_page))


def test_anonymous_page_without_a_form_writes_no_session() -> None:
    """A visitor's page that renders no form (the context processor's globals, a link to
    the login page) creates no session row and sets no session cookie: the CSRF binding is
    made only when a form needs it."""
    from django.contrib.sessions.models import Session

    response = Client().get("/dtl-page")
    assert response.status_code == 200
    assert b"guest" in response.content
    assert "sessionid" not in response.cookies
    assert Session.objects.count() == 0
    assert "sessionid" in Client().get("/account/login").cookies  # a form: a binding


def hidden_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts *action*."""
    import re

    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        if fields.get("wsact") == action:
            return fields
    raise AssertionError(f"no {action} form")


def test_security_page_and_second_factor_login_on_django() -> None:
    """The pack's security page and the login page's second step work in Django with no
    code of the host's (the shared page table and templates)."""
    import re

    import pyotp

    client = logged_in()
    page = client.get("/account/security").content.decode()
    page = client.post("/account/security", hidden_fields(page, "TotpSetup")).content.decode()
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found is not None
    totp = pyotp.TOTP(found.group(1))
    form = {**hidden_fields(page, "TotpConfirm"), "code": totp.now()}
    done = client.post("/account/security", form).content.decode()
    assert "Your recovery codes" in done
    browser = Client()
    login = hidden_fields(browser.get("/account/login").content.decode(), "Login")
    page = browser.post(
        "/account/login", {**login, "id": "ann@example.com", "password": PW}
    ).content.decode()
    second = {**hidden_fields(page, "LoginSecondFactor"), "code": totp.at(time.time() + 30)}
    assert browser.post("/account/login", second).status_code == 303
    assert browser.get("/customer").content == b"ann@example.com"
