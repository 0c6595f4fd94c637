"""The mails wsactions sends: their kinds, their templates and the shop's branding.

Every kind is a template pair in this folder (``<kind>.txt``, ``<kind>.html``)
sharing the layout ``_base.txt`` / ``_base.html``; a host overrides one file
by putting one of the same name into a folder of ``Settings.mail_template_dirs``
(docs/messages.md). :func:`wsactions.i18n.mail_text` fills them with the
catalogue's words. This module imports no other wsactions module but
:mod:`wsactions.errors`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigurationError

if TYPE_CHECKING:
    import jinja2


@attrs.frozen
class MailTemplate:
    """A host's own subject and body for one kind of mail (``Settings.mail_templates``); it
    wins over the catalogue's words.

    ``str.format`` templates with the fields ``shop`` (the shop name),
    ``email`` (the recipient) and ``link`` (the opt-in link, where the mail
    has one). *text* is laid out like a catalogue body, by the kind's
    templates: paragraphs separated by blank lines, a line holding only
    ``{link}`` where the button goes, the branding's footer below. *html* is
    a whole HTML document of the host's own, sent as written (values are
    escaped before they are filled in; no layout, no branding); without it
    the HTML comes from the kind's ``.html`` template.
    """

    subject: str
    text: str
    html: str | None = None


#: Every kind of mail wsactions sends; their texts are in the message catalogues.
MAIL_KINDS: tuple[str, ...] = (
    "verify",
    "activate",
    "password",
    "unlock",
    "email_update",
    "email_update_notice",
    "delete",
    "account_exists",
    "invitation",
    "security_notice",
    "login_code",
)

#: What a ``security_notice`` mail may report (M45): catalogue messages ``notice.<event>``.
NOTICE_EVENTS: tuple[str, ...] = (
    "password_changed",
    "totp_enabled",
    "totp_disabled",
    "recovery_codes_regenerated",
    "recovery_codes_low",
    "login_unlocked",
    "b2b_rights_changed",
    "passkey_added",
    "passkey_removed",
)

#: The kinds whose mail carries a link: their HTML shows it as a button (with the raw link
#: below it), their text on a line of its own.
LINK_MAIL_KINDS: frozenset[str] = frozenset(MAIL_KINDS) - {"account_exists", "login_code"}

#: The shipped mail templates: ``_base.txt``, ``_base.html`` and a pair per kind.
SHIPPED_MAIL_TEMPLATES = Path(__file__).parent

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:_[A-Za-z0-9]{2,8})*")
_URL_UNSAFE = frozenset("\"'<>\\`")


def _check_logo_url(inst: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or len(value) > 2000
        or any(ch.isspace() or ch in _URL_UNSAFE for ch in value)
    ):
        raise ConfigurationError(
            "MailBranding.logo_url must be an absolute https URL without credentials, "
            f"spaces or quotes (mail clients block other images), got {value!r}"
        )


def _check_color(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        raise ConfigurationError(
            f"MailBranding.button_color must be a colour such as '#1f4e8c', got {value!r}"
        )


def _footer_text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise ConfigurationError(f"MailBranding.footer{where} must be text, got {text!r}")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _freeze_footer(value: str | Mapping[str, str]) -> str | Mapping[str, str]:
    if isinstance(value, str):
        return _footer_text(value, "")
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "MailBranding.footer must be text, or a mapping of locale to text such as "
            f"{{'de': 'Impressum: …', 'en': 'Legal notice: …'}}, got {value!r}"
        )
    footers: dict[str, str] = {}
    for locale, text in value.items():
        tag = locale.replace("-", "_") if isinstance(locale, str) else ""
        if not _LOCALE.fullmatch(tag):
            raise ConfigurationError(
                f"MailBranding.footer: {locale!r} is not a language tag such as 'de'"
            )
        footers[tag] = _footer_text(text, f"[{locale!r}]")
    return MappingProxyType(footers)


def _luminance(color: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@attrs.frozen
class MailBranding:
    """How a shop's mails look (``Settings.mail_branding``); the shop's name in them is
    ``Settings.shop_name``.

    *logo_url*: an image above every HTML mail (its alternative text is the
    shop's name); an absolute ``https`` URL, or ``None`` for the name as text.
    *footer*: plain text below every mail, text and HTML, such as the legal
    notice a German shop must show (Impressum); one text for every language,
    or ``{"de": "…", "en": "…"}`` (a language without one gets the default
    locale's, then the English one). *button_color*: the button's colour
    (``#rrggbb``); its text is black or white, whichever reads better on it.
    Anything else raises :class:`~wsactions.errors.ConfigurationError`.
    """

    logo_url: str | None = attrs.field(default=None, validator=_check_logo_url)
    footer: str | Mapping[str, str] = attrs.field(default="", converter=_freeze_footer)
    button_color: str = attrs.field(default="#1f4e8c", validator=_check_color)

    @property
    def button_text_color(self) -> str:
        """Black or white: the one with more contrast to :attr:`button_color` (WCAG 2)."""
        shade = _luminance(self.button_color) + 0.05
        # black wins when shade / 0.05 (its contrast) exceeds 1.05 / shade (white's)
        return "#000000" if shade * shade > 1.05 * 0.05 else "#ffffff"

    def footer_lines(self, *locales: str) -> tuple[str, ...]:
        """The footer's lines in the first of *locales* it has a text for (none: no lines)."""
        footer = self.footer
        if not isinstance(footer, str):
            footer = next((footer[tag] for tag in locales if tag in footer), "")
        return tuple(footer.split("\n")) if footer else ()


@functools.cache
def _environment(directories: tuple[str, ...]) -> jinja2.Environment:
    import jinja2  # here, not at the top: ``import wsactions`` stays cheap

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([*directories, str(SHIPPED_MAIL_TEMPLATES)]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_mail_template(
    directories: tuple[str, ...], name: str, variables: Mapping[str, object]
) -> str:
    """Template *name* (``password.html``) from the first of *directories* that has it, else
    the shipped one, rendered with *variables*.

    Values are escaped in ``.html`` templates, not in ``.txt`` ones; trailing
    blank lines are dropped. Raises :class:`~wsactions.errors.ConfigurationError`
    when the template is missing or fails (an unknown variable, a syntax
    error), naming it.
    """
    import jinja2

    try:
        rendered = _environment(directories).get_template(name).render(variables)
    except jinja2.TemplateError as error:
        raise ConfigurationError(
            f"mail template {name!r} (looked up in {[*directories, str(SHIPPED_MAIL_TEMPLATES)]})"
            f" failed: {type(error).__name__}: {error}"
        ) from error
    return rendered.rstrip() + "\n" if name.endswith(".html") else rendered.rstrip()


def template_dirs(value: Iterable[str | os.PathLike[str]]) -> tuple[str, ...]:
    """``Settings.mail_template_dirs`` as a tuple of existing directories."""
    if isinstance(value, str | os.PathLike):
        raise ConfigurationError(
            "mail_template_dirs must be a collection of directories, not one path: "
            f"write ({os.fspath(value)!r},)"
        )
    directories = tuple(os.fspath(path) for path in value)
    missing = [path for path in directories if not Path(path).is_dir()]
    if missing:
        raise ConfigurationError(f"mail_template_dirs: not a directory: {missing}")
    return directories
