"""The TOTP second factor (additions beyond the seed: M41-M43): enrolment, recovery codes,
and the second step of a login (:mod:`wsactions.security.totp`).

A login of an account with TOTP answers ``secondFactorRequired`` after the password was
verified and leaves a *pending login* in this browser's session (5 minutes,
:data:`PENDING_SECONDS`); ``LoginSecondFactor`` completes it with a TOTP code or a
recovery code. Wrong codes count per pending login (:data:`PENDING_TRIES`, then it is
void) and per account (``login_throttle``, a counter of its own).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from .. import throttles
from .._action import Access, Call, Outcome, Param, action, fail, ok
from ..models import Account
from ._common import login_counter, notify, start_login, throttle

if TYPE_CHECKING:
    from ..security.totp import SecretBox

#: How long a pending login waits for its second factor (seconds).
PENDING_SECONDS = 300.0
#: Wrong codes a pending login survives.
PENDING_TRIES = 5
#: From this many unused recovery codes on, a login with one sends a notice.
RECOVERY_CODES_LOW = 2
#: The account changes that turn the second factor off (TotpDisable, a support case).
SECOND_FACTOR_OFF: Mapping[str, Any] = MappingProxyType(
    {"totp_secret": "", "totp_pending": "", "totp_step": 0, "recovery_codes": frozenset()}
)


def _totp() -> Any:
    """:mod:`wsactions.security.totp`, loaded on first use (pyotp, segno, cryptography)."""
    return importlib.import_module("wsactions.security.totp")


def _box(call: Call[Any]) -> SecretBox:
    s = call.settings
    box: SecretBox = _totp().SecretBox(s.secret_key, s.secret_key_fallbacks)
    return box


def _code_counter(call: Call[Any], account_id: str) -> str:
    return throttles.counter_key(call.settings, "second-factor", account_id)


# enrolment ----------------------------------------------------------------------------


@action(
    "TotpSetup",
    family="account",
    access=Access.LOGIN,
    codes=["notLoggedIn", "emailNotVerified", "secondFactorEnabled"],
    fresh_login=True,
)
def totp_setup(call: Call[None]) -> Outcome:
    """Starts enrolling a TOTP authenticator: ``data = {"secret", "uri", "qr"}`` (the
    base32 secret, the ``otpauth://`` URI with the shop's name as issuer, and its QR code
    as inline SVG). The factor is on only after TotpConfirm. Only for a confirmed address.
    """
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if not account.verified:
        return fail("emailNotVerified")
    if account.has_second_factor:
        return fail("secondFactorEnabled")
    secret = _totp().new_secret()
    call.accounts.update_account(account.id, {"totp_pending": _box(call).seal(secret)})
    uri = _totp().provisioning_uri(secret, account.email, call.settings.shop_name or "wsactions")
    return ok({"secret": secret, "uri": uri, "qr": _totp().qr_svg(uri)})


@attrs.frozen
class _Counted:
    counter: str


def _confirm_prepare(call: Call[Any]) -> Outcome | _Counted:
    account = call.account
    if account is None:
        return fail("notLoggedIn")
    if not (call.get("code") or "").strip():
        return fail("missingCode", "code")
    limit = call.settings.login_throttle
    counter = _code_counter(call, account.id)
    if throttle(call, counter, limit) > limit.limit:
        return fail("loginBlocked")
    return _Counted(counter)


@action(
    "TotpConfirm",
    family="account",
    access=Access.LOGIN,
    prepare=_confirm_prepare,
    params=[Param("code", required=True, secret=True)],
    codes=["notLoggedIn", "missingCode", "loginBlocked", "noSecondFactorSetup", "invalidCode"],
)
def totp_confirm(call: Call[_Counted]) -> Outcome:
    """Turns TOTP on with a code of the authenticator being enrolled; answers
    ``data = {"recoveryCodes": [...]}``: 10 single-use codes, shown this once and stored
    only as hashes."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    secret = _box(call).open(account.totp_pending) if account.totp_pending else None
    if secret is None:
        return fail("noSecondFactorSetup")
    step = _totp().matching_step(secret, call.get("code") or "", call.now, -1)
    if step is None:
        return fail("invalidCode", "code")
    codes = _totp().new_recovery_codes()
    call.accounts.update_account(
        account.id,
        {
            "totp_secret": account.totp_pending,
            "totp_pending": "",
            "totp_step": step,
            "recovery_codes": frozenset(_totp().hash_recovery_code(account.id, c) for c in codes),
        },
    )
    counter = call.prepared.counter
    call.after_commit(lambda: call.counters.reset(counter))
    notify(call, account, "totp_enabled")
    return ok({"recoveryCodes": codes})


