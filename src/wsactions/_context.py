"""The concrete context an adapter builds for each request."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

import attrs

from .protocols import AccountStore, Clock, CounterStore, Mailer, Session, Storage, TokenStore
from .settings import Settings


@attrs.frozen
class RequestInfo:
    """What the engine needs to know about the request.

    *client_address* must come from the host's trusted-proxy configuration
    (never straight from a client-controlled header such as
    ``X-Forwarded-For``). *optin_token* is the request's ``wsoptin`` value
    (from the query string of the page, or the form). *subshop* names the
    subshop the request is for, when the host runs several.
    """

    client_address: str = ""
    optin_token: str | None = attrs.field(default=None, repr=False)
    subshop: str | None = None


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

    @property
    def accounts(self) -> AccountStore:
        """The storage's account store."""
        return self.storage.accounts

    @property
    def tokens(self) -> TokenStore:
        """The storage's token store."""
        return self.storage.tokens

    @property
    def counters(self) -> CounterStore:
        """The storage's counters."""
        return self.storage.counters

    def transaction(self) -> AbstractContextManager[None]:
        """The storage's unit of work."""
        return self.storage.transaction()
