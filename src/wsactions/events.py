"""Structured events: one per executed action, the hook for audit logs."""

from __future__ import annotations

import logging

import attrs

logger = logging.getLogger("wsactions")


@attrs.frozen
class ActionEvent:
    """What happened, without secrets: no parameter values are ever included."""

    name: str
    success: bool
    codes: frozenset[str]
    account_id: str | None
    client_address: str
    at: float


def log_event(event: ActionEvent) -> None:
    """An event sink that writes one line per action to the ``wsactions`` logger."""
    logger.info(
        "action=%s success=%s codes=%s account=%s client=%s",
        event.name,
        event.success,
        ",".join(sorted(event.codes)) or "-",
        event.account_id or "-",
        event.client_address or "-",
    )
