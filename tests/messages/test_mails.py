"""Mails a shop can brand: template pairs per kind, one layout, overridable file by file."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import wsactions
from helpers import PW
from wsactions import default_registry
from wsactions.errors import ConfigurationError
from wsactions.i18n import LOCALES, mail_text, required_keys
from wsactions.mail import (
    LINK_MAIL_KINDS,
    MAIL_KINDS,
    SHIPPED_MAIL_TEMPLATES,
    MailBranding,
    MailTemplate,
)
from wsactions.settings import Settings
from wsactions.testing import Harness, testing_settings

LINK = "https://shop.example/?wsact=PasswordReset&wsoptin=abc-DEF_123"
LOCALE_DIR = Path(wsactions.__file__).parent / "locales"
IMPRESSUM = "Käse & Co. GmbH, Hauptstraße 1, 10115 Berlin\nHRB 12345 B, Amtsgericht Charlottenburg"


def catalogue(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "wsactions.po").open("rb") as stream:
        return {m.id: m.string for m in read_po(stream) if m.id}


class _Page(HTMLParser):
    """What a mail program sees of an HTML mail: tags, links, images and text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.anchor_texts: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.lang: str | None = None
        self.text = ""
        self._in_anchor = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "a":
            self.hrefs.append(found.get("href") or "")
            self.anchor_texts.append("")
            self._in_anchor = True
        if tag == "img":
            self.images.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_anchor:
            self.anchor_texts[-1] += data.strip()


def _link(kind: str) -> str | None:
    return LINK if kind in LINK_MAIL_KINDS else None


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", MAIL_KINDS)
def test_every_kind_renders_with_its_translated_button(kind: str, locale: str) -> None:
    """Each kind in en and de: a complete document, the catalogue's button text on the one
    anchor, the raw link below it as text, and the link on a line of its own in the text."""
    mail = mail_text(testing_settings(), locale, kind, email="a@example.com", link=_link(kind))
    page = _Page(mail.html)
    assert mail.html.startswith("<!DOCTYPE html>")
    assert page.lang == locale
    assert {"html", "head", "title", "body"} <= set(page.tags)
    assert mail.subject in page.text
    if kind in LINK_MAIL_KINDS:
        assert page.hrefs == [LINK]
        assert page.anchor_texts == [catalogue(locale)[f"mail.{kind}.button"]]
        assert page.text.count(LINK) == 1  # the fallback below the button
        assert catalogue(locale)["mail.link_fallback"] in page.text
        assert LINK in mail.text.split("\n")
        assert mail.text.count(LINK) == 1
    else:
        assert page.hrefs == []
        assert "https://" not in mail.text + page.text


def test_button_texts_say_what_they_do() -> None:
    """The password button reads "Reset your password" / "Passwort zurücksetzen"."""
    english = _Page(mail_text(testing_settings(), "en", "password", email="a@x.de", link=LINK).html)
    german = _Page(mail_text(testing_settings(), "de", "password", email="a@x.de", link=LINK).html)
    assert english.anchor_texts == ["Reset your password"]
    assert german.anchor_texts == ["Passwort zurücksetzen"]


@pytest.mark.parametrize("locale", LOCALES)
def test_text_without_branding_is_the_catalogue_body(locale: str) -> None:
    """Without a footer the text mail is exactly the filled-in catalogue body."""
    settings = testing_settings()
    mail = mail_text(settings, locale, "verify", email="a@example.com", link=LINK)
    body = catalogue(locale)["mail.verify.body"]
    assert mail.text == body.format(shop="Example Shop", email="a@example.com", link=LINK)


def test_every_value_is_escaped_in_html() -> None:
    """A shop name with markup and a footer with a script reach the HTML as text only."""
    branding = MailBranding(footer='<script>alert("x")</script>\nZweite Zeile')
    settings = testing_settings(shop_name='Käse <b>&"', mail_branding=branding)
    details = {"event": "password_changed", "client": "<i>1.2.3.4</i>", "browser": "<b>x</b>"}
    for kind in MAIL_KINDS:
        extra = details if kind == "security_notice" else None
        mail = mail_text(
            settings, "de", kind, email="a@example.com", link=_link(kind), details=extra
        )
        page = _Page(mail.html)
        assert "i" not in page.tags
        assert "script" not in page.tags
        assert "b" not in page.tags
        assert "<b>" not in mail.html
        assert "<script>" not in mail.html
        assert "Käse &lt;b&gt;&amp;&#34;" in mail.html
        assert '<script>alert("x")</script>' in page.text  # shown, as text
        assert mail.subject == mail.subject.strip()
        assert 'Käse <b>&"' in mail.text  # the text mail is plain text
        assert mail.text.endswith('-- \n<script>alert("x")</script>\nZweite Zeile')


