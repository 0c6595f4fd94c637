"""wsactions.web: the request cycle every adapter shares, driven without a framework."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from helpers import DownStorage
from wsactions import MappingSession, RecordingMailer
from wsactions.backends.memory import MemoryStorage
from wsactions.errors import ConfigurationError
from wsactions.pages import PageTable
from wsactions.testing import TEST_SECRET_KEY, testing_settings
from wsactions.web import AccountArea, Formats, Host, WebRequest, wants_json


def make_area(**config: Any) -> AccountArea:
    values = {"MAILER": RecordingMailer(), "BASE_URL": "https://shop.example", **config}
    return AccountArea.from_config(
        values.get, secret_key=TEST_SECRET_KEY, default_storage=MemoryStorage
    )


def get(area: AccountArea, session: dict[str, Any] | None = None, **request: Any) -> Any:
    values = {"method": "GET", "path": "/account/", **request}
    return area.cycle(WebRequest(**values), MappingSession({} if session is None else session))


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        ("application/json", True),
        ("text/html", False),
        ("*/*", False),
        ("application/json, text/html", False),  # a tie is HTML
        ("text/html;q=0.5, application/json", True),
        ("application/*", True),
        ("", False),
        ("application/json;q=0", False),
        ("x" * 100_000, False),
    ],
)
def test_wants_json(accept: str, json: bool) -> None:
    """JSON only when the client prefers it to HTML; bounded for any header."""
    assert wants_json(accept) is json


class TestLocale:
    """The language of a request: the shop decides which exist, then the request chooses."""

    def test_one_language_whatever_the_browser_asks(self) -> None:
        area = make_area(SETTINGS={"locales": ("de",)})
        session = {"_wsa.locale": "en"}
        cycle = get(area, session, accept_language="en-US,en;q=0.9", framework_locale="en")
        assert cycle.locale == "de"
        assert area.settings.default_locale == "de"

    def test_browser_chooses_among_several(self) -> None:
        area = make_area(SETTINGS={"locales": ("de", "en")})
        assert get(area, accept_language="en-US").locale == "en"
        assert get(area, accept_language="fr").locale == "de"  # not offered: the default
        assert get(area).locale == "de"

    def test_switcher_then_framework_then_browser(self) -> None:
        area = make_area(SETTINGS={"locales": ("en", "de")})
        assert get(area, {"_wsa.locale": "de"}, accept_language="en").locale == "de"
        assert get(area, framework_locale="de", accept_language="en").locale == "de"
        assert get(area, framework_locale="fr", accept_language="de").locale == "de"

    def test_host_selector_first(self) -> None:
        def selector(native: Any) -> str | None:
            return native.get("lang") if isinstance(native, Mapping) else None

        area = make_area(SETTINGS={"locales": ("en", "de")}, LOCALE_SELECTOR=selector)
        assert get(area, {"_wsa.locale": "en"}, native={"lang": "de"}).locale == "de"
        assert get(area, {"_wsa.locale": "en"}, native={"lang": "xx"}).locale == "en"

    def test_locales_are_checked(self) -> None:
        with pytest.raises(ConfigurationError):
            testing_settings(locales="de")
        with pytest.raises(ConfigurationError):
            testing_settings(locales=("de", "de"))


class TestLanguageUpdate:
    """The pack's language switcher: an action, so that CSRF and the unit of work hold."""

    def test_switch_records_the_choice_and_the_accounts_mail_language(self) -> None:
        from wsactions.testing import Harness

        shop = Harness(locales=("en", "de"))
        account = shop.create_account("a@example.com", "correct horse battery staple 42")
        alice = shop.client()
        shop.log_in(alice, account)
        assert alice.submit("LanguageUpdate", locale="de").success
        assert alice.session.locale == "de"
        stored = shop.accounts.get_account(account.id)
        assert stored is not None
        assert stored.locale == "de"

    def test_language_not_offered_changes_nothing(self) -> None:
        from wsactions.testing import Harness

        shop = Harness(locales=("en", "de"))
        alice = shop.client()
        before = shop.state()
        assert alice.submit("LanguageUpdate", locale="fr").codes == {"invalidValue"}
        assert alice.session.locale is None
        assert shop.state() == before


