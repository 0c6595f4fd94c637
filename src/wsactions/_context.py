"""The concrete context an adapter builds for each request."""

from __future__ import annotations

import time

import attrs

from .models import RequestInfo
from .protocols import Clock, Mailer, Session, Storage
from .settings import Settings

__all__ = ["Context", "RequestInfo", "SystemClock"]


class SystemClock:
    """The real time."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()


@attrs.frozen
class Context:
    """An :class:`~wsactions.protocols.ActionContext` built from a storage backend."""

    settings: Settings
    session: Session
    storage: Storage
    mailer: Mailer
    clock: Clock = attrs.Factory(SystemClock)
    request: RequestInfo = attrs.Factory(RequestInfo)
