"""Customer account actions: registration, opt-ins, login, passwords, email, deletion, profile."""

from __future__ import annotations

import attrs

from .._action import Access, Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..models import Account
from ..rights import MemberRights
from ..security import strength
from ..security.emails import parse_email
from ..security.passwords import policy_failures
from ._common import (
    check_email,
    check_new_password,
    editable,
    hasher,
    login_counter,
    mail_allowed,
    mail_optin,
    new_id,
    password_context,
    send_mail,
)


def _plain_text(value: str) -> bool:
    return value.isprintable()


# registration and opt-ins ------------------------------------------------------------


@action(
    "AccountRegister",
    family="account",
    params=[
        Param("email", required=True),
        Param("password", required=True, secret=True),
        Param("passwordRepeat", required=True, secret=True),
    ],
    codes=[
        "missingId",
        "missingPassword",
        "passwordMismatch",
        "emailCheckFailed",
        "passwordCheckFailed",
        "accountAlreadyExists",
    ],
)
def account_register(call: Call) -> Outcome:
    """Creates a customer account and mails the double opt-in link (EmailVerify).

    The new account is the owner and first admin of its own company. With
    ``enumeration_protection`` an address that already has an account
    answers success and its owner gets a notice instead.
    """
    errors: list[ActionError] = []
    email = check_email(call, "email", "missingId", errors)
    context = password_context(call, email=email.address if email else None)
    password = check_new_password(call, "password", "passwordRepeat", errors, context)
    if errors or email is None or password is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key):
        return fail("tooManyRequests")
    accounts = call.ctx.accounts
    password_hash = hasher(call).hash(password)  # also for a taken address: same time
    company = new_id()
    account = Account(
        id=company,
        email=email.address,
        email_key=email.key,
        password_hash=password_hash,
        security_stamp=new_id(),
        created_at=call.now,
        company_id=company,
        admin=True,
    )
    if not accounts.add_account(account):
        if not call.settings.enumeration_protection:
            return fail("accountAlreadyExists", "email")
        owner = accounts.find_account(email.key)
        if owner is not None:
            send_mail(call, "account_exists", owner.email)
        return ok()
    mail_optin(call, account, "verify", "EmailVerify")
    return ok()


@action(
    "AccountActivate",
    family="account",
    params=[Param("id", required=True)],
    codes=["missingId", "emailCheckFailed", "accountAlreadyExists"],
)
def account_activate(call: Call) -> Outcome:
    """Mails an activation link (AccountActivateOptIn) to an inactive account.

    An unknown address answers success without mail; an active account
    answers ``accountAlreadyExists`` (success without mail under
    ``enumeration_protection``).
    """
    errors: list[ActionError] = []
    email = check_email(call, "id", "missingId", errors)
    if email is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key):
        return fail("tooManyRequests")
    account = call.ctx.accounts.find_account(email.key)
    if account is None or account.invitation_pending:
        return ok()
    if account.active:
        return ok() if call.settings.enumeration_protection else fail("accountAlreadyExists", "id")
    mail_optin(call, account, "activate", "AccountActivateOptIn")
    return ok()


def _token_account(call: Call, purposes: tuple[str, ...]) -> Account | None:
    """Use up the request's opt-in token and return its account (``None`` if either is gone)."""
    record = call.consume_optin(purposes)
    if record is None:
        return None
    return call.ctx.accounts.get_account(record.account_id)


@action(
    "AccountActivateOptIn",
    family="account",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["activate"],
    codes=["unauthorized"],
)
def account_activate_optin(call: Call) -> Outcome:
    """Activates the account of the opt-in token (the link also proves the address)."""
    account = _token_account(call, ("activate",))
    if account is None:
        return fail("unauthorized")
    call.ctx.accounts.update_account(attrs.evolve(account, active=True, verified=True))
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
def email_verify(call: Call) -> Outcome:
    """Confirms the account's email address from the double opt-in link; works once."""
    account = _token_account(call, ("verify",))
    if account is None:
        return fail("actionNotAllowed")
    call.ctx.accounts.update_account(attrs.evolve(account, verified=True))
    return ok()


