"""The Django integration end to end: middleware, template pack, template tags, checks,
admin, management commands, the example project. Django's CSRF protection is on
(``Client(enforce_csrf_checks=True)``) and every form passes it."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client, override_settings
from django.urls import include, path

from helpers import PW
from wsactions import BackgroundMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.contrib.django import conf
from wsactions.contrib.django.conf import DjangoMailer, get_config
from wsactions.contrib.django.middleware import current_account
from wsactions.contrib.django.models import Account as AccountRow
from wsactions.contrib.django.models import OptinToken
from wsactions.contrib.django.views import login_required
from wsactions.security.tokens import hash_token

pytestmark = pytest.mark.django_db

NEW_PW = "another quite long passphrase 77"
EMAIL = "ann@example.com"
HERE = Path(__file__).parent
ROOT = HERE.parent.parent.parent
EXAMPLE = ROOT / "examples" / "django_shop"

#: The test settings' (settings.py): Django's CSRF middleware, then WsActionsMiddleware.
MIDDLEWARE = list(django_settings.MIDDLEWARE)
WSACTIONS: dict[str, Any] = dict(django_settings.WSACTIONS)


# the project's views -----------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    return HttpResponse(f"home:{account.email if account else 'guest'}")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    return HttpResponse(account.email if account else "nobody")


def dtl_login(request: HttpRequest) -> HttpResponse:
    return render(request, "dtl_login.html", using="django")


urlpatterns = [
    path("", home),
    path("private", private),
    path("dtl/login", dtl_login),
    path("dtl/done", home),
    path("account/", include("wsactions.contrib.django.urls")),
    path("admin/", admin.site.urls),
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


# helpers -------------------------------------------------------------------------------


def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form of *action* on *page* (wsact, wscsrf, Django's token…)."""
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = {}
        for tag in re.findall(r"<input\b[^>]*>", form):
            attrs = _attrs(tag)
            if attrs.get("type") == "hidden" and "name" in attrs:
                fields[attrs["name"]] = attrs.get("value", "")
        if fields.get("wsact") == action:
            return fields
    raise AssertionError(f"no form of {action} on the page")


def get(client: Client, url: str, **kwargs: Any) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response
    return response.content.decode()


def post_form(
    client: Client, url: str, action: str, values: dict[str, str], **kwargs: Any
) -> HttpResponse:
    """Open *url*, fill the form of *action* with *values* and post it."""
    fields = form_of(get(client, url), action)
    return client.post(url, {**fields, **values}, **kwargs)


def mailed_link(index: int = -1) -> str:
    """The path and query of the link in a mail of the outbox."""
    found = re.search(r"https?://\S+", mail.outbox[index].body)
    assert found is not None
    parts = urlsplit(found.group(0))
    assert parts.netloc == "testserver"
    return f"{parts.path}?{parts.query}"


def register(client: Client, email: str = EMAIL, password: str = PW) -> None:
    response = post_form(
        client,
        "/account/register",
        "AccountRegister",
        {"email": email, "password": password, "passwordRepeat": password},
    )
    assert response.status_code == 200
    assert "Thank you for registering" in response.content.decode()


def log_in(client: Client, email: str = EMAIL, password: str = PW) -> HttpResponse:
    return post_form(
        client,
        "/account/login",
        "Login",
        {"id": email, "password": password, "wstarget": "/account/"},
    )


def registered(email: str = EMAIL) -> Client:
    """A browser whose account is registered, confirmed and logged in."""
    client = browser()
    register(client, email)
    get(client, mailed_link())
    assert log_in(client, email).status_code == 303
    return client


