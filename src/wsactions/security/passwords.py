"""Password hashing (argon2id) and the password policy.

One Unicode normalisation, NFKC, is applied when a password is set and when
it is verified, so that composed and decomposed forms of the same text are
one password; nothing is case-folded or truncated. The strength rule scores
the same normalised text that is hashed.

NFKC costs quadratic time on adversarial input (long runs of combining
marks in non-canonical order), so nothing longer than
:data:`RAW_LENGTH_FACTOR` times the policy's maximum is ever normalised: it
is refused as ``maxlen`` (or, at login, is a wrong password) unread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import unicodedata
from collections.abc import Iterable

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from ..settings import PasswordPolicy

#: Input longer than this many times ``PasswordPolicy.max_length`` is never normalised.
RAW_LENGTH_FACTOR = 4
#: The longest input a :class:`Hasher` normalises (the largest policy allowed, times the factor).
MAX_RAW_LENGTH = 1024 * RAW_LENGTH_FACTOR


def within_bound(password: str, policy: PasswordPolicy) -> bool:
    """Whether *password* is short enough to be normalised (and so possibly acceptable)."""
    return len(password) <= policy.max_length * RAW_LENGTH_FACTOR


def normalize(password: str) -> str:
    """The form of *password* that is hashed and verified (NFKC)."""
    return unicodedata.normalize("NFKC", password)


class Hasher:
    """argon2id hashing with fixed parameters, plus a dummy verify for unknown accounts."""

    def __init__(self, parameters: argon2.Parameters) -> None:
        self._hasher = argon2.PasswordHasher.from_parameters(parameters)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash of the normalised *password* (checked by the policy before)."""
        if len(password) > MAX_RAW_LENGTH:
            raise ValueError("password longer than any policy allows; check the policy first")
        return self._hasher.hash(normalize(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether *password* matches; an absent or corrupt hash, or an input too long to
        be any password, costs one dummy verify."""
        if password_hash is None or len(password) > MAX_RAW_LENGTH:
            self.dummy_verify(password)
            return False
        try:
            return self._hasher.verify(password_hash, normalize(password))
        except (VerificationError, InvalidHashError):
            return False

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verify, so that unknown accounts answer as fast as known ones."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        text = normalize(password) if len(password) <= MAX_RAW_LENGTH else ""
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy, text)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether *password_hash* was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


_HASHERS: dict[tuple[object, ...], Hasher] = {}


def hasher_for(parameters: argon2.Parameters) -> Hasher:
    """The shared :class:`Hasher` for *parameters* (its dummy hash is made once)."""
    key = dataclasses.astuple(parameters)
    found = _HASHERS.get(key)
    if found is None:
        found = _HASHERS.setdefault(key, Hasher(parameters))
    return found


def policy_failures(
    password: str,
    policy: PasswordPolicy,
    context: Iterable[str] = (),
    *,
    score: int | None = None,
) -> tuple[str, ...]:
    """The sub-codes of ``passwordCheckFailed`` *password* earns: ``minlen``, ``maxlen``, ``weak``.

    Length counts code points of the normalised password; input too long to
    normalise is ``maxlen`` unread. The strength rule (zxcvbn, with *context*
    words such as email parts, display name and shop name) scores the
    normalised password, and applies only to passwords of acceptable length;
    pass *score* when it is known already.
    """
    if not within_bound(password, policy):
        return ("maxlen",)
    normalized = normalize(password)
    length = len(normalized)
    if length < policy.min_length:
        return ("minlen",)
    if length > policy.max_length:
        return ("maxlen",)
    if not policy.min_score:
        return ()
    if score is None:
        from . import strength  # its tables load on the first score, not at start-up

        score = strength.score(normalized, list(context))
    return ("weak",) if score < policy.min_score else ()
