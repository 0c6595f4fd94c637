"""Validation of ``wstarget``: only same-site paths or allow-listed hosts.

The rules are deliberately narrower than what browsers accept, because
browsers repair URLs in ways that turn harmless-looking paths into other
hosts (``/\\evil``, ``/\\t/evil``, ``\\\\evil``, ``https:evil``):

* only printable ASCII; no whitespace, no backslash, no control characters;
* either an absolute path (``/...``, but not ``//...``),
* or an ``http(s)`` URL without user info whose host is allow-listed.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

MAX_TARGET_LENGTH = 2048
_ALLOWED = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"\\"}


def safe_target(target: str, allowed_hosts: Collection[str]) -> str | None:
    """*target* if it is a safe redirect destination, else ``None``."""
    if not target or len(target) > MAX_TARGET_LENGTH or not set(target) <= _ALLOWED:
        return None
    if target.startswith("/"):
        return None if target.startswith("//") else target
    try:
        parts = urlsplit(target)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not target.lower().startswith(parts.scheme + "://"):
        return None
    if host is None or "@" in parts.netloc or host.lower() not in allowed_hosts:
        return None
    return target
