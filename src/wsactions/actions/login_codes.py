"""Login by an emailed code (additions beyond the seed): ``LoginCodeRequest`` mails a short
code to a known, active address; ``LoginCode`` logs the browser that asked in with it.

- **Enumeration-safe** (E37): LoginCodeRequest answers success for any well-formed
  address, known or not, and counts against the same mail budgets either way (per address
  and kind ``login_code``, per client: L38).
- **Bound to the browser that asked**: the session keeps a random nonce; the store keeps
  only SHA-256 of the nonce and the code (a token of purpose ``login_code``, the newest
  per account). A code typed in another browser, or after another request, is wrong.
- **Short-lived and single use**: valid ``Settings.login_code_lifetime`` (180 s); the
  first right answer consumes it (16 at once: one login).
- **Three tries**: every attempt counts on the server against the nonce (not in the
  session, which a client could replay); after :data:`CODE_TRIES` wrong ones the code is
  void, right or not.
- An account with a second factor is not logged in by the code alone:
  ``secondFactorRequired`` and a pending login, as after a password (M41).
"""

from __future__ import annotations

import secrets
from typing import Any

import attrs

from .._action import Call, Outcome, Param, action, fail, fail_all, ok
from ..models import TokenRecord
from ._common import (
    CODE_TRIES,
    check_email,
    code_attempt,
    code_hash,
    mail_allowed,
    new_code,
    normalized,
    send_mail,
    start_login,
)

__all__ = ["CODE_TRIES", "PURPOSE", "code_hash", "new_code", "normalized"]

#: The token purpose of a login code (never a link's: no opt-in action accepts it).
PURPOSE = "login_code"
def _request_prepare(call: Call[Any]) -> Outcome | Any:
    errors: list[Any] = []
    email = check_email(call, "email", "missingEmail", errors)
    if email is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key, PURPOSE):
        return fail("tooManyRequests")
    return email


@action(
    "LoginCodeRequest",
    family="account",
    prepare=_request_prepare,
    params=[Param("email", required=True)],
    codes=["missingEmail", "emailCheckFailed"],
)
def login_code_request(call: Call[Any]) -> Outcome:
    """Mails a login code to the address if it belongs to an account that may log in,
    bound to this browser (``Settings.login_code_lifetime``); answers success either way
    (E37)."""
    email = call.prepared
    settings = call.settings
    nonce = secrets.token_urlsafe(24)
    until = call.now + settings.login_code_lifetime
    call.ctx.session.set_pending_code((nonce, until))  # known address or not: alike
    account = call.accounts.find_account(email.key)
    if (
        account is None
        or account.invitation_pending
        or not account.may_log_in
        or (settings.require_verified_email and not account.verified)
    ):
        return ok()
    known = account

    def issue_and_mail() -> None:
        # After commit: the token is one statement of its own (it replaces the account's
        # older code), the mail is rendered outside any transaction.
        code = new_code(settings.login_code_style)
        call.tokens.add(TokenRecord(code_hash(nonce, code), PURPOSE, known.id, call.now, until))
        minutes = max(1, round(settings.login_code_lifetime / 60))
        details = {"code": code, "minutes": str(minutes)}
        send_mail(call, PURPOSE, known.email, account=known, details=details)

    call.after_commit(issue_and_mail)
    return ok()


@attrs.frozen
class _Attempt:
    token_hash: str = attrs.field(repr=False)


def _code_prepare(call: Call[Any]) -> Outcome | _Attempt:
    nonce = code_attempt(call, "login-code", call.settings.login_code_lifetime)
    if isinstance(nonce, Outcome):
        return nonce
    return _Attempt(code_hash(nonce, call.get("code") or ""))


@action(
    "LoginCode",
    family="account",
    prepare=_code_prepare,
    params=[Param("code", required=True, secret=True)],
    codes=[
        "missingCode",
        "invalidCode",
        "accountInactive",
        "subshopNotAllowed",
        "secondFactorRequired",
    ],
)
def login_code(call: Call[_Attempt]) -> Outcome:
    """Logs this browser in with the code LoginCodeRequest mailed to it (once; three tries;
    within ``Settings.login_code_lifetime``). An account with a second factor answers
    ``secondFactorRequired`` and a pending login."""
    token_hash = call.prepared.token_hash
    record = call.tokens.consume(token_hash)
    if record is None or record.purpose != PURPOSE or not record.valid_at(call.now):
        return fail("invalidCode", "code")
    account = call.accounts.get_account(record.account_id, for_update=True)
    session = call.ctx.session
    session.set_pending_code(None)
    if account is None or not account.may_log_in:
        return fail("accountInactive")
    from ..rights import MemberRights

    if not MemberRights(call.accounts, account).subshop_allowed(call.ctx.request.subshop):
        return fail("subshopNotAllowed")
    if account.has_second_factor:  # M41: the mailbox is one factor
        from .factors import ask_second_factor

        def used_up() -> None:  # the failure rolls the unit of work back: consume again
            call.tokens.consume(token_hash)

        call.on_failure(used_up)
        return ask_second_factor(call, account)
    start_login(call, account, method="code")
    return ok()


ACTIONS = (login_code_request, login_code)
