"""Passkeys (WebAuthn; additions beyond the seed: W47), on the ``webauthn`` package
(py_webauthn) for options and verification: no CBOR or COSE is parsed here.

- ``PasskeyRegisterOptions`` / ``PasskeyRegister``: a logged-in customer with a fresh login
  (M44) adds a discoverable passkey with user verification; the customer names it.
- ``PasskeyLoginOptions`` / ``PasskeyLogin``: log in without typing an address (the
  browser offers the shop's passkeys); user verification is required, so a passkey is
  both factors, also for an account with TOTP (M41). With a login waiting for its second
  factor, the options name that account's passkeys.
- ``PasskeyRename`` / ``PasskeyDelete`` (fresh login): the last passkey of an account
  without a password stays (it is the only way in).

Challenges are single use and bound to the browser: the session holds the challenge, the
store a token of its hash (purpose ``passkey_register`` or ``passkey_login``, consumed by
the answer), valid :data:`CHALLENGE_SECONDS`. The relying party id is the host of
``Settings.base_url`` and the only accepted origin that URL's scheme, host and port: a shop
behind a proxy sets ``base_url`` to what the browser shows. A sign counter that does not
go forward is refused (``PasskeyStore.use_passkey``, atomic).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

import attrs

from .. import throttles
from .._action import Access, Call, Outcome, Param, action, fail, ok
from ..models import Account, Passkey, TokenRecord
from ..rights import MemberRights
from ..settings import RateLimit
from ._common import notify, start_login, throttle

#: How long a challenge may be answered (seconds).
CHALLENGE_SECONDS = 300.0
#: The longest name a passkey may have.
NAME_LENGTH = 100


def _webauthn() -> Any:
    """The ``webauthn`` package, loaded on first use."""
    return importlib.import_module("webauthn")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@attrs.frozen
class _Party:
    rp_id: str
    origin: str


def _party(call: Call[Any]) -> _Party | None:
    """The relying party of ``Settings.base_url``, or ``None`` without one."""
    base = call.settings.base_url
    if not base:
        return None
    parts = urlsplit(base)
    if not parts.hostname:
        return None
    return _Party(parts.hostname, f"{parts.scheme}://{parts.netloc}")


def _owner_and_party(call: Call[Any]) -> Outcome | tuple[Account, _Party]:
    """The logged-in account and the relying party, or the code that says which is missing."""
    account = call.account
    party = _party(call)
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if party is None:
        return fail("passkeysUnavailable")
    return account, party


def _token_hash(purpose: str, challenge: str) -> str:
    text = f"wsactions.passkey\x00{purpose}\x00{challenge}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _issue_challenge(call: Call[Any], purpose: str, account_id: str | None) -> bytes:
    """A new challenge for *purpose*: in this session, and single use on the server."""
    raw = secrets.token_bytes(32)
    challenge = _b64(raw)
    until = call.now + CHALLENGE_SECONDS
    token_hash = _token_hash(purpose, challenge)
    # A login challenge has no account yet: its own owner key (one per challenge).
    owner = account_id or f"pk-{token_hash[:40]}"
    call.tokens.add(TokenRecord(token_hash, f"passkey_{purpose}", owner, call.now, until))
    call.ctx.session.set_passkey_challenge((purpose, challenge, until))
    return raw


def _take_challenge(call: Call[Any], purpose: str) -> bytes | None:
    """This browser's challenge for *purpose*, used up on the server (in a prepare step: one
    statement of its own, so a failed answer uses it up too); ``None`` when there is none,
    it expired, or it was answered already."""
    session = call.ctx.session
    found = session.passkey_challenge
    session.set_passkey_challenge(None)
    if found is None or found[0] != purpose or found[2] < call.now:
        return None
    record = call.tokens.consume(_token_hash(purpose, found[1]))
    if record is None or not record.valid_at(call.now):
        return None
    return _unb64(found[1])


def _credential(call: Call[Any]) -> dict[str, Any] | None:
    """The posted credential (the JSON of ``PublicKeyCredential.toJSON()``), or ``None``."""
    try:
        value = json.loads(call.get("credential") or "")
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _options(webauthn: Any, options: Any) -> Outcome:
    return ok({"options": webauthn.options_to_json(options)})


# registration ------------------------------------------------------------------------------


@action(
    "PasskeyRegisterOptions",
    family="account",
    access=Access.LOGIN,
    fresh_login=True,
    codes=["notLoggedIn", "passkeysUnavailable"],
)
def passkey_register_options(call: Call[None]) -> Outcome:
    """The options for ``navigator.credentials.create`` (``data.options``, JSON): a
    discoverable credential with user verification, none the account has already."""
    ready = _owner_and_party(call)
    if isinstance(ready, Outcome):
        return ready
    account, party = ready
    webauthn = _webauthn()
    structs = webauthn.helpers.structs
    challenge = _issue_challenge(call, "register", account.id)
    options = webauthn.generate_registration_options(
        rp_id=party.rp_id,
        rp_name=call.settings.shop_name or party.rp_id,
        user_id=account.id.encode("utf-8"),
        user_name=account.email,
        user_display_name=account.display_name or account.email,
        challenge=challenge,
        timeout=int(CHALLENGE_SECONDS * 1000),
        authenticator_selection=structs.AuthenticatorSelectionCriteria(
            resident_key=structs.ResidentKeyRequirement.REQUIRED,
            user_verification=structs.UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            structs.PublicKeyCredentialDescriptor(id=_unb64(p.id))
            for p in call.passkeys.list_passkeys(account.id)
        ],
    )
    return _options(webauthn, options)


def _name(call: Call[Any], default: str) -> str | None:
    name = " ".join((call.get("name") or "").split())
    if len(name) > NAME_LENGTH:
        return None
    return name or default


def _register_prepare(call: Call[Any]) -> Outcome | Passkey:
    """The checks and the verification, before the unit of work (no lock held meanwhile)."""
    ready = _owner_and_party(call)
    if isinstance(ready, Outcome):
        return ready
    account, party = ready
    name = _name(call, "Passkey")
    if name is None:
        return fail("invalidValue", "name")
    challenge = _take_challenge(call, "register")
    if challenge is None:
        return fail("noChallenge")
    credential = _credential(call)
    if credential is None:
        return fail("passkeyInvalid", "credential")
    webauthn = _webauthn()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=party.rp_id,
            expected_origin=party.origin,
            require_user_verification=True,
        )
    except Exception:  # py_webauthn raises many kinds for a bad credential
        return fail("passkeyInvalid", "credential")
    transports = credential.get("response", {}).get("transports") or []
    return Passkey(
        id=_b64(verified.credential_id),
        account_id=account.id,
        public_key=_b64(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=tuple(t for t in transports if isinstance(t, str))[:8],
        backup_eligible=str(getattr(verified.credential_device_type, "value", ""))
        == "multi_device",
        backup_state=bool(verified.credential_backed_up),
        aaguid=str(verified.aaguid),
        name=name,
        created_at=call.now,
    )


@action(
    "PasskeyRegister",
    family="account",
    access=Access.LOGIN,
    fresh_login=True,
    prepare=_register_prepare,
    params=[
        Param("credential", required=True, secret=True),
        Param("name"),
    ],
    codes=[
        "notLoggedIn",
        "passkeysUnavailable",
        "noChallenge",
        "passkeyInvalid",
        "passkeyExists",
        "invalidValue",
    ],
)
def passkey_register(call: Call[Passkey]) -> Outcome:
    """Adds the passkey the browser created for PasskeyRegisterOptions' challenge
    (verified: challenge, origin, relying party, user verification); ``data.id``. The
    owner gets a notice (M45)."""
    passkey = call.prepared
    account = call.account
    if account is None or account.id != passkey.account_id:  # pragma: no cover - access
        return fail("notLoggedIn")
    if not call.passkeys.add_passkey(passkey):
        return fail("passkeyExists")
    notify(call, account, "passkey_added")
    return ok({"id": passkey.id})


# login -------------------------------------------------------------------------------------


#: Login challenges one client may ask for per minute: each is a stored token (bounded).
OPTIONS_PER_CLIENT = RateLimit(limit=60, window=60)


def _login_options_prepare(call: Call[Any]) -> Outcome | None:
    key = throttles.counter_key(call.settings, "passkey-options", call.ctx.request.client_address)
    if throttle(call, key, OPTIONS_PER_CLIENT) > OPTIONS_PER_CLIENT.limit:
        return fail("tooManyRequests")
    return None


@action(
    "PasskeyLoginOptions",
    family="account",
    prepare=_login_options_prepare,
    codes=["passkeysUnavailable"],
)
def passkey_login_options(call: Call[None]) -> Outcome:
    """The options for ``navigator.credentials.get`` (``data.options``, JSON): any passkey
    of the shop (the browser lists them), user verification required; with a login
    waiting for its second factor, that account's passkeys."""
    party = _party(call)
    if party is None:
        return fail("passkeysUnavailable")
    webauthn = _webauthn()
    structs = webauthn.helpers.structs
    allowed = []
    pending = call.ctx.session.pending_login
    if pending is not None and pending[1] >= call.now:
        allowed = [
            structs.PublicKeyCredentialDescriptor(id=_unb64(p.id))
            for p in call.passkeys.list_passkeys(pending[0])
        ]
    challenge = _issue_challenge(call, "login", None)
    options = webauthn.generate_authentication_options(
        rp_id=party.rp_id,
        challenge=challenge,
        timeout=int(CHALLENGE_SECONDS * 1000),
        allow_credentials=allowed,
        user_verification=structs.UserVerificationRequirement.REQUIRED,
    )
    return _options(webauthn, options)