def test_logo_and_shop_name() -> None:
    """With a logo the header is its image (alt: the shop's name), else the name as text."""
    plain = _Page(mail_text(testing_settings(), "en", "verify", email="a@x.de", link=LINK).html)
    assert plain.images == []
    assert "Example Shop" in plain.text
    logo = "https://cdn.example/logo.png?v=2&size=l"
    branded = testing_settings(mail_branding=MailBranding(logo_url=logo))
    page = _Page(mail_text(branded, "en", "verify", email="a@x.de", link=LINK).html)
    [image] = page.images
    assert image["src"] == logo
    assert image["alt"] == "Example Shop"


def test_footer_in_text_and_html() -> None:
    """The legal notice ends every mail: below a signature line in text, as lines in HTML."""
    settings = testing_settings(mail_branding=MailBranding(footer=IMPRESSUM + "\n"))
    for kind in MAIL_KINDS:
        mail = mail_text(settings, "de", kind, email="a@example.com", link=_link(kind))
        assert mail.text.endswith("\n\n-- \n" + IMPRESSUM)
        assert "Hauptstraße 1, 10115 Berlin<br>HRB 12345 B" in mail.html
        assert "Käse &amp; Co. GmbH" in mail.html


def test_footer_per_language_falls_back_to_the_default_locale() -> None:
    """A footer given per language: the mail's, else the default locale's, else English."""
    footer = {"de": "Impressum: Käse GmbH", "en-GB": "Legal notice: Käse Ltd"}
    german_shop = testing_settings(default_locale="de", mail_branding=MailBranding(footer=footer))
    english_shop = testing_settings(mail_branding=MailBranding(footer={"de": "Impressum"}))

    def text(settings: Settings, locale: str) -> str:
        return mail_text(settings, locale, "password", email="a@x.de", link=LINK).text

    assert text(german_shop, "de").endswith("-- \nImpressum: Käse GmbH")
    assert text(german_shop, "en_GB").endswith("-- \nLegal notice: Käse Ltd")
    assert text(german_shop, "en").endswith("-- \nImpressum: Käse GmbH")
    assert "-- " not in text(english_shop, "en")
    assert text(english_shop, "de").endswith("-- \nImpressum")


def test_button_color_and_readable_text() -> None:
    """The button takes the shop's colour; its text is white on dark, black on light."""
    dark = testing_settings(mail_branding=MailBranding(button_color="#003366"))
    light = testing_settings(mail_branding=MailBranding(button_color="#FFDD00"))
    dark_html = mail_text(dark, "en", "verify", email="a@x.de", link=LINK).html
    light_html = mail_text(light, "en", "verify", email="a@x.de", link=LINK).html
    assert "background-color:#003366" in dark_html
    assert "color:#ffffff" in dark_html
    assert "background-color:#FFDD00" in light_html
    assert "color:#000000" in light_html


def test_host_file_overrides_only_that_file(tmp_path: Path) -> None:
    """A password.html in Settings.mail_template_dirs changes that file only."""
    (tmp_path / "password.html").write_text(
        '{% extends "_base.html" %}\n'
        '{% block button %}<p>Custom: <a href="{{ link }}">{{ button }}</a> {{ shop }}</p>'
        "{% endblock %}\n",
        "utf-8",
    )
    shipped = testing_settings(shop_name="<Shop>")
    host = testing_settings(shop_name="<Shop>", mail_template_dirs=[tmp_path])
    assert host.mail_template_dirs == (str(tmp_path),)
    for kind in MAIL_KINDS:
        for locale in LOCALES:
            before = mail_text(shipped, locale, kind, email="a@x.de", link=_link(kind))
            after = mail_text(host, locale, kind, email="a@x.de", link=_link(kind))
            assert after.text == before.text
            assert after.subject == before.subject
            if kind != "password":
                assert after.html == before.html
    mail = mail_text(host, "de", "password", email="a@x.de", link=LINK)
    assert "<p>Custom: <a href" in mail.html
    assert "Passwort zurücksetzen</a> &lt;Shop&gt;</p>" in mail.html
    assert _Page(mail.html).hrefs == [LINK]


