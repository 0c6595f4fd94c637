"""Opt-in tokens: random, mailed once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

#: Bytes of randomness per token (256 bits; the requirement is at least 128).
TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 128


def new_token() -> tuple[str, str]:
    """A fresh token for a link and the hash to store: ``(token, token_hash)``."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, _digest(token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def hash_token(token: str) -> str | None:
    """The stored form of *token*; ``None`` for a value that cannot be a token."""
    if not token or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return _digest(token)
