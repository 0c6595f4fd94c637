"""Customer account actions: registration, opt-ins, login, passwords, email, deletion, profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .. import throttles
from .._action import Access, Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..logins import current_login_id, login_id
from ..models import Account, TokenRecord
from ..rights import MemberRights
from ..security.emails import EmailAddress, parse_email
from ..security.passwords import normalize, policy_failures, within_bound
from ._common import (
    PASSWORD_SUBCODES,
    add_own_account,
    check_email,
    check_new_password,
    code_attempt,
    end_session_login,
    free_identity,
    hasher,
    login_counter,
    mail_allowed,
    mail_optin,
    new_account_fields,
    new_id,
    not_editable,
    notify,
    optin_code_token,
    own_account,
    password_context,
    reset_login_counter,
    send_mail,
    start_login,
    throttle,
)


def _plain_text(value: str) -> bool:
    return value.isprintable()


# registration and opt-ins ------------------------------------------------------------


def _register_prepare(call: Call[Any]) -> Outcome | tuple[EmailAddress, str]:
    errors: list[ActionError] = []
    email = check_email(call, "email", "missingId", errors)
    context = password_context(call, email=email.address if email else None)
    password = check_new_password(call, "password", "passwordRepeat", errors, context)
    if errors or email is None or password is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key, "register"):
        return fail("tooManyRequests")
    return email, hasher(call).hash(password)  # also for a taken address: same time


@action(
    "AccountRegister",
    family="account",
    prepare=_register_prepare,
    params=[
        Param("email", required=True),
        Param("password", required=True, secret=True),
        Param("passwordRepeat", required=True, secret=True),
    ],
    subcodes={"passwordCheckFailed": PASSWORD_SUBCODES},
    codes=[
        "missingId",
        "missingPassword",
        "passwordMismatch",
        "emailCheckFailed",
        "passwordCheckFailed",
        "accountAlreadyExists",
    ],
)
def account_register(call: Call[tuple[EmailAddress, str]]) -> Outcome:
    """Creates a customer account and mails the double opt-in link (EmailVerify).

    With ``companies_on_registration`` the new account founds and administers
    a company of its own. A pending invitation to the address is withdrawn
    (it never blocks the invitee's own registration). With
    ``enumeration_protection`` an address that already has an account
    answers success and its owner gets a notice instead.
    """
    email, password_hash = call.prepared
    accounts = call.accounts
    account_id = new_id()
    account = Account(
        id=account_id,
        email=email.address,
        email_key=email.key,
        password_hash=password_hash,
        security_stamp=new_id(),
        created_at=call.now,
        **new_account_fields(call, account_id),
    )
    if not add_own_account(call, account):
        if not call.settings.enumeration_protection:
            return fail("accountAlreadyExists", "email")
        owner = accounts.find_account(email.key)
        if owner is not None:
            send_mail(call, "account_exists", owner.email, account=owner)
        return ok()
    mail_optin(call, account, "verify", "EmailVerify", with_code=True)
    return ok()


def _address_prepare(
    field: str, missing: str, kind: str
) -> Callable[[Call[Any]], Outcome | EmailAddress]:
    """A prepare step: the address in *field*, checked and counted against the limits of
    mails of *kind*."""

    def prepare(call: Call[Any]) -> Outcome | EmailAddress:
        errors: list[ActionError] = []
        email = check_email(call, field, missing, errors)
        if email is None:
            return fail_all(errors)
        if not mail_allowed(call, email.key, kind):
            return fail("tooManyRequests")
        return email

    return prepare


@action(
    "AccountActivate",
    family="account",
    prepare=_address_prepare("id", "missingId", "activate"),
    params=[Param("id", required=True)],
    codes=["missingId", "emailCheckFailed", "accountAlreadyExists"],
)
def account_activate(call: Call[EmailAddress]) -> Outcome:
    """Mails an activation link (AccountActivateOptIn) to an inactive account.

    An unknown address answers success without mail; an active account
    answers ``accountAlreadyExists`` (success without mail under
    ``enumeration_protection``).
    """
    email = call.prepared
    account = call.accounts.find_account(email.key)
    if account is None or account.invitation_pending:
        return ok()
    if account.active:
        return ok() if call.settings.enumeration_protection else fail("accountAlreadyExists", "id")
    mail_optin(call, account, "activate", "AccountActivateOptIn")
    return ok()


def _token_account(call: Call[Any], purposes: tuple[str, ...]) -> Account | None:
    """Use up the request's opt-in token and return its account, read for update
    (``None`` if either is gone)."""
    record = call.consume_optin(purposes)
    if record is None:
        return None
    return call.accounts.get_account(record.account_id, for_update=True)


def _consume_and_set(call: Call[Any], purpose: str, changes: dict[str, Any]) -> bool:
    """Use up the request's token of *purpose* and set *changes* on its account."""
    record = call.consume_optin((purpose,))
    return record is not None and call.accounts.update_account(record.account_id, changes)


@action(
    "AccountActivateOptIn",
    family="account",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["activate"],
    codes=["unauthorized"],
)
def account_activate_optin(call: Call[None]) -> Outcome:
    """Activates the account of the opt-in token (the link also proves the address)."""
    if not _consume_and_set(call, "activate", {"active": True, "verified": True}):
        return fail("unauthorized")
    return ok()


@action(
    "EmailVerify",
    family="account",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["verify"],
    denied_code="actionNotAllowed",
    codes=["actionNotAllowed"],
)
def email_verify(call: Call[None]) -> Outcome:
    """Confirms the account's email address from the double opt-in link; works once."""
    if not _consume_and_set(call, "verify", {"verified": True}):
        return fail("actionNotAllowed")
    return ok()


# login -------------------------------------------------------------------------------


@attrs.frozen
class _Verified:
    """What Login's prepare step verified, for the unit of work to re-check."""

    account_id: str
    password_hash: str
    new_hash: str | None
    counter: str
    #: Whether earlier attempts were counted (else there is nothing to reset).
    counted_before: bool


def _login_prepare(call: Call[Any]) -> Outcome | _Verified:
    errors: list[ActionError] = []
    email = check_email(call, "id", "missingId", errors)
    password = call.get("password") or ""
    if not password:
        errors.append(ActionError("missingPassword", "password"))
    if errors or email is None:
        return fail_all(errors)
    limit = call.settings.login_throttle
    counter = login_counter(call, email.key)
    attempt = throttle(call, counter, limit)  # record first, then decide (one statement)
    account = call.accounts.find_account(email.key) if attempt <= limit.limit else None
    if attempt > limit.limit:
        return fail("loginBlocked")
    check = hasher(call)
    if not within_bound(password, call.settings.password_policy):
        check.dummy_verify("")  # too long to be any password: never normalised
        verified = False
    elif account is None or account.password_hash is None:
        check.dummy_verify(password)
        verified = False
    else:
        verified = check.verify(account.password_hash, password)
    if not verified or account is None or account.password_hash is None:
        # The unlock budget is charged for unknown ids too: every counter moves alike (E37).
        at_limit = attempt == limit.limit
        if at_limit and mail_allowed(call, email.key, "unlock", per_client=False) and account:
            mail_optin(call, account, "unlock", "UnlockLogin", even_on_failure=True)
        return fail("invalidCredentials")
    settings = call.settings
    if settings.enumeration_protection and not account.verified:
        # A fresh registration must not log in before its address is confirmed: a taken
        # address would answer invalidCredentials to the same password (E37).
        return fail("invalidCredentials")
    if not account.may_log_in or (settings.require_verified_email and not account.verified):
        return fail("accountInactive")
    if not MemberRights(call.accounts, account).subshop_allowed(call.ctx.request.subshop):
        return fail("subshopNotAllowed")
    if account.has_second_factor:  # M41: not logged in on one factor
        from .factors import ask_second_factor

        return ask_second_factor(call, account)
    new_hash = check.hash(password) if check.needs_rehash(account.password_hash) else None
    return _Verified(account.id, account.password_hash, new_hash, counter, attempt > 1)


@action(
    "Login",
    family="account",
    prepare=_login_prepare,
    params=[Param("id", required=True), Param("password", required=True, secret=True)],
    codes=[
        "missingId",
        "missingPassword",
        "emailCheckFailed",
        "loginBlocked",
        "invalidCredentials",
        "accountInactive",
        "subshopNotAllowed",
        "secondFactorRequired",
    ],
)
def login(call: Call[_Verified]) -> Outcome:
    """Logs a customer in: a new login record, and a new session id.

    Unknown ids and wrong passwords both answer ``invalidCredentials`` after
    the same hashing work. Every attempt counts per identifier before the
    password is checked; from the limit on even the right password answers
    ``loginBlocked``, and the attempt that reaches it mails one UnlockLogin
    link. ``accountInactive`` and ``subshopNotAllowed`` are told only after
    the password was verified. With ``enumeration_protection`` an account
    whose address is not confirmed yet answers ``invalidCredentials``, so a
    registration cannot be probed with a login. Verification and rehashing happen before the
    unit of work; inside it the account is read for update and must still
    have the verified hash and be allowed to log in.
    """
    verified = call.prepared
    accounts = call.accounts
    account = accounts.get_account(verified.account_id, for_update=True)
    if account is None or account.password_hash != verified.password_hash:
        return fail("invalidCredentials")  # deleted or password changed meanwhile
    if not account.may_log_in:
        return fail("accountInactive")
    if verified.new_hash is not None:
        accounts.update_account(account.id, {"password_hash": verified.new_hash})
    if verified.counted_before:  # this attempt alone leaves nothing worth a statement
        counter = verified.counter
        call.after_commit(lambda: call.counters.reset(counter))
    start_login(call, account)
    return ok()


# re-authentication -------------------------------------------------------------------------


@attrs.frozen
class _Proven:
    login_id: str
    counter: str
    counted_before: bool
    #: "password" (verified in prepare), or "code": checked in the unit of work, where
    #: using it writes (the step, or the spent recovery code).
    method: str = "password"


def _reauthenticate_prepare(call: Call[Any]) -> Outcome | _Proven:
    account = call.account
    current = current_login_id(call.ctx.session)
    if account is None or current is None:
        return fail("notLoggedIn")
    password = call.get("password") or ""
    code = (call.get("code") or "").strip()
    if not password and not (code and account.has_second_factor):
        return fail("missingPassword", "password")
    limit = call.settings.login_throttle
    counter = throttles.counter_key(call.settings, "reauth", account.id)
    attempt = throttle(call, counter, limit)  # record first, then decide
    if attempt > limit.limit:
        return fail("loginBlocked")
    if not password:
        return _Proven(current, counter, attempt > 1, "code")
    check = hasher(call)
    if account.password_hash is None or not within_bound(password, call.settings.password_policy):
        check.dummy_verify("")
        return fail("invalidCredentials")
    if not check.verify(account.password_hash, password):
        return fail("invalidCredentials")
    return _Proven(current, counter, attempt > 1)


@action(
    "Reauthenticate",
    family="account",
    access=Access.LOGIN,
    prepare=_reauthenticate_prepare,
    params=[Param("password", secret=True), Param("code", secret=True)],
    codes=["notLoggedIn", "missingPassword", "loginBlocked", "invalidCredentials", "invalidCode"],
)
def reauthenticate(call: Call[_Proven]) -> Outcome:
    """Proves the login again (an addition beyond the seed): with the account's password,
    or, for an account with a second factor, a TOTP code or a recovery code (``code``).
    Sensitive changes (``fresh_login`` actions) need a proof within
    ``Settings.reauthentication_timeout`` (M44).

    Throttled per account like Login (``login_throttle``; its own counter, so a
    stolen session cannot lock the owner's logins); a wrong password answers
    ``invalidCredentials``, a wrong code ``invalidCode``, and nothing else changes.
    """
    proven = call.prepared
    method = proven.method
    if method == "code":
        from .factors import use_code

        account = call.account  # read for update in the unit of work
        used = use_code(call, account, call.get("code") or "") if account else None
        if used is None:
            return fail("invalidCode", "code")
        method = used
    if not call.logins.renew_proof(proven.login_id, call.now, method):
        return fail("notLoggedIn")  # the login ended meanwhile
    if proven.counted_before:
        counter = proven.counter
        call.after_commit(lambda: call.counters.reset(counter))
    return ok()


@action("Logout", family="account", trigger="link")
def logout(call: Call[None]) -> Outcome:
    """Ends the login of this session: its login record on the server, so a copy of the
    session cookie is logged out too (the session id rotates)."""
    end_session_login(call)
    return ok()


@action(
    "UnlockLogin",
    family="account",
    access=Access.LOGIN_OR_OPTIN,
    trigger="optin-link",
    optin_purposes=["unlock"],
    denied_code="unauthorized",
    codes=["unauthorized"],
)
def unlock_login(call: Call[None]) -> Outcome:
    """Clears the failed-login counter of the token's (or the logged-in) account."""
    account = _token_account(call, ("unlock",)) if call.optin_record() else call.account
    if account is None:
        return fail("unauthorized")
    reset_login_counter(call, account.email_key)
    notify(call, account, "login_unlocked")
    return ok()


# passwords ----------------------------------------------------------------------------


@action(
    "PasswordForgotten",
    family="account",
    prepare=_address_prepare("email", "missingEmail", "password"),
    params=[Param("email", required=True)],
    codes=["missingEmail", "emailCheckFailed", "passwordRecoveryFailed"],
)
def password_forgotten(call: Call[EmailAddress]) -> Outcome:
    """Mails a link that opens the ResetPassword form with an opt-in token.

    Unknown addresses answer ``passwordRecoveryFailed`` as documented, or
    success without mail under ``enumeration_protection``.
    """
    email = call.prepared
    account = own_account(call.accounts.find_account(email.key))
    if account is None:
        if call.settings.enumeration_protection:
            return ok()
        return fail("passwordRecoveryFailed", "email")
    mail_optin(call, account, "password", None, with_code=True)
    return ok()


#: Opt-in purposes that let ResetPassword set a password without the current one.
RESET_PURPOSES = ("password", "invitation")
#: Tokens a password reset or change revokes: everything that would log someone in, change
#: the account's identity or delete it (T35): an attacker's pending email change or
#: deletion dies with the owner's recovery.
IDENTITY_PURPOSES = (
    "password",
    "unlock",
    "invitation",
    "email_update",
    "delete",
    "login_code",
    "code_password",
)
#: The token a typed password-reset code stands for (never ResetPassword's: the code's
#: tries are counted only by ResetPasswordCode).
CODE_RESET = ("code_password",)


@attrs.frozen
class _NewPassword:
    """What ResetPassword's prepare step checked and hashed."""

    account_id: str
    token_purpose: str | None
    verified_hash: str | None
    new_hash: str = attrs.field(repr=False)

    @property
    def by_token(self) -> bool:
        """Whether a mailed token (not the current password) authorizes the change."""
        return self.token_purpose is not None


def _reset_prepare(call: Call[Any]) -> Outcome | _NewPassword:
    return _new_password(call, RESET_PURPOSES)


def _new_password(call: Call[Any], purposes: tuple[str, ...]) -> Outcome | _NewPassword:
    """The checks of a new password, for the account of the request's token of *purposes*
    (else the logged-in one, with its current password)."""
    record = call.optin_record(purposes)
    accounts = call.accounts
    account = accounts.get_account(record.account_id) if record is not None else call.account
    if account is None:
        return fail("notLoggedIn")
    errors: list[ActionError] = []
    context = password_context(call, email=account.email, name=account.display_name)
    password = check_new_password(call, "newPassword", "newPasswordRepeat", errors, context)
    current = call.get("passwordAuth") or ""
    if record is None and not current:
        errors.append(ActionError("missingPasswordAuth", "passwordAuth"))
    if errors or password is None:
        return fail_all(errors)
    check = hasher(call)
    if record is None:
        # Guessing the current password is throttled like a login, per account (a counter
        # of its own: strangers blocking the login must not block the owner's change).
        limit = call.settings.login_throttle
        counter = throttles.counter_key(call.settings, "password-auth", account.id)
        if throttle(call, counter, limit) > limit.limit:
            return fail("tooManyRequests")
        too_long = not within_bound(current, call.settings.password_policy)
        if not check.verify(account.password_hash, "" if too_long else current) or too_long:
            return fail("failedPasswordAuth", "passwordAuth")
        call.after_commit(lambda: call.counters.reset(counter))
    purpose = record.purpose if record is not None else None
    return _NewPassword(account.id, purpose, account.password_hash, check.hash(password))


@action(
    "ResetPassword",
    family="account",
    access=Access.LOGIN_OR_OPTIN,
    optin_purposes=RESET_PURPOSES,
    prepare=_reset_prepare,
    params=[
        Param("newPassword", required=True, secret=True),
        Param("newPasswordRepeat", required=True, secret=True),
        Param("passwordAuth", secret=True),
    ],
    subcodes={"passwordCheckFailed": PASSWORD_SUBCODES},
    codes=[
        "notLoggedIn",
        "missingPassword",
        "passwordMismatch",
        "missingPasswordAuth",
        "failedPasswordAuth",
        "passwordCheckFailed",
    ],
)
def reset_password(call: Call[_NewPassword]) -> Outcome:
    """Sets a new password: for the opt-in token's account, else for the logged-in one.

    Without a token the current password (``passwordAuth``) is required; its
    check is throttled like a login (``tooManyRequests`` from the limit on).
    Afterwards every login of the account ends, its password, unlock,
    invitation, email-change and deletion tokens are revoked (a pending email
    change or deletion is cancelled) and its login counter is cleared. An invitation token
    also accepts the invitation (first password of an employee).
    """
    return _set_new_password(call, RESET_PURPOSES)


def _set_new_password(call: Call[_NewPassword], purposes: tuple[str, ...]) -> Outcome:
    new = call.prepared
    accounts = call.accounts
    if new.by_token:
        record = call.consume_optin(purposes)
        if record is None or record.account_id != new.account_id:
            return fail("notLoggedIn")  # used up by a concurrent request
        account = accounts.get_account(new.account_id, for_update=True)
    else:
        account = call.account
        if account is not None and account.password_hash != new.verified_hash:
            return fail("failedPasswordAuth", "passwordAuth")  # changed meanwhile
    if account is None or account.id != new.account_id:
        return fail("notLoggedIn")
    # Only the invitation's own link accepts it (A36): never a password reset link.
    accepting = new.token_purpose == "invitation" and account.invitation_pending
    accounts.update_account(
        account.id,
        {
            "password_hash": new.new_hash,
            "security_stamp": new_id(),
            "verified": account.verified or new.by_token,
            "active": account.active or accepting,
            "invitation_pending": account.invitation_pending and not accepting,
        },
    )
    call.tokens.revoke(account.id, IDENTITY_PURPOSES)  # T35
    call.logins.end_logins(account.id)
    reset_login_counter(call, account.email_key)
    call.ctx.session.log_out()
    if not accepting:
        notify(call, account, "password_changed")
    return ok()


def _reset_code_prepare(call: Call[Any]) -> Outcome | _NewPassword:
    nonce = code_attempt(call, "optin-code", call.settings.optin_code_lifetime)
    if isinstance(nonce, Outcome):
        return nonce
    call.optin_token = optin_code_token(nonce, call.get("code") or "")
    if call.optin_record(CODE_RESET) is None:
        return fail("invalidCode", "code")
    return _new_password(call, CODE_RESET)


@action(
    "ResetPasswordCode",
    family="account",
    prepare=_reset_code_prepare,
    params=[
        Param("code", required=True, secret=True),
        Param("newPassword", required=True, secret=True),
        Param("newPasswordRepeat", required=True, secret=True),
    ],
    subcodes={"passwordCheckFailed": PASSWORD_SUBCODES},
    codes=[
        "missingCode",
        "invalidCode",
        "notLoggedIn",
        "missingPassword",
        "passwordMismatch",
        "passwordCheckFailed",
    ],
)
def reset_password_code(call: Call[_NewPassword]) -> Outcome:
    """Sets a new password with the code of a PasswordForgotten mail instead of its link
    (``Settings.optin_codes``), in the browser that asked for it: what ResetPassword does
    with the link's token (every login ends, identity tokens are revoked, a notice)."""
    return _set_new_password(call, CODE_RESET)


def _verify_code_prepare(call: Call[Any]) -> Outcome | str:
    nonce = code_attempt(call, "optin-code", call.settings.optin_code_lifetime)
    if isinstance(nonce, Outcome):
        return nonce
    call.optin_token = optin_code_token(nonce, call.get("code") or "")
    return nonce


@action(
    "EmailVerifyCode",
    family="account",
    prepare=_verify_code_prepare,
    params=[Param("code", required=True, secret=True)],
    codes=["missingCode", "invalidCode"],
)
def email_verify_code(call: Call[str]) -> Outcome:
    """Confirms the address with the code of the registration mail instead of its link
    (``Settings.optin_codes``), in the browser that registered; works once."""
    record = call.consume_optin(("code_verify",))
    if record is None or not call.accounts.update_account(record.account_id, {"verified": True}):
        return fail("invalidCode", "code")
    call.tokens.revoke(record.account_id, ("verify",))  # the link has done its work too
    call.ctx.session.set_pending_code(None)
    return ok()


@action(
    "CheckPasswordStrength",
    family="account",
    trigger="ajax",
    uses_storage=False,
    params=[Param("password", required=True, secret=True)],
)
def check_password_strength(call: Call[None]) -> Outcome:
    """Scores a password (``data = {"value": 0..4, "max": 4, "accepted": bool}``).

    Uses the same policy as every path that sets a password; ``accepted``
    tells whether the password would pass it. With breached-password screening
    on (``Settings.breached_passwords``), a password that meets the policy is
    screened too and ``data["breached"]`` says ``True`` or ``False`` (``None``:
    not screened, because the policy refused it first or the service could not
    be asked). Bounded in time for any input (the screening by its timeout).
    """
    password = call.get("password") or ""
    account = call.account
    context = password_context(
        call,
        email=account.email if account else None,
        name=account.display_name if account else "",
    )
    policy = call.settings.password_policy
    # Score what would be hashed; input too long to normalise is scored as it is (bounded).
    scored = normalize(password) if within_bound(password, policy) else password
    from ..security import strength  # loaded on the first score

    value = strength.score(scored, context)
    accepted = not policy_failures(password, policy, context, score=value)
    data: dict[str, Any] = {"value": value, "max": strength.MAX_SCORE, "accepted": accepted}
    checker = call.settings.breached_passwords
    if checker is not None:
        data["breached"] = None
        if accepted:
            verdict = checker.check(password)
            data["breached"] = {"breached": True, "not-found": False}.get(verdict)
            data["accepted"] = verdict == "not-found" or (
                verdict == "unknown" and checker.mode != "strict"
            )
    return ok(data)


# email change --------------------------------------------------------------------------


@action(
    "EmailUpdate",
    family="account",
    access=Access.LOGIN,
    prepare=_address_prepare("email", "missingEmail", "email_update"),
    params=[Param("email", required=True)],
    codes=["notLoggedIn", "missingEmail", "emailCheckFailed", "accountAlreadyExists"],
    fresh_login=True,
)
def email_update(call: Call[EmailAddress]) -> Outcome:
    """Mails a confirmation link to the new address and a notice to the old one.

    The address changes only when EmailUpdateOptIn confirms it; until then
    the old address stays the login. The notice carries a password reset
    link: resetting the password cancels the pending change (T35).
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    email = call.prepared
    other = own_account(call.accounts.find_account(email.key))
    if other is not None and other.id != account.id:
        if not call.settings.enumeration_protection:
            return fail("accountAlreadyExists", "email")
        # Alike for a taken address (E37): the requester's own inbox gets the same notice.
        mail_optin(call, account, "password", None, kind="email_update_notice")
        return ok()
    mail_optin(
        call, account, "email_update", "EmailUpdateOptIn", to=email.address, email=email.address
    )
    # The notice to the old address carries a reset link: a new password cancels the change.
    mail_optin(call, account, "password", None, kind="email_update_notice")
    return ok()


@action(
    "EmailUpdateOptIn",
    family="account",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["email_update"],
    aliases=["EMailUpdateOptIn"],
    codes=["unauthorized"],
)
def email_update_optin(call: Call[None]) -> Outcome:
    """Makes the confirmed new address the account's address; its other logins end."""
    record: TokenRecord | None = call.consume_optin(("email_update",))
    new = parse_email(record.email or "") if record else None
    if record is None or new is None:
        return fail("unauthorized")
    accounts = call.accounts
    stamp = new_id()
    changes = {"verified": True, "security_stamp": stamp}
    holder = accounts.find_account(new.key, for_update=True)
    if holder is not None and holder.id != record.account_id:
        free_identity(call, new.key)  # a pending invitation never blocks the address
    if not accounts.change_email(record.account_id, new.address, new.key, changes):
        return fail("unauthorized")  # the address was taken meanwhile, or the account is gone
    call.tokens.revoke(record.account_id)
    session = call.ctx.session
    secret = session.login_secret if session.account_id == record.account_id else None
    call.logins.end_logins(record.account_id, keep=login_id(secret) if secret else None)
    account = accounts.get_account(record.account_id)
    if secret and account is not None:
        session.log_in(account.id, stamp, account.rights_stamp, secret)
    return ok()


# deletion ------------------------------------------------------------------------------


def _delete(call: Call[Any], account: Account) -> None:
    """Delete *account*; an admin without another admin who can act (one who may log in
    and is allowed a subshop) ends the company: every member's account and its groups go
    too, so no member is left that nobody can administer, and no erasure is refused."""
    accounts = call.accounts
    company = account.company_id
    last_admin = (
        account.admin
        and company is not None
        and not any(
            m.acts_as_admin and m.id != account.id
            for m in accounts.list_members(company, for_update=True)
        )
    )
    if last_admin and company is not None:
        accounts.delete_company(company)
    else:
        accounts.delete_account(account.id)
    reset_login_counter(call, account.email_key)
    if call.ctx.session.account_id == account.id:
        call.ctx.session.log_out()


def _delete_prepare(call: Call[Any]) -> Outcome | None:
    account = call.account
    confirm = call.settings.delete_requires_confirmation
    if confirm and account is not None and not mail_allowed(call, account.email_key, "delete"):
        return fail("tooManyRequests")
    return None


@action(
    "AccountDelete",
    family="account",
    access=Access.LOGIN,
    prepare=_delete_prepare,
    codes=["notLoggedIn"],
    fresh_login=True,
)
def account_delete(call: Call[None]) -> Outcome:
    """Deletes the logged-in account with its addresses, cards and tokens, and logs out.

    With ``delete_requires_confirmation`` it mails an AccountDeleteOptIn
    link instead (``data = {"confirmationSent": True}``).
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if call.settings.delete_requires_confirmation:
        mail_optin(call, account, "delete", "AccountDeleteOptIn")
        return ok({"confirmationSent": True})
    _delete(call, account)
    return ok()


@action(
    "AccountDeleteOptIn",
    family="account",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["delete"],
    codes=["unauthorized"],
)
def account_delete_optin(call: Call[None]) -> Outcome:
    """Deletes the account of the opt-in token."""
    account = _token_account(call, ("delete",))
    if account is None:
        return fail("unauthorized")
    _delete(call, account)
    return ok()


# profile --------------------------------------------------------------------------------


def _display_name_prepare(call: Call[Any]) -> Outcome | str:
    name = (call.get("displayName") or "").strip()
    if not name:
        return fail("missingDisplayName", "displayName")
    if len(name) > call.settings.display_name_max_length or not _plain_text(name):
        return fail("invalidParameter", "displayName")
    return name


@action(
    "accountDisplayNameUpdate",
    family="account",
    access=Access.LOGIN,
    prepare=_display_name_prepare,
    params=[Param("displayName", required=True)],
    codes=["notLoggedIn", "missingDisplayName", "fieldNotEditable"],
)
def account_display_name_update(call: Call[str]) -> Outcome:
    """Sets the display name (trimmed; ``invalidParameter`` when too long or not plain text)."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    name = call.prepared
    if not_editable(call, account, ["displayName"]):
        return fail("fieldNotEditable", "displayName")
    call.accounts.update_account(account.id, {"display_name": name})
    return ok()


@action(
    "AccountSetCustomerData",
    family="account",
    access=Access.LOGIN,
    params=[Param("customerData.", required=True, prefix=True)],
    codes=["notLoggedIn", "emptyCustomerData", "fieldNotEditable"],
)
def account_set_customer_data(call: Call[None]) -> Outcome:
    """Sets customer data fields from the Settings allow-list (an empty value removes one).

    Fields outside ``customer_data_fields``, too long or not plain text get
    ``invalidParameter``; fields a B2B member's group does not list in
    ``editableFields`` get ``fieldNotEditable``. All or nothing.
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    values = call.prefixed("customerData.")
    if not values:
        return fail("emptyCustomerData", "customerData.")
    s = call.settings
    errors = [
        ActionError("invalidParameter", "customerData." + key)
        for key, value in values.items()
        if key not in s.customer_data_fields
        or len(value.strip()) > s.customer_data_max_length
        or not _plain_text(value)
    ]
    known = ["customerData." + key for key in values if key in s.customer_data_fields]
    errors += [ActionError("fieldNotEditable", f) for f in not_editable(call, account, known)]
    if errors:
        return fail_all(errors)
    data = dict(account.customer_data)
    for key, value in values.items():
        if value.strip():
            data[key] = value.strip()
        else:
            data.pop(key, None)
    call.accounts.update_account(account.id, {"customer_data": data})
    return ok()


ACTIONS = (
    account_register,
    account_activate,
    account_activate_optin,
    account_delete,
    account_delete_optin,
    unlock_login,
    login,
    reauthenticate,
    logout,
    password_forgotten,
    reset_password,
    email_update,
    email_update_optin,
    email_verify,
    check_password_strength,
    account_display_name_update,
    account_set_customer_data,
    email_verify_code,
    reset_password_code,
)