def logout_link(client: Client) -> str:
    page = get(client, "/account/")
    found = re.search(r'<a href="([^"]*wsact=Logout[^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


# the account area through the template pack --------------------------------------------


def test_register_confirm_login_reset_and_address_book() -> None:
    """The whole journey through the pack's pages, Django's CSRF check on for every post."""
    client = browser()
    register(client)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert message.alternatives[0][1] == "text/html"  # text and HTML
    assert AccountRow.objects.get(email=EMAIL).verified is False

    confirmed = get(client, mailed_link())  # the EmailVerify link runs through follow
    assert "confirmed" in confirmed.lower()
    assert AccountRow.objects.get(email=EMAIL).verified is True

    wrong = log_in(client, password="not the password at all 1")
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()
    response = log_in(client)
    assert response.status_code == 303
    assert response["Location"] == "/account/"
    assert EMAIL in get(client, "/account/")
    assert client.get("/private").content.decode() == EMAIL

    # forgot → mailed link → the reset form carries the token → new password
    forgot = post_form(client, "/account/forgot", "PasswordForgotten", {"email": EMAIL})
    assert forgot.status_code == 200
    link = mailed_link()
    assert link.startswith("/account/reset?")
    page = get(client, link)
    fields = form_of(page, "ResetPassword")
    assert fields["wsoptin"]  # the page's token goes along with the form
    done = client.post(link, {**fields, "newPassword": NEW_PW, "newPasswordRepeat": NEW_PW})
    assert done.status_code == 200
    assert client.get("/private").status_code == 303  # a new password logs out everywhere
    assert log_in(client).status_code == 200  # the old password is refused
    assert log_in(client, password=NEW_PW).status_code == 303

    # the address book: a field error at its field, then a saved address
    address = {
        "type": "bill",
        "address.firstName": "Ann",
        "address.lastName": "Example",
        "address.street": "Hauptstraße",
        "address.houseNumber": "1",
        "address.zip": "ABC",
        "address.city": "Berlin",
        "address.country": "DE",
    }
    failed = post_form(client, "/account/addresses", "AddressCreate", address)
    assert failed.status_code == 200
    text = failed.content.decode()
    zip_error = re.search(r'id="new-address-address-zip-error"[^>]*>([^<]*)', text)
    assert zip_error is not None
    assert "postal code" in zip_error.group(1)
    assert 'aria-invalid="true"' in text
    assert 'value="Hauptstraße"' in text  # the form is refilled
    saved = post_form(
        client, "/account/addresses", "AddressCreate", {**address, "address.zip": "10115"}
    )
    assert "10115 Berlin" in saved.content.decode()


def test_django_csrf_check_stays_on() -> None:
    """A post without Django's token is refused before any action runs."""
    client = browser()
    fields = form_of(get(client, "/account/register"), "AccountRegister")
    del fields["csrfmiddlewaretoken"]
    response = client.post(
        "/account/register", {**fields, "email": EMAIL, "password": PW, "passwordRepeat": PW}
    )
    assert response.status_code == 403
    assert not AccountRow.objects.filter(email=EMAIL).exists()
    assert mail.outbox == []


def test_json_answer() -> None:
    """Accept: application/json (and ajax actions) get the core's JSON answer."""
    client = browser()
    fields = form_of(get(client, "/account/register"), "AccountRegister")
    page = get(client, "/account/register")
    check = re.search(r'data-strength="([^"]+)" data-strength-csrf="([^"]+)"', page)
    assert check is not None
    response = client.post(
        "/account/register",
        {
            "wsact": check.group(1),
            "wscsrf": check.group(2),
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
            "password": "Tr0ub4dor&3 horse",
        },
    )
    data = response.json()
    assert data["name"] == "CheckPasswordStrength"
    assert data["success"] is True
    assert set(data["data"]) == {"value", "max", "accepted"}
    assert "Tr0ub4dor" not in response.content.decode()

    with override_settings(LANGUAGE_CODE="de"):
        failed = post_form(
            client,
            "/account/login",
            "Login",
            {"id": "x@example.com", "password": "wrong password 1 x"},
            HTTP_ACCEPT="application/json",
        )
    answer = failed.json()
    assert answer["success"] is False
    assert answer["errors"][0]["code"] == "invalidCredentials"
    assert "Passwort" in answer["errors"][0]["message"]
    assert "password" not in answer["params"]


@pytest.mark.parametrize(
    "engine",
    ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.signed_cookies"],
)
def test_logout_link_and_copied_session_cookie(engine: str, settings: Any) -> None:
    """The signed Logout link logs out and redirects; a copy of the session cookie taken
    before is logged out too, even a signed cookie that Django cannot revoke (the login is
    a record on the server)."""
    settings.SESSION_ENGINE = engine
    owner = registered()
    thief = browser()
    thief.cookies["sessionid"] = owner.cookies["sessionid"].value
    assert thief.get("/private").content.decode() == EMAIL

    response = owner.get(logout_link(owner))
    assert response.status_code == 303
    assert response["Location"] == "/"
    assert owner.get("/").content.decode() == "home:guest"
    assert thief.get("/private").status_code == 303
    assert thief.get("/").content.decode() == "home:guest"


def test_session_id_rotates_at_login() -> None:
    """Login gives the session a new id (request.session.cycle_key)."""
    client = browser()
    register(client)
    get(client, mailed_link())
    get(client, "/account/login")
    before = client.cookies["sessionid"].value
    assert log_in(client).status_code == 303
    assert client.cookies["sessionid"].value != before


def test_django_csrf_token_rotates_at_login_and_logout() -> None:
    """Login and Logout also give Django's CSRF token a new value, as
    ``django.contrib.auth.login`` does: a token learnt before the login (CSRF token
    fixation) is worthless after it, and the page of the response carries the new one."""
    client = browser()
    register(client)
    get(client, mailed_link())
    learnt = form_of(get(client, "/account/login"), "Login")["csrfmiddlewaretoken"]
    before = client.cookies["csrftoken"].value
    assert log_in(client).status_code == 303
    after_login = client.cookies["csrftoken"].value
    assert after_login != before
    assert client.post("/account/", {"csrfmiddlewaretoken": learnt}).status_code == 403
    response = client.get(logout_link(client))
    assert response.status_code == 303
    assert client.cookies["csrftoken"].value not in (before, after_login)


def test_login_required_sends_to_the_login_page_and_back() -> None:
    """@login_required → the login page with next → the login form posts it as wstarget."""
    client = browser()
    register(client)
    get(client, mailed_link())
    response = client.get("/private?x=1")
    assert response.status_code == 303
    assert response["Location"] == "/account/login?next=/private%3Fx%3D1"
    page = get(client, response["Location"])
    assert form_of(page, "Login")["wstarget"] == "/private?x=1"  # the pack reads request.args
    back = client.post(
        response["Location"], {**form_of(page, "Login"), "id": EMAIL, "password": PW}
    )
    assert back.status_code == 303
    assert back["Location"] == "/private?x=1"


def test_pages_and_static_files() -> None:
    """Every page renders for a visitor; the pack's static files are served."""
    client = browser()
    for name in conf.PAGES:
        url = "/account/" + conf.PAGES[name][0]
        offered = name != "session"  # a page for developers, not served by default
        assert client.get(url).status_code == (200 if offered else 404), url
    css = client.get("/account/static/wsactions.css")
    assert css.status_code == 200
    assert client.get("/account/static/settings.py").status_code == 404


def test_language_follows_the_request() -> None:
    """Without LocaleMiddleware LANGUAGE_CODE decides (whatever the browser asks); with it,
    Django's choice."""
    client = browser()
    values = {"id": "x@example.com", "password": "wrong password 1 x"}
    english = post_form(client, "/account/login", "Login", values, HTTP_ACCEPT_LANGUAGE="de")
    assert 'lang="en"' in english.content.decode()
    with override_settings(LANGUAGE_CODE="de"):
        german = post_form(client, "/account/login", "Login", values, HTTP_ACCEPT_LANGUAGE="en")
        assert "Passwort" in german.content.decode()
    with override_settings(
        MIDDLEWARE=[*MIDDLEWARE[:1], "django.middleware.locale.LocaleMiddleware", *MIDDLEWARE[1:]],
        LANGUAGES=[("en", "English"), ("de", "German")],
        LANGUAGE_CODE="en",
    ):
        chosen = post_form(client, "/account/login", "Login", values, HTTP_ACCEPT_LANGUAGE="de")
        assert 'lang="de"' in chosen.content.decode()


# Django's template language ------------------------------------------------------------


def test_dtl_template_tags_post_a_login() -> None:
    """{% wsaction %}, {% wsform %}, the wsmessage filter, {% wsurl %}, {% wssession %}."""
    client = registered()
    client.get(logout_link(client))

    page = get(client, "/dtl/login")
    assert '<p id="who">nobody</p>' in page
    fields = form_of(page, "Login")
    assert set(fields) == {"wsact", "wscsrf", "csrfmiddlewaretoken", "wstarget"}

    failed = client.post("/dtl/login", {**fields, "id": "not an address", "password": "x"})
    text = failed.content.decode()
    assert '<p id="current">Login|False</p>' in text
    id_error = re.search(r'<p id="id-error">([^<]+)</p>', text)
    assert id_error is not None  # the field's message, through the filter
    assert 'value="not an address"' in text  # the echoed parameter refills the field

    fields = form_of(get(client, "/dtl/login"), "Login")
    response = client.post("/dtl/login", {**fields, "id": EMAIL, "password": PW})
    assert response.status_code == 303
    assert response["Location"] == "/dtl/done"
    page = get(client, "/dtl/login")
    assert f'<p id="who">{EMAIL}</p>' in page
    logout = re.search(r'<a id="logout" href="([^"]+)"', page)
    assert logout is not None
    out = client.get(html.unescape(logout.group(1)))
    assert out.status_code == 303
    assert out["Location"] == "/dtl/login"
    assert "nobody" in get(client, "/dtl/login")


def test_dtl_session_variables() -> None:
    """{% wssession %} reads what SessionUpdate (posted from a DTL form) wrote."""
    client = browser()
    page = get(client, "/dtl/login")
    assert '<p id="basket"></p>' in page
    response = client.post("/dtl/login", {**form_of(page, "SessionUpdate"), "session.basket": "3"})
    assert '<p id="current">SessionUpdate|True</p>' in response.content.decode()
    assert '<p id="basket">3</p>' in get(client, "/dtl/login")


# system checks -------------------------------------------------------------------------


def wsactions_ids(**overrides: Any) -> set[str]:
    with override_settings(**overrides):
        conf.reset()
        return {m.id for m in run_checks() if m.id and m.id.startswith("wsactions.")}


def test_system_checks_pass_for_a_good_configuration() -> None:
    assert wsactions_ids() == set()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SECRET_KEY": "short"}, "wsactions.E001"),
        ({"WSACTIONS": {**WSACTIONS, "BASE_URL": "shop.example"}}, "wsactions.E002"),
        ({"WSACTIONS": {**WSACTIONS, "BASE_URL": "ftp://shop.example"}}, "wsactions.E002"),
        (
            {"WSACTIONS": {**WSACTIONS, "SETTINGS": {"allowed_redirect_hosts": "pay.example"}}},
            "wsactions.E003",
        ),
        (
            {
                "WSACTIONS": {
                    **WSACTIONS,
                    "SETTINGS": {"allowed_redirect_hosts": ["https://pay.example/"]},
                }
            },
            "wsactions.E003",
        ),
        ({"MIDDLEWARE": MIDDLEWARE[:-1]}, "wsactions.E004"),
        ({"MIDDLEWARE": [MIDDLEWARE[-1], *MIDDLEWARE[:-1]]}, "wsactions.E005"),
        ({"MIDDLEWARE": [MIDDLEWARE[0], MIDDLEWARE[-1], *MIDDLEWARE[1:-1]]}, "wsactions.E005"),
        (
            {"WSACTIONS": {**WSACTIONS, "SETTINGS": {"max_addresses": 0}}},
            "wsactions.E006",
        ),
        ({"WSACTIONS": {**WSACTIONS, "SETTINGS": {"no_such_setting": 1}}}, "wsactions.E006"),
        ({"WSACTIONS": {**WSACTIONS, "BASEURL": "https://x.example"}}, "wsactions.E007"),
        ({"WSACTIONS": ["not", "a", "dict"]}, "wsactions.E007"),
        (
            {"MIDDLEWARE": [*MIDDLEWARE, "django.middleware.locale.LocaleMiddleware"]},
            "wsactions.W001",
        ),
        ({"WSACTIONS": {**WSACTIONS, "URL_PREFIX": "/kunden/"}}, "wsactions.W002"),
    ],
)
def test_system_checks_report(overrides: dict[str, Any], expected: str) -> None:
    assert expected in wsactions_ids(**overrides)


