"""JSON parameters read with bounds: size and nesting are checked before parsing.

``json.loads`` recurses once per nesting level, so ``"[" * 5000`` raises
``RecursionError``; a flat scan refuses deep input first, in linear time.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

#: Nesting depth a parameter's JSON may have (the documented shapes need 2).
MAX_DEPTH = 8


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def too_deep(raw: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether *raw* nests arrays and objects deeper than *max_depth* (strings skipped)."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads(raw: str, *, max_length: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of *raw*, numbers as ``Decimal`` (never float), or ``None`` when it is
    longer than *max_length*, nested deeper than *max_depth*, or not JSON.

    ``NaN`` and ``Infinity`` are refused. A JSON ``null`` also answers ``None``.
    """
    if len(raw) > max_length or too_deep(raw, max_depth):
        return None
    try:
        return json.loads(
            raw, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constants
        )
    except (ValueError, InvalidOperation, RecursionError):
        return None
