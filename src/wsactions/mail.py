"""The mailers wsactions ships: recording, console, SMTP and a background queue.

What a mail says and how it looks (its kinds, templates and the shop's
branding) is :mod:`wsactions.mails`; the :class:`~wsactions.models.Mail`
value lives with the other values. Both stay importable from here.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import attrs

if TYPE_CHECKING:
    import smtplib

    from .protocols import Mailer

_log = logging.getLogger("wsactions.mail")


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


# Moved to wsactions.mails (and Mail to wsactions.models); the names stay importable here.
from .mails import (  # noqa: E402
    LINK_MAIL_KINDS,
    MAIL_KINDS,
    SHIPPED_MAIL_TEMPLATES,
    MailBranding,
    MailTemplate,
    render_mail_template,
)
from .models import Mail  # noqa: E402

__all__ = [
    "LINK_MAIL_KINDS",
    "MAIL_KINDS",
    "SHIPPED_MAIL_TEMPLATES",
    "BackgroundMailer",
    "ConsoleMailer",
    "Mail",
    "MailBranding",
    "MailTemplate",
    "RecordingMailer",
    "SmtpMailer",
    "render_mail_template",
]
