"""How an action is declared, and what its handler gets and returns."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from . import logins, optin, throttles
from ._result import _EMPTY, ActionError
from .codes import ENGINE_CODES
from .models import Account, Mail, TokenRecord

if TYPE_CHECKING:
    from .protocols import (
        AccountStore,
        ActionContext,
        CounterStore,
        LoginStore,
        PasskeyStore,
        TokenStore,
    )
    from .settings import Settings


class Access(enum.Enum):
    """Who may run an action (checked by the engine before the handler runs)."""

    ANYONE = "anyone"
    LOGIN = "login"
    LOGIN_OR_OPTIN = "login_or_optin"
    OPTIN = "optin"
    ADMIN = "admin"
    GUEST = "guest"


#: The code an access rule produces when it refuses, unless the action says otherwise.
DEFAULT_DENIED = {
    Access.LOGIN: "notLoggedIn",
    Access.LOGIN_OR_OPTIN: "notLoggedIn",
    Access.OPTIN: "unauthorized",
    Access.ADMIN: "unauthorized",
    Access.GUEST: "nonGuestAccount",
}

TRIGGERS = frozenset({"form", "link", "optin-link", "ajax"})


@attrs.frozen
class Param:
    """A declared parameter. *prefix* params (``session.``) match every ``prefix<key>`` field;
    *secret* ones (passwords) are never echoed, logged or put into events."""

    name: str
    required: bool = False
    secret: bool = False
    prefix: bool = False
    description: str = ""


@attrs.frozen
class Outcome:
    """What a handler returns: success with data, or the errors."""

    success: bool
    errors: tuple[ActionError, ...] = ()
    data: Mapping[str, Any] = attrs.Factory(dict)


def ok(data: Mapping[str, Any] | None = None) -> Outcome:
    """A successful outcome, with return values for ``result.data``."""
    return Outcome(True, (), data) if data else _OK


_OK = Outcome(True, (), _EMPTY)


def fail(code: str, field: str | None = None, subcodes: Iterable[str] = ()) -> Outcome:
    """A failed outcome with one error."""
    return Outcome(False, (ActionError(code, field, tuple(subcodes)),))


def fail_all(errors: Iterable[ActionError]) -> Outcome:
    """A failed outcome with every error of a validation pass (at least one)."""
    found = tuple(errors)
    if not found:
        raise ValueError("fail_all() needs at least one error")
    return Outcome(False, found)


#: What a prepare step hands to its handler (``call.prepared``); ``None`` without one.
P = TypeVar("P", covariant=True)

Handler = Callable[["Call[Any]"], Outcome]
#: Runs before the unit of work (validation, hashing, throttles): a failed :class:`Outcome`
#: ends the action; anything else is kept as ``call.prepared`` for the handler.
Preparer = Callable[["Call[Any]"], Any]


@attrs.frozen
class ActionSpec:
    """An action's declaration: the data the engine, the CLI, docs and tests share."""

    name: str
    family: str
    handler: Handler = attrs.field(repr=False)
    params: tuple[Param, ...] = ()
    codes: tuple[str, ...] = ()
    access: Access = Access.ANYONE
    trigger: str = "form"
    aliases: tuple[str, ...] = ()
    optin_purposes: tuple[str, ...] = ()
    denied_code: str | None = None
    blocked_when_locked: bool = False
    summary: str = ""
    prepare: Preparer | None = attrs.field(default=None, repr=False)
    uses_storage: bool = True
    subcodes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: The change needs a fresh login (M44): ``reauthenticationRequired`` otherwise.
    fresh_login: bool = False

    @property
    def refusal_code(self) -> str | None:
        """The code the access rule answers with when it refuses."""
        return self.denied_code or DEFAULT_DENIED.get(self.access)

    secret_params: frozenset[str] = attrs.field(init=False, repr=False)
    param_names: frozenset[str] = attrs.field(init=False, repr=False)
    param_prefixes: tuple[str, ...] = attrs.field(init=False, repr=False)
    secret_prefixes: tuple[str, ...] = attrs.field(init=False, repr=False)
    all_codes: frozenset[str] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Derived once: the engine consults them on every request.
        set_ = object.__setattr__
        set_(self, "secret_params", frozenset(p.name for p in self.params if p.secret))
        set_(self, "param_names", frozenset(p.name for p in self.params if not p.prefix))
        set_(self, "param_prefixes", tuple(p.name for p in self.params if p.prefix))
        set_(self, "secret_prefixes", tuple(p.name for p in self.params if p.prefix and p.secret))
        set_(self, "all_codes", frozenset(self.codes) | ENGINE_CODES)


