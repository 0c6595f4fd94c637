"""B2B company accounts: employees, invitations, admin rights, privilege groups.

A company is an account the host made its owner (``wsactions.companies.found``,
or every registration with ``Settings.companies_on_registration``); its admins
invite employees (SubAccountCreate), change their rights
(UpdateSubAccount), remove them (SubAccountDelete) and manage privilege
groups. Every lookup goes through the acting admin's company: members and
groups of other companies answer exactly like ids that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from .. import logins
from .._action import Access, Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..models import Account, GroupDeletion, PrivilegeGroup, Privileges
from ..periods import PERIODS
from ..security import jsontext
from ..security.emails import EmailAddress
from ._common import check_email, mail_allowed, mail_optin, new_id, notify, request_locale

VISIBILITIES = ("private", "shared")
GROUP_TYPES = ("global", "account")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_JSON = 20_000
_MAX_ITEMS = 200
_MAX_TEXT = 200
_MAX_AMOUNT = Decimal("1e12")


def _admin(call: Call[Any]) -> Account:
    account = call.account
    if account is None or account.company_id is None:  # pragma: no cover - access rule
        raise RuntimeError("the admin access rule let a request without company through")
    return account


def _member(call: Call[Any], admin: Account) -> Account | None:
    """The member *memberId* of the admin's company, or ``None``."""
    member = call.accounts.get_account(call.get("memberId") or "", for_update=True)
    if member is None or member.company_id != admin.company_id:
        return None
    return member


# employees ------------------------------------------------------------------------------


def _invitee_prepare(call: Call[Any]) -> Outcome | EmailAddress:
    errors: list[ActionError] = []
    email = check_email(call, "email", "missingId", errors)
    if email is None:
        return fail_all(errors)
    if not mail_allowed(call, email.key, "invitation"):
        return fail("tooManyRequests")
    return email


@action(
    "SubAccountCreate",
    family="b2b",
    access=Access.ADMIN,
    prepare=_invitee_prepare,
    params=[Param("email", required=True)],
    codes=["notLoggedIn", "unauthorized", "missingId", "emailCheckFailed", "accountAlreadyExists"],
)
def sub_account_create(call: Call[EmailAddress]) -> Outcome:
    """Creates an employee of the admin's company and mails the invitation link.

    The employee cannot log in until it has accepted the invitation and set
    its first password (ResetPassword with the invitation token). Until then
    the invitation never blocks the address's owner: its own registration
    withdraws it. Under
    ``enumeration_protection`` a taken address answers success too, and
    ``data`` never carries the new member's id.
    """
    admin = _admin(call)
    email = call.prepared
    member = Account(
        id=new_id(),
        email=email.address,
        email_key=email.key,
        security_stamp=new_id(),
        created_at=call.now,
        company_id=admin.company_id,
        invitation_pending=True,
        locale=admin.locale or request_locale(call),
    )
    hide = call.settings.enumeration_protection
    if not call.accounts.add_account(member):
        return ok() if hide else fail("accountAlreadyExists", "email")
    mail_optin(call, member, "invitation", "AcceptInvitation")
    return ok() if hide else ok({"memberId": member.id})


@action(
    "AcceptInvitation",
    family="b2b",
    access=Access.OPTIN,
    trigger="optin-link",
    optin_purposes=["invitation"],
    codes=["unauthorized", "invalidAccountId", "actionNotAllowed"],
)
def accept_invitation(call: Call[None]) -> Outcome:
    """Accepts the invitation of the request's token.

    ``unauthorized`` without a valid invitation token (also once it was used
    to set the first password); ``invalidAccountId`` when its account no
    longer exists; ``actionNotAllowed`` when the invitation was already
    accepted or another account is logged in. The token stays valid for
    setting the first password with ResetPassword, which uses it up.
    """
    record = call.optin_record()
    if record is None:  # pragma: no cover - the access rule checked it
        return fail("unauthorized")
    accounts = call.accounts
    account = accounts.get_account(record.account_id, for_update=True)
    if account is None:
        return fail("invalidAccountId")
    logged_in = call.ctx.session.account_id
    if not account.invitation_pending or logged_in not in (None, account.id):
        return fail("actionNotAllowed")
    accounts.update_account(account.id, {"invitation_pending": False, "verified": True})
    return ok()


def _required(name: str, code: str) -> Callable[[Call[Any]], Outcome | str]:
    """A prepare step: the parameter *name*, trimmed; *code* when it is missing or blank."""

    def prepare(call: Call[Any]) -> Outcome | str:
        value = (call.get(name) or "").strip()
        return value if value else fail(code, name)

    return prepare