# login -------------------------------------------------------------------------------


@action(
    "Login",
    family="account",
    params=[Param("id", required=True), Param("password", required=True, secret=True)],
    codes=[
        "missingId",
        "missingPassword",
        "emailCheckFailed",
        "loginBlocked",
        "invalidCredentials",
        "accountInactive",
        "subshopNotAllowed",
    ],
)
def login(call: Call) -> Outcome:
    """Logs a customer in and rotates the session id.

    Unknown ids and wrong passwords both answer ``invalidCredentials`` after
    the same hashing work. Failures count per identifier; from the limit on
    even the right password answers ``loginBlocked``, and the account gets
    one mail with an UnlockLogin link. ``accountInactive`` and
    ``subshopNotAllowed`` are told only after the password was verified.
    """
    errors: list[ActionError] = []
    email = check_email(call, "id", "missingId", errors)
    password = call.get("password") or ""
    if not password:
        errors.append(ActionError("missingPassword", "password"))
    if errors or email is None:
        return fail_all(errors)
    limit = call.settings.login_throttle
    counters = call.ctx.counters
    counter = login_counter(call, email.key)
    if counters.count(counter, call.now, limit.window) >= limit.limit:
        return fail("loginBlocked")
    account = call.ctx.accounts.find_account(email.key)
    check = hasher(call)
    if account is None:
        check.dummy_verify(password)
        verified = False
    else:
        verified = check.verify(account.password_hash, password)
    if not verified:
        failures = counters.hit(counter, call.now, limit.window)
        if failures == limit.limit and account is not None and mail_allowed(call, email.key):
            mail_optin(call, account, "unlock", "UnlockLogin", even_on_failure=True)
        return fail("invalidCredentials")
    if account is None or account.password_hash is None:  # pragma: no cover - verified above
        return fail("invalidCredentials")
    inactive = not account.may_log_in or (
        call.settings.require_verified_email and not account.verified
    )
    if inactive:
        return fail("accountInactive")
    if not MemberRights(call.ctx.accounts, account).subshop_allowed(call.ctx.request.subshop):
        return fail("subshopNotAllowed")
    if check.needs_rehash(account.password_hash):
        account = attrs.evolve(account, password_hash=check.hash(password))
        call.ctx.accounts.update_account(account)
    counters.reset(counter)
    call.ctx.session.log_in(account.id, account.security_stamp, account.rights_stamp)
    return ok()


@action("Logout", family="account", trigger="link")
def logout(call: Call) -> Outcome:
    """Ends the login of this session (the session id rotates)."""
    call.ctx.session.log_out()
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
def unlock_login(call: Call) -> Outcome:
    """Clears the failed-login counter of the token's (or the logged-in) account."""
    account = _token_account(call, ("unlock",)) if call.optin_record() else call.account
    if account is None:
        return fail("unauthorized")
    call.ctx.counters.reset(login_counter(call, account.email_key))
    return ok()


# passwords ----------------------------------------------------------------------------


@action(
    "PasswordForgotten",
    family="account",
    params=[Param("email", required=True)],
    codes=["missingEmail", "emailCheckFailed", "passwordRecoveryFailed"],
)
def password_forgotten(call: Call) -> Outcome:
    """Mails a link that opens the ResetPassword form with an opt-in token.

    Unknown addresses answer ``passwordRecoveryFailed`` as documented, or
    success without mail under ``enumeration_protection``.
    """
    errors: list[ActionError] = []
    email = check_email(call, "email", "missingEmail", errors)
    if email is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key):
        return fail("tooManyRequests")
    account = call.ctx.accounts.find_account(email.key)
    if account is None:
        if call.settings.enumeration_protection:
            return ok()
        return fail("passwordRecoveryFailed", "email")
    mail_optin(call, account, "password", None)
    return ok()