def action(
    name: str,
    *,
    family: str,
    params: Iterable[Param] = (),
    codes: Iterable[str] = (),
    access: Access | str = Access.ANYONE,
    trigger: str = "form",
    aliases: Iterable[str] = (),
    optin_purposes: Iterable[str] = (),
    denied_code: str | None = None,
    blocked_when_locked: bool = False,
    summary: str = "",
    prepare: Callable[[Call[Any]], Outcome | P] | None = None,
    uses_storage: bool = True,
    subcodes: Mapping[str, Iterable[str]] | None = None,
    fresh_login: bool = False,
) -> Callable[[Callable[[Call[P]], Outcome]], ActionSpec]:
    """Declare a handler as an action; the result is what ``ActionRegistry.register`` takes.

    The handler runs inside one unit of work, after the access rule, and
    should only read, decide and write. Anything slow (validation of long
    input, password hashing and verification, strength scoring) and every
    throttle belong in *prepare*, which runs before the unit of work opens
    (after an access check of its own); what it returns is
    ``call.prepared``, typed: a prepare step returning ``Outcome | Parsed``
    goes with a handler taking ``Call[Parsed]`` (``Call[None]`` without one),
    and mypy checks the pair. Actions that touch no store (*uses_storage* false)
    run without a unit of work. *subcodes* declares, per error code, the
    sub-codes the action may give it (``passwordCheckFailed``: ``minlen``,
    ``maxlen``, ``weak``); the engine refuses any other. *fresh_login*: the action
    changes something sensitive and answers ``reauthenticationRequired`` (added to its
    codes) unless the session's login was proven within
    ``Settings.reauthentication_timeout`` (M44).

    An *access* string that names no rule is kept as given so that
    registration can refuse it with a clear message.
    """

    def wrap(handler: Callable[[Call[P]], Outcome]) -> ActionSpec:
        rule: Any = access
        if isinstance(access, str):
            rule = next((a for a in Access if a.value == access), access)
        return ActionSpec(
            name=name,
            family=family,
            handler=handler,
            params=tuple(params),
            codes=(*codes, "reauthenticationRequired") if fresh_login else tuple(codes),
            access=rule,
            trigger=trigger,
            aliases=tuple(aliases),
            optin_purposes=tuple(optin_purposes),
            denied_code=denied_code,
            blocked_when_locked=blocked_when_locked,
            summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
            prepare=prepare,
            uses_storage=uses_storage,
            subcodes={code: tuple(subs) for code, subs in (subcodes or {}).items()},
            fresh_login=fresh_login,
        )

    return wrap


