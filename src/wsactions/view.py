"""The template view: ``wsActions``, ``wsSession``, ``wsAccount``, ``wsOptIn``, ``wsCheckout``.

Plain objects with attribute access, named as in the shop system's template
API, so any template engine (Jinja2, Django templates) can use them::

    {% set login = wsActions.create("Login") %}
    <input type="hidden" name="wsact" value="{{ login.id }}">
    <input type="hidden" name="wscsrf" value="{{ login.csrf }}">
    {% if login.error %}...{% endif %}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ._result import ActionError, ActionResult
from .i18n import Message, resolve_locale, result_messages, success_message
from .logins import logged_in_account, login_id
from .models import Account, Address, LoginRecord, Passkey, PrivilegeGroup, SavedCard
from .optin import peek as peek_optin

if TYPE_CHECKING:
    from ._registry import ActionRegistry
    from .protocols import ActionContext

_NO_RESULT = ActionResult(name="", success=False)


def view_locale(ctx: ActionContext) -> str:
    """The language a page of this request is shown in."""
    return resolve_locale(ctx.settings, ctx.request.locale)


class CurrentView:
    """``wsActions.current``: the action executed in this request (empty name when none)."""

    __slots__ = ("_ctx", "_result")

    def __init__(self, result: ActionResult, ctx: ActionContext) -> None:
        self._result = result
        self._ctx = ctx

    @property
    def name(self) -> str:
        """The executed action's canonical name."""
        return self._result.name

    @property
    def success(self) -> bool:
        """Whether it ran in this request and succeeded."""
        return self._result.success

    @property
    def error(self) -> bool:
        """Whether it ran in this request and failed."""
        return self._result.name != "" and self._result.error

    @property
    def errors(self) -> tuple[ActionError, ...]:
        """Its errors."""
        return self._result.errors

    @property
    def codes(self) -> frozenset[str]:
        """Its error codes."""
        return self._result.codes

    @property
    def messages(self) -> tuple[Message, ...]:
        """Its errors as sentences in the page's language (``.text``, ``.field``, ``.code``)."""
        if not self._result.errors:
            return ()
        return result_messages(self._ctx.settings, view_locale(self._ctx), self._result)

    def message(self, field: str | None = None) -> str:
        """The sentences for the errors of *field* (without one: those of no field)."""
        return " ".join(m.text for m in self.messages if m.field == field)

    @property
    def notice(self) -> str | None:
        """The success notice in the page's language, if the action succeeded and has one."""
        result = self._result
        if not result.success:
            return None
        return success_message(self._ctx.settings, view_locale(self._ctx), result.name, result.data)


class HandleView(CurrentView):
    """An action handle for a template: form values plus the state of this request's run."""

    __slots__ = ("csrf", "id", "name")

    def __init__(
        self, name: str, id: str, csrf: str, result: ActionResult, ctx: ActionContext
    ) -> None:
        super().__init__(result, ctx)
        self.name = name  # type: ignore[misc]
        self.id = id
        self.csrf = csrf

    @property
    def params(self) -> Mapping[str, str]:
        """The echoed non-secret parameters, to refill the form."""
        return self._result.params

    @property
    def data(self) -> Mapping[str, Any]:
        """The return values of this request's run."""
        return self._result.data


class ActionsView:
    """``wsActions``: create handles, read the current action, build link URLs."""

    def __init__(
        self, registry: ActionRegistry, ctx: ActionContext, result: ActionResult | None
    ) -> None:
        self._registry = registry
        self._ctx = ctx
        self._result = result or _NO_RESULT

    def create(self, name: str) -> HandleView:
        """The handle of action *name*, carrying this request's result if it was *name*."""
        handle = self._registry.create(self._ctx, name)
        result = self._result if self._result.name == handle.name else _NO_RESULT
        return HandleView(handle.name, handle.id, handle.csrf, result, self._ctx)

    @property
    def current(self) -> CurrentView:
        """The action executed in this request."""
        return CurrentView(self._result, self._ctx)

    def url(self, name: str, target: str, params: Mapping[str, str] | None = None) -> str:
        """A signed link that runs link action *name* and then shows *target*."""
        return self._registry.url(self._ctx, name, target, params)

    def target(self, value: str | None, default: str) -> str:
        """*value* (a ``next`` from the query string) if the engine would redirect there, else
        *default*: the only ``next`` a page may link to or post as ``wstarget``.

        A page must not judge a target itself: browsers drop tabs and line breaks
        from a link, so ``/<TAB>/evil.example`` becomes ``//evil.example``.
        """
        return self._registry.safe_target(self._ctx, value or "") or default


class SessionView:
    """``wsSession``: session variables, the lock flag, a pending login code."""

    def __init__(self, ctx: ActionContext) -> None:
        self._session = ctx.session
        self._clock = ctx.clock

    def get(self, key: str) -> str | None:
        """A session variable, or ``None``."""
        return self._session.get(key)

    @property
    def codePending(self) -> bool:
        """Whether this browser asked for a mailed code that is still valid (LoginCodeRequest,
        or a mail of ``Settings.optin_codes``): the page then asks for it."""
        pending = self._session.pending_code
        return pending is not None and pending[1] >= self._clock.now()

    @property
    def isLocked(self) -> bool:
        """Whether the session is locked after a failed payment."""
        return self._session.is_locked


