"""Breached-password screening (``Settings.breached_passwords``): refuse a new password
that is known from data breaches (ASVS 5.0 V6.2.12, NIST SP 800-63B rev. 4).

Two checkers ship; a shop may write its own (anything with :meth:`Checker.check`):

* :class:`PwnedPasswordsRange` asks the Pwned Passwords range API with k-anonymity:
  only the first 5 hex characters of the SHA-1 of the password (NFKC, as it is
  hashed) leave the server, with ``Add-Padding: true`` so that the answer's size
  tells nothing either; the match is made here. A short timeout bounds the wait;
  what happens when the service cannot be asked is the shop's explicit choice:
  ``mode="best-effort"`` lets the password through, ``mode="strict"`` refuses it
  (sub-code ``breachCheckUnavailable``).
* :class:`HashList` checks an offline list the host supplies (SHA-1 hashes in hex,
  one per line as the downloadable Pwned Passwords files have them, ``HASH:count``).

A checker answers :data:`BREACHED`, :data:`NOT_FOUND` or :data:`UNKNOWN` (could not
check). Passwords are never logged, and no checker raises for the service's failures.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, Literal, Protocol

from .passwords import normalize

__all__ = [
    "BREACHED",
    "NOT_FOUND",
    "UNKNOWN",
    "Checker",
    "HashList",
    "PwnedPasswordsRange",
    "Verdict",
    "sha1_hex",
]

Verdict = Literal["breached", "not-found", "unknown"]
BREACHED: Final = "breached"
NOT_FOUND: Final = "not-found"
UNKNOWN: Final = "unknown"

_log = logging.getLogger("wsactions.security")

#: The most a range answer may hold (bytes): a real one is some 30 KiB padded.
MAX_RANGE_ANSWER = 1 << 20
#: Range answers kept per checker, and for how long (seconds).
CACHE_SIZE = 1024
CACHE_SECONDS = 3600.0


class Checker(Protocol):
    """What ``Settings.breached_passwords`` holds."""

    #: ``"strict"``: a password that could not be checked is refused.
    mode: Literal["best-effort", "strict"]

    def check(self, password: str) -> Verdict:
        """Whether *password* (as typed; the checker normalises it) is known breached."""
        ...


def sha1_hex(password: str) -> str:
    """The upper-case hex SHA-1 of the NFKC form of *password* (the lists' key)."""
    data = normalize(password).encode("utf-8", "surrogatepass")
    return hashlib.sha1(data, usedforsecurity=False).hexdigest().upper()


class HashList:
    """An offline list of breached passwords' SHA-1 hashes, held in memory.

    *hashes*: hex SHA-1 strings, optionally followed by ``:count`` (the form of
    the downloadable Pwned Passwords files); case does not matter, blank lines and
    malformed entries are skipped. Never unknown: ``mode`` is ``"best-effort"``.
    """

    mode: Literal["best-effort", "strict"] = "best-effort"

    def __init__(self, hashes: Iterable[str]) -> None:
        found = set()
        for line in hashes:
            digest = line.strip().partition(":")[0].upper()
            if len(digest) == 40 and all(c in "0123456789ABCDEF" for c in digest):
                found.add(digest)
        self._hashes = frozenset(found)

    @classmethod
    def from_file(cls, path: str | Path) -> HashList:
        """The list in a text file, one hash per line."""
        with Path(path).open(encoding="ascii", errors="replace") as lines:
            return cls(lines)

    def __len__(self) -> int:
        return len(self._hashes)

    def check(self, password: str) -> Verdict:
        """:data:`BREACHED` when the password's hash is listed, else :data:`NOT_FOUND`."""
        return BREACHED if sha1_hex(password) in self._hashes else NOT_FOUND


Fetch = Callable[[str, float], bytes]


class PwnedPasswordsRange:
    """The Pwned Passwords range API with k-anonymity (only a 5-character prefix of the
    hash is sent, with padding).

    *url* is the range endpoint (the prefix is appended); *timeout* bounds one
    request in seconds; *mode* decides what a failed request means (see the module).
    *fetch* replaces the HTTP GET (``fetch(url, timeout) -> body``), for tests or a
    host's own HTTP client; it raises ``OSError`` (or a subclass) on failure.
    """

    def __init__(
        self,
        *,
        url: str = "https://api.pwnedpasswords.com/range/",
        timeout: float = 2.0,
        mode: Literal["best-effort", "strict"] = "best-effort",
        user_agent: str = "wsactions-breached-password-check",
        fetch: Fetch | None = None,
    ) -> None:
        if mode not in ("best-effort", "strict"):
            raise ValueError("mode must be 'best-effort' or 'strict'")
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("the range API is asked over https (or on this machine)")
        if not 0 < timeout <= 30:
            raise ValueError("timeout must be between 0 and 30 seconds")
        self.url = url
        self.timeout = timeout
        self.mode: Literal["best-effort", "strict"] = mode
        self._user_agent = user_agent
        self._fetch = fetch or self._get
        # Answers by prefix, kept a while: a live strength meter asks once per prefix,
        # and the shop does not become a relay that multiplies requests to the service.
        self._answers: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def _get(self, url: str, timeout: float) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            url, headers={"Add-Padding": "true", "User-Agent": self._user_agent}
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            if answer.status != 200:
                raise OSError(f"range API answered {answer.status}")
            body: bytes = answer.read(MAX_RANGE_ANSWER + 1)
        if len(body) > MAX_RANGE_ANSWER:
            raise OSError("range API answer too long")
        return body

    def check(self, password: str) -> Verdict:
        """Ask for the hash's range and look for its suffix there (count 0: padding)."""
        digest = sha1_hex(password)
        prefix, suffix = digest[:5], digest[5:]
        body = self._range(prefix)
        if body is None:
            return UNKNOWN
        for line in body.decode("ascii", "replace").splitlines():
            found, _, count = line.strip().partition(":")
            if found.upper() == suffix:
                return BREACHED if count.strip() not in ("", "0") else NOT_FOUND
        return NOT_FOUND

    def _range(self, prefix: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            kept = self._answers.get(prefix)
        if kept is not None and now - kept[0] < CACHE_SECONDS:
            return kept[1]
        try:
            body = self._fetch(self.url + prefix, self.timeout)
        except (OSError, http.client.HTTPException, ValueError) as error:
            _log.warning("breached-password check unavailable: %s", type(error).__name__)
            return None
        with self._lock:
            if len(self._answers) >= CACHE_SIZE:  # the oldest half goes
                for old in sorted(self._answers, key=lambda p: self._answers[p][0])[
                    : CACHE_SIZE // 2
                ]:
                    del self._answers[old]
            self._answers[prefix] = (now, body)
        return body
