"""The headless JSON API: every action for storefronts written in JavaScript and for apps.

Below a prefix (default ``/_wsa/v1/``)::

    POST <prefix>browser/<Action>    the action, for a page in the shop's browser session
    POST <prefix>app/<Action>        the action, for an app (no cookies: a session token)
    GET  <prefix>browser/account     the logged-in account (what templates get as wsAccount)
    GET  <prefix>app/account
    GET  <prefix>config              what a client needs: languages, password policy, actions
    GET  <prefix>openapi.json        the OpenAPI 3.1 document of all of the above

An action takes its parameters as a JSON object (or a form), an opt-in action its token
as ``wsoptin``, and answers the engine's JSON answer (:func:`wsactions.view.json_answer`)
plus ``meta``, with its HTTP status: 200 success, 400 its codes, 401 not logged in or a
login step pending (``meta.flow`` says which), 403 refused (CSRF, access), 404 no such
action, 429 throttled, 503 the database did not answer.

Two kinds of clients, as django-allauth's headless API has them:

* **browser**: the framework's cookie session. Every POST carries the session's API token
  in ``X-CSRF-Token`` (``meta.csrfToken`` of any answer; it changes at login and logout);
  without it the engine answers ``csrfCheckFailed`` (403) and nothing runs.
* **app**: no cookies. After a login ``meta.sessionToken`` is the login record's secret;
  the app sends it as ``X-Session-Token``. Logout, a password change, ending the login
  elsewhere or its lifetime end the token like any login (S21). A login waiting for its
  second factor gives a short-lived sealed token of its own (``meta.flow``). An app's
  session holds nothing but its login: the actions that keep state in a browser session
  (session variables, the language switch, the payment lock, a guest checkout) are not
  offered to apps.

Adapters serve it: ``WSACTIONS_API = True`` (Flask), ``path("_wsa/v1/",
include("wsactions.contrib.django.api_urls"))`` (Django). CORS is off unless
``API_CORS_ORIGINS`` lists origins. docs/headless.md has the rest.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from hmac import compare_digest
from typing import Any
from urllib.parse import urlsplit

import attrs

from ._action import Access
from ._result import ActionResult
from .actions.factors import PENDING_TRIES
from .errors import ConfigurationError, StorageUnavailableError
from .i18n import gettext, negotiate, offered_locales
from .logins import login_id
from .models import Account, LoginRecord
from .openapi import BROWSER_ONLY, CLIENTS, CSRF_HEADER, DEFAULT_PREFIX, TOKEN_HEADER, document
from .protocols import Session
from .security.csrf import api_token, form_token, sealed, unsealed
from .sessions import MappingSession
from .view import AccountView, json_answer
from .web import UNAVAILABLE, AccountArea, Answer, Host, RequestCycle, WebRequest

__all__ = [
    "BROWSER_ONLY",
    "CLIENTS",
    "CSRF_HEADER",
    "DEFAULT_PREFIX",
    "MAX_BODY",
    "TOKEN_HEADER",
    "HeadlessApi",
    "account_json",
    "from_config",
    "status_of",
]

#: The largest JSON body read (bytes); a larger one answers ``invalidParameter``.
MAX_BODY = 64 * 1024
#: The longest session token looked at (a login secret has 43 characters).
_MAX_TOKEN = 1024
_PENDING = "wsactions.api-pending"
#: Control fields a client does not send: the API sets ``wsact`` and ``wscsrf`` itself and
#: answers instead of redirecting (``wstarget``).
_IGNORED = frozenset({"wsact", "wscsrf", "wstarget"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

_STATUS = {
    "notLoggedIn": 401,
    "secondFactorRequired": 401,
    "reauthenticationRequired": 401,
    "csrfCheckFailed": 403,
    "unauthorized": 403,
    "sessionLocked": 403,
    "unknownAction": 404,
    "loginBlocked": 429,
    "tooManyRequests": 429,
}


class _Unknown:
    """Not known yet whether the session is logged in: ask (:meth:`RequestCycle.account`)."""


_UNKNOWN = _Unknown()
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_PUBLIC = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}


def status_of(result: ActionResult) -> int:
    """The HTTP status of an action's answer: 200, or what its first error calls for
    (401, 403, 404, 429), else 400."""
    if result.success:
        return 200
    for error in result.errors:
        status = _STATUS.get(error.code)
        if status is not None:
            return status
    return 400


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigurationError(f"{value!r} is not an origin such as 'https://shop.example'")
    return f"{parts.scheme}://{parts.netloc}".lower()


class HeadlessApi:
    """The API of one account area; adapters hand it every request below *prefix*."""

    def __init__(
        self,
        area: AccountArea,
        *,
        prefix: str = DEFAULT_PREFIX,
        cors_origins: Iterable[str] = (),
    ) -> None:
        if not prefix.startswith("/") or not prefix.endswith("/"):
            raise ConfigurationError("the API's prefix must start and end with '/'")
        if isinstance(cors_origins, str):
            raise ConfigurationError("API_CORS_ORIGINS must be a list of origins, not one string")
        self.area = area
        self.prefix = prefix
        self.cors_origins = frozenset(_origin(o) for o in cors_origins)
        self._document: dict[str, Any] | None = None
        self._config: dict[str, Any] | None = None

    # what the API serves ----------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The OpenAPI document of this API (made once)."""
        if self._document is None:
            self._document = document(self.area.registry.actions, prefix=self.prefix)
        return self._document

    def config(self) -> dict[str, Any]:
        """``GET <prefix>config``: languages, password policy, the actions each client has."""
        if self._config is None:
            settings = self.area.settings
            policy = settings.password_policy
            specs = self.area.registry.actions
            self._config = {
                "prefix": self.prefix,
                "locales": list(offered_locales(settings)),
                "defaultLocale": settings.default_locale,
                "shopName": settings.shop_name,
                "currency": settings.currency,
                "passwordPolicy": {
                    "minLength": policy.min_length,
                    "maxLength": policy.max_length,
                    "minScore": policy.min_score,
                },
                "b2b": settings.b2b_enabled,
                "clients": {
                    "browser": {"csrfHeader": CSRF_HEADER},
                    "app": {"tokenHeader": TOKEN_HEADER},
                },
                "actions": [
                    {
                        "name": spec.name,
                        "family": spec.family,
                        "access": spec.access.value
                        if isinstance(spec.access, Access)
                        else str(spec.access),
                        "clients": ["browser"] if spec.name in BROWSER_ONLY else list(CLIENTS),
                        "freshLogin": spec.fresh_login,
                        "optin": spec.trigger == "optin-link",
                        "params": [
                            {
                                "name": p.name,
                                "required": p.required,
                                "secret": p.secret,
                                "prefix": p.prefix,
                            }
                            for p in spec.params
                        ],
                    }
                    for spec in specs
                ],
            }
        return self._config

    def serve(
        self,
        request: WebRequest,
        path: str,
        browser_session: Callable[[], Session],
        host: Host | None = None,
    ) -> Answer:
        """The answer to *request*, whose path below the prefix is *path*
        (``"app/Login"``). *browser_session* makes the framework's session; only the
        browser client's requests ask for it (an app's request sets no cookie)."""
        client = path.partition("/")[0]
        cors = self._cors(request, credentials=client != "app")
        if request.method == "OPTIONS":
            return self._preflight(request, cors)
        try:
            answer = self._answer(request, path, browser_session, host or Host())
        except StorageUnavailableError:
            answer = Answer(503, json=self._unavailable(request, client), headers=_PRIVATE)
        if cors:
            answer = attrs.evolve(answer, headers={**answer.headers, **cors})
        return answer

    # CORS --------------------------------------------------------------------------------
    def _cors(self, request: WebRequest, *, credentials: bool) -> dict[str, str]:
        if not self.cors_origins:
            return {}
        headers = {"Vary": "Origin"}
        origin = (request.headers.get("Origin") or "").lower()
        if origin in self.cors_origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = "Content-Type"
            if credentials:
                headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def _preflight(self, request: WebRequest, cors: Mapping[str, str]) -> Answer:
        wanted = (request.headers.get("Access-Control-Request-Method") or "").upper()
        if "Access-Control-Allow-Origin" not in cors or wanted not in ("GET", "POST"):
            return Answer(403, html="", headers={"Vary": "Origin"} if self.cors_origins else {})
        return Answer(
            204,
            html="",
            headers={
                **cors,
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": (
                    f"Content-Type, Accept-Language, {CSRF_HEADER}, {TOKEN_HEADER}"
                ),
                "Access-Control-Max-Age": "600",
            },
        )

    # requests ------------------------------------------------------------------------------
    def _answer(
        self,
        request: WebRequest,
        path: str,
        browser_session: Callable[[], Session],
        host: Host,
    ) -> Answer:
        if path in ("config", "openapi.json"):
            if request.method not in ("GET", "HEAD"):
                return _not_allowed("GET")
            body = self.config() if path == "config" else self.document()
            return Answer(200, json=body, headers=_PUBLIC)
        client, _, name = path.partition("/")
        if client not in CLIENTS or not name or "/" in name:
            return Answer(404, json={"success": False, "error": "notFound"}, headers=_PRIVATE)
        if name == "account":
            if request.method not in ("GET", "HEAD"):
                return _not_allowed("GET")
            session, incoming, found = self._session(client, request, browser_session)
            cycle = self.area.cycle(request, session, host)
            account = cycle.account(found=found)
            answer = {
                "authenticated": account is not None,
                "account": None if account is None else account_json(cycle, account),
                "meta": self._meta(client, cycle, None, incoming),
            }
            return Answer(200, json=answer, headers=_PRIVATE)
        if request.method != "POST":
            return _not_allowed("POST")
        spec = self.area.registry.get(name)
        if client == "app" and spec is not None and spec.name in BROWSER_ONLY:
            name, spec = "", None  # the engine answers unknownAction
        session, incoming, found = self._session(client, request, browser_session)
        fields = _fields(request)
        form: dict[str, Any] = {}
        if fields is not None:
            form = {k: v for k, v in fields.items() if k not in _IGNORED}
        form["wsact"] = name
        cycle = self.area.cycle(attrs.evolve(request, form=form), session, host)
        known: Account | _Unknown | None = _UNKNOWN
        if found is not None:  # an app's token, read already: checked once, not read again
            known = cycle.account(found=found)  # (an ended login is logged out here)
        token = self._csrf(client, request, session, spec.name) if spec is not None else ""
        if token:
            form["wscsrf"] = token
        before = _login_state(session)
        result = (None if fields is None else cycle.execute(form)) or self.area.registry.refuse(
            cycle.ctx, "invalidParameter"
        )
        if _login_state(session) != before:
            known = _UNKNOWN  # logged in or out, or a new stamp: ask again
        meta = self._meta(client, cycle, result, incoming, known)
        answer = {**json_answer(cycle.ctx, result), "meta": meta}
        return Answer(status_of(result), json=answer, headers=_PRIVATE)

    def _session(
        self, client: str, request: WebRequest, browser_session: Callable[[], Session]
    ) -> tuple[Session, str, tuple[LoginRecord, Account | None] | None]:
        """The session of this request, the app's token it came with, and the login and
        account that token names (``None``: not read)."""
        if client == "browser":
            return browser_session(), "", None
        session = MappingSession()
        token = request.headers.get(TOKEN_HEADER) or ""
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return session, "", None
        if token.startswith("p."):
            self._unseal_pending(token, session)
            return session, token, None
        found = self.area.storage.logins.get_login_account(login_id(token))
        if found is None:
            return session, token, None
        login, account = found
        if account is not None and login.account_id == account.id:
            # Every change of the security stamp ends the account's logins (or, for an
            # address change, keeps this one): an existing record means a current stamp.
            session.log_in(account.id, account.security_stamp, account.rights_stamp, token)
        return session, token, found

    def _csrf(self, client: str, request: WebRequest, session: Session, action: str) -> str:
        """The form token the engine checks: an app's request needs none (it has no cookie
        a foreign page could make a browser send); a browser's needs its API token."""
        settings = self.area.settings
        if client == "app":
            binding = session.csrf_binding(create=True)
            return form_token(settings.secret_bytes, binding or "", action) if binding else ""
        given = request.headers.get(CSRF_HEADER) or ""
        binding = session.csrf_binding(create=False)
        if not given or binding is None or not given.isascii():
            return ""
        for key in settings.verification_keys:
            if compare_digest(api_token(key, binding), given):
                return form_token(key, binding, action)
        return ""

    # meta ----------------------------------------------------------------------------------
    def _meta(
        self,
        client: str,
        cycle: RequestCycle,
        result: ActionResult | None,
        incoming: str,
        known: Account | _Unknown | None = _UNKNOWN,
    ) -> dict[str, Any]:
        session = cycle.ctx.session
        account = cycle.account() if isinstance(known, _Unknown) else known
        now = cycle.ctx.clock.now()
        pending = session.pending_login if account is None else None
        if pending is not None and (pending[1] < now or pending[2] >= PENDING_TRIES):
            pending = None
        code = session.pending_code if account is None else None
        if code is not None and code[1] < now:
            code = None
        flow: dict[str, Any] | None = None
        if pending is not None:
            flow = {"id": "secondFactor", "action": "LoginSecondFactor", "expiresAt": pending[1]}
        elif code is not None:
            flow = {"id": "loginCode", "action": "LoginCode", "expiresAt": code[1]}
        elif result is not None and "reauthenticationRequired" in result.codes:
            flow = {"id": "reauthenticate", "action": "Reauthenticate", "expiresAt": None}
        meta: dict[str, Any] = {"authenticated": account is not None, "flow": flow}
        settings = self.area.settings
        if client == "browser":
            binding = session.csrf_binding(create=True) or ""
            meta["csrfToken"] = api_token(settings.secret_bytes, binding)
        else:
            token = None
            if account is not None and session.login_secret != incoming:
                token = session.login_secret
            elif account is None and isinstance(session, MappingSession):
                steps = session.login_steps()
                if pending is None:
                    steps["login"] = None  # expired or used up
                if code is None:
                    steps["code"] = None
                if any(steps.values()):
                    token = self._seal_pending(steps)
                    token = None if token == incoming else token
            meta["sessionToken"] = token
        return meta

    def _seal_pending(self, steps: Mapping[str, Any]) -> str:
        """An app's token for the login steps its session would keep (a login waiting for
        its second factor, a login code, a passkey challenge): readable, not forgeable."""
        raw = json.dumps(steps, separators=(",", ":")).encode()
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return "p." + sealed(self.area.settings.secret_bytes, _PENDING, payload)

    def _unseal_pending(self, token: str, session: MappingSession) -> None:
        """Give *session* the login steps a token of :meth:`_seal_pending` holds."""
        payload = unsealed(self.area.settings.verification_keys, _PENDING, token[2:])
        if payload is None:
            return
        try:
            state = json.loads(base64.urlsafe_b64decode(payload + "=="))
        except (ValueError, TypeError):
            return
        if not isinstance(state, dict):
            return
        session.set_login_steps(state)  # what the session would not accept is dropped

    def _unavailable(self, request: WebRequest, client: str) -> dict[str, Any]:
        settings = self.area.settings
        text = gettext(settings, negotiate(settings, request.accept_language), UNAVAILABLE)
        error: dict[str, Any] = {
            "code": "storageUnavailable",
            "field": None,
            "subcodes": [],
            "message": text,
        }
        return {
            "name": "",
            "success": False,
            "errors": [error],
            "notice": None,
            "params": {},
            "data": {},
            "redirect": None,
            "meta": {"authenticated": False, "flow": None, "sessionToken": None}
            if client == "app"
            else {"authenticated": False, "flow": None, "csrfToken": ""},
        }