def test_system_check_of_the_database() -> None:
    """SQLite without transaction_mode IMMEDIATE cannot keep DjangoStorage's guarantees."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options["transaction_mode"] = "DEFERRED"
    try:
        assert "wsactions.E008" in wsactions_ids()
        assert "wsactions.E008" not in wsactions_ids(WSACTIONS={**WSACTIONS, "STORAGE": SHARED})
    finally:
        options.clear()
        options.update(saved)


def test_configuration_errors_stop_requests() -> None:
    """A configuration Settings refuses raises ImproperlyConfigured with its message."""
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(WSACTIONS={**WSACTIONS, "SETTINGS": {"max_addresses": 0}}):
        conf.reset()
        with pytest.raises(ImproperlyConfigured, match="max_addresses"):
            get_config()


# configuration ---------------------------------------------------------------------------

SHARED = MemoryStorage()


def test_storage_and_mailer_from_dotted_paths_or_factories() -> None:
    with override_settings(
        WSACTIONS={**WSACTIONS, "STORAGE": f"{__name__}.SHARED", "MAILER": DjangoMailer}
    ):
        conf.reset()
        config = get_config()
        assert config.storage is SHARED
        assert isinstance(config.mailer, DjangoMailer)
    with override_settings(WSACTIONS={**WSACTIONS, "STORAGE": MemoryStorage}):
        conf.reset()
        assert isinstance(get_config().storage, MemoryStorage)


def test_default_mailer_goes_to_the_background_for_a_mail_server() -> None:
    """Django's email backend behind BackgroundMailer when it talks to a server (as every
    adapter sends to a server), on the request's thread for Django's local backends."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        conf.reset()
        mailer = get_config().mailer
        assert isinstance(mailer, BackgroundMailer)
        assert isinstance(mailer.mailer, DjangoMailer)
    conf.reset()
    assert isinstance(get_config().mailer, DjangoMailer)  # locmem, the test backend
    client = browser()
    register(client)
    assert len(mail.outbox) == 1


