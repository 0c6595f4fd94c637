"""Messages and mails in English and German: complete catalogues, locales, overrides."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from tools.catalogs import pack_strings, stale

import wsactions
from helpers import PW
from wsactions import ActionError, RequestInfo, default_registry
from wsactions.cli import main
from wsactions.i18n import LOCALES, error_message, mail_text, negotiate, required_keys
from wsactions.mail import MAIL_KINDS, MailTemplate
from wsactions.testing import Client, Harness, testing_settings

SPECS = default_registry().actions
LOCALE_DIR = Path(wsactions.__file__).parent / "locales"
SETTINGS = testing_settings()


def catalogue(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "wsactions.po").open("rb") as stream:
        return {m.id: m.string for m in read_po(stream) if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_required_message_is_translated(locale: str) -> None:
    """Each shipped catalogue answers every required id itself (no fallback, no fuzzy)."""
    found = catalogue(locale)
    missing = [key for key in required_keys(SPECS, MAIL_KINDS) if not found.get(key)]
    assert missing == []


def test_template_lists_the_required_ids() -> None:
    """wsactions.pot holds exactly the required ids and the template pack's strings
    (regenerate it with ``python tools/catalogs.py``)."""
    with (LOCALE_DIR / "wsactions.pot").open("rb") as stream:
        ids = {m.id for m in read_po(stream) if m.id}
    assert ids == set(required_keys(SPECS, MAIL_KINDS)) | set(pack_strings())


def test_every_pack_string_is_translated_in_german() -> None:
    """Each string Babel extracts from the pack's and the demo's templates has a German
    translation (English needs none: the ids are English)."""
    found = catalogue("de")
    missing = [text for text in pack_strings() if not found.get(text)]
    assert missing == []


def test_pack_strings_keep_their_placeholders_in_german() -> None:
    """A German pack string fills in the same values as its English id."""
    found = catalogue("de")
    for text in pack_strings():
        names = sorted(re.findall(r"%\((\w+)\)s", text))
        assert sorted(re.findall(r"%\((\w+)\)s", found[text])) == names, text


def test_catalogues_are_not_stale() -> None:
    """Regenerating the catalogues (``python tools/catalogs.py``) gives the committed
    template and catalogues: no string of the pack is missing from them."""
    assert [str(path.relative_to(LOCALE_DIR)) for path in stale()] == []


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_code_and_subcode_has_a_sentence(spec: Any, locale: str) -> None:
    """Every declared (action, code) and sub-code reads as a sentence, not as the code."""
    for code in spec.codes:
        errors = [ActionError(code)] + [
            ActionError(code, subcodes=(sub,)) for sub in spec.subcodes.get(code, ())
        ]
        for error in errors:
            text = error_message(SETTINGS, locale, spec.name, error, country="DE")
            assert text != code
            assert text[0].isupper()
            assert text.rstrip()[-1] in ".!?", text
            assert "{" not in text, text


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_are_known(locale: str) -> None:
    """A message uses only the placeholders its kind fills: never anything secret."""
    notice = {"shop", "email", "link", "event", "when", "client", "browser"}  # M45
    allowed = {
        "error.": {"min", "max", "field", "country"},
        "mail.security_notice.": notice,
        # a login code mail carries the code: what it is for (bound to the asking browser)
        "mail.login_code.": {"shop", "email", "code", "minutes"},
        "mail.code_paragraph": {"code", "minutes"},
        "mail.": {"shop", "email", "link"},
    }
    for key, text in catalogue(locale).items():
        names = set(re.findall(r"{(\w*)}", text))
        permitted = next((v for prefix, v in allowed.items() if key.startswith(prefix)), set())
        assert names <= permitted, (key, names)


GERMAN_SUBSTITUTES = re.compile(
    r"\b(fuer|ueber|koennen|moechten|muessen|bestaetig\w*|gueltig\w*|Passwoert\w*|"
    r"Strasse|Schluessel|spaeter|waehlen|Loesch\w*|loesch\w*|aender\w*|Aender\w*|zurueck)\b"
)
INFORMAL = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|bitte gib)\b", re.I)


def test_german_is_formal_with_umlauts() -> None:
    """German texts address customers with "Sie" and write ä, ö, ü, ß."""
    texts = catalogue("de")
    for key, text in texts.items():
        assert not GERMAN_SUBSTITUTES.search(text), (key, text)
        assert not INFORMAL.search(text), (key, text)
    joined = " ".join(texts.values())
    assert "Sie" in joined
    assert all(ch in joined for ch in "äöüß")


def test_postal_code_message_names_the_country() -> None:
    """Field-level messages name the field's country in the reader's language."""
    error = ActionError("addressCheckFailed", "address.zip", ("zip",))
    german = error_message(SETTINGS, "de", "AddressCreate", error, country="DE")
    english = error_message(SETTINGS, "en", "AddressCreate", error, country="DE")
    assert "Deutschland" in german
    assert "Postleitzahl" in german
    assert "Germany" in english


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", MAIL_KINDS)
def test_every_mail_renders_text_and_html(kind: str, locale: str) -> None:
    """Each mail in each locale: subject with the shop name, link in text and as an anchor."""
    settings = testing_settings(shop_name="Käse & <Co>")
    link = "https://shop.example/?wsoptin=abc&wsact=EmailVerify"
    has_link = kind != "account_exists"
    mail = mail_text(settings, locale, kind, email="a@example.com", link=link if has_link else None)
    assert "Käse & <Co>" in mail.subject
    assert "<Co>" not in mail.html  # escaped
    assert "Käse &amp; &lt;Co&gt;" in mail.html or "Käse" not in mail.html
    parser = _Anchors()
    parser.feed(mail.html)
    assert "script" not in parser.tags
    if has_link:
        assert link in mail.text
        assert parser.hrefs == [link]
    else:
        assert parser.hrefs == []
        assert "https://" not in mail.text


def test_mail_links_are_absolute_from_base_url(shop: Harness, alice: Client) -> None:
    """A mailed link starts with the configured base URL, in text and HTML."""
    alice.submit("AccountRegister", email="a@example.com", password=PW, passwordRepeat=PW)
    [mail] = shop.outbox
    [link] = mail.links
    assert link.startswith("https://shop.example/")
    assert link in mail.text
    assert f'href="{link}"'.replace("&", "&amp;") in mail.html


def test_request_locale_chooses_messages() -> None:
    """The request's locale picks the messages of the view and the JSON answer."""
    shop = Harness()
    client = shop.client(locale="de-DE")
    result = client.submit("Login", id="nobody@example.com", password="wrong password 123 x")
    view = client.view().wsActions.current
    [message] = view.messages
    assert message.code == "invalidCredentials"
    assert message.text == error_message(
        shop.settings, "de", "Login", ActionError("invalidCredentials")
    )
    answer = wsactions.json_answer(client.context(), result)
    assert answer["errors"][0]["message"] == message.text
    assert answer["success"] is False
    assert "password" not in answer["params"]