@action(
    "TotpDisable",
    family="account",
    access=Access.LOGIN,
    codes=["notLoggedIn", "noSecondFactor"],
    fresh_login=True,
)
def totp_disable(call: Call[None]) -> Outcome:
    """Turns the second factor off: the secret and the recovery codes are deleted."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if not account.has_second_factor:
        return fail("noSecondFactor")
    call.accounts.update_account(account.id, SECOND_FACTOR_OFF)
    notify(call, account, "totp_disabled")
    return ok()


@action(
    "RecoveryCodesRegenerate",
    family="account",
    access=Access.LOGIN,
    codes=["notLoggedIn", "noSecondFactor"],
    fresh_login=True,
)
def recovery_codes_regenerate(call: Call[None]) -> Outcome:
    """New recovery codes (``data = {"recoveryCodes": [...]}``); the old ones stop working."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if not account.has_second_factor:
        return fail("noSecondFactor")
    codes = _totp().new_recovery_codes()
    hashes = frozenset(_totp().hash_recovery_code(account.id, c) for c in codes)
    call.accounts.update_account(account.id, {"recovery_codes": hashes})
    notify(call, account, "recovery_codes_regenerated")
    return ok({"recoveryCodes": codes})


# the second step of a login -------------------------------------------------------------


def use_code(call: Call[Any], account: Account, code: str) -> str | None:
    """Spend *code* of *account* (read for update in this unit of work): a TOTP code of a
    step later than the last used one (which it becomes), or an unused recovery code (which
    is removed). How it was proven (``"totp"``, ``"recovery"``), or ``None``: wrong."""
    secret = _box(call).open(account.totp_secret) if account.totp_secret else None
    matched = _totp().matching_step(secret, code, call.now, account.totp_step) if secret else None
    if matched is not None:
        call.accounts.update_account(account.id, {"totp_step": matched})
        return "totp"
    hashed = _totp().hash_recovery_code(account.id, code)
    if account.recovery_codes and hashed in account.recovery_codes:
        call.accounts.update_account(
            account.id, {"recovery_codes": account.recovery_codes - {hashed}}
        )
        return "recovery"
    return None


def ask_second_factor(call: Call[Any], account: Account) -> Outcome:
    """Login's answer for an account with a second factor, once the password was verified:
    a pending login in this session, and ``secondFactorRequired``."""
    call.ctx.session.set_pending_login((account.id, call.now + PENDING_SECONDS, 0))
    return fail("secondFactorRequired")


@attrs.frozen
class _SecondStep:
    account_id: str
    counter: str


def _second_prepare(call: Call[Any]) -> Outcome | _SecondStep:
    session = call.ctx.session
    pending = session.pending_login
    if pending is None or pending[1] < call.now or pending[2] >= PENDING_TRIES:
        session.set_pending_login(None)
        return fail("noPendingLogin")
    if not (call.get("code") or "").strip():
        return fail("missingCode", "code")
    account_id = pending[0]
    limit = call.settings.login_throttle
    counter = _code_counter(call, account_id)
    if throttle(call, counter, limit) > limit.limit:
        return fail("loginBlocked")
    return _SecondStep(account_id, counter)


def _wrong_code(call: Call[Any]) -> Outcome:
    session = call.ctx.session
    pending = session.pending_login
    if pending is not None:
        session.set_pending_login((pending[0], pending[1], pending[2] + 1))
    return fail("invalidCode", "code")


@action(
    "LoginSecondFactor",
    family="account",
    prepare=_second_prepare,
    params=[Param("code", required=True, secret=True)],
    codes=[
        "noPendingLogin",
        "missingCode",
        "loginBlocked",
        "invalidCode",
        "accountInactive",
    ],
)
def login_second_factor(call: Call[_SecondStep]) -> Outcome:
    """Completes a login that answered ``secondFactorRequired``: a TOTP code of the
    current step (a step already used is refused) or an unused recovery code (void once
    used). Only in the browser whose login is pending, within 5 minutes; wrong codes count
    per pending login (5, then it is void) and per account."""
    step = call.prepared
    account = call.accounts.get_account(step.account_id, for_update=True)
    if account is None or not account.has_second_factor:
        call.ctx.session.set_pending_login(None)
        return fail("noPendingLogin")
    if not account.may_log_in:
        return fail("accountInactive")
    method = use_code(call, account, call.get("code") or "")
    if method is None:
        return _wrong_code(call)
    counter = step.counter
    password_counter = login_counter(call, account.email_key)
    call.after_commit(lambda: call.counters.reset(counter))
    call.after_commit(lambda: call.counters.reset(password_counter))
    start_login(call, account, method=method)
    left = len(account.recovery_codes) - (method == "recovery")
    if method == "recovery" and left <= RECOVERY_CODES_LOW:
        notify(call, account, "recovery_codes_low")
    return ok({"recoveryCodesLeft": left})


ACTIONS = (
    login_second_factor,
    totp_setup,
    totp_confirm,
    totp_disable,
    recovery_codes_regenerate,
)