#: Opt-in purposes that let ResetPassword set a password without the current one.
RESET_PURPOSES = ("password", "invitation")


@action(
    "ResetPassword",
    family="account",
    access=Access.LOGIN_OR_OPTIN,
    optin_purposes=RESET_PURPOSES,
    params=[
        Param("newPassword", required=True, secret=True),
        Param("newPasswordRepeat", required=True, secret=True),
        Param("passwordAuth", secret=True),
    ],
    codes=[
        "notLoggedIn",
        "missingPassword",
        "passwordMismatch",
        "missingPasswordAuth",
        "failedPasswordAuth",
        "passwordCheckFailed",
    ],
)
def reset_password(call: Call) -> Outcome:
    """Sets a new password: for the opt-in token's account, else for the logged-in one.

    Without a token the current password (``passwordAuth``) is required.
    Afterwards every session of the account is logged out, its password and
    unlock tokens are revoked and its failed-login counter is cleared. An
    invitation token also accepts the invitation (first password of an
    employee).
    """
    record = call.optin_record(RESET_PURPOSES)
    account = (
        call.ctx.accounts.get_account(record.account_id) if record is not None else call.account
    )
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
    if record is None and not check.verify(account.password_hash, current):
        return fail("failedPasswordAuth", "passwordAuth")
    if record is not None and call.consume_optin(RESET_PURPOSES) is None:
        return fail("notLoggedIn")  # used up by a concurrent request
    # A mailed token proves the address: it also accepts a pending invitation.
    accepting = record is not None and account.invitation_pending
    updated = attrs.evolve(
        account,
        password_hash=check.hash(password),
        security_stamp=new_id(),
        verified=account.verified or record is not None,
        active=account.active or accepting,
        invitation_pending=account.invitation_pending and not accepting,
    )
    call.ctx.accounts.update_account(updated)
    call.ctx.tokens.revoke(account.id, ("password", "unlock", "invitation"))
    call.ctx.counters.reset(login_counter(call, account.email_key))
    call.ctx.session.log_out()
    return ok()


@action(
    "CheckPasswordStrength",
    family="account",
    trigger="ajax",
    params=[Param("password", required=True, secret=True)],
)
def check_password_strength(call: Call) -> Outcome:
    """Scores a password (``data = {"value": 0..4, "max": 4, "accepted": bool}``).

    Uses the same policy as every path that sets a password; ``accepted``
    tells whether the password would pass it. Bounded in time for any input.
    """
    password = call.get("password") or ""
    account = call.account
    context = password_context(
        call,
        email=account.email if account else None,
        name=account.display_name if account else "",
    )
    value = strength.score(password, context)
    policy = call.settings.password_policy
    accepted = not policy_failures(password, policy, context, score=value)
    return ok({"value": value, "max": strength.MAX_SCORE, "accepted": accepted})


# email change --------------------------------------------------------------------------


@action(
    "EmailUpdate",
    family="account",
    access=Access.LOGIN,
    params=[Param("email", required=True)],
    codes=["notLoggedIn", "missingEmail", "emailCheckFailed", "accountAlreadyExists"],
)
def email_update(call: Call) -> Outcome:
    """Mails a confirmation link to the new address and a notice to the old one.

    The address changes only when EmailUpdateOptIn confirms it; until then
    the old address stays the login.
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    errors: list[ActionError] = []
    email = check_email(call, "email", "missingEmail", errors)
    if email is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key):
        return fail("tooManyRequests")
    other = call.ctx.accounts.find_account(email.key)
    if other is not None and other.id != account.id:
        if call.settings.enumeration_protection:
            return ok()
        return fail("accountAlreadyExists", "email")
    mail_optin(
        call, account, "email_update", "EmailUpdateOptIn", to=email.address, email=email.address
    )
    send_mail(call, "email_update_notice", account.email)
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
def email_update_optin(call: Call) -> Outcome:
    """Makes the confirmed new address the account's address; other sessions end."""
    record = call.consume_optin(("email_update",))
    account = call.ctx.accounts.get_account(record.account_id) if record else None
    new = parse_email(record.email or "") if record else None
    if account is None or new is None:
        return fail("unauthorized")
    updated = attrs.evolve(
        account,
        email=new.address,
        email_key=new.key,
        verified=True,
        security_stamp=new_id(),
    )
    if not call.ctx.accounts.update_account(updated):
        return fail("unauthorized")  # the address was taken meanwhile
    call.ctx.tokens.revoke(account.id)
    session = call.ctx.session
    if session.account_id == account.id:
        session.log_in(account.id, updated.security_stamp, updated.rights_stamp)
    return ok()


