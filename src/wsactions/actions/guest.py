"""Guest conversion: turn the guest checkout recorded in the session into an account.

The host records a finished guest checkout with
``ctx.session.set_guest_checkout(GuestCheckout(email=..., addresses=(...)))``.
The email always comes from that record, never from the form alone. The new
account is not logged in: like a registration it gets a verification mail,
so that a guest who typed someone else's address gains no login to it.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._action import Access, Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..addressing import STANDARD_FIELDS
from ..models import Account, Address, GuestCheckout
from ..security.emails import EmailAddress, parse_email
from ._common import (
    PASSWORD_SUBCODES,
    add_own_account,
    check_new_password,
    hasher,
    mail_allowed,
    mail_optin,
    new_account_fields,
    new_id,
    own_account,
    password_context,
    send_mail,
)


def _guest_addresses(call: Call[Any], account: Account, checkout: GuestCheckout) -> dict[str, str]:
    """Store the checkout's addresses for *account*; the roles the first of each type gets."""
    roles: dict[str, str] = {}
    for raw in checkout.addresses[: call.settings.max_addresses]:
        kind = raw.get("type", "bill")
        kind = kind if kind in ("bill", "delivery") else "bill"
        fields = {k: str(v)[:100] for k, v in raw.items() if k in STANDARD_FIELDS and v}
        address = Address(
            id=new_id(), account_id=account.id, type=kind, fields=fields, created_at=call.now
        )
        call.accounts.add_address(address)
        roles.setdefault(f"default_{kind}_address_id", address.id)
        roles.setdefault("main_address_id", address.id)
    return roles


@attrs.frozen
class _Conversion:
    """What the prepare step checked and hashed for a guest conversion."""

    checkout: GuestCheckout
    email: EmailAddress
    password_hash: str = attrs.field(repr=False)


def _conversion(call: Call[Any], checkout: GuestCheckout, password: str) -> Outcome | _Conversion:
    """Check the checkout's address against the mail limits and hash the password."""
    email = parse_email(checkout.email)
    if email is None:
        return fail("missingGuestData")
    if not mail_allowed(call, email.key, "register"):
        return fail("tooManyRequests")
    return _Conversion(checkout, email, hasher(call).hash(password))


def _convert(call: Call[Any], conversion: _Conversion) -> Outcome | None:
    """Create the account from the checkout; ``None`` when the address already has one."""
    checkout, email = conversion.checkout, conversion.email
    account_id = new_id()
    account = Account(
        id=account_id,
        email=email.address,
        email_key=email.key,
        password_hash=conversion.password_hash,
        display_name=checkout.display_name[: call.settings.display_name_max_length],
        security_stamp=new_id(),
        created_at=call.now,
        **new_account_fields(call, account_id),
    )
    accounts = call.accounts
    if not add_own_account(call, account):
        return None
    roles = _guest_addresses(call, account, checkout)
    if roles:
        accounts.update_account(account.id, roles)
    mail_optin(call, account, "verify", "EmailVerify")
    call.ctx.session.set_guest_checkout(None)
    return ok()


def _guest_password(
    call: Call[Any], checkout: GuestCheckout, errors: list[ActionError]
) -> str | None:
    context = password_context(call, email=checkout.email, name=checkout.display_name)
    return check_new_password(call, "password", "passwordRepeat", errors, context)


_PASSWORDS = [
    Param("password", required=True, secret=True),
    Param("passwordRepeat", required=True, secret=True),
]


def _guest_register_prepare(call: Call[Any]) -> Outcome | _Conversion:
    checkout = call.ctx.session.guest_checkout
    if checkout is None:
        return fail("missingGuestData")
    errors: list[ActionError] = []
    password = _guest_password(call, checkout, errors)
    if errors or password is None:
        return fail_all(errors)
    return _conversion(call, checkout, password)


@action(
    "GuestRegister",
    prepare=_guest_register_prepare,
    family="guest",
    access=Access.GUEST,
    denied_code="missingGuestData",
    blocked_when_locked=True,
    params=[Param("guestMail", required=True), *_PASSWORDS],
    subcodes={"passwordCheckFailed": PASSWORD_SUBCODES},
    codes=[
        "passwordCheckFailed",
        "missingPassword",
        "passwordMismatch",
        "accountAlreadyExists",
        "missingGuestData",
    ],
)
def guest_register(call: Call[_Conversion]) -> Outcome:
    """Creates an account for the session's guest checkout with the given password.

    ``guestMail`` is shown to the guest but not trusted: the address comes
    from the checkout record. An address with an account answers
    ``accountAlreadyExists``, or under ``enumeration_protection`` success
    with a notice to the owner.
    """
    conversion = call.prepared
    outcome = _convert(call, conversion)
    if outcome is not None:
        return outcome
    if not call.settings.enumeration_protection:
        return fail("accountAlreadyExists", "guestMail")
    return _notify_owner(call, conversion.checkout)


def _save_guest_prepare(call: Call[Any]) -> Outcome | _Conversion:
    checkout = call.ctx.session.guest_checkout
    errors: list[ActionError] = []
    given = (call.get("id") or "").strip()
    if not given:
        errors.append(ActionError("missingId", "id"))
    password = _guest_password(call, checkout, errors) if checkout else None
    if checkout is None:
        if not (call.get("password") or ""):
            errors.append(ActionError("missingPassword", "password"))
        return fail_all([*errors, ActionError("missingGuestData")])
    if errors or password is None:
        return fail_all(errors)
    claimed, recorded = parse_email(given), parse_email(checkout.email)
    if claimed is None or recorded is None or claimed.key != recorded.key:
        return fail("missingGuestData", "id")
    return _conversion(call, checkout, password)


@action(
    "SaveGuestDataToUser",
    prepare=_save_guest_prepare,
    family="guest",
    access=Access.GUEST,
    blocked_when_locked=True,
    params=[Param("id", required=True), *_PASSWORDS],
    subcodes={"passwordCheckFailed": PASSWORD_SUBCODES},
    codes=[
        "nonGuestAccount",
        "missingId",
        "missingPassword",
        "passwordMismatch",
        "passwordCheckFailed",
        "missingGuestData",
    ],
)
def save_guest_data_to_user(call: Call[_Conversion]) -> Outcome:
    """Creates an account from the guest checkout whose email *id* names.

    When the address already has an account it answers success and mails
    the owner a notice instead (the catalog has no code for that case, and
    the checkout data is never attached to an existing account).
    """
    conversion = call.prepared
    outcome = _convert(call, conversion)
    return outcome if outcome is not None else _notify_owner(call, conversion.checkout)


def _notify_owner(call: Call[Any], checkout: GuestCheckout) -> Outcome:
    """The address has an account: tell its owner, answer success, forget the checkout."""
    email = parse_email(checkout.email)
    owner = own_account(call.accounts.find_account(email.key)) if email else None
    if owner is not None:
        send_mail(call, "account_exists", owner.email, account=owner)
    call.ctx.session.set_guest_checkout(None)
    return ok()


ACTIONS = (guest_register, save_guest_data_to_user)