class OptInState:
    """``wsOptIn.current``: whether the request carries a valid, unexpired opt-in token."""

    __slots__ = ("purpose", "valid")

    def __init__(self, valid: bool, purpose: str | None) -> None:
        self.valid = valid
        self.purpose = purpose


class OptInView:
    """``wsOptIn``."""

    def __init__(self, ctx: ActionContext) -> None:
        self._ctx = ctx

    @cached_property
    def current(self) -> OptInState:
        """The state of this request's opt-in token."""
        record = peek_optin(self._ctx, self._ctx.request.optin_token, self._ctx.clock.now())
        return OptInState(record is not None, record.purpose if record else None)


class AccountView:
    """``wsAccount``: the logged-in account and its address book and cards."""

    def __init__(
        self, ctx: ActionContext, account: Callable[[], Account | None] | None = None
    ) -> None:
        self._ctx = ctx
        self._read = account

    @cached_property
    def _account(self) -> Account | None:
        return logged_in_account(self._ctx) if self._read is None else self._read()

    @property
    def isLoggedIn(self) -> bool:
        """Whether a customer is logged in."""
        return self._account is not None

    @property
    def hasSecondFactor(self) -> bool:
        """Whether the account logs in with a second factor (TOTP)."""
        account = self._account
        return account is not None and account.has_second_factor

    @property
    def recoveryCodesLeft(self) -> int:
        """How many of its recovery codes are unused (never the codes)."""
        account = self._account
        return len(account.recovery_codes) if account is not None else 0

    @property
    def id(self) -> str | None:
        """The account id."""
        return self._account.id if self._account else None

    @property
    def email(self) -> str | None:
        """The account's email address; for a guest checkout (nobody logged in) the guest's
        address, as the seed's SaveGuestDataToUser form fills ``id`` from it."""
        if self._account is not None:
            return self._account.email
        checkout = self._ctx.session.guest_checkout
        return checkout.email if checkout else None

    @property
    def displayName(self) -> str | None:
        """The account's display name."""
        return self._account.display_name if self._account else None

    @property
    def isVerified(self) -> bool:
        """Whether the account's email address is confirmed."""
        return bool(self._account and self._account.verified)

    @property
    def customerData(self) -> Mapping[str, str]:
        """The customer data fields (AccountSetCustomerData)."""
        return self._account.customer_data if self._account else {}

    @property
    def isAdmin(self) -> bool:
        """Whether the account administers its company (B2B)."""
        return bool(self._account and self._account.admin)

    @cached_property
    def addresses(self) -> Sequence[Address]:
        """The account's addresses, then the addresses its colleagues share (B2B)."""
        account = self._account
        if account is None:
            return ()
        accounts = self._ctx.storage.accounts
        own = list(accounts.list_addresses(account.id))
        if account.company_id is None or not self._ctx.settings.b2b_enabled:
            return tuple(own)
        shared = [
            address
            for member in accounts.list_members(account.company_id)
            if member.id != account.id
            for address in accounts.list_addresses(member.id)
            if address.visibility == "shared"
        ]
        return tuple(own + shared)

    @cached_property
    def members(self) -> Sequence[MemberView]:
        """The company's members, for admins (B2B); empty for everyone else. With
        ``enumeration_protection`` pending invitations are not listed."""
        account = self._account
        if account is None or not account.admin or account.company_id is None:
            return ()
        members = self._ctx.storage.accounts.list_members(account.company_id)
        if self._ctx.settings.enumeration_protection:
            # A pending invitation exists only for an address that had no account: listing
            # it would tell the admin which addresses are registered (E37).
            members = [m for m in members if not m.invitation_pending]
        return tuple(MemberView(m) for m in members)

    @cached_property
    def privilegeGroups(self) -> Sequence[PrivilegeGroup]:
        """The company's privilege groups, for admins (B2B); empty for everyone else."""
        account = self._account
        if account is None or not account.admin or account.company_id is None:
            return ()
        return tuple(self._ctx.storage.accounts.list_groups(account.company_id))

    def _role(self, address_id: str | None) -> Address | None:
        if self._account is None or address_id is None:
            return None
        return self._ctx.storage.accounts.get_address(self._account.id, address_id)

    @property
    def mainAddress(self) -> Address | None:
        """The main address, or ``None``."""
        return self._role(self._account.main_address_id if self._account else None)

    @property
    def defaultBillAddress(self) -> Address | None:
        """The default billing address, or ``None``."""
        return self._role(self._account.default_bill_address_id if self._account else None)

    @property
    def defaultDeliveryAddress(self) -> Address | None:
        """The default delivery address, or ``None``."""
        return self._role(self._account.default_delivery_address_id if self._account else None)

    @cached_property
    def logins(self) -> Sequence[LoginView]:
        """Where the account is logged in (oldest first, expired logins left out);
        ``current`` marks this session."""
        if self._account is None:
            return ()
        secret = self._ctx.session.login_secret
        mine = login_id(secret) if secret else None
        ctx = self._ctx
        records = ctx.storage.logins.list_logins(self._account.id)
        expired, now = ctx.settings.login_lifetime.expired, ctx.clock.now()
        return tuple(LoginView(r, r.id == mine) for r in records if not expired(r, now))

    @cached_property
    def passkeys(self) -> Sequence[Passkey]:
        """The account's passkeys (names, when added and last used; never a key)."""
        if self._account is None:
            return ()
        return tuple(self._ctx.storage.passkeys.list_passkeys(self._account.id))

    @cached_property
    def pseudoCreditCards(self) -> Sequence[SavedCard]:
        """The saved (pseudonymised) cards."""
        if self._account is None:
            return ()
        return tuple(self._ctx.storage.accounts.list_cards(self._account.id))


