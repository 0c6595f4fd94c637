"""Mail values, the mailers wsactions ships, and the templates mails are rendered from.

Every kind of mail (:data:`MAIL_KINDS`) is a template pair in the package's
``mails`` folder, ``<kind>.txt`` and ``<kind>.html``, both extending one
layout (``_base.txt``, ``_base.html``). A host replaces any one of these
files by a file of the same name in a directory of
``Settings.mail_template_dirs``; ``Settings.mail_branding``
(:class:`MailBranding`) sets the logo, the legal footer and the button's
colour. The words come from the message catalogues (``wsactions.i18n``).
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import attrs

from .errors import ConfigurationError

if TYPE_CHECKING:
    import smtplib

    import jinja2

    from .protocols import Mailer

_log = logging.getLogger("wsactions.mail")


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Mail:
    """One mail: plain *text* and, usually, *html*; *links* lists the URLs it contains
    (opt-in links); *locale* is the language it is written in."""

    to: str
    subject: str
    text: str
    purpose: str = ""
    links: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    html: str = attrs.field(default="", repr=False)
    locale: str = "en"


@attrs.define
class RecordingMailer:
    """Keeps every mail in :attr:`outbox`: for tests and the testing harness."""

    outbox: list[Mail] = attrs.Factory(list)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def send(self, mail: Mail) -> None:
        """Append *mail* to the outbox."""
        with self._lock:
            self.outbox.append(mail)


@attrs.define
class ConsoleMailer:
    """Prints mails to a stream (standard output by default): for development."""

    stream: TextIO | None = None

    def send(self, mail: Mail) -> None:
        """Write *mail* to the stream."""
        out = self.stream or sys.stdout
        out.write(f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.text}\n{'-' * 40}\n")


class BackgroundMailer:
    """Delivers mails through *mailer* on a worker thread: off the request's timing path.

    :meth:`send` only queues the mail, so an action takes the same time
    whether it mails or not; with ``Settings.enumeration_protection`` a mailer
    that talks to a server must be wrapped in it (``registry.context`` refuses
    a bare :class:`SmtpMailer` then), or the time of a PasswordForgotten tells
    known addresses from unknown ones (E37). A delivery that raises is logged
    to the ``wsactions.mail`` logger (recipient and subject only, never the
    text with its links) and dropped. :meth:`flush` waits for the queue,
    :meth:`close` ends the worker after it. One worker per process, started on
    first use (so it survives a pre-forking server's fork).
    """

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._queue: queue.Queue[Mail | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._pid = 0

    def send(self, mail: Mail) -> None:
        """Queue *mail* for delivery and return at once."""
        self._ensure_worker()
        self._queue.put(mail)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued mail was handed to the mailer; whether it happened in time."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Deliver what is queued, then end the worker."""
        with self._lock:
            worker = self._worker
            self._worker = None
        if worker is not None and worker.is_alive():
            self._queue.put(None)
            worker.join()

    def _ensure_worker(self) -> None:
        with self._lock:
            worker = self._worker
            if worker is not None and worker.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._worker = threading.Thread(
                target=self._run, name="wsactions-mail", daemon=True
            )
            self._worker.start()

    def _run(self) -> None:
        while True:
            mail = self._queue.get()
            if mail is None:
                self._queue.task_done()
                return
            try:
                self.mailer.send(mail)
            except Exception:
                _log.exception("mail delivery failed: to=%s subject=%s", mail.to, mail.subject)
            finally:
                self._queue.task_done()


@attrs.define
class SmtpMailer:
    """Sends mails through an SMTP server with the standard library.

    *connect* returns a ready :class:`smtplib.SMTP` (logged in, TLS started as
    your server needs); one connection is opened per mail.
    """

    sender: str
    connect: Callable[[], smtplib.SMTP]

    def send(self, mail: Mail) -> None:
        """Deliver *mail*."""
        from email.message import EmailMessage  # only when mail is really sent

        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        with self.connect() as smtp:
            smtp.send_message(message)


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
)

#: The kinds whose mail carries a link: their HTML shows it as a button (with the raw link
#: below it), their text on a line of its own.
LINK_MAIL_KINDS: frozenset[str] = frozenset(MAIL_KINDS) - {"account_exists"}

#: The shipped mail templates: ``_base.txt``, ``_base.html`` and a pair per kind.
SHIPPED_MAIL_TEMPLATES = Path(__file__).parent / "mails"

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


def _template_dirs(value: Iterable[str | os.PathLike[str]]) -> tuple[str, ...]:
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
