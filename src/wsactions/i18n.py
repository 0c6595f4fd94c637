"""Messages and mails for customers, in English and German, from gettext catalogues.

Every error code of every action, every sub-code and every success notice
has a sentence a customer understands; mails have a subject and a body.
They live in ``locales/<lang>/LC_MESSAGES/wsactions.po`` (regenerated with
``python tools/catalogs.py``) under symbolic message ids:

* ``error.<code>`` — what a code means, for any action;
* ``error.<Action>.<code>`` — where one action needs other words;
* ``error.<code>.<subcode>`` — a sub-code (``{min}``, ``{max}``, ``{field}``,
  ``{country}`` are filled in); ``field.<name>`` names address fields;
* ``success.<Action>`` (and ``success.<Action>.<dataKey>``) — notices;
* ``mail.<kind>.subject`` / ``mail.<kind>.body`` — mails (``{shop}``,
  ``{email}``, ``{link}``); the body's paragraphs are separated by blank lines,
  a line holding only ``{link}`` is where the HTML mail shows its button;
  ``mail.<kind>.button`` — the button's text (what it does), for kinds with a
  link; ``mail.link_fallback`` — the line above the raw link below the button.
  The mail templates (``wsactions.mail``) lay these words out.

A host adds a language by putting ``<lang>/LC_MESSAGES/wsactions.po`` into a
directory named by ``Settings.locales_dir`` (no code change, no compile
step: catalogues are read with Babel on first use and cached), and overrides
single messages with ``Settings.messages = {"de": {"error.loginBlocked": "…"}}``.
Messages never contain a secret: only field names, lengths and country names
are filled in.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import re
import threading
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._result import ActionError, ActionResult
from .mails import LINK_MAIL_KINDS, render_mail_template

if TYPE_CHECKING:
    from ._action import ActionSpec
    from .settings import Settings

__all__ = [
    "LOCALES",
    "Catalogs",
    "MailText",
    "Message",
    "error_message",
    "gettext",
    "mail_text",
    "match_locale",
    "negotiate",
    "offered_locales",
    "resolve_locale",
    "result_messages",
    "success_message",
]

#: The languages wsactions ships.
LOCALES = ("en", "de")
FALLBACK = "en"
_SHIPPED = Path(__file__).parent / "locales"
_DOMAIN = "wsactions"
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


class Catalogs:
    """The gettext catalogues of one directory (and the shipped ones behind it), read once."""

    def __init__(self, directories: Iterable[Path]) -> None:
        self._directories = tuple(directories)
        self._lock = threading.Lock()
        self._loaded: dict[str, dict[str, str]] = {}

    @functools.cached_property
    def _available(self) -> frozenset[str]:
        found = set()
        for directory in self._directories:
            if directory.is_dir():
                found |= {
                    p.name
                    for p in directory.iterdir()
                    if (p / "LC_MESSAGES" / f"{_DOMAIN}.po").is_file()
                    or (p / "LC_MESSAGES" / f"{_DOMAIN}.mo").is_file()
                }
        return frozenset(found)

    def available(self) -> frozenset[str]:
        """The languages with a catalogue (looked up once)."""
        return self._available

    def get(self, locale: str, key: str) -> str | None:
        """The translation of *key* in *locale*, or ``None``."""
        table = self._loaded.get(locale)
        if table is None:
            table = self._load(locale)
        return table.get(key)

    def _load(self, locale: str) -> dict[str, str]:
        with self._lock:
            found = self._loaded.get(locale)
            if found is not None:
                return found
            table: dict[str, str] = {}
            for directory in reversed(self._directories):  # earlier directories win
                table.update(_read_catalogue(directory / locale / "LC_MESSAGES", locale))
            self._loaded[locale] = table
            return table


def _read_catalogue(folder: Path, locale: str) -> dict[str, str]:
    """The translations in *folder*: its compiled ``wsactions.mo`` when there is one (as
    gettext and Django do: compile again after editing the ``.po``, e.g. ``pybabel
    compile``), read by the standard library in a millisecond; else the ``.po``, parsed
    by Babel (some 25 ms). Fuzzy and empty translations are left out."""
    po, mo = folder / f"{_DOMAIN}.po", folder / f"{_DOMAIN}.mo"
    if mo.is_file():
        with mo.open("rb") as stream:
            compiled: dict[Any, Any] = stdlib_gettext.GNUTranslations(stream)._catalog  # type: ignore[attr-defined]
        return {k: str(v) for k, v in compiled.items() if k and isinstance(k, str) and v}
    if not po.is_file():
        return {}
    from babel.messages.pofile import read_po

    with po.open("rb") as stream:
        catalog = read_po(stream, locale=locale, domain=_DOMAIN)
    return {
        message.id: str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


@functools.cache
def _catalogs(extra: str | None) -> Catalogs:
    directories = [Path(extra)] if extra else []
    return Catalogs([*directories, _SHIPPED])


def catalogs(settings: Settings) -> Catalogs:
    """The catalogues *settings* use: ``Settings.locales_dir`` first, then the shipped ones."""
    return _catalogs(settings.locales_dir)


def offered_locales(settings: Settings) -> tuple[str, ...]:
    """The languages the shop offers: ``Settings.locales``, or else the default language
    and every other one with a catalogue."""
    if settings.locales:
        return settings.locales
    others = sorted(catalogs(settings).available() - {settings.default_locale})
    return (settings.default_locale, *others)


def match_locale(settings: Settings, *wanted: str | None) -> str | None:
    """The first of *wanted* that the shop offers (``de-AT`` matches ``de``), or ``None``."""
    available = frozenset(offered_locales(settings))
    for tag in wanted:
        if not tag or len(tag) > 35 or not _TAG.fullmatch(tag):
            continue
        tag = tag.replace("-", "_")
        for candidate in (tag, tag.split("_", 1)[0].lower()):
            if candidate in available:
                return candidate
    return None


def resolve_locale(settings: Settings, *wanted: str | None) -> str:
    """The first of *wanted* that the shop offers (``de-AT`` matches ``de``), else
    ``Settings.default_locale``."""
    return match_locale(settings, *wanted) or settings.default_locale


def gettext(settings: Settings, locale: str, message: str) -> str:
    """*message* (an English text, as the template pack's strings are) in *locale*: a
    ``Settings.messages`` override, else the catalogue's translation, else *message*."""
    found = settings.messages.get(locale, {}).get(message)
    if found is None:
        found = catalogs(settings).get(locale, message)
    return found or message


def negotiate(settings: Settings, accept_language: str | None) -> str:
    """The locale an ``Accept-Language`` header asks for, among the available ones.

    Bounded: at most 2,000 characters and 20 entries are read; q-values order
    them (``de-CH;q=0.9, en;q=0.8``).
    """
    if not accept_language:
        return settings.default_locale
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language[:2000].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:7])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return resolve_locale(settings, *(tag for _, _, tag in sorted(ranked)))


