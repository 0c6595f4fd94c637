"""The value types the engine and the stores exchange (a leaf module: it imports no wsactions
module, so protocols, engine and backends can all depend on it)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _optional_frozenset(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _frozen_names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class Account:
    """A customer account; for B2B also a member of a company.

    *email* is the address as normalised by email-validator (where mail
    goes); *email_key* its identity key (NFKC + casefold) that the store
    keeps unique. *active* is ``False`` until the account is activated
    (host imports, invited employees); *deactivated* is set by a company
    admin. *security_stamp* changes whenever every other session of the
    account must end (password reset, email change, deactivation);
    *rights_stamp* whenever its rights change, which gives its sessions a new
    id on their next request.
    """

    id: str
    email: str
    email_key: str
    password_hash: str | None = attrs.field(default=None, repr=False)
    display_name: str = ""
    active: bool = True
    verified: bool = False
    deactivated: bool = False
    security_stamp: str = attrs.field(default="", repr=False)
    rights_stamp: str = attrs.field(default="", repr=False)
    created_at: float = 0.0
    customer_data: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    main_address_id: str | None = None
    default_bill_address_id: str | None = None
    default_delivery_address_id: str | None = None
    # B2B membership
    company_id: str | None = None
    admin: bool = False
    privilege_group_id: str | None = None
    default_address_visibility: str = "private"
    allowed_subshops: frozenset[str] | None = attrs.field(
        default=None, converter=_optional_frozenset
    )
    invitation_pending: bool = False
    #: The language of the account's mails (set at registration from the request).
    locale: str = ""
    #: The TOTP second factor (:mod:`wsactions.security.totp`), its secret only encrypted
    #: (M43): the sealed secret ("" without one), a sealed secret being enrolled, and the
    #: last time step a code was used in (a code is never accepted twice, M42).
    totp_secret: str = attrs.field(default="", repr=False)
    totp_pending: str = attrs.field(default="", repr=False)
    totp_step: int = 0
    #: SHA-256 hashes of the recovery codes not used yet.
    recovery_codes: frozenset[str] = attrs.field(
        factory=frozenset, converter=_frozen_names, repr=False
    )

    @property
    def has_second_factor(self) -> bool:
        """Whether a login needs a second factor (TOTP is enabled)."""
        return bool(self.totp_secret)

    @property
    def may_log_in(self) -> bool:
        """Whether the account's state allows a login at all (email verification aside)."""
        return self.active and not self.deactivated and not self.invitation_pending

    @property
    def acts_as_admin(self) -> bool:
        """Whether the account is an admin of its company who can act as one: it may log in
        and is allowed at least one subshop (an admin flag alone administers nothing)."""
        return (
            self.admin
            and self.company_id is not None
            and self.may_log_in
            and self.allowed_subshops != frozenset()
        )


@attrs.frozen
class Address:
    """An address of an account's address book; *fields* hold the ``address.<field>`` values."""

    id: str
    account_id: str
    type: str
    fields: Mapping[str, str] = attrs.field(converter=_frozen_map)
    visibility: str = "private"
    created_at: float = 0.0

    def __getattr__(self, name: str) -> str:
        # Templates read fields as attributes: $myAddress.firstName
        fields = object.__getattribute__(self, "fields")
        if name in fields:
            return str(fields[name])
        raise AttributeError(name)


@attrs.frozen
class SavedCard:
    """A pseudonymised payment card: never a card number, only what a list needs."""

    id: str
    account_id: str
    brand: str
    last4: str
    expiry: str
    holder: str
    pseudo_card_id: str = attrs.field(repr=False)


@attrs.frozen
class Privileges:
    """What a privilege group allows; ``None`` means "not restricted"."""

    allowed_payment_methods: frozenset[str] | None = attrs.field(
        default=None, converter=_optional_frozenset
    )
    payment_limit_per_order: Decimal | None = None
    payment_limit: Decimal | None = None
    blocked_templates: tuple[str, ...] = ()
    blocked_urls: tuple[str, ...] = ()
    editable_fields: frozenset[str] | None = attrs.field(
        default=None, converter=_optional_frozenset
    )
    group_name: str | None = None
    #: Members must have a second factor (TOTP) on before they may order.
    require_second_factor: bool = False
    #: How often the budget (*payment_limit*) renews: ``none`` (never; it counts from when
    #: the limit was set), ``day``, ``week``, ``month``, ``quarter``, ``year``
    #: (:mod:`wsactions.periods`, in the shop's time zone).
    budget_period: str = "none"


