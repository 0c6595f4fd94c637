"""Server-side logins for hosts: the "where you are logged in" page of an account.

Every Login creates a record on the server; the session keeps only a secret
whose SHA-256 is the record's id. Ending the record ends that login in
every copy of the session cookie (S21, S39)::

    for login in wsactions.logins.list_logins(storage, account.id):
        login.id, login.created_at, login.last_seen, login.client_address
    wsactions.logins.end_login(storage, account.id, login_id)      # one device
    wsactions.logins.end_all(storage, account.id, keep=session)    # every other device

Templates get the same data as ``wsAccount.logins`` (without expired
logins). ``last_seen`` is written at most once a minute per login.

A login ends on its own after ``Settings.login_lifetime`` (30 days without a
request, one year at most): it is refused from then on, and its record is
removed by :func:`sweep`, which the engine runs now and then after a login
(a host may also run it from a scheduled job).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._action import login_id
from .models import LoginRecord
from .protocols import Session, Storage
from .settings import Settings

__all__ = ["SWEEP_BATCH", "current_login_id", "end_all", "end_login", "list_logins", "sweep"]

#: The most expired records one sweep removes (the bounded cost of one request).
SWEEP_BATCH = 500


def list_logins(storage: Storage, account_id: str) -> Sequence[LoginRecord]:
    """The account's logins, oldest first (expired ones too, until they are swept)."""
    return storage.logins.list_logins(account_id)


def end_login(storage: Storage, account_id: str, login: str) -> bool:
    """End the account's login *login* (a :class:`LoginRecord` id); ``False`` when the
    account has no such login (another account's id included)."""
    record = storage.logins.get_login(login)
    if record is None or record.account_id != account_id:
        return False
    return storage.logins.end_login(login)


def end_all(storage: Storage, account_id: str, *, keep: Session | None = None) -> int:
    """End every login of the account, except the one of session *keep*; how many."""
    return storage.logins.end_logins(account_id, keep=current_login_id(keep) if keep else None)


def current_login_id(session: Session) -> str | None:
    """The id of the login record *session* belongs to, or ``None``."""
    secret = session.login_secret
    return login_id(secret) if secret else None


def sweep(storage: Storage, settings: Settings, now: float, *, limit: int = SWEEP_BATCH) -> int:
    """Remove at most *limit* logins that have expired at *now*; how many."""
    lifetime = settings.login_lifetime
    return storage.logins.sweep(now - lifetime.idle, now - lifetime.absolute, limit)
