"""Throttling counters: the keys they are kept under and one hit.

A counter key is a keyed hash of its parts (an action, an address, a
client), so the counter store never holds an address. One :func:`hit`
records first, then decides (``CounterStore.hit``): the count includes this
attempt, so a refused attempt costs too. Counters are hit before an
action's unit of work opens (in its ``prepare`` step), never inside it.
"""

from __future__ import annotations

import hashlib
import hmac

from .protocols import CounterStore
from .settings import RateLimit, Settings

__all__ = ["counter_key", "hit"]


def counter_key(settings: Settings, *parts: str) -> str:
    """The counter key of *parts* (an HMAC with the shop's secret key: no address in clear)."""
    message = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(settings.secret_bytes, message, hashlib.sha256).hexdigest()


def hit(counters: CounterStore, key: str, now: float, limit: RateLimit) -> int:
    """Record one event of *key*; the count including it, ``limit.limit + 1`` when over."""
    return counters.hit(key, now, limit.window, limit.limit)