@attrs.frozen
class PrivilegeGroup:
    """A company's privilege group; *spent* counts orders since *budget_since*."""

    id: str
    company_id: str
    name: str
    type: str = "account"
    privileges: Privileges = attrs.Factory(Privileges)
    budget_since: float = 0.0
    spent: Decimal = Decimal(0)

    def spent_in(self, period_start: float | None = None) -> Decimal:
        """What was charged in the budget period that began at *period_start* (``None``: the
        period since *budget_since*): a new period starts at zero, with no write."""
        if period_start is not None and self.budget_since < period_start:
            return Decimal(0)
        return self.spent

    def charged(
        self, amount: Decimal, period_start: float | None = None
    ) -> tuple[Decimal, float] | None:
        """The budget's state (spent, since) after an order of *amount* in the period that
        began at *period_start*, or ``None`` when the group's per-order limit or budget
        refuses it (every store's ``charge_group`` rule)."""
        per_order = self.privileges.payment_limit_per_order
        if per_order is not None and amount > per_order:
            return None
        total = self.spent_in(period_start) + amount
        budget = self.privileges.payment_limit
        if budget is not None and total > budget:
            return None
        return total, self._since(period_start)

    def refunded(
        self, amount: Decimal, charged_at: float, period_start: float | None = None
    ) -> tuple[Decimal, float] | None:
        """The budget's state after giving *amount* back, or ``None`` when the order was not
        charged in the current period (every store's ``refund_group`` rule)."""
        start = self._since(period_start)
        spent = self.spent_in(period_start)
        if charged_at < start or spent <= 0:
            return None
        return max(Decimal(0), spent - amount), start

    def _since(self, period_start: float | None) -> float:
        if period_start is None:
            return self.budget_since
        return max(self.budget_since, period_start)


@attrs.frozen
class TokenRecord:
    """An opt-in token as stored: only the hash of the mailed token, never the token."""

    token_hash: str = attrs.field(repr=False)
    purpose: str
    account_id: str
    created_at: float
    expires_at: float
    email: str | None = None

    def valid_at(self, now: float) -> bool:
        """Whether the token is still unexpired at *now* (valid at the limit itself)."""
        return now <= self.expires_at


@attrs.frozen
class GuestCheckout:
    """What the host records in the session after a guest checkout."""

    email: str
    addresses: tuple[Mapping[str, str], ...] = ()
    display_name: str = ""


@attrs.frozen
class LoginRecord:
    """One login as the server keeps it (S21, S39): the session holds only the secret whose
    SHA-256 is *id*, so a copied cookie is logged out as soon as the record is gone."""

    id: str
    account_id: str
    created_at: float
    last_seen: float
    client_address: str = ""
    #: When the owner last proved it is them (a password, a code), and how: a fresh
    #: login is what sensitive changes ask for (``Settings.reauthentication_timeout``).
    #: 0: when it was created (:attr:`proven`).
    proven_at: float = 0.0
    proven_by: str = "password"

    @property
    def proven(self) -> float:
        """When the owner last proved it: the latest of creation and re-authentication."""
        return max(self.created_at, self.proven_at)


def _strings_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Passkey:
    """A WebAuthn credential of an account (a passkey): its public key and what the
    authenticator told at registration and at each use; never a secret."""

    #: The credential id (base64url), unique across accounts.
    id: str
    account_id: str
    #: The COSE public key (base64url).
    public_key: str = attrs.field(repr=False)
    #: The authenticator's signature counter (0: it keeps none).
    sign_count: int = 0
    transports: tuple[str, ...] = attrs.field(default=(), converter=_strings_tuple)
    #: Whether the credential may be synced (backup eligible) and is (backed up).
    backup_eligible: bool = False
    backup_state: bool = False
    #: The authenticator model (AAGUID), ``00000000-…`` when it tells none.
    aaguid: str = ""
    #: What the customer called it.
    name: str = ""
    created_at: float = 0.0
    #: When it last logged in (0: never).
    last_used: float = 0.0


class GroupDeletion(enum.Enum):
    """What :meth:`~wsactions.protocols.CompanyDirectory.delete_group` did."""

    DELETED = "deleted"
    MISSING = "missing"
    IN_USE = "inUse"


def _bounded_agent(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value[:200] if " " <= c <= "~")


@attrs.frozen
class RequestInfo:
    """What the engine needs to know about the request.

    *client_address* must come from the host's trusted-proxy configuration
    (never straight from a client-controlled header such as
    ``X-Forwarded-For``). *optin_token* is the request's ``wsoptin`` value
    (from the query string of the page, or the form). *subshop* names the
    subshop the request is for, when the host runs several. *locale* is the
    language the request asks for.
    """

    client_address: str = ""
    optin_token: str | None = attrs.field(default=None, repr=False)
    subshop: str | None = None
    #: The language the request asks for (the adapter reads Accept-Language or the
    #: framework's choice); ``None``: the account's, else ``Settings.default_locale``.
    locale: str | None = None
    #: The browser's User-Agent, for security notices (printable ASCII, at most 200
    #: characters; the adapter passes the header, anything else is dropped).
    user_agent: str = attrs.field(default="", converter=_bounded_agent)


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Mail:
    """One mail: plain *text* and, usually, *html*; *links* lists the URLs it contains
    (opt-in links); *locale* is the language it is written in."""

    to: str
    subject: str
    text: str
    purpose: str = ""
    links: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    html: str = attrs.field(default="", repr=False)
    locale: str = "en"
