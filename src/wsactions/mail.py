"""Mail values and the mailers wsactions ships."""

from __future__ import annotations

import smtplib
import sys
import threading
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import TextIO

import attrs


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Mail:
    """One plain-text mail; *links* lists the URLs the text contains (opt-in links)."""

    to: str
    subject: str
    text: str
    purpose: str = ""
    links: tuple[str, ...] = attrs.field(default=(), converter=_strings)


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
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        with self.connect() as smtp:
            smtp.send_message(message)