@action(
    "SubAccountDelete",
    family="b2b",
    access=Access.ADMIN,
    prepare=_required("memberId", "missingMemberId"),
    params=[Param("memberId", required=True)],
    codes=[
        "notLoggedIn",
        "unauthorized",
        "missingMemberId",
        "invalidMemberId",
        "deletionNotAllowed",
    ],
)
def sub_account_delete(call: Call[str]) -> Outcome:
    """Deletes an employee of the admin's company (not yourself, not an admin)."""
    admin = _admin(call)
    member = _member(call, admin)
    if member is None:
        return fail("invalidMemberId", "memberId")
    if member.id == admin.id or member.admin:
        return fail("deletionNotAllowed", "memberId")
    call.accounts.delete_account(member.id)  # with its tokens and logins
    return ok()


def _flag(call: Call[Any], name: str, errors: list[ActionError]) -> bool | None:
    raw = call.get(name)
    if raw is None:
        return None
    value = _BOOLS.get(raw.strip().lower())
    if value is None:
        errors.append(ActionError("invalidValue", name))
    return value


def _subshops(raw: str, errors: list[ActionError]) -> frozenset[str] | None:
    if raw.strip() in ("", "null"):
        return None  # every subshop
    data = jsontext.loads(raw, max_length=_MAX_JSON)
    if (
        not isinstance(data, dict)
        or len(data) > _MAX_ITEMS
        or not all(0 < len(k) <= _MAX_TEXT for k in data)
    ):
        errors.append(ActionError("invalidValue", "allowedSubshops"))
        return None
    return frozenset(k for k, v in data.items() if v is not False)


@action(
    "UpdateSubAccount",
    family="b2b",
    access=Access.ADMIN,
    params=[
        Param("memberId", required=True),
        Param("displayName"),
        Param("active"),
        Param("admin"),
        Param("privilegeGroupId"),
        Param("defaultAddressVisibility"),
        Param("allowedSubshops"),
    ],
    codes=[
        "notLoggedIn",
        "unauthorized",
        "missingMemberId",
        "invalidMemberId",
        "selfDeactivationNotAllowed",
        "selfAdminRemovalNotallowed",
        "invalidValue",
        "reauthenticationRequired",
    ],
)
def update_sub_account(call: Call[None]) -> Outcome:
    """Changes an employee's settings; parameters left out stay as they are.

    ``active`` and ``admin`` take ``true``/``false``; ``privilegeGroupId``
    a group of the same company (empty: none); ``defaultAddressVisibility``
    ``private``/``shared``; ``allowedSubshops`` a JSON object whose keys are
    subshop ids (``{}``: none; empty or ``null``: all). Changes take effect on the member's next
    request: deactivation ends its sessions; a change of its rights gives
    them a new session id (and CSRF binding) on their next request.
    """
    admin = _admin(call)
    if not (call.get("memberId") or "").strip():
        return fail("missingMemberId", "memberId")
    member = _member(call, admin)
    if member is None:
        return fail("invalidMemberId", "memberId")
    errors: list[ActionError] = []
    changes: dict[str, Any] = {}
    name = call.get("displayName")
    if name is not None:
        name = name.strip()
        if len(name) > call.settings.display_name_max_length or not name.isprintable():
            errors.append(ActionError("invalidParameter", "displayName"))
        changes["display_name"] = name
    active = _flag(call, "active", errors)
    if active is not None:
        changes["deactivated"] = not active
    is_admin = _flag(call, "admin", errors)
    if is_admin is not None:
        changes["admin"] = is_admin
    group_id = call.get("privilegeGroupId")
    if group_id is not None:
        group_id = group_id.strip()
        company = admin.company_id or ""
        if group_id and call.accounts.get_group(company, group_id, for_update=True) is None:
            errors.append(ActionError("invalidValue", "privilegeGroupId"))
        changes["privilege_group_id"] = group_id or None
    visibility = call.get("defaultAddressVisibility")
    if visibility is not None:
        if visibility not in VISIBILITIES:
            errors.append(ActionError("invalidValue", "defaultAddressVisibility"))
        changes["default_address_visibility"] = visibility
    subshops = call.get("allowedSubshops")
    if subshops is not None:
        changes["allowed_subshops"] = _subshops(subshops, errors)
    if errors:
        return fail_all(errors)
    if member.id == admin.id and active is False:
        return fail("selfDeactivationNotAllowed", "active")
    if member.id == admin.id and is_admin is False:
        return fail("selfAdminRemovalNotallowed", "admin")
    if member.id == admin.id and "allowed_subshops" in changes:
        # Restricting one's own subshops locks oneself out like deactivating oneself.
        return fail("selfDeactivationNotAllowed", "allowedSubshops")
    if is_admin and not member.admin and not logins.is_fresh(call.ctx):
        return fail("reauthenticationRequired")  # granting admin rights: M44
    if changes.get("deactivated") and not member.deactivated:
        changes["security_stamp"] = new_id()
        call.logins.end_logins(member.id)  # ends the member's sessions
    rights = ("admin", "privilege_group_id", "allowed_subshops")
    if any(k in changes and changes[k] != getattr(member, k) for k in rights):
        changes["rights_stamp"] = new_id()  # its sessions get a new id on their next request
    if member.id != admin.id and any(
        k in changes and changes[k] != getattr(member, k) for k in (*rights, "deactivated")
    ):
        notify(call, member, "b2b_rights_changed")  # M45
    call.accounts.update_account(member.id, changes)
    return ok()


