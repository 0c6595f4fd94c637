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