# deletion ------------------------------------------------------------------------------


def _delete(call: Call, account: Account) -> None:
    call.ctx.accounts.delete_account(account.id)
    call.ctx.tokens.revoke(account.id)
    call.ctx.counters.reset(login_counter(call, account.email_key))
    if call.ctx.session.account_id == account.id:
        call.ctx.session.log_out()


@action(
    "AccountDelete",
    family="account",
    access=Access.LOGIN,
    codes=["notLoggedIn"],
)
def account_delete(call: Call) -> Outcome:
    """Deletes the logged-in account with its addresses, cards and tokens, and logs out.

    With ``delete_requires_confirmation`` it mails an AccountDeleteOptIn
    link instead (``data = {"confirmationSent": True}``).
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if call.settings.delete_requires_confirmation:
        if not mail_allowed(call, account.email_key):
            return fail("tooManyRequests")
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
def account_delete_optin(call: Call) -> Outcome:
    """Deletes the account of the opt-in token."""
    account = _token_account(call, ("delete",))
    if account is None:
        return fail("unauthorized")
    _delete(call, account)
    return ok()


# profile --------------------------------------------------------------------------------


@action(
    "accountDisplayNameUpdate",
    family="account",
    access=Access.LOGIN,
    params=[Param("displayName", required=True)],
    codes=["notLoggedIn", "missingDisplayName", "fieldNotEditable"],
)
def account_display_name_update(call: Call) -> Outcome:
    """Sets the display name (trimmed; ``invalidParameter`` when too long or not plain text)."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    name = (call.get("displayName") or "").strip()
    if not name:
        return fail("missingDisplayName", "displayName")
    if len(name) > call.settings.display_name_max_length or not _plain_text(name):
        return fail("invalidParameter", "displayName")
    if not editable(call, account, "displayName"):
        return fail("fieldNotEditable", "displayName")
    call.ctx.accounts.update_account(attrs.evolve(account, display_name=name))
    return ok()


@action(
    "AccountSetCustomerData",
    family="account",
    access=Access.LOGIN,
    params=[Param("customerData.", required=True, prefix=True)],
    codes=["notLoggedIn", "emptyCustomerData", "fieldNotEditable"],
)
def account_set_customer_data(call: Call) -> Outcome:
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
    errors += [
        ActionError("fieldNotEditable", "customerData." + key)
        for key in values
        if key in s.customer_data_fields and not editable(call, account, "customerData." + key)
    ]
    if errors:
        return fail_all(errors)
    data = dict(account.customer_data)
    for key, value in values.items():
        if value.strip():
            data[key] = value.strip()
        else:
            data.pop(key, None)
    call.ctx.accounts.update_account(attrs.evolve(account, customer_data=data))
    return ok()


ACTIONS = (
    account_register,
    account_activate,
    account_activate_optin,
    account_delete,
    account_delete_optin,
    unlock_login,
    login,
    logout,
    password_forgotten,
    reset_password,
    email_update,
    email_update_optin,
    email_verify,
    check_password_strength,
    account_display_name_update,
    account_set_customer_data,
)