class TestPages:
    """The pages a shop serves: groups it offers, paths of its own."""

    def test_default_groups_leave_the_session_page_out(self) -> None:
        table = PageTable()
        assert "session" not in table
        assert {"account", "addresses", "cards", "guest", "company", "invitation"} <= set(
            table.pages
        )

    def test_groups_and_paths(self) -> None:
        table = PageTable("/konto", groups=["addresses"], paths={"register": "registrieren"})
        assert set(table.pages) >= {"login", "register", "addresses"}
        assert "cards" not in table
        assert "company" not in table
        assert table.url("register") == "/konto/registrieren"
        assert table.url("account") == "/konto/"
        assert "invitation" not in table.optin_paths()  # a group the shop does not offer
        assert table.optin_paths()["activate"] == "/konto/confirm"

    @pytest.mark.parametrize(
        "config",
        [
            {"groups": ["shop"]},
            {"paths": {"nothing": "x"}},
            {"paths": {"register": "login"}},
            {"paths": {"register": "../x"}},
        ],
    )
    def test_mistakes_are_refused(self, config: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            PageTable(**config)

    def test_page_not_offered_is_404(self) -> None:
        area = make_area(PAGES=["account"])
        assert get(area).page("cards").status == 404
        assert get(area).page("login").status == 200

    def test_menu_lists_only_offered_pages(self) -> None:
        from wsactions.testing import Harness

        area = make_area(PAGES=["account", "addresses"])
        shop = Harness(storage=area.storage)
        account = shop.create_account("a@example.com")
        session: dict[str, Any] = {}
        client = shop.client()
        client.cookie = session
        client.session = MappingSession(session)
        shop.log_in(client, account)
        html = get(area, session).page("account").html
        assert 'href="/account/addresses"' in html
        assert "/account/cards" not in html
        assert "/account/company" not in html


class TestLayout:
    """A layout of the shop's own wraps the page's parts."""

    def test_layout_gets_the_parts(self) -> None:
        seen: dict[str, Any] = {}

        def render_layout(template: str, variables: Mapping[str, Any]) -> str:
            seen.update(variables, template=template)
            return "LAYOUT"

        area = make_area(LAYOUT="shop/layout.html", SETTINGS={"locales": ("de",)})
        cycle = area.cycle(
            WebRequest(method="GET", path="/account/register"),
            MappingSession({}),
            Host(render_layout=render_layout),
        )
        answer = cycle.page("register")
        assert (answer.status, answer.html) == (200, "LAYOUT")
        assert seen["template"] == "shop/layout.html"
        assert seen["wsLang"] == "de"
        assert "<form" in seen["wsContent"]
        assert "<html" not in seen["wsContent"]
        assert "wsactions.css" in seen["wsHead"]
        assert "strength.js" in seen["wsScripts"]  # the register page's meter
        assert "<nav" in seen["wsNav"]
        assert seen["wsTitle"].strip()
        assert "wsAccount" in seen
        assert "wsPages" in seen

    def test_without_a_layout_the_pack_layout(self) -> None:
        html = get(make_area(SETTINGS={"locales": ("de",)})).page("login").html
        assert html.startswith("<!doctype html>")
        assert '<html lang="de">' in html


class TestUnavailable:
    """A database that is down is a 503 in the request's language, never a 500."""

    Down = DownStorage

    def test_action_answers_503(self) -> None:
        area = make_area(STORAGE=self.Down(), SETTINGS={"locales": ("de",)})
        session: dict[str, Any] = {}
        handle = area.registry.create(get(area, session).ctx, "Login")
        form = {"wsact": handle.id, "wscsrf": handle.csrf, "id": "a@example.com", "password": "x"}
        answer = get(area, session, method="POST", form=form).run()
        assert answer is not None
        assert answer.status == 503
        assert '<html lang="de">' in answer.html
        json = get(area, session, method="POST", form=form, accept="application/json").run()
        assert json is not None
        assert json.status == 503
        assert json.json["errors"][0]["code"] == "storageUnavailable"

    def test_page_answers_503(self) -> None:
        area = make_area(STORAGE=self.Down())
        session = {"_wsa.account": "someone", "_wsa.login": "secret"}  # a page reads storage
        answer = get(area, session).page("account")
        assert answer.status == 503


def test_formats_in_the_shops_zone_and_currency() -> None:
    """Dates in Settings.timezone, amounts in Settings.currency, countries sorted by name."""
    settings = testing_settings(timezone="Europe/Berlin", currency="CHF")
    german = Formats(settings, "de")
    assert german.datetime(1_800_000_000) == "15.01.2027, 09:00:00"
    assert german.iso(1_800_000_000) == "2027-01-15T09:00+01:00"
    assert german.money(Decimal("1234.5")) == "1.234,50\xa0CHF"
    names = [name for _, name in german.countries()]
    assert names.index("Dänemark") < names.index("Deutschland")  # ä sorts as a, not after z
    assert names.index("Niederlande") < names.index("Österreich") < names.index("Polen")
    assert german.country("DE") == "Deutschland"
    with pytest.raises(ConfigurationError):
        testing_settings(currency="euro")
    with pytest.raises(ConfigurationError):
        testing_settings(timezone="Mars/Olympus")


class TestAccountOfTheRequest:
    """RequestCycle.account: one read of the login and its account per request, and a new
    read after an action ran (whether the cycle or the host ran it)."""

    def logged_in(self) -> tuple[AccountArea, dict[str, Any], Any]:
        from wsactions.testing import Harness

        area = make_area()
        shop = Harness(storage=area.storage)
        account = shop.create_account("a@example.com", "correct horse battery staple 42")
        session: dict[str, Any] = {}
        client = shop.client()
        client.cookie = session
        client.session = MappingSession(session)
        shop.log_in(client, account)
        return area, session, account

    def test_read_once(self) -> None:
        area, session, account = self.logged_in()
        cycle = get(area, session)
        logins = area.storage.logins
        with mock.patch.object(logins, "get_login_account", wraps=logins.get_login_account) as read:
            assert cycle.account() == account
            assert cycle.account() == account
            assert cycle.view.wsAccount.email == "a@example.com"
        assert read.call_count == 1

    def test_read_again_after_an_action(self) -> None:
        area, session, _ = self.logged_in()
        cycle = get(area, session)
        before = cycle.account()
        assert before is not None
        assert before.display_name != "Erika"
        handle = area.registry.create(cycle.ctx, "accountDisplayNameUpdate")
        form = {"wsact": handle.id, "wscsrf": handle.csrf, "displayName": "Erika"}
        assert area.registry.execute(cycle.ctx, form).success  # the host ran it
        after = cycle.account()
        assert after is not None
        assert after.display_name == "Erika"

    def test_logged_out_in_the_request(self) -> None:
        area, session, _ = self.logged_in()
        cycle = get(area, session)
        assert cycle.account() is not None
        cycle.ctx.session.log_out()
        assert cycle.account() is None


class TestTemplateCache:
    """TEMPLATE_CACHE: the pack's compiled templates are kept for the next worker."""

    def test_a_directory_keeps_compiled_templates(self, tmp_path: Any) -> None:
        area = make_area(TEMPLATE_CACHE=str(tmp_path))
        assert get(area).page("login").status == 200
        kept = list(tmp_path.iterdir())
        assert kept  # the login page's templates, compiled
        again = make_area(TEMPLATE_CACHE=str(tmp_path))
        with mock.patch.object(again.templates, "compile", wraps=again.templates.compile) as made:
            assert get(again).page("login").status == 200
        assert made.call_count == 0  # loaded from the cache, not compiled

    def test_false_turns_it_off(self) -> None:
        assert make_area(TEMPLATE_CACHE=False).templates.bytecode_cache is None

    def test_default_is_jinjas_private_directory(self) -> None:
        import jinja2

        cache = make_area().templates.bytecode_cache
        assert isinstance(cache, jinja2.FileSystemBytecodeCache)

    def test_anything_else_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="TEMPLATE_CACHE"):
            make_area(TEMPLATE_CACHE=42)


def test_shipped_language_names_are_cldrs() -> None:
    """The switcher's names of the shipped languages (kept without Babel) are CLDR's."""
    from babel import Locale

    from wsactions.web import _SHIPPED_NAMES, _locale_names

    for tag, name in _SHIPPED_NAMES.items():
        cldr = Locale.parse(tag).get_display_name(tag) or ""
        assert name == cldr[:1].upper() + cldr[1:]
    assert _locale_names(("de", "fr")) == (("de", "Deutsch"), ("fr", "Français"))
