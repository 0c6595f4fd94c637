"""SQL statements the database backends share (SQLite 3.35+ and PostgreSQL): a counter hit
and a token's add, each one upsert. This module imports neither SQLAlchemy nor Django.

**The counter hit** (:func:`wsactions.backends.rules.counter_hit` as one statement). A
database backend hits a throttling counter with a single upsert that keeps
the events still within the window, adds this one unless *limit* of them are
there already, and answers the stored events and whether this hit was
refused (``RETURNING``): one round trip, no lock held across statements.
Parameters: ``key``, ``first`` (the JSON text ``[now]``), ``now``,
``cutoff`` (``now - window``), ``window`` and ``limit``.

**A token's add** (one token per account and purpose,
:func:`wsactions.backends.rules.superseded_tokens`): an insert that replaces the
account's token of the same purpose on the unique (account, purpose).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["TOKEN_COLUMNS", "hit_params", "hit_result", "hit_statement", "token_upsert"]


def hit_statement(
    dialect: str, table: str, *, placeholder: Callable[[str], str], jsonb: bool = False
) -> str:
    """The upsert for *dialect* (``sqlite`` or ``postgresql``) on *table* (columns
    ``key``, ``events``, ``expires_at``, ``refused``); *placeholder* spells a parameter
    (``:name`` or ``%(name)s``); *jsonb*: ``events`` is a ``jsonb`` column (else JSON text).
    """
    p = {name: placeholder(name) for name in ("key", "first", "now", "cutoff", "window", "limit")}
    if dialect == "sqlite":
        kept = f"FROM json_each({table}.events) WHERE value > {p['cutoff']}"
        return f"""
INSERT INTO {table} ("key", events, expires_at, refused)
VALUES ({p["key"]}, {p["first"]}, {p["now"]} + {p["window"]}, 0)
ON CONFLICT ("key") DO UPDATE SET
  refused = (SELECT count(*) >= {p["limit"]} {kept}),
  events = (SELECT CASE WHEN count(*) >= {p["limit"]} THEN json_group_array(value)
                   ELSE json_insert(json_group_array(value), '$[#]', {p["now"]}) END {kept}),
  expires_at = (SELECT CASE WHEN count(*) >= {p["limit"]} THEN max(value)
                       ELSE max(coalesce(max(value), {p["now"]}), {p["now"]}) END
                       + {p["window"]} {kept})
RETURNING events, refused"""
    if dialect == "postgresql":
        elements = (
            "jsonb_array_elements_text(c.events)"
            if jsonb
            else ("json_array_elements_text(CAST(c.events AS json))")
        )
        now = f"CAST({p['now']} AS float8)"
        first = f"CAST({p['first']} AS jsonb)" if jsonb else p["first"]
        kept = f"FROM {elements} WITH ORDINALITY AS t(e, o) WHERE CAST(e AS float8) > {p['cutoff']}"
        agg = "coalesce(jsonb_agg(CAST(e AS float8) ORDER BY o), CAST('[]' AS jsonb))"
        events = f"CASE WHEN count(*) >= {p['limit']} THEN {agg} ELSE {agg} || to_jsonb({now}) END"
        stored = events if jsonb else f"CAST(({events}) AS text)"
        return f"""
INSERT INTO {table} AS c ("key", events, expires_at, refused)
VALUES ({p["key"]}, {first}, {now} + {p["window"]}, false)
ON CONFLICT ("key") DO UPDATE SET
  refused = (SELECT count(*) >= {p["limit"]} {kept}),
  events = (SELECT {stored} {kept}),
  expires_at = (SELECT CASE WHEN count(*) >= {p["limit"]} THEN max(CAST(e AS float8))
                       ELSE greatest(coalesce(max(CAST(e AS float8)), {now}), {now}) END
                       + {p["window"]} {kept})
RETURNING events, refused"""
    raise ValueError(f"no counter statement for {dialect!r}")


def hit_params(key: str, now: float, window: float, limit: int) -> dict[str, Any]:
    """The statement's parameters for one hit."""
    return {
        "key": key,
        "first": json.dumps([now]),
        "now": now,
        "cutoff": now - window,
        "window": window,
        "limit": limit,
    }


def hit_result(events: Any, refused: Any, limit: int) -> int:
    """What ``CounterStore.hit`` answers for the statement's ``RETURNING`` row."""
    if refused:
        return limit + 1
    stored = json.loads(events) if isinstance(events, str | bytes) else events
    return len(stored)


#: The columns of a stored token, as ``TokenRecord`` names them.
TOKEN_COLUMNS = ("token_hash", "purpose", "account_id", "created_at", "expires_at", "email")


def token_upsert(table: str, *, placeholder: Callable[[str], str]) -> str:
    """The insert of a token into *table* that replaces the account's token of the same
    purpose (parameters: the :data:`TOKEN_COLUMNS`)."""
    names = ", ".join(f'"{name}"' for name in TOKEN_COLUMNS)
    values = ", ".join(placeholder(name) for name in TOKEN_COLUMNS)
    kept = ("account_id", "purpose")
    replaced = ", ".join(
        f'"{name}" = excluded."{name}"' for name in TOKEN_COLUMNS if name not in kept
    )
    return (
        f"INSERT INTO {table} ({names}) VALUES ({values}) "
        f'ON CONFLICT ("account_id", "purpose") DO UPDATE SET {replaced}'
    )