def _lookup(settings: Settings, locale: str, keys: Iterable[str]) -> str | None:
    overrides = settings.messages
    books = catalogs(settings)
    for key in keys:
        for language in dict.fromkeys((locale, settings.default_locale, FALLBACK)):
            found = overrides.get(language, {}).get(key)
            if found is None:
                found = books.get(language, key)
            if found is not None:
                return found
    return None


class _Fields(dict[str, str]):
    """Placeholders of a message; an unknown one stays as it is, never raises."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(_Fields(values))


def country_name(settings: Settings, locale: str, code: str) -> str:
    """The name of country *code* in *locale* (Babel's CLDR data), or the code itself."""
    from babel import Locale, UnknownLocaleError

    try:
        names = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        return code
    return str(names.get(code.upper(), code))


def error_message(
    settings: Settings,
    locale: str,
    action: str,
    error: ActionError,
    *,
    country: str | None = None,
) -> str:
    """The sentence for *error* of *action* in *locale* (sub-codes included)."""
    code = error.code
    keys = [f"error.{action}.{code}", f"error.{code}"]
    if error.subcodes:
        sub = error.subcodes[0]
        keys = [f"error.{action}.{code}.{sub}", f"error.{code}.{sub}", *keys]
    text = _lookup(settings, locale, keys) or code
    values = {
        "min": str(settings.password_policy.min_length),
        "max": str(settings.password_policy.max_length),
        "field": _field_name(settings, locale, error.field),
        "country": country_name(settings, locale, country) if country else "",
    }
    return _fill(text, values)


def _field_name(settings: Settings, locale: str, field: str | None) -> str:
    if not field:
        return ""
    name = field.rstrip(".")
    return _lookup(settings, locale, [f"field.{name}"]) or name


def success_message(
    settings: Settings, locale: str, action: str, data: Mapping[str, Any]
) -> str | None:
    """The success notice of *action* in *locale*, if it has one."""
    keys = [f"success.{action}.{key}" for key in sorted(data) if data[key] is True]
    return _lookup(settings, locale, [*keys, f"success.{action}"])


class Message:
    """One error of a result as a customer reads it: *text* in the request's language."""

    __slots__ = ("code", "field", "subcodes", "text")

    def __init__(self, error: ActionError, text: str) -> None:
        self.code = error.code
        self.field = error.field
        self.subcodes = error.subcodes
        self.text = text

    def __repr__(self) -> str:
        return f"Message(code={self.code!r}, field={self.field!r}, text={self.text!r})"


def result_messages(settings: Settings, locale: str, result: ActionResult) -> tuple[Message, ...]:
    """The messages of *result*'s errors in *locale* (the country of an address form names
    the country in postal-code messages)."""
    country = result.params.get("address.country") or settings.address_rules.default_country
    return tuple(
        Message(error, error_message(settings, locale, result.name, error, country=country))
        for error in result.errors
    )


class MailText:
    """A mail rendered in one locale: subject, plain text and HTML."""

    __slots__ = ("html", "subject", "text")

    def __init__(self, subject: str, text: str, html: str) -> None:
        self.subject = subject
        self.text = text
        self.html = html


def mail_text(
    settings: Settings,
    locale: str,
    kind: str,
    *,
    email: str,
    link: str | None,
    details: Mapping[str, str] | None = None,
) -> MailText:
    """Mail *kind* in *locale*, rendered from its templates ``<kind>.txt`` and ``<kind>.html``
    (``Settings.mail_template_dirs`` first, then the shipped ones) with the catalogue's words
    and ``Settings.mail_branding``.

    A ``Settings.mail_templates`` entry for ``"<kind>/<locale>"`` or ``"<kind>"``
    replaces the subject and the body; with its own *html* it replaces the
    whole HTML document too. Raises :class:`~wsactions.errors.ConfigurationError`
    when a host's template file fails. *details* are further placeholder values (a security
    notice's ``{event}``, ``{when}``, ``{client}``, ``{browser}``); an ``event`` names the
    catalogue's ``notice.<event>`` message, filled in in *locale*.
    """
    shop = settings.shop_name or (_lookup(settings, locale, ["mail.shop"]) or "our shop")
    values = {"shop": shop, "email": email, "link": link or ""}
    for name, value in (details or {}).items():
        if name == "event":
            value = _lookup(settings, locale, [f"notice.{value}"]) or value
        values[name] = value
    template = settings.mail_templates.get(f"{kind}/{locale}") or settings.mail_templates.get(kind)
    if template is not None:
        subject, body, html = template.subject, template.text, template.html
    else:
        subject = _lookup(settings, locale, [f"mail.{kind}.subject"]) or kind
        body = _lookup(settings, locale, [f"mail.{kind}.body"]) or "{link}"
        html = None
    subject = _fill(subject, values).replace("\n", " ").strip()
    if "code" in values and kind != "login_code":  # a typed code beside the link
        body += "\n\n" + (_lookup(settings, locale, ["mail.code_paragraph"]) or "{code}")
    before, after, shows_link = _mail_paragraphs(body, values)
    button = _lookup(settings, locale, [f"mail.{kind}.button"]) or subject
    fallback = _lookup(settings, locale, ["mail.link_fallback"]) or ""
    branding = settings.mail_branding
    variables = {
        "kind": kind,
        "locale": locale,
        "shop": shop,
        "email": email,
        "link": link or "",
        "subject": subject,
        "paragraphs": before + after,
        "before_button": before,
        "after_button": after,
        "button": _fill(button, values) if shows_link else "",
        "link_fallback": _fill(fallback, values),
        "logo_url": branding.logo_url,
        "footer": branding.footer_lines(locale, settings.default_locale, FALLBACK),
        "button_color": branding.button_color,
        "button_text_color": branding.button_text_color,
    }
    directories = settings.mail_template_dirs
    text = render_mail_template(directories, f"{kind}.txt", variables)
    if html is None:
        rendered = render_mail_template(directories, f"{kind}.html", variables)
    else:
        rendered = _fill(html, {k: escape(v, quote=True) for k, v in values.items()})
    return MailText(subject, text, rendered)


_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")


def _mail_paragraphs(
    body: str, values: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """*body*'s paragraphs (separated by blank lines, placeholders filled) before and after
    the place of its link, and whether the mail shows the link there (HTML: as a button).

    A line holding only ``{link}`` is that place. Without one, a mail with a
    link shows it after the last paragraph, unless the body writes ``{link}``
    inside a sentence (then it stays there, as text).
    """
    link = values.get("link", "")
    before: list[str] = []
    after: list[str] = []
    placed = False
    for block in _BLANK_LINES.split(body.strip()):
        lines: list[str] = []
        for line in block.split("\n"):
            if line.strip() != "{link}":
                lines.append(line)
                continue
            if lines:
                (after if placed else before).append(_fill("\n".join(lines), values))
            lines = []
            placed = placed or bool(link)
        if lines:
            (after if placed else before).append(_fill("\n".join(lines), values))
    if link and not placed and "{link}" not in body:
        placed = True
    return tuple(before), tuple(after), placed


def required_keys(specs: Iterable[ActionSpec], mail_kinds: Iterable[str]) -> dict[str, str]:
    """Every message id a complete catalogue must answer, with what it is for (the .pot)."""
    from .addressing import STANDARD_FIELDS
    from .codes import ENGINE_CODES

    keys: dict[str, str] = {}
    for code in sorted(ENGINE_CODES):
        keys[f"error.{code}"] = "engine code (any action)"
    for spec in specs:
        for code in spec.codes:
            keys.setdefault(f"error.{code}", f"code of {spec.name} and others")
            for sub in spec.subcodes.get(code, ()):
                keys.setdefault(f"error.{code}.{sub}", f"sub-code of {code}")
        keys[f"success.{spec.name}"] = f"notice after {spec.name} succeeded"
    for name in STANDARD_FIELDS:
        keys[f"field.address.{name}"] = "address field name (in sub-code messages)"
    for kind in mail_kinds:
        keys[f"mail.{kind}.subject"] = f"subject of the {kind} mail ({{shop}})"
        keys[f"mail.{kind}.body"] = f"body of the {kind} mail ({{shop}}, {{email}}, {{link}})"
        if kind in LINK_MAIL_KINDS:
            keys[f"mail.{kind}.button"] = (
                f"button of the {kind} mail: what opening its link does ({{shop}})"
            )
    keys["mail.link_fallback"] = "line above the raw link below a mail's button ({shop})"
    keys["mail.code_paragraph"] = (
        "paragraph with a typed code beside a mail's link, Settings.optin_codes ({code}, {minutes})"
    )
    from .mails import NOTICE_EVENTS

    for event in NOTICE_EVENTS:
        keys[f"notice.{event}"] = "what a security notice reports (the {event} of its body)"
    keys["mail.shop"] = "the shop's name when Settings.shop_name is empty"
    return keys