class LoginView:
    """One login of the account, as a session overview page lists it."""

    __slots__ = ("_record", "current")

    def __init__(self, record: LoginRecord, current: bool) -> None:
        self._record = record
        #: Whether this is the login of the browser showing the page.
        self.current = current

    @property
    def id(self) -> str:
        """The login's id (for :func:`wsactions.logins.end_login`)."""
        return self._record.id

    @property
    def created(self) -> float:
        """When the customer logged in (seconds since the epoch)."""
        return self._record.created_at

    @property
    def lastSeen(self) -> float:
        """When the login was last used (updated at most once a minute)."""
        return self._record.last_seen

    @property
    def clientAddress(self) -> str:
        """The client address the login was made from."""
        return self._record.client_address


class MemberView:
    """A company member as the seed's templates read it (``$myMember.displayName`` ...)."""

    __slots__ = ("_member",)

    def __init__(self, member: Account) -> None:
        self._member = member

    @property
    def id(self) -> str:
        """The member id (``memberId`` of the B2B actions)."""
        return self._member.id

    @property
    def email(self) -> str:
        """The member's email address."""
        return self._member.email

    @property
    def displayName(self) -> str:
        """The member's display name."""
        return self._member.display_name

    @property
    def active(self) -> bool:
        """Whether the member may log in (UpdateSubAccount's ``active``)."""
        return not self._member.deactivated

    @property
    def admin(self) -> bool:
        """Whether the member has admin rights."""
        return self._member.admin

    @property
    def invitationPending(self) -> bool:
        """Whether the member has not accepted its invitation yet."""
        return self._member.invitation_pending

    @property
    def privilegeGroupId(self) -> str:
        """The member's privilege group id ("" when none)."""
        return self._member.privilege_group_id or ""

    @property
    def defaultAddressVisibility(self) -> str:
        """``private`` or ``shared``."""
        return self._member.default_address_visibility

    @property
    def allowedSubshops(self) -> frozenset[str] | None:
        """The subshops the member may use (``None``: all)."""
        return self._member.allowed_subshops


class CheckoutView:
    """``wsCheckout``: the guest checkout the host recorded in the session."""

    def __init__(self, ctx: ActionContext) -> None:
        self._session = ctx.session

    @property
    def guestMail(self) -> str:
        """The guest's email address ("" without a recorded guest checkout)."""
        checkout = self._session.guest_checkout
        return checkout.email if checkout else ""


class TemplateView:
    """The template globals for one request; :meth:`globals` gives them as a dict."""

    def __init__(
        self,
        registry: ActionRegistry,
        ctx: ActionContext,
        result: ActionResult | None = None,
        *,
        account: Callable[[], Account | None] | None = None,
    ) -> None:
        """*account* reads the logged-in account (default:
        :func:`wsactions.logins.logged_in_account` of *ctx*, once)."""
        self.wsActions = ActionsView(registry, ctx, result)
        self.wsSession = SessionView(ctx)
        self.wsAccount = AccountView(ctx, account)
        self.wsOptIn = OptInView(ctx)
        self.wsCheckout = CheckoutView(ctx)

    def globals(self) -> dict[str, Any]:
        """The template globals: wsActions, wsSession, wsAccount, wsOptIn, wsCheckout."""
        return {
            "wsActions": self.wsActions,
            "wsSession": self.wsSession,
            "wsAccount": self.wsAccount,
            "wsOptIn": self.wsOptIn,
            "wsCheckout": self.wsCheckout,
        }


def json_answer(ctx: ActionContext, result: ActionResult) -> dict[str, Any]:
    """The JSON answer to an AJAX action (``Accept: application/json``): every adapter sends
    this shape, with the messages in the request's language.

    ``{"name", "success", "errors": [{"code", "field", "subcodes", "message"}],
    "notice", "params", "data", "redirect"}`` — ``params`` never holds a
    secret parameter (the engine leaves them out of every result).
    """
    view = CurrentView(result, ctx)
    return {
        "name": result.name,
        "success": result.success,
        "errors": [
            {"code": m.code, "field": m.field, "subcodes": list(m.subcodes), "message": m.text}
            for m in view.messages
        ],
        "notice": view.notice,
        "params": dict(result.params),
        "data": {k: v for k, v in result.data.items() if _plain(v)},
        "redirect": result.redirect,
    }


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