def test_account_locale_chooses_mail_language() -> None:
    """A German registration gets German mails later, whoever triggers them."""
    shop = Harness()
    german_client = shop.client(locale="de")
    german_client.submit("AccountRegister", email="a@example.com", password=PW, passwordRepeat=PW)
    account = shop.accounts.find_account("a@example.com")
    assert account is not None
    assert account.locale == "de"
    assert shop.outbox[-1].locale == "de"
    english = shop.client(client_address="198.51.100.4", locale="en")
    english.submit("PasswordForgotten", email="a@example.com")
    assert shop.outbox[-1].locale == "de"
    assert shop.outbox[-1].subject == mail_text(
        shop.settings, "de", "password", email="a@example.com", link=None
    ).subject


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR, en;q=0.5", "en"),
        ("en-US,de;q=0.9", "en"),
        ("fr", "en"),
        ("", "en"),
        ("de;q=0, en", "en"),
        ("x" * 5000, "en"),
        ("*", "en"),
    ],
)
def test_accept_language(header: str, expected: str) -> None:
    """Accept-Language is negotiated against the shipped locales, bounded, default English."""
    assert negotiate(SETTINGS, header) == expected


def test_default_locale_setting() -> None:
    """Settings.default_locale answers when the request names nothing available."""
    shop = Harness(default_locale="de")
    client = shop.client(locale="fr")
    client.submit("Login", id="nobody@example.com", password="wrong password 123 x")
    [message] = client.view().wsActions.current.messages
    assert message.text == error_message(
        shop.settings, "de", "Login", ActionError("invalidCredentials")
    )


def test_host_overrides_one_message() -> None:
    """Settings.messages overrides one message in one locale; others stay."""
    shop = Harness(messages={"de": {"error.invalidCredentials": "Das passt leider nicht."}})
    client = shop.client(locale="de")
    client.submit("Login", id="nobody@example.com", password="wrong password 123 x")
    assert client.view().wsActions.current.message() == "Das passt leider nicht."
    english = shop.client(locale="en")
    english.submit("Login", id="nobody@example.com", password="wrong password 123 x")
    assert english.view().wsActions.current.message() != "Das passt leider nicht."


