"""The engine: a registry of actions that executes posted forms and followed links."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from hmac import compare_digest
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import attrs

from . import logins
from ._action import TRIGGERS, Access, ActionSpec, Call, Outcome, fail
from ._context import Context, RequestInfo, SystemClock
from ._result import ActionError, ActionHandle, ActionResult, engine_result
from .codes import ENGINE_CODES
from .errors import (
    ActionRegistrationError,
    ConfigurationError,
    StorageConflictError,
    UndeclaredCodeError,
    UnknownActionError,
)
from .events import ActionEvent
from .mail import SmtpMailer
from .protocols import ActionContext, Clock, EventSink, Mailer, Session, Storage
from .security.csrf import form_token, link_signature
from .security.redirects import safe_target
from .settings import PURPOSES, Settings

#: Form fields the engine reads itself.
CONTROL_FIELDS = ("wsact", "wscsrf", "wstarget", "wsoptin")

#: How often a unit of work runs before a lost conflict reaches the host (as a 503).
_UNIT_ATTEMPTS = 3
_MAX_KEY_LENGTH = 256
_MISSING: Any = object()
_CONTROL = frozenset(CONTROL_FIELDS)
_MANY = (list, tuple)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.$")


class _Abort(Exception):
    """Unwinds the unit of work of a failed action."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _values(form: Any) -> dict[Any, Any]:
    """Every field of a form: one value, or a list of the values of a repeated field
    (whatever mapping type the form came in)."""
    if type(form) is dict:  # the common case: nothing to convert
        return form
    getlist = getattr(form, "getlist", None)
    if callable(getlist):  # werkzeug MultiDict, Django QueryDict
        return {key: list(getlist(key)) for key in form}
    return dict(form.items())


def _text(value: Any, limit: int) -> str | None:
    """*value* as text if it is acceptable input: str (or UTF-8 bytes), no NUL, valid Unicode."""
    if type(value) is not str:
        if isinstance(value, bytes | bytearray):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return None
        elif not isinstance(value, str):
            return None
    text: str = value
    if len(text) > limit or "\x00" in text:
        return None
    if text.isascii():  # the common case, on every request
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    return text


class _Parsed(NamedTuple):
    params: dict[str, str]
    control: dict[str, str]
    errors: tuple[ActionError, ...]


_new_parsed = tuple.__new__