def test_settings_come_from_django() -> None:
    with override_settings(SECRET_KEY_FALLBACKS=["an-old-secret-key-" + "x" * 20]):
        settings = get_config().settings
        assert settings.secret_key == django_settings.SECRET_KEY
        assert len(settings.secret_key_fallbacks) == 1
        assert settings.shop_name == "Test shop"
        assert settings.optin_path("password") == "/account/reset"
        assert settings.optin_path("verify") == "/account/confirm"


# admin -----------------------------------------------------------------------------------


def test_admin_pages_never_show_hashes() -> None:
    """The admin lists accounts (by company), addresses and groups; no password hash, stamp
    or token hash ever reaches a page."""
    client = registered()
    post_form(client, "/account/forgot", "PasswordForgotten", {"email": EMAIL})
    token_hash = OptinToken.objects.get(purpose="password").token_hash
    link_token = re.search(r"wsoptin=([^&\s]+)", mail.outbox[-1].body)
    assert link_token is not None
    assert hash_token(link_token.group(1)) == token_hash
    row = AccountRow.objects.get(email=EMAIL)
    assert row.password_hash.startswith("$argon2")

    get_user_model().objects.create_superuser("root", "root@example.com", "root-password-x")
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="root"))
    pages = [
        "/admin/",
        "/admin/wsactions/",
        "/admin/wsactions/account/",
        f"/admin/wsactions/account/?company={row.account_id}",
        "/admin/wsactions/account/?company=-",
        f"/admin/wsactions/account/?q={EMAIL}",
        f"/admin/wsactions/account/{row.seq}/change/",
        "/admin/wsactions/address/",
        "/admin/wsactions/privilegegroup/",
        "/admin/wsactions/savedcard/",
    ]
    for url in pages:
        response = staff.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "$argon2" not in text, url
        assert token_hash not in text, url
        assert row.security_stamp not in text, url
    assert EMAIL in staff.get(f"/admin/wsactions/account/?q={EMAIL}").content.decode()
    assert staff.get("/admin/wsactions/optintoken/").status_code == 404
    assert staff.get("/admin/wsactions/counter/").status_code == 404
    assert staff.get("/admin/wsactions/account/add/").status_code == 403

    # the admin action ends the logins through wsactions.logins
    changelist = staff.get("/admin/wsactions/account/")
    assert "end_logins" in changelist.content.decode()
    staff.post(
        "/admin/wsactions/account/",
        {"action": "end_logins", "_selected_action": [row.seq]},
    )
    assert client.get("/private").status_code == 303