class Call(Generic[P]):
    """One execution of one action: parsed parameters plus access to the context.

    ``Call[P]``: *P* is what the action's prepare step hands over
    (:attr:`prepared`), ``None`` for an action without one.

    Handlers read parameters with :meth:`get` / :meth:`prefixed`, the acting
    account with :attr:`account` (a locking read inside the unit of work),
    and queue mails with :meth:`send` (they are delivered only once the unit
    of work has committed).
    """

    __slots__ = (
        "_account",
        "_now",
        "_prepared",
        "commit_hooks",
        "ctx",
        "failure_hooks",
        "in_unit",
        "mails",
        "optin_token",
        "params",
        "spec",
    )

    def __init__(self, ctx: ActionContext, spec: ActionSpec, params: dict[str, str]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.params = params
        self._now: float | None = None
        self.mails: list[tuple[Mail, bool]] = []
        self.failure_hooks: list[Callable[[], None]] = []
        self.commit_hooks: list[Callable[[], object]] = []
        self._account: Account | bool | None = False
        self.optin_token: str | None = None
        self._prepared: Any = None
        self.in_unit = False

    @property
    def now(self) -> float:
        """The time of this call: read from the clock once, on first use."""
        if self._now is None:
            self._now = self.ctx.clock.now()
        return self._now

    @property
    def prepared(self) -> P:
        """What the action's prepare step returned (``None`` without one)."""
        return self._prepared  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return self.ctx.settings

    @property
    def accounts(self) -> AccountStore:
        """The storage's account store."""
        return self.ctx.storage.accounts

    @property
    def tokens(self) -> TokenStore:
        """The storage's opt-in token store."""
        return self.ctx.storage.tokens

    @property
    def counters(self) -> CounterStore:
        """The storage's throttling counters (never written inside the unit of work)."""
        return self.ctx.storage.counters

    @property
    def logins(self) -> LoginStore:
        """The storage's login records."""
        return self.ctx.storage.logins

    @property
    def passkeys(self) -> PasskeyStore:
        """The storage's passkeys."""
        return self.ctx.storage.passkeys

    def get(self, name: str) -> str | None:
        """The value of parameter *name*, or ``None`` when absent."""
        return self.params.get(name)

    def prefixed(self, prefix: str) -> dict[str, str]:
        """The ``prefix<key>`` parameters as ``{key: value}``."""
        n = len(prefix)
        return {k[n:]: v for k, v in self.params.items() if k.startswith(prefix)}

    @property
    def account(self) -> Account | None:
        """The logged-in account (checked against its login record), or ``None``.

        Inside the unit of work it is read for update, so a handler may
        decide on its fields.
        """
        if self._account is False:
            self._account = logins.logged_in_account(self.ctx, for_update=self.in_unit)
        return self._account  # type: ignore[return-value]

    def forget_account(self) -> None:
        """Drop the cached account (the login changed, or the unit of work begins)."""
        self._account = False

    def optin_record(self, purposes: Iterable[str] | None = None) -> TokenRecord | None:
        """The request's opt-in token record if valid (and of one of *purposes*); not used up."""
        record = optin.peek(self.ctx, self.optin_token, self.now)
        if record is None:
            return None
        wanted = self.spec.optin_purposes if purposes is None else tuple(purposes)
        return record if record.purpose in wanted else None

    def consume_optin(self, purposes: Iterable[str] | None = None) -> TokenRecord | None:
        """Use up the request's opt-in token: returns its record once, if valid."""
        record = self.optin_record(purposes)
        if record is None:
            return None
        consumed = self.tokens.consume(record.token_hash)
        if consumed is None or not consumed.valid_at(self.now):
            return None
        return consumed

    def send(self, mail: Mail, *, even_on_failure: bool = False) -> None:
        """Queue *mail*; sent after commit, or also after a failure when *even_on_failure*."""
        self.mails.append((mail, even_on_failure))

    def on_failure(self, hook: Callable[[], None]) -> None:
        """Run *hook* if the action fails, after its unit of work was rolled back.

        The hook runs in a unit of work of its own; mails it queues are sent.
        For what a failure must leave behind (a blocked login's unlock link).
        """
        self.failure_hooks.append(hook)

    def after_commit(self, hook: Callable[[], object]) -> None:
        """Run *hook* once the unit of work has committed (never if the action fails).

        For effects outside the unit of work, such as clearing a throttle
        counter: they must not happen for an action that is rolled back, and
        must not be a second writer while the unit of work is open.
        """
        self.commit_hooks.append(hook)

    def counter_key(self, *parts: str) -> str:
        """Same as :func:`wsactions.throttles.counter_key` with this call's settings."""
        return throttles.counter_key(self.settings, *parts)
