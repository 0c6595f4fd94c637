"""Password hashing (argon2id) and the password policy.

One Unicode normalisation, NFKC, is applied when a password is set and when
it is verified, so that composed and decomposed forms of the same text are
one password; nothing is case-folded or truncated.
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
from . import strength


def normalize(password: str) -> str:
    """The form of *password* that is hashed and verified (NFKC)."""
    return unicodedata.normalize("NFKC", password)


class Hasher:
    """argon2id hashing with fixed parameters, plus a dummy verify for unknown accounts."""

    def __init__(self, parameters: argon2.Parameters) -> None:
        self._hasher = argon2.PasswordHasher.from_parameters(parameters)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash of the normalised *password*."""
        return self._hasher.hash(normalize(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether *password* matches; an absent or corrupt hash costs one dummy verify."""
        if password_hash is None:
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
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy, normalize(password))

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

    Length counts code points of the normalised password. The strength rule
    (zxcvbn, with *context* words such as email parts, display name and shop
    name) applies only to passwords of acceptable length; pass *score* when
    it is known already.
    """
    length = len(normalize(password))
    if length < policy.min_length:
        return ("minlen",)
    if length > policy.max_length:
        return ("maxlen",)
    if not policy.min_score:
        return ()
    if score is None:
        score = strength.score(password, list(context))
    return ("weak",) if score < policy.min_score else ()
