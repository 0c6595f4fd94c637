"""CSRF tokens and link signatures: HMACs bound to the session's CSRF binding.

A form token is bound to the session (through the random binding value the
session keeps, replaced at every login and logout) and to the action, so a
token leaked from one form (or from a link) cannot drive another action.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
from collections.abc import Mapping


def _mac(key: bytes, *parts: str) -> str:
    message = "\x00".join(parts).encode("utf-8", "surrogatepass")
    digest = hmac.digest(key, message, "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@functools.lru_cache(maxsize=4096)
def form_token(key: bytes, binding: str, action: str) -> str:
    """The ``wscsrf`` value for *action*'s form in the session with *binding*.

    Cached: a page renders several handles and every post checks one.
    """
    return _mac(key, "wsactions.csrf", binding, action.lower())


def link_signature(
    key: bytes, binding: str, action: str, target: str, params: Mapping[str, str]
) -> str:
    """The signature of a link action's URL: covers the action, target and parameters."""
    flat = json.dumps(sorted(params.items()), ensure_ascii=True)
    return _mac(key, "wsactions.link", binding, action.lower(), target, flat)


def tokens_equal(expected: str, given: str) -> bool:
    """Constant-time comparison; anything that is not ASCII text is simply unequal."""
    if not given.isascii():
        return False
    return hmac.compare_digest(expected, given)


@functools.lru_cache(maxsize=4096)
def api_token(key: bytes, binding: str) -> str:
    """The headless API's CSRF token (the browser client's ``X-CSRF-Token`` header) in the
    session with *binding*: one per session, not per action, and never a form token."""
    return _mac(key, "wsactions.api-csrf", binding)


def sealed(key: bytes, purpose: str, payload: str) -> str:
    """*payload* with a MAC for *purpose* (``<payload>.<mac>``): readable, not forgeable."""
    return f"{payload}.{_mac(key, 'wsactions.sealed', purpose, payload)}"


def unsealed(keys: tuple[bytes, ...], purpose: str, value: str) -> str | None:
    """The payload of a value :func:`sealed` made with one of *keys* for *purpose*, or
    ``None`` (forged, edited, sealed for another purpose, not ASCII)."""
    payload, _, mac = value.rpartition(".")
    if not payload or not value.isascii():
        return None
    for key in keys:
        if hmac.compare_digest(_mac(key, "wsactions.sealed", purpose, payload), mac):
            return payload
    return None