# privilege groups --------------------------------------------------------------------------


def _amount(value: Any) -> Decimal | None:
    """A non-negative decimal amount; raises ValueError otherwise (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise ValueError("amount")
    if not value.is_finite() or value < 0 or value > _MAX_AMOUNT:
        raise ValueError("amount")
    return value


def _nullable(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """JSON ``null`` resets a privilege to "not restricted"."""
    return lambda value: None if value is None else convert(value)


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        raise ValueError("list")
    if not all(isinstance(v, str) and 0 < len(v) <= _MAX_TEXT for v in value):
        raise ValueError("list")
    return tuple(value)


def _privilege_flag(value: Any) -> bool:
    """A JSON boolean (``null``: off)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError("flag")
    return value


def _budget_period(value: Any) -> str:
    """One of :data:`wsactions.periods.PERIODS` (``null``: ``none``, never renews)."""
    if value is None:
        return "none"
    if value not in PERIODS:
        raise ValueError("period")
    return str(value)


_PRIVILEGE_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "allowedPaymentMethods": (
        "allowed_payment_methods",
        _nullable(lambda v: frozenset(_texts(v))),
    ),
    "paymentLimitPerOrder": ("payment_limit_per_order", _amount),
    "paymentLimit": ("payment_limit", _amount),
    "blockedTemplates": ("blocked_templates", lambda v: () if v is None else _texts(v)),
    "blockedUrls": ("blocked_urls", lambda v: () if v is None else _texts(v)),
    "editableFields": ("editable_fields", _nullable(lambda v: frozenset(_texts(v)))),
    "groupName": ("group_name", lambda v: _texts([v])[0]),
    "requireSecondFactor": ("require_second_factor", _privilege_flag),
    "budgetPeriod": ("budget_period", _budget_period),
}


def parse_privileges(raw: str) -> dict[str, Any] | None:
    """The ``privileges`` JSON as Privileges field changes, or ``None`` when invalid.

    Amounts are read as decimals (never floats) and must be non-negative;
    lists hold non-empty strings; ``null`` lifts a restriction; unknown keys
    are invalid.
    """
    data = jsontext.loads(raw, max_length=_MAX_JSON)
    if not isinstance(data, dict):
        return None
    changes: dict[str, Any] = {}
    for key, value in data.items():
        known = _PRIVILEGE_FIELDS.get(key)
        if known is None:
            return None
        attribute, convert = known
        try:
            changes[attribute] = convert(value)
        except (ValueError, TypeError, IndexError):
            return None
    return changes


def _renew_members(call: Call[Any], company: str, group_id: str, company_default: bool) -> None:
    """The members whose rights a group change touched get new session ids (next request)."""
    call.accounts.renew_rights(company, new_id(), group_id=group_id, ungrouped=company_default)


def _notify_members(
    call: Call[Any], admin: Account, group: PrivilegeGroup, company_default: bool
) -> None:
    """Mail a security notice (M45) to each member whose rights or budget a group change
    touched (each budgeted per address)."""
    for member in call.accounts.list_members(group.company_id):
        if member.id == admin.id or member.admin:
            continue
        if member.privilege_group_id == group.id or (
            company_default and member.privilege_group_id is None
        ):
            notify(call, member, "b2b_rights_changed")


def _group_name_prepare(call: Call[Any]) -> Outcome | str:
    name = (call.get("name") or "").strip()
    if not name:
        return fail("missingName", "name")
    if len(name) > _MAX_TEXT or not name.isprintable():
        return fail("invalidParameter", "name")
    return name


@action(
    "CreatePrivilegeGroup",
    family="b2b",
    access=Access.ADMIN,
    prepare=_group_name_prepare,
    params=[Param("name", required=True)],
    codes=["notLoggedIn", "unauthorized", "missingName"],
)
def create_privilege_group(call: Call[str]) -> Outcome:
    """Creates an (unrestricted) privilege group in the admin's company; ``data["id"]``."""
    admin = _admin(call)
    name = call.prepared
    group = PrivilegeGroup(
        id=new_id(), company_id=admin.company_id or "", name=name, budget_since=call.now
    )
    call.accounts.add_group(group)
    return ok({"id": group.id})


@attrs.frozen
class _PrivilegeUpdate:
    group_id: str
    kind: str | None
    changes: dict[str, Any]