@attrs.define
class ActionRegistry:
    """Maps action names (case-insensitive, with aliases) to actions and runs them.

    *settings* are the application's settings: :meth:`context` hands them to
    every context it builds. *event_sink* receives one event per executed
    action.
    """

    settings: Settings | None = None
    event_sink: EventSink | None = None
    _by_name: dict[str, ActionSpec] = attrs.field(factory=dict, init=False, repr=False)
    _specs: list[ActionSpec] = attrs.field(factory=list, init=False, repr=False)
    _runs: Iterator[int] = attrs.field(factory=itertools.count, init=False, repr=False)
    #: Changes after every action this registry ran: what a request read of the logged-in
    #: account before it is read again after (``RequestCycle.account``).
    generation: int = attrs.field(default=0, init=False, repr=False)

    # registration ------------------------------------------------------------
    def register(self, spec: ActionSpec) -> ActionSpec:
        """Add *spec*; raises :class:`ActionRegistrationError` for an inconsistent one."""
        self._check(spec)
        for name in (spec.name, *spec.aliases):
            self._by_name[name.lower()] = spec
        self._specs.append(spec)
        return spec

    def _check(self, spec: ActionSpec) -> None:
        def refuse(why: str) -> ActionRegistrationError:
            return ActionRegistrationError(f"action {spec.name!r}: {why}")

        if not isinstance(spec.access, Access):
            rules = ", ".join(a.value for a in Access)
            raise refuse(f"unknown access rule {spec.access!r} (use one of: {rules})")
        names = [spec.name, *spec.aliases]
        if len(set(names)) != len(names):
            raise refuse("an alias repeats a name of the same action")
        for name in (spec.name, *spec.aliases):
            if not _NAME.fullmatch(name):
                raise refuse(f"name {name!r} is not an identifier")
            if name.lower() in self._by_name:
                raise refuse(f"name {name!r} is already registered")
        if spec.trigger not in TRIGGERS:
            raise refuse(f"unknown trigger {spec.trigger!r}")
        names = [p.name for p in spec.params]
        if len(set(names)) != len(names):
            raise refuse("a parameter is declared twice")
        for p in spec.params:
            ok = _PREFIX.fullmatch(p.name) if p.prefix else _NAME.fullmatch(p.name)
            if not ok or p.name in CONTROL_FIELDS:
                raise refuse(f"bad parameter name {p.name!r}")
        if len(set(spec.codes)) != len(spec.codes):
            raise refuse("an error code is declared twice")
        if set(spec.codes) & ENGINE_CODES:
            raise refuse("engine codes are implied and must not be declared")
        if set(spec.subcodes) - set(spec.codes):
            raise refuse("sub-codes are declared for a code the action does not declare")
        refusals = {spec.refusal_code} - {None}
        if spec.access in (Access.LOGIN, Access.ADMIN):
            refusals.add("notLoggedIn")
        for refusal in refusals:
            if refusal not in spec.codes:
                raise refuse(f"its access rule answers {refusal!r}, which it does not declare")
        needs_optin = spec.access in (Access.OPTIN, Access.LOGIN_OR_OPTIN)
        if needs_optin and not spec.optin_purposes:
            raise refuse("an opt-in access rule needs optin_purposes")
        unknown = set(spec.optin_purposes) - set(PURPOSES)
        if unknown:
            raise refuse(f"unknown opt-in purposes {sorted(unknown)}")

    # lookup ------------------------------------------------------------------
    def get(self, name: str) -> ActionSpec | None:
        """The action called *name* (any case, or an alias), or ``None``."""
        return self._by_name.get(name.lower()) if isinstance(name, str) else None

    def __getitem__(self, name: str) -> ActionSpec:
        spec = self.get(name)
        if spec is None:
            raise UnknownActionError(f"no action named {name!r} is registered")
        return spec

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    @property
    def actions(self) -> tuple[ActionSpec, ...]:
        """Every registered action in registration order."""
        return tuple(self._specs)

    # contexts and handles -------------------------------------------------------
    def context(
        self,
        *,
        session: Session,
        storage: Storage,
        mailer: Mailer,
        clock: Clock | None = None,
        request: RequestInfo | None = None,
    ) -> Context:
        """A :class:`Context` with this registry's settings; what adapters build per request."""
        if self.settings is None:
            raise ConfigurationError("this registry has no settings: pass settings=Settings(...)")
        if self.settings.enumeration_protection and isinstance(mailer, SmtpMailer):
            raise ConfigurationError(
                "enumeration_protection needs mail delivery off the request path: pass "
                "BackgroundMailer(SmtpMailer(...)) (a synchronous delivery's time tells "
                "known addresses from unknown ones)"
            )
        return Context(
            settings=self.settings,
            session=session,
            storage=storage,
            mailer=mailer,
            clock=clock or SystemClock(),
            request=request or RequestInfo(),
        )

    def create(self, ctx: ActionContext, name: str) -> ActionHandle:
        """The handle a template renders a form with (``id`` → wsact, ``csrf`` → wscsrf)."""
        spec = self[name]
        binding = _binding(ctx)
        return ActionHandle(
            name=spec.name,
            id=spec.name,
            csrf=form_token(ctx.settings.secret_bytes, binding, spec.name),
        )

    def url(
        self,
        ctx: ActionContext,
        name: str,
        target: str,
        params: Mapping[str, str] | None = None,
    ) -> str:
        """A link that runs link action *name* (Logout) on *target* and then goes there.

        The link carries a signature bound to the session, the action, the
        target and the parameters: a link made for another session, or
        edited, does nothing.
        """
        spec = self[name]
        if spec.trigger != "link":
            raise ConfigurationError(f"{spec.name} is not a link action")
        if safe_target(target, self._hosts(ctx.settings)) is None:
            raise ConfigurationError(f"unsafe link target {target!r}")
        extra = dict(params or {})
        for name in extra:
            if name in CONTROL_FIELDS or not (
                name in spec.param_names or name.startswith(spec.param_prefixes or ("\x00",))
            ):
                raise ConfigurationError(f"{spec.name} declares no parameter {name!r}")
        binding = _binding(ctx)
        signature = link_signature(ctx.settings.secret_bytes, binding, spec.name, target, extra)
        query = urlencode({"wsact": spec.name, **extra, "wstarget": target, "wscsrf": signature})
        path = urlsplit(target)
        separator = "&" if path.query else "?"
        return f"{target.split('#', 1)[0]}{separator}{query}"

    def safe_target(self, ctx: ActionContext, target: str) -> str | None:
        """*target* if the engine would redirect there after an action (the rules of
        ``wstarget``, the allowed hosts of ``ctx.settings``), else ``None``."""
        return safe_target(target, self._hosts(ctx.settings))

    # execution -----------------------------------------------------------------
    def execute(self, ctx: ActionContext, form: Mapping[str, Any]) -> ActionResult:
        """Run the action a posted *form* names; never raises for bad input."""
        result = self._dispatch(ctx, form, link=False)
        if result is None:  # pragma: no cover - only links may run nothing
            raise RuntimeError("a posted form ran no action")
        return result

    def follow(self, ctx: ActionContext, query: Mapping[str, Any]) -> ActionResult | None:
        """Run the action a followed link names (a GET), or ``None`` when there is none.

        Link actions (Logout) need their signature; opt-in actions need their
        token and, with ``optin_requires_post``, are not run on a GET at all
        (the page shows a confirmation form instead). Form actions are refused
        with ``csrfCheckFailed``: a GET never changes state through them.
        """
        return self._dispatch(ctx, query, link=True)

    def _dispatch(
        self, ctx: ActionContext, form: Mapping[str, Any], *, link: bool
    ) -> ActionResult | None:
        settings = ctx.settings
        try:
            fields = _values(form)
        except Exception:  # a mapping that cannot even be read
            return self._refused(ctx, ActionError("invalidParameter"))
        act = fields.get("wsact", _MISSING)
        if isinstance(act, _MANY):
            if len(act) > 1:
                return self._refused(ctx, ActionError("duplicateParameter", "wsact"))
            act = act[0] if act else _MISSING
        if act is _MISSING and link:
            return None
        name = _text(act, 200)
        spec = self._by_name.get(name.lower()) if name else None
        if spec is None:
            return self._refused(ctx, ActionError("unknownAction", "wsact"))
        if link and spec.trigger == "optin-link" and settings.optin_requires_post:
            return None
        parsed = self._parse(spec, fields, settings)
        if parsed.errors:
            repeated = tuple(
                e
                for e in parsed.errors
                if e.code == "duplicateParameter" and e.field in CONTROL_FIELDS
            )
            if repeated:  # before the CSRF check: a repeated token is refused as such
                return self._finish(ctx, spec, parsed, Outcome(False, repeated), None)
        if not self._authentic(ctx, spec, parsed, link=link):
            return self._finish(ctx, spec, parsed, fail("csrfCheckFailed", "wscsrf"), None)
        if parsed.errors:
            return self._finish(ctx, spec, parsed, Outcome(False, parsed.errors), None)
        return self._run(ctx, spec, parsed)

    def refuse(self, ctx: ActionContext, code: str, field: str | None = None) -> ActionResult:
        """The engine's answer to a request that could not even be read as a form (a
        body that is not a JSON object, say): *code* (an engine code), with its event."""
        if code not in ENGINE_CODES:
            raise ValueError(f"{code!r} is not an engine code")
        return self._refused(ctx, ActionError(code, field))

    def _refused(self, ctx: ActionContext, error: ActionError) -> ActionResult:
        """A form that names no runnable action (its name is not echoed)."""
        result = ActionResult("", False, (error,))
        self._emit(ctx, result, None)
        return result

    def _parse(self, spec: ActionSpec, fields: dict[Any, Any], settings: Settings) -> _Parsed:
        limit = settings.max_value_length
        params: dict[str, str] = {}
        control: dict[str, str] = {}
        errors: list[ActionError] = []
        singles, prefixes = spec.param_names, spec.param_prefixes
        count = 0
        for key, value in fields.items():
            many = type(value) is not str and isinstance(value, _MANY)
            count += len(value) if many else 1
            if not isinstance(key, str):
                continue
            if key in singles:
                into = params
            elif key in _CONTROL:
                into = control
            elif prefixes and key.startswith(prefixes):
                ascii_ok = key.isascii() and len(key) <= _MAX_KEY_LENGTH and "\x00" not in key
                if not ascii_ok and _text(key, _MAX_KEY_LENGTH) is None:  # _text, fast path inline
                    errors.append(ActionError("invalidParameter", key[:_MAX_KEY_LENGTH]))
                    continue
                into = params
            else:
                continue  # undeclared fields are ignored, never echoed
            if many:
                if len(value) != 1:
                    if value:
                        errors.append(ActionError("duplicateParameter", key))
                    continue
                value = value[0]
            if type(value) is str and value.isascii() and len(value) <= limit:
                text = value if "\x00" not in value else None  # _text's fast path, inlined
            else:
                text = _text(value, limit)
            if text is None:
                errors.append(ActionError("invalidParameter", key))
                continue
            into[key] = text
        if count > settings.max_form_fields:
            errors.append(ActionError("invalidParameter"))
        return _new_parsed(_Parsed, (params, control, tuple(errors)))  # _Parsed(...), faster

    def _authentic(
        self, ctx: ActionContext, spec: ActionSpec, parsed: _Parsed, *, link: bool
    ) -> bool:
        if link and spec.trigger == "optin-link":
            # The opt-in token authorizes (the access rule checks it). Without one, a bare
            # cross-site GET must not act on the victim's login (C40): a POST with wscsrf.
            return bool(parsed.control.get("wsoptin") or ctx.request.optin_token)
        given = parsed.control.get("wscsrf")
        binding = ctx.session.csrf_binding(create=False)
        if not given or binding is None or not given.isascii():
            return False
        if link and spec.trigger != "link":
            return False
        target = parsed.control.get("wstarget", "")
        for key in ctx.settings.verification_keys:  # the current key, then fallbacks
            if link:
                expected = link_signature(key, binding, spec.name, target, parsed.params)
            else:
                expected = form_token(key, binding, spec.name)
            if compare_digest(expected, given):  # tokens_equal: *given* is ASCII
                return True
        return False

    def _run(self, ctx: ActionContext, spec: ActionSpec, parsed: _Parsed) -> ActionResult:
        call: Call[Any] = Call(ctx, spec, parsed.params)
        call.optin_token = parsed.control.get("wsoptin") or ctx.request.optin_token
        account_before = ctx.session.account_id if self.event_sink is not None else None
        if spec.blocked_when_locked and ctx.session.is_locked:
            outcome = fail("sessionLocked")
        else:
            outcome = self._perform(call)
        if outcome.errors:
            _check_declared(spec, outcome)
        for mail, even_on_failure in call.mails:
            if outcome.success or even_on_failure:
                ctx.mailer.send(mail)
        target = parsed.control.get("wstarget")
        redirect = None
        if outcome.success and target:
            redirect = safe_target(target, self._hosts(ctx.settings))
        self.generation = next(self._runs) + 1  # after the unit of work ended
        return self._finish(ctx, spec, parsed, outcome, redirect, account_before)

    def _perform(self, call: Call[Any]) -> Outcome:
        """Prepare outside the unit of work, then check access and handle inside it.

        The access rule is checked again inside the unit of work, where the
        acting account is read for update: what the handler decides on
        cannot change before it commits.
        """
        spec = call.spec
        try:
            if spec.prepare is not None:
                refusal = self._access(call)
                if refusal is not None:
                    return refusal
                prepared = spec.prepare(call)
                if isinstance(prepared, Outcome):
                    if prepared.success:
                        return prepared
                    raise _Abort(prepared)
                call._prepared = prepared
                call.forget_account()
            if not spec.uses_storage:  # session actions: anyone, on every page view
                refusal = None if spec.access is Access.ANYONE else self._access(call)
                outcome = refusal or spec.handler(call)
                if not outcome.success:
                    raise _Abort(outcome)
                return outcome
            outcome = self._unit_of_work(call)
        except _Abort as abort:
            self._failed(call)
            return abort.outcome
        for hook in call.commit_hooks:
            hook()
        return outcome

    def _unit_of_work(self, call: Call[Any]) -> Outcome:
        """Check access and run the handler in one unit of work; run it again when the
        database ended it to resolve a conflict with another one (a deadlock).

        Nothing of a unit of work leaves it before commit (mails and hooks wait
        in *call*), so a second run starts from a clean slate: what the lost
        run queued is dropped and the acting account is read again.
        """
        mails, commits, failures = len(call.mails), len(call.commit_hooks), len(call.failure_hooks)
        for attempt in range(_UNIT_ATTEMPTS):
            try:
                with call.ctx.storage.transaction():
                    call.in_unit = True
                    try:
                        outcome = self._access(call) or call.spec.handler(call)
                        if not outcome.success:
                            raise _Abort(outcome)
                    finally:
                        call.in_unit = False
                return outcome
            except StorageConflictError:
                if attempt + 1 == _UNIT_ATTEMPTS:
                    raise
                del call.mails[mails:], call.commit_hooks[commits:]
                del call.failure_hooks[failures:]
                call.forget_account()
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _failed(call: Call[Any]) -> None:
        """Drop the failed action's mails except those meant for failure; run failure hooks."""
        call.mails[:] = [m for m in call.mails if m[1]]
        if call.failure_hooks:
            with call.ctx.storage.transaction():
                for hook in call.failure_hooks:
                    hook()
            call.mails[:] = [(mail, True) for mail, _ in call.mails]

    @staticmethod
    def _access(call: Call[Any]) -> Outcome | None:
        spec = call.spec
        rule = spec.access
        if rule is Access.ANYONE:
            return None
        code = spec.refusal_code or "unauthorized"
        if rule is Access.GUEST:
            return fail(code) if call.account is not None else None
        if rule is Access.OPTIN:
            return None if call.optin_record() is not None else fail(code)
        if rule is Access.LOGIN_OR_OPTIN:
            if call.account is not None or call.optin_record() is not None:
                return None
            return fail(code)
        account = call.account
        if account is None:
            return fail("notLoggedIn")
        is_admin = account.admin and account.company_id is not None
        if rule is Access.ADMIN and not (call.settings.b2b_enabled and is_admin):
            return fail(code)
        if spec.fresh_login and not logins.is_fresh(call.ctx):
            return fail("reauthenticationRequired")
        return None

    def _finish(
        self,
        ctx: ActionContext,
        spec: ActionSpec,
        parsed: _Parsed,
        outcome: Outcome,
        redirect: str | None,
        account_before: str | None = None,
    ) -> ActionResult:
        hidden = spec.secret_params
        prefixes = spec.secret_prefixes
        echo = parsed.params  # the engine's own dict: engine_result wraps it read-only
        if hidden or prefixes:
            echo = {
                k: v
                for k, v in echo.items()
                if k not in hidden and not (prefixes and k.startswith(prefixes))
            }
        result = engine_result(
            spec.name, outcome.success, outcome.errors, echo, outcome.data, redirect
        )
        if self.event_sink is not None:
            self._emit(ctx, result, account_before)
        return result

    def _emit(self, ctx: ActionContext, result: ActionResult, account_before: str | None) -> None:
        sink = self.event_sink
        if sink is not None:
            sink(
                ActionEvent(
                    name=result.name,
                    success=result.success,
                    codes=result.codes,
                    account_id=ctx.session.account_id or account_before,
                    client_address=ctx.request.client_address,
                    at=ctx.clock.now(),
                )
            )

    @staticmethod
    def _hosts(settings: Settings) -> frozenset[str]:
        hosts = settings.allowed_redirect_hosts
        if settings.base_url:
            own = urlsplit(settings.base_url).hostname
            if own:
                hosts = hosts | {own.lower()}
        return hosts


def _check_declared(spec: ActionSpec, outcome: Outcome) -> None:
    declared = spec.all_codes
    for error in outcome.errors:
        if error.code not in declared:
            raise UndeclaredCodeError(
                f"action {spec.name!r} produced undeclared code {error.code!r}; "
                "add it to the declaration's codes"
            )
        if error.subcodes and not set(error.subcodes) <= set(spec.subcodes.get(error.code, ())):
            raise UndeclaredCodeError(
                f"action {spec.name!r} produced undeclared sub-codes {error.subcodes!r} of "
                f"{error.code!r}; add them to the declaration's subcodes"
            )


def _binding(ctx: ActionContext) -> str:
    binding = ctx.session.csrf_binding(create=True)
    if binding is None:
        raise ConfigurationError(
            "the session returned no CSRF binding although asked to create one"
        )
    return binding
