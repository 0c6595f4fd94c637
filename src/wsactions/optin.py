"""Opt-in tokens for hosts: issue one and build its link.

The built-in actions mail their own links. A host uses these functions for
tokens of its own, for example a link in an order confirmation that lets a
customer correct the delivery address without logging in (purpose
``address``, accepted by the address actions)::

    token = wsactions.optin.issue(ctx, account.id, "address")
    url = wsactions.optin.link(ctx.settings, "address", token)

The token is returned once and stored only as a hash; a newer token of the
same purpose for the same account revokes the older one. Expired tokens are
removed by :func:`sweep`, which the engine runs now and then after issuing
one (a host may also run it from a scheduled job).
"""

from __future__ import annotations

from urllib.parse import urlencode

from .errors import ConfigurationError
from .models import TokenRecord
from .protocols import ActionContext, Storage
from .security.tokens import hash_token, new_token
from .settings import PURPOSES, Settings

#: The most expired tokens one sweep removes (the bounded cost of one request).
SWEEP_BATCH = 500


def issue(ctx: ActionContext, account_id: str, purpose: str, *, email: str | None = None) -> str:
    """Store a new token of *purpose* for *account_id*, valid for the purpose's lifetime."""
    if purpose not in PURPOSES:
        raise ConfigurationError(f"unknown opt-in purpose {purpose!r}; known: {PURPOSES}")
    token, token_hash = new_token()
    now = ctx.clock.now()
    ctx.storage.tokens.add(
        TokenRecord(
            token_hash=token_hash,
            purpose=purpose,
            account_id=account_id,
            created_at=now,
            expires_at=now + ctx.settings.token_lifetimes.for_purpose(purpose),
            email=email,
        )
    )
    return token


def link(settings: Settings, purpose: str, token: str, action: str | None = None) -> str:
    """``base_url + optin_paths[purpose]`` with ``wsoptin`` (and ``wsact`` when given).

    Built from the settings only, never from a request's Host header.
    """
    base = settings.base_url
    if base is None:
        raise ConfigurationError("Settings.base_url is needed to build opt-in links")
    query = {"wsact": action, "wsoptin": token} if action else {"wsoptin": token}
    return f"{base.rstrip('/')}{settings.optin_path(purpose)}?{urlencode(query)}"


def sweep(storage: Storage, now: float, *, limit: int = SWEEP_BATCH) -> int:
    """Remove at most *limit* tokens that have expired at *now*; how many."""
    return storage.tokens.sweep(now, limit)


def peek(ctx: ActionContext, token: str | None, now: float) -> TokenRecord | None:
    """The unexpired record of opt-in *token*, without using it up."""
    if not token:
        return None
    token_hash = hash_token(token)
    if token_hash is None:
        return None
    record = ctx.storage.tokens.get(token_hash)
    if record is None or not record.valid_at(now):
        return None
    return record
