"""The built-in actions, one module per family."""

from __future__ import annotations

from .._action import ActionSpec


def builtin_actions() -> tuple[ActionSpec, ...]:
    """Every built-in action declaration, in catalog order."""
    from . import account, address, b2b, guest, payment, session

    return (
        *session.ACTIONS,
        *account.ACTIONS,
        *guest.ACTIONS,
        *address.ACTIONS,
        *payment.ACTIONS,
        *b2b.ACTIONS,
    )