def test_host_layout_rebrands_every_mail(tmp_path: Path) -> None:
    """A host's _base.txt lays out every text mail; the kinds' files stay the shipped ones."""
    (tmp_path / "_base.txt").write_text(
        "{{ shop }} · {{ subject }}\n\n{{ paragraphs | join('\\n\\n') }}\n"
        "{% if button %}\n{{ button }}: {{ link }}\n{% endif %}\n",
        "utf-8",
    )
    settings = testing_settings(mail_template_dirs=(str(tmp_path),))
    mail = mail_text(settings, "de", "password", email="a@x.de", link=LINK)
    assert mail.text.startswith("Example Shop · Setzen Sie Ihr Passwort für Example Shop zurück\n")
    assert mail.text.endswith(f"\nPasswort zurücksetzen: {LINK}")
    assert (SHIPPED_MAIL_TEMPLATES / "password.txt").is_file()


def test_a_broken_host_template_names_itself(tmp_path: Path) -> None:
    """A host template that uses an unknown variable fails with a ConfigurationError naming it."""
    (tmp_path / "verify.txt").write_text("{{ customer_name }}", "utf-8")
    settings = testing_settings(mail_template_dirs=(str(tmp_path),))
    with pytest.raises(ConfigurationError, match=r"'verify\.txt'.*customer_name"):
        mail_text(settings, "en", "verify", email="a@x.de", link=LINK)


def test_mail_templates_setting_still_wins(tmp_path: Path) -> None:
    """Settings.mail_templates replaces the words; its text gets the layout, its own html is
    sent as written, and it wins over a host's template file."""
    (tmp_path / "password.txt").write_text(
        '{% extends "_base.txt" %}{% block content %}FILE{% endblock %}', "utf-8"
    )
    text_only = MailTemplate("Neues Passwort für {shop}", "Hallo {email},\n\nbitte hier:\n{link}")
    with_html = MailTemplate(
        "Reset at {shop}", "Go: {link}", html='<p><a href="{link}">{shop}</a></p>'
    )
    settings = testing_settings(
        shop_name="A&B",
        mail_templates={"password/de": text_only, "password": with_html},
        mail_branding=MailBranding(footer="Impressum"),
    )
    german = mail_text(settings, "de", "password", email="a@x.de", link=LINK)
    assert german.subject == "Neues Passwort für A&B"
    assert german.text == f"Hallo a@x.de,\n\nbitte hier:\n{LINK}\n\n-- \nImpressum"
    page = _Page(german.html)
    assert page.hrefs == [LINK]
    assert page.anchor_texts == ["Passwort zurücksetzen"]
    assert "bitte hier:" in page.text
    english = mail_text(settings, "en", "password", email="a@x.de", link=LINK)
    assert english.subject == "Reset at A&B"
    assert english.text == f"Go: {LINK}\n\n-- \nImpressum"
    assert english.html == f'<p><a href="{LINK.replace("&", "&amp;")}">A&amp;B</a></p>'
    overridden = testing_settings(
        mail_templates={"password": text_only}, mail_template_dirs=(str(tmp_path),)
    )
    assert mail_text(overridden, "en", "password", email="a@x.de", link=LINK).text == "FILE"


def test_where_the_link_goes() -> None:
    """A line holding only {link} places the button; a body without {link} gets it last; a
    {link} inside a sentence stays there, as text, without a button."""
    cases = {
        "First\n{link}\nSecond\n\nThird": (("First",), ("Second", "Third"), True),
        "One\n\nTwo": (("One", "Two"), (), True),
        "Open {link} now.": ((f"Open {LINK} now.",), (), False),
        "{link}\n\n\n\nBye": ((), ("Bye",), True),
    }
    for body, (before, after, button) in cases.items():
        settings = testing_settings(mail_templates={"unlock": MailTemplate("S", body)})
        mail = mail_text(settings, "en", "unlock", email="a@x.de", link=LINK)
        page = _Page(mail.html)
        assert page.hrefs == ([LINK] if button else []), body
        expected = "\n\n".join(before)
        if button:
            expected = f"{expected}\n{LINK}" if before else LINK
        if after:
            expected += "\n\n" + "\n\n".join(after)
        assert mail.text == expected, body


