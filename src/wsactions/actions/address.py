"""Address book actions: create, update, delete, and the three address roles.

Roles, each pointing to an address of the same account or to nothing:

* **main address** (``main_address_id``): the customer's own, primary
  address, preselected in the checkout. The first address an account
  creates becomes it.
* **default billing / delivery address**: preselected as billing or shipping
  address. The first address of type ``bill`` (``delivery``) becomes the
  default billing (delivery) address.

Any address of the account may take any role. Deleting an address clears
every role it held; no other address is promoted in its place.

Every lookup goes through the acting account: another account's address id
answers ``invalidAddressId`` exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._action import Access, ActionSpec, Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..addressing import SUBCODES as ADDRESS_SUBCODES
from ..addressing import validate_address
from ..models import Account, Address
from ._common import new_id, not_editable

ADDRESS_TYPES = ("bill", "delivery")
#: Opt-in purpose a host issues to let a customer edit addresses from a mailed link.
ADDRESS_PURPOSES = ("address",)

_ADDRESS_ID = Param("addressId", required=True)
_FIELDS = Param("address.", required=True, prefix=True)
_TYPE = Param("type")


def _acting_account(call: Call[Any]) -> Account | None:
    """The logged-in account, else the account of the request's address opt-in token (read
    for update inside the unit of work)."""
    if call.account is not None:
        return call.account
    record = call.optin_record(ADDRESS_PURPOSES)
    account = (
        call.accounts.get_account(record.account_id, for_update=call.in_unit) if record else None
    )
    return account if account is not None and account.may_log_in else None


def _type_errors(call: Call[Any]) -> list[ActionError]:
    kind = call.get("type")
    if kind is not None and kind not in ADDRESS_TYPES:
        return [ActionError("invalidType", "type")]
    return []


def _not_editable(call: Call[Any], account: Account, fields: list[str]) -> list[ActionError]:
    denied = not_editable(call, account, (f"address.{name}" for name in fields))
    return [ActionError("fieldNotEditable", field) for field in denied]


@attrs.frozen
class _NewAddress:
    fields: dict[str, str]
    kind: str
    submitted: list[str]


def _new_address_prepare(call: Call[Any]) -> Outcome | _NewAddress:
    """The submitted address, validated for its country (outside the unit of work)."""
    if _acting_account(call) is None:  # plain reads here; the handler locks
        return fail("notLoggedIn")
    submitted = call.prefixed("address.")
    if not submitted:
        return fail("emptyAddress", "address.")
    cleaned, errors = validate_address(submitted, call.settings.address_rules)
    errors = _type_errors(call) + errors
    if errors:
        return fail_all(errors)
    return _NewAddress(dict(cleaned), call.get("type") or "bill", list(submitted))


@action(
    "AddressCreate",
    family="address",
    access=Access.LOGIN_OR_OPTIN,
    optin_purposes=ADDRESS_PURPOSES,
    blocked_when_locked=True,
    prepare=_new_address_prepare,
    params=[_FIELDS, _TYPE],
    subcodes={"addressCheckFailed": sorted(ADDRESS_SUBCODES)},
    codes=[
        "notLoggedIn",
        "emptyAddress",
        "addressCheckFailed",
        "invalidType",
        "addressLimitReached",
        "fieldNotEditable",
    ],
)
def address_create(call: Call[_NewAddress]) -> Outcome:
    """Creates an address (type ``bill`` by default) for the acting account.

    The first address becomes the main address, the first of a type the
    default address of that type. B2B members' addresses get the member's
    default visibility.
    """
    account = _acting_account(call)
    if account is None:
        return fail("notLoggedIn")
    new = call.prepared
    cleaned, kind = new.fields, new.kind
    denied = _not_editable(call, account, new.submitted)
    if denied:
        return fail_all(denied)
    accounts = call.accounts
    existing = accounts.list_addresses(account.id)
    if len(existing) >= call.settings.max_addresses:
        return fail("addressLimitReached")
    first_of_kind = not any(a.type == kind for a in existing)
    address = Address(
        id=new_id(),
        account_id=account.id,
        type=kind,
        fields=cleaned,
        visibility=account.default_address_visibility,
        created_at=call.now,
    )
    accounts.add_address(address)
    # Only the first address ever (of its kind) takes a role: after RemoveDefault...
    # nothing is preselected until the customer chooses again.
    roles: dict[str, Any] = {}
    if not existing:
        roles["main_address_id"] = address.id
    if first_of_kind:
        roles[f"default_{kind}_address_id"] = address.id
    if roles:
        accounts.update_account(account.id, roles)
    return ok({"addressId": address.id})


@action(
    "AddressUpdate",
    family="address",
    access=Access.LOGIN_OR_OPTIN,
    optin_purposes=ADDRESS_PURPOSES,
    blocked_when_locked=True,
    params=[_ADDRESS_ID, _FIELDS, _TYPE],
    subcodes={"addressCheckFailed": sorted(ADDRESS_SUBCODES)},
    codes=[
        "notLoggedIn",
        "emptyAddress",
        "invalidAddressId",
        "addressCheckFailed",
        "invalidType",
        "fieldNotEditable",
    ],
)
def address_update(call: Call[None]) -> Outcome:
    """Changes fields (and optionally the type) of one of the acting account's addresses.

    The submitted fields are laid over the stored ones and the result is
    validated as a whole.
    """
    account = _acting_account(call)
    if account is None:
        return fail("notLoggedIn")
    accounts = call.accounts
    address = accounts.get_address(account.id, call.get("addressId") or "", for_update=True)
    if address is None:
        return fail("invalidAddressId", "addressId")
    submitted = call.prefixed("address.")
    if not submitted:
        return fail("emptyAddress", "address.")
    cleaned, errors = validate_address(
        submitted, call.settings.address_rules, partial=True, base=address.fields
    )
    errors = _type_errors(call) + errors
    if errors:
        return fail_all(errors)
    denied = _not_editable(call, account, list(submitted))
    if denied:
        return fail_all(denied)
    changes = {"fields": cleaned, "type": call.get("type") or address.type}
    if not accounts.update_address(account.id, address.id, changes):
        return fail("invalidAddressId", "addressId")
    return ok()


@action(
    "AddressDelete",
    family="address",
    access=Access.LOGIN_OR_OPTIN,
    optin_purposes=ADDRESS_PURPOSES,
    blocked_when_locked=True,
    params=[_ADDRESS_ID],
    codes=["notLoggedIn", "invalidAddressId", "fieldNotEditable"],
)
def address_delete(call: Call[None]) -> Outcome:
    """Deletes one of the acting account's addresses and clears the roles it held.

    A B2B member whose privilege group may not edit addresses gets
    ``fieldNotEditable``.
    """
    account = _acting_account(call)
    if account is None:
        return fail("notLoggedIn")
    accounts = call.accounts
    address = accounts.get_address(account.id, call.get("addressId") or "", for_update=True)
    if address is None:
        return fail("invalidAddressId", "addressId")
    if not_editable(call, account, ["address"]):
        return fail("fieldNotEditable", "address.")
    if not accounts.delete_address(account.id, address.id):  # also clears its roles
        return fail("invalidAddressId", "addressId")
    return ok()


def _address_id_prepare(call: Call[Any]) -> Outcome | str:
    address_id = call.get("addressId") or ""
    return address_id if address_id.strip() else fail("missingAddressId", "addressId")


def _role_setter(name: str, role: str, summary: str) -> ActionSpec:
    @action(
        name,
        family="address",
        access=Access.LOGIN,
        blocked_when_locked=True,
        prepare=_address_id_prepare,
        params=[_ADDRESS_ID],
        codes=["notLoggedIn", "missingAddressId", "invalidAddressId"],
        summary=summary,
    )
    def set_role(call: Call[str]) -> Outcome:
        account = call.account
        if account is None:  # pragma: no cover - the access rule checked it
            return fail("notLoggedIn")
        address_id = call.prepared
        accounts = call.accounts
        if accounts.get_address(account.id, address_id, for_update=True) is None:
            return fail("invalidAddressId", "addressId")
        accounts.update_account(account.id, {role: address_id})
        return ok()

    return set_role


def _role_remover(name: str, role: str, summary: str) -> ActionSpec:
    @action(
        name,
        family="address",
        access=Access.LOGIN,
        blocked_when_locked=True,
        codes=["notLoggedIn"],
        summary=summary,
    )
    def remove_role(call: Call[Any]) -> Outcome:
        account = call.account
        if account is None:  # pragma: no cover - the access rule checked it
            return fail("notLoggedIn")
        if getattr(account, role) is not None:
            call.accounts.update_account(account.id, {role: None})
        return ok()

    return remove_role


set_main_address = _role_setter(
    "SetMainAddress", "main_address_id", "Sets an address as the main address."
)
set_default_bill_address = _role_setter(
    "SetDefaultBillAddress",
    "default_bill_address_id",
    "Sets an address as the default billing address.",
)
set_default_delivery_address = _role_setter(
    "SetDefaultDeliveryAddress",
    "default_delivery_address_id",
    "Sets an address as the default shipping address.",
)
remove_default_bill_address = _role_remover(
    "RemoveDefaultBillAddress",
    "default_bill_address_id",
    "Removes the default billing address (the address itself stays).",
)
remove_default_delivery_address = _role_remover(
    "RemoveDefaultDeliveryAddress",
    "default_delivery_address_id",
    "Removes the default shipping address (the address itself stays).",
)

ACTIONS = (
    address_create,
    address_update,
    address_delete,
    set_main_address,
    set_default_bill_address,
    set_default_delivery_address,
    remove_default_bill_address,
    remove_default_delivery_address,
)