def _privileges_prepare(call: Call[Any]) -> Outcome | _PrivilegeUpdate:
    """The group id, type and privilege changes, checked (the JSON is read here, outside
    the unit of work)."""
    group_id = (call.get("privilegeId") or "").strip()
    if not group_id:
        return fail("missingPrivilegeId", "privilegeId")
    errors: list[ActionError] = []
    kind = call.get("type")
    if kind is not None and kind not in GROUP_TYPES:
        errors.append(ActionError("invalidType", "type"))
    raw = call.get("privileges")
    changes = parse_privileges(raw) if raw is not None else {}
    if changes is None:
        errors.append(ActionError("invalidPrivileges", "privileges"))
    if errors or changes is None:
        return fail_all(errors)
    return _PrivilegeUpdate(group_id, kind, changes)


def _raises_a_limit(old: Privileges, new: Privileges) -> bool:
    """Whether *new* lets members spend more than *old*: a payment limit lifted or raised."""
    for name in ("payment_limit", "payment_limit_per_order"):
        before, after = getattr(old, name), getattr(new, name)
        if before is not None and (after is None or after > before):
            return True
    return False


@action(
    "UpdatePrivileges",
    family="b2b",
    access=Access.ADMIN,
    prepare=_privileges_prepare,
    params=[
        Param("privilegeId", required=True),
        Param("createMissing"),
        Param("type"),
        Param("privileges"),
    ],
    codes=[
        "notLoggedIn",
        "unauthorized",
        "missingPrivilegeId",
        "invalidPrivilegeId",
        "invalidType",
        "invalidPrivileges",
        "reauthenticationRequired",
    ],
)
def update_privileges(call: Call[_PrivilegeUpdate]) -> Outcome:
    """Updates a group's privileges (the keys given replace those fields).

    ``createMissing=yes`` creates a group of that id in the admin's company.
    ``type=global`` makes the group the company's default for members without
    a group of their own (a company has one: an earlier global group becomes
    ``account``); ``account`` (the default) applies it to its members.
    Setting ``paymentLimit`` starts a new budget period.
    """
    admin = _admin(call)
    company = admin.company_id or ""
    group_id, kind, changes = call.prepared.group_id, call.prepared.kind, call.prepared.changes
    accounts = call.accounts
    group = accounts.get_group(company, group_id, for_update=True)
    if group is None:
        if call.get("createMissing") != "yes" or not _GROUP_ID.fullmatch(group_id):
            return fail("invalidPrivilegeId", "privilegeId")
        group = PrivilegeGroup(
            id=group_id, company_id=company, name=group_id, budget_since=call.now
        )
        if not accounts.add_group(group):  # pragma: no cover - the admin is locked for update
            return fail("invalidPrivilegeId", "privilegeId")
    update: dict[str, Any] = {}
    privileges = attrs.evolve(group.privileges, **changes)
    if _raises_a_limit(group.privileges, privileges) and not logins.is_fresh(call.ctx):
        return fail("reauthenticationRequired")  # more spending power: M44
    if privileges != group.privileges:
        update["privileges"] = privileges
    if kind is not None and kind != group.type:
        update["type"] = kind
    if changes.get("group_name"):
        update["name"] = changes["group_name"]
    restart = privileges.payment_limit != group.privileges.payment_limit
    if update:
        accounts.update_group(company, group.id, update)
    if restart:  # a new paymentLimit starts a new budget period; spending is never written back
        accounts.restart_budget(company, group.id, call.now)
    if update or restart:
        _renew_members(call, company, group.id, "global" in (kind, group.type))
        _notify_members(call, admin, group, "global" in (kind, group.type))
    return ok({"id": group.id})


@action(
    "DeletePrivilegeGroup",
    family="b2b",
    access=Access.ADMIN,
    prepare=_required("id", "missingId"),
    params=[Param("id", required=True)],
    codes=["notLoggedIn", "unauthorized", "missingId", "invalidId", "groupHasMembers"],
)
def delete_privilege_group(call: Call[str]) -> Outcome:
    """Deletes a group of the admin's company that no member is assigned to."""
    admin = _admin(call)
    company = admin.company_id or ""
    group_id = call.prepared
    accounts = call.accounts
    group = accounts.get_group(company, group_id, for_update=True)
    if group is None:
        return fail("invalidId", "id")
    deletion = accounts.delete_group(company, group_id)  # checks for members in the same step
    if deletion is GroupDeletion.IN_USE:
        return fail("groupHasMembers", "id")
    if deletion is GroupDeletion.MISSING:  # pragma: no cover - read for update above
        return fail("invalidId", "id")
    if group.type == "global":
        _renew_members(call, company, group_id, True)
    return ok()


ACTIONS = (
    sub_account_create,
    sub_account_delete,
    update_sub_account,
    accept_invitation,
    update_privileges,
    create_privilege_group,
    delete_privilege_group,
)
