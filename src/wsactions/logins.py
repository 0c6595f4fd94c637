"""Logins: who a session is logged in as, and the server-side login records behind it.

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

import hashlib
import hmac
from collections.abc import Sequence

from .models import Account, LoginRecord
from .protocols import ActionContext, Session, Storage
from .settings import Settings

__all__ = [
    "SWEEP_BATCH",
    "TOUCH_INTERVAL",
    "current_account",
    "current_login_id",
    "end_all",
    "end_login",
    "list_logins",
    "logged_in_account",
    "login_id",
    "sweep",
]

#: The most expired records one sweep removes (the bounded cost of one request).
SWEEP_BATCH = 500


class _Read:
    """``logged_in_account(found=...)`` left out: read the login."""


_READ = _Read()

#: A login is marked as seen at most this often (seconds): one write per minute, not per request.
TOUCH_INTERVAL = 60.0


def login_id(secret: str) -> str:
    """The id of the login record whose session holds *secret* (its SHA-256)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def logged_in_account(
    ctx: ActionContext,
    *,
    for_update: bool = False,
    found: tuple[LoginRecord, Account | None] | _Read | None = _READ,
) -> Account | None:
    """The session's account if its login record exists and the account may still log in.

    *found* is what ``storage.logins.get_login_account`` answered for this session's
    login, when the caller read it already (the headless API's token lookup): it is
    checked like a fresh read, without reading again.

    A session whose login record was ended (Logout elsewhere, a password
    change, deactivation) or has expired (``Settings.login_lifetime``), whose
    account was deleted or deactivated, whose
    security stamp changed, or which is in a subshop the account may no
    longer use, is logged out here. A session of an account whose rights
    changed since it last looked gets a new id (S20).
    """
    session = ctx.session
    account_id = session.account_id
    if account_id is None:
        return None
    storage = ctx.storage
    secret = session.login_secret
    if isinstance(found, _Read):
        found = (
            storage.logins.get_login_account(login_id(secret), for_update=for_update)
            if secret
            else None
        )
    login, account = found if found is not None else (None, None)
    now = ctx.clock.now()
    if login is not None and ctx.settings.login_lifetime.expired(login, now):
        login = None  # idle or too old: refused here, removed by the next sweep
    if login is None or login.account_id != account_id:
        account = None
    if (
        login is None
        or account is None
        or not account.may_log_in
        or not hmac.compare_digest(account.security_stamp, session.security_stamp or "")
        or (
            account.allowed_subshops is not None
            and ctx.request.subshop not in account.allowed_subshops
        )
    ):
        session.log_out()
        return None
    if login is not None and now - login.last_seen >= TOUCH_INTERVAL:
        storage.logins.touch_login(login.id, now)
    if session.rights_stamp != account.rights_stamp:
        session.renew(account.rights_stamp)
    return account


def current_account(ctx: ActionContext) -> Account | None:
    """The account logged in to *ctx*'s session, or ``None``: what a host view asks.

    Checks the server-side login record, so a session logged out elsewhere
    (or whose password was changed) answers ``None``.
    """
    return logged_in_account(ctx)


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


def is_fresh(ctx: ActionContext) -> bool:
    """Whether the session's login was proven (logged in, or Reauthenticate) within
    ``Settings.reauthentication_timeout``: what sensitive changes ask (M44). A host asks
    it before a change of its own that needs a fresh login (ending other logins, say)."""
    current = current_login_id(ctx.session)
    if current is None:
        return False
    login = ctx.storage.logins.get_login(current)
    if login is None:
        return False
    return ctx.clock.now() - login.proven <= ctx.settings.reauthentication_timeout


def sweep(storage: Storage, settings: Settings, now: float, *, limit: int = SWEEP_BATCH) -> int:
    """Remove at most *limit* logins that have expired at *now*; how many."""
    lifetime = settings.login_lifetime
    return storage.logins.sweep(now - lifetime.idle, now - lifetime.absolute, limit)