def test_host_overrides_one_mail_template_per_locale() -> None:
    """mail_templates["verify/de"] replaces the German verify mail only."""
    template = MailTemplate(
        "Willkommen bei {shop}", "Hallo {email},\n\nbitte bestätigen Sie:\n{link}"
    )
    shop = Harness(mail_templates={"verify/de": template})
    shop.client(locale="de").submit(
        "AccountRegister", email="a@example.com", password=PW, passwordRepeat=PW
    )
    shop.client(locale="en", client_address="198.51.100.5").submit(
        "AccountRegister", email="b@example.com", password=PW, passwordRepeat=PW
    )
    german_mail, english_mail = shop.outbox
    assert german_mail.subject == "Willkommen bei Example Shop"
    assert german_mail.text.startswith("Hallo a@example.com,")
    assert f'href="{german_mail.links[0]}"'.replace("&", "&amp;") in german_mail.html
    assert english_mail.subject != german_mail.subject


def test_host_adds_a_language(tmp_path: Path) -> None:
    """A catalogue in Settings.locales_dir adds a language without code changes."""
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "wsactions.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "error.invalidCredentials"\nmsgstr "Identifiants incorrects."\n',
        "utf-8",
    )
    shop = Harness(locales_dir=str(tmp_path))
    client = shop.client(locale="fr-FR")
    client.submit("Login", id="nobody@example.com", password="wrong password 123 x")
    assert client.view().wsActions.current.message() == "Identifiants incorrects."
    client.submit("Login", id="", password="")
    english = error_message(shop.settings, "en", "Login", ActionError("missingId", "id"))
    assert client.view().wsActions.current.message("id") == english  # falls back to English


def test_success_notice() -> None:
    """Successful actions with a notice show it in the page's language."""
    shop = Harness()
    client = shop.client(locale="de")
    client.submit("AccountRegister", email="a@example.com", password=PW, passwordRepeat=PW)
    notice = client.view().wsActions.current.notice
    assert notice
    assert notice == catalogue("de")["success.AccountRegister"]


def test_messages_never_echo_secrets() -> None:
    """No message, in any locale, contains the submitted password."""
    shop = Harness()
    secret = "Zz9-unique-secret-value-77"
    for locale in LOCALES:
        client = shop.client(locale=locale)
        result = client.submit(
            "AccountRegister", email="bad", password=secret, passwordRepeat=secret + "x"
        )
        answer = json.dumps(wsactions.json_answer(client.context(), result))
        assert secret not in answer
        assert all(secret not in m.text for m in client.view().wsActions.current.messages)


def test_cli_prints_german_messages(capsys: pytest.CaptureFixture[str]) -> None:
    """``wsactions actions --lang de`` prints each code with its German message."""
    assert main(["actions", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    expected = error_message(SETTINGS, "de", "Login", ActionError("invalidCredentials"))
    assert f"invalidCredentials: {expected}" in out


def test_cli_json_carries_messages(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json --lang de`` adds a messages object to every action."""
    assert main(["actions", "--json", "--lang", "de"]) == 0
    data = json.loads(capsys.readouterr().out)
    login = next(a for a in data if a["name"] == "Login")
    assert set(login["messages"]) == set(login["errors"])


def test_cli_unknown_language(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown language exits 2 with one line on stderr."""
    assert main(["actions", "--lang", "xx"]) == 2
    assert "xx" in capsys.readouterr().err


def test_request_info_locale_is_optional() -> None:
    """RequestInfo.locale defaults to None (the account's, else the default locale)."""
    assert RequestInfo().locale is None


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_says_what_the_po_says(locale: str, tmp_path: Path) -> None:
    """The shipped ``wsactions.mo`` (read at run time) holds the ``.po``'s translations; a
    folder with only a ``.po`` (a shop's own catalogue) is read through Babel."""
    from wsactions.i18n import _read_catalogue

    shipped = LOCALE_DIR / locale / "LC_MESSAGES"
    only_po = tmp_path / "LC_MESSAGES"
    only_po.mkdir()
    (only_po / "wsactions.po").write_bytes((shipped / "wsactions.po").read_bytes())
    compiled = _read_catalogue(shipped, locale)
    assert len(compiled) > 100
    assert compiled == _read_catalogue(only_po, locale)
