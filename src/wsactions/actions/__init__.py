"""The built-in actions, one module per family."""

from __future__ import annotations

from collections.abc import Iterable

from .._action import ActionSpec
from .._registry import ActionRegistry
from ..settings import Settings


def builtin_actions() -> tuple[ActionSpec, ...]:
    """Every built-in action declaration, in catalog order."""
    from . import account, address, b2b, factors, guest, login_codes, passkeys, payment, session

    return (
        *session.ACTIONS,
        *account.ACTIONS,
        *factors.ACTIONS,
        *login_codes.ACTIONS,
        *passkeys.ACTIONS,
        *guest.ACTIONS,
        *address.ACTIONS,
        *payment.ACTIONS,
        *b2b.ACTIONS,
    )


def default_registry(
    settings: Settings | None = None, *, families: Iterable[str] | None = None
) -> ActionRegistry:
    """A registry with every built-in action (of *families*, all when ``None``)."""
    registry = ActionRegistry(settings=settings)
    for spec in builtin_actions():
        if families is None or spec.family in families:
            registry.register(spec)
    return registry
