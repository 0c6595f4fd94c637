"""The built-in actions, one module per family."""

from __future__ import annotations

from .._action import ActionSpec


def builtin_actions() -> tuple[ActionSpec, ...]:
    """Every built-in action declaration, in catalog order."""
    from . import session

    return (*session.ACTIONS,)