def _login_state(session: Session) -> tuple[str | None, str | None, str | None]:
    return session.account_id, session.login_secret, session.security_stamp


def _not_allowed(method: str) -> Answer:
    return Answer(
        405, json={"success": False, "error": "methodNotAllowed"}, headers={"Allow": method}
    )


def _fields(request: WebRequest) -> Mapping[str, Any] | None:
    """The posted parameters (a JSON object or a form), or ``None`` when the body cannot
    be read as either (not JSON, not an object, too large, another content type)."""
    kind = (request.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if kind in _FORMS:
        form = request.form
        getlist = getattr(form, "getlist", None)
        if callable(getlist):  # a multi-value form: the engine refuses repeated fields
            return {key: getlist(key) for key in form}
        return form
    body = request.body
    if kind == "application/json" or kind.endswith("+json"):
        if len(body) > MAX_BODY:
            return None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None
    return {} if not body else None


def account_json(cycle: RequestCycle, account: Account) -> dict[str, Any]:
    """The logged-in account as ``GET <prefix>…/account`` answers it: what templates get as
    ``wsAccount`` (never a password hash, a second factor's secret or a card's pseudonym)."""
    view = AccountView(cycle.ctx, lambda: account)
    answer: dict[str, Any] = {
        "id": account.id,
        "email": account.email,
        "displayName": account.display_name,
        "isVerified": account.verified,
        "isAdmin": account.admin,
        "customerData": dict(account.customer_data),
        "hasSecondFactor": account.has_second_factor,
        "recoveryCodesLeft": len(account.recovery_codes),
        "mainAddressId": account.main_address_id,
        "defaultBillAddressId": account.default_bill_address_id,
        "defaultDeliveryAddressId": account.default_delivery_address_id,
        "addresses": [
            {
                "id": a.id,
                "type": a.type,
                "visibility": a.visibility,
                "own": a.account_id == account.id,
                "fields": dict(a.fields),
            }
            for a in view.addresses
        ],
        "logins": [
            {
                "id": login.id,
                "created": login.created,
                "lastSeen": login.lastSeen,
                "clientAddress": login.clientAddress,
                "current": login.current,
            }
            for login in view.logins
        ],
        "cards": [
            {"id": c.id, "brand": c.brand, "last4": c.last4, "expiry": c.expiry, "holder": c.holder}
            for c in view.pseudoCreditCards
        ],
    }
    if account.admin:
        answer["members"] = [
            {
                "id": m.id,
                "email": m.email,
                "displayName": m.displayName,
                "active": m.active,
                "admin": m.admin,
                "invitationPending": m.invitationPending,
                "privilegeGroupId": m.privilegeGroupId,
            }
            for m in view.members
        ]
        answer["privilegeGroups"] = [
            {"id": g.id, "name": g.name, "type": g.type} for g in view.privilegeGroups
        ]
    return answer


def from_config(
    area: AccountArea, get: Callable[[str], Any], *, key_name: Callable[[str], str] = str
) -> HeadlessApi | None:
    """The API a configuration asks for: ``API`` (``True`` for the default prefix, a
    prefix such as ``"/api/account/"``, unset or false: none) and ``API_CORS_ORIGINS``."""
    chosen = get("API")
    if not chosen:
        return None
    if chosen is True:
        chosen = DEFAULT_PREFIX
    if not isinstance(chosen, str) or not chosen.startswith("/") or not chosen.endswith("/"):
        raise ConfigurationError(
            f"{key_name('API')} must be True or a prefix such as '/_wsa/v1/' (with both '/')"
        )
    origins = get("API_CORS_ORIGINS") or ()
    if isinstance(origins, str):
        raise ConfigurationError(f"{key_name('API_CORS_ORIGINS')} must be a list of origins")
    try:
        return HeadlessApi(area, prefix=chosen, cors_origins=origins)
    except ConfigurationError as error:
        raise ConfigurationError(f"{key_name('API_CORS_ORIGINS')}: {error}") from error