def test_migrations_are_complete() -> None:
    """The models and their migrations agree."""
    call_command("makemigrations", "wsactions", check=True, dry_run=True, verbosity=0)


# management commands ---------------------------------------------------------------------


def command(name: str, *args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    options: dict[str, Any] = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command(name, *args, **options)
    return out.getvalue()


def test_management_commands() -> None:
    """Create, verify, unlock, set a password and end logins from the command line."""
    created = command("wsactions_create_account", EMAIL, "--password-stdin", stdin=PW + "\n")
    assert EMAIL in created
    with pytest.raises(CommandError, match="exists"):
        command("wsactions_create_account", EMAIL.upper())
    with pytest.raises(CommandError, match="at least 8"):
        command("wsactions_create_account", "bob@example.com", "--password-stdin", stdin="short")
    with pytest.raises(CommandError, match="valid email"):
        command("wsactions_create_account", "not an address")
    assert not AccountRow.objects.get(email=EMAIL).verified
    command("wsactions_verify", EMAIL)
    assert AccountRow.objects.get(email=EMAIL).verified
    with pytest.raises(CommandError, match="no account"):
        command("wsactions_verify", "nobody@example.com")

    # too many failed logins block even the right password; unlock clears the counter
    client = browser()
    limit = get_config().settings.login_throttle.limit
    for _ in range(limit):
        log_in(client, password="not the password at all 1")
    blocked = log_in(client)
    assert blocked.status_code == 200
    assert "loginBlocked" not in blocked.content.decode()  # a sentence, not a code
    command("wsactions_unlock", EMAIL)
    assert log_in(client).status_code == 303

    # a new password: checked by the policy, ends every login
    with pytest.raises(CommandError):
        command("wsactions_set_password", EMAIL, stdin="password\n")
    command("wsactions_set_password", EMAIL, stdin=NEW_PW + "\n")
    assert client.get("/private").status_code == 303
    assert log_in(client, password=PW).status_code == 200
    assert log_in(client, password=NEW_PW).status_code == 303

    other = browser()
    assert log_in(other, password=NEW_PW).status_code == 303
    assert "Ended 2 login(s)" in command("wsactions_end_logins", EMAIL)
    assert client.get("/private").status_code == 303
    assert other.get("/private").status_code == 303

    admin_out = command("wsactions_create_account", "boss@example.com", "--admin", "--verified")
    assert "boss@example.com" in admin_out
    boss = AccountRow.objects.get(email="boss@example.com")
    assert boss.admin
    assert boss.company_id == boss.account_id
    assert boss.password_hash is None


def test_passwords_never_on_the_command_line() -> None:
    with pytest.raises(CommandError):
        call_command("wsactions_create_account", EMAIL, "--password", PW)


# the example project -------------------------------------------------------------------


def test_example_is_small() -> None:
    lines = sum(len(p.read_text().splitlines()) for p in EXAMPLE.glob("*.py"))
    assert lines < 47


def test_example_project_runs(tmp_path: Path) -> None:
    """The example migrates, passes its checks and serves the home and register pages."""
    script = (
        "import django, sys\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('check', fail_level='WARNING')\n"
        "client = Client(enforce_csrf_checks=True)\n"
        "assert 'Welcome, guest' in client.get('/').content.decode()\n"
        "page = client.get('/account/register')\n"
        "assert page.status_code == 200 and 'csrfmiddlewaretoken' in page.content.decode()\n"
        "print('ok')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings",
        "SECRET_KEY": "example-secret-key-for-the-test-0123456789",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(ROOT / "src")]),
    }
    done = subprocess.run(  # noqa: S603 - a fixed script with the running interpreter
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
    assert (tmp_path / "shop.sqlite3").is_file()


def test_m43_remove_second_factor_command_and_admin() -> None:
    """``wsactions_remove_second_factor`` turns a lost factor off (a support case); the
    admin shows whether a factor is on, never its secret or recovery codes."""
    from wsactions.contrib.django.admin import SECRET_FIELDS, AccountAdmin
    from wsactions.testing import Harness

    storage = get_config().storage
    account = Harness(storage=storage).create_account("ann@example.com", PW)
    factor = {"totp_secret": "gAAAA-sealed", "totp_step": 9, "recovery_codes": {"a" * 64}}
    assert storage.accounts.update_account(account.id, factor)
    row = AccountRow.objects.get(email="ann@example.com")
    model_admin = AccountAdmin(AccountRow, admin.site)
    assert model_admin.second_factor(row) is True
    shown = set(model_admin.fields) | set(model_admin.list_display)
    assert not shown & {"totp_secret", "totp_pending", "recovery_codes"}
    assert {"totp_secret", "totp_pending", "recovery_codes"} <= set(SECRET_FIELDS)
    out = command("wsactions_remove_second_factor", "ann@example.com")
    assert "Removed the second factor of ann@example.com" in out
    stored = storage.accounts.get_account(account.id)
    assert stored is not None
    assert not stored.has_second_factor
    assert stored.recovery_codes == frozenset()
    with pytest.raises(CommandError, match="no second factor"):
        command("wsactions_remove_second_factor", "ann@example.com")