@attrs.frozen
class _Answered:
    """A verified answer to a login challenge."""

    passkey_id: str
    account_id: str
    sign_count: int
    backed_up: bool


def _login_prepare(call: Call[Any]) -> Outcome | _Answered:
    """The checks and the verification, before the unit of work (no lock held meanwhile)."""
    party = _party(call)
    if party is None:
        return fail("passkeysUnavailable")
    challenge = _take_challenge(call, "login")
    if challenge is None:
        return fail("noChallenge")
    credential = _credential(call)
    raw_id = credential.get("rawId") or credential.get("id") if credential else None
    passkey = call.passkeys.get_passkey(raw_id) if isinstance(raw_id, str) else None
    if credential is None or passkey is None:
        return fail("passkeyInvalid", "credential")
    try:
        verified = _webauthn().verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=party.rp_id,
            expected_origin=party.origin,
            credential_public_key=_unb64(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except Exception:  # a bad signature, origin, challenge, counter …
        return fail("passkeyInvalid", "credential")
    return _Answered(
        passkey.id, passkey.account_id, verified.new_sign_count, bool(verified.credential_backed_up)
    )


@action(
    "PasskeyLogin",
    family="account",
    prepare=_login_prepare,
    params=[Param("credential", required=True, secret=True)],
    codes=[
        "passkeysUnavailable",
        "noChallenge",
        "passkeyInvalid",
        "accountInactive",
        "subshopNotAllowed",
    ],
)
def passkey_login(call: Call[_Answered]) -> Outcome:
    """Logs in with a passkey that answered PasskeyLoginOptions' challenge (verified with
    user verification: both factors); its sign counter must go forward."""
    answered = call.prepared
    account = call.accounts.get_account(answered.account_id, for_update=True)
    if account is None or not account.may_log_in:
        return fail("accountInactive")
    if not MemberRights(call.accounts, account).subshop_allowed(call.ctx.request.subshop):
        return fail("subshopNotAllowed")
    if not call.passkeys.use_passkey(
        answered.passkey_id, answered.sign_count, call.now, answered.backed_up
    ):
        return fail("passkeyInvalid", "credential")  # the counter went back (W47), or a race
    start_login(call, account, method="passkey")
    return ok()


# managing ----------------------------------------------------------------------------------


def _own(call: Call[Any], account: Account) -> Passkey | None:
    found = call.passkeys.get_passkey(call.get("passkeyId") or "")
    return found if found is not None and found.account_id == account.id else None


@action(
    "PasskeyRename",
    family="account",
    access=Access.LOGIN,
    fresh_login=True,
    params=[Param("passkeyId", required=True), Param("name", required=True)],
    codes=["notLoggedIn", "passkeyNotFound", "invalidValue"],
)
def passkey_rename(call: Call[None]) -> Outcome:
    """Renames one of the account's passkeys."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    passkey = _own(call, account)
    if passkey is None:
        return fail("passkeyNotFound", "passkeyId")
    name = _name(call, "")
    if not name:
        return fail("invalidValue", "name")
    call.passkeys.rename_passkey(account.id, passkey.id, name)
    return ok()


@action(
    "PasskeyDelete",
    family="account",
    access=Access.LOGIN,
    fresh_login=True,
    params=[Param("passkeyId", required=True)],
    codes=["notLoggedIn", "passkeyNotFound", "lastCredential"],
)
def passkey_delete(call: Call[None]) -> Outcome:
    """Removes one of the account's passkeys, unless it is the last one of an account
    without a password (``lastCredential``). The owner gets a notice (M45)."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    passkey = _own(call, account)
    if passkey is None:
        return fail("passkeyNotFound", "passkeyId")
    if account.password_hash is None and len(call.passkeys.list_passkeys(account.id)) <= 1:
        return fail("lastCredential")
    call.passkeys.delete_passkey(account.id, passkey.id)
    notify(call, account, "passkey_removed")
    return ok()


ACTIONS = (
    passkey_register_options,
    passkey_register,
    passkey_login_options,
    passkey_login,
    passkey_rename,
    passkey_delete,
)