def test_settings_messages_change_the_button() -> None:
    """Settings.messages overrides a button's text like any other message."""
    settings = testing_settings(messages={"de": {"mail.password.button": "Neues Passwort wählen"}})
    page = _Page(mail_text(settings, "de", "password", email="a@x.de", link=LINK).html)
    assert page.anchor_texts == ["Neues Passwort wählen"]


def test_missing_catalogue_entries_fall_back_to_english(tmp_path: Path) -> None:
    """A host's French catalogue with only a subject: body, button and layout words in English."""
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "wsactions.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "mail.password.subject"\nmsgstr "Réinitialisez votre mot de passe ({shop})"\n',
        "utf-8",
    )
    settings = testing_settings(locales_dir=str(tmp_path))
    mail = mail_text(settings, "fr", "password", email="a@x.de", link=LINK)
    english = catalogue("en")
    page = _Page(mail.html)
    assert mail.subject == "Réinitialisez votre mot de passe (Example Shop)"
    assert page.lang == "fr"
    assert page.anchor_texts == [english["mail.password.button"]]
    assert english["mail.link_fallback"] in page.text
    assert mail.text.startswith(english["mail.password.body"].split("\n")[0])


def test_every_button_id_is_required() -> None:
    """required_keys (and so the .pot and the catalogue test) lists a button per link kind."""
    keys = required_keys(default_registry().actions, MAIL_KINDS)
    buttons = {key for key in keys if key.endswith(".button")}
    assert buttons == {f"mail.{kind}.button" for kind in LINK_MAIL_KINDS}
    assert "mail.link_fallback" in keys
    assert "account_exists" not in LINK_MAIL_KINDS


def test_each_kind_ships_a_template_pair() -> None:
    """The package ships _base.txt, _base.html and a .txt and .html file per kind."""
    names = {p.name for p in SHIPPED_MAIL_TEMPLATES.iterdir() if p.suffix in (".txt", ".html")}
    expected = {"_base.txt", "_base.html"}
    expected |= {f"{kind}.{ext}" for kind in MAIL_KINDS for ext in ("txt", "html")}
    assert names == expected


def test_journey_sends_a_branded_mail() -> None:
    """PasswordForgotten mails the branded layout in the account's language."""
    branding = MailBranding(logo_url="https://cdn.example/logo.png", footer={"de": IMPRESSUM})
    shop = Harness(default_locale="de", mail_branding=branding)
    shop.create_account("ann@example.com", PW)
    assert shop.client(locale="de").submit("PasswordForgotten", email="ann@example.com").success
    mail = shop.outbox[-1]
    [link] = mail.links
    page = _Page(mail.html)
    assert page.hrefs == [link]
    assert page.anchor_texts == ["Passwort zurücksetzen"]
    assert page.images[0]["src"] == "https://cdn.example/logo.png"
    assert link in mail.text.split("\n")
    assert mail.text.endswith(IMPRESSUM)


@pytest.mark.parametrize(
    "branding",
    [
        {"logo_url": "http://cdn.example/logo.png"},
        {"logo_url": "javascript:alert(1)"},
        {"logo_url": "https://user:pw@cdn.example/logo.png"},
        {"logo_url": "https:///logo.png"},
        {"logo_url": 'https://cdn.example/a"b.png'},
        {"logo_url": "https://cdn.example/a b.png"},
        {"button_color": "red"},
        {"button_color": "#12345"},
        {"button_color": "#123456;x"},
        {"footer": 42},
        {"footer": {"de": None}},
        {"footer": {"not a tag": "x"}},
    ],
)
def test_branding_is_validated(branding: dict[str, object]) -> None:
    """Logo URLs must be https, colours #rrggbb, footers text per language tag."""
    with pytest.raises(ConfigurationError, match="MailBranding"):
        MailBranding(**branding)  # type: ignore[arg-type]


def test_template_dirs_are_validated(tmp_path: Path) -> None:
    """mail_template_dirs takes a collection of existing directories, not one string."""
    with pytest.raises(ConfigurationError, match="not one path"):
        testing_settings(mail_template_dirs=str(tmp_path))
    with pytest.raises(ConfigurationError, match="not a directory"):
        testing_settings(mail_template_dirs=[str(tmp_path / "missing")])


def test_import_does_not_load_jinja2() -> None:
    """``import wsactions`` and building the registry leave jinja2 unloaded (mails load it)."""
    probe = (
        "import sys, wsactions\n"
        "from wsactions.testing import testing_settings\n"
        "wsactions.default_registry(testing_settings())\n"
        "print('jinja2' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == "False"
