"""``WsActionsMiddleware``: runs the engine once per request.

::

    MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",        # optional
        "django.middleware.csrf.CsrfViewMiddleware",
        "wsactions.contrib.django.middleware.WsActionsMiddleware",
        ...
    ]

The engine runs in ``process_view``, after Django's CSRF check (which also
runs there): a POST without Django's token never reaches an action. A posted
form with ``wsact`` goes to ``registry.execute``, a GET with ``wsact`` (the
Logout link, mailed links) to ``registry.follow``; after success the answer
is a 303 to the validated ``wstarget``; AJAX actions (``Accept:
application/json``, or an action with the ``ajax`` trigger) get
:func:`wsactions.json_answer`. Otherwise the view renders, and templates see
the result (``wsActions.current``, the handles).

Helpers for views: :func:`context`, :func:`result`, :func:`current_account`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import rotate_token

from ..._action import current_account as _current_account
from ..._context import Context
from ..._result import ActionResult
from ..._view import TemplateView, json_answer
from ...i18n import negotiate
from ...models import Account, RequestInfo
from ...sessions import MappingSession
from .conf import get_config

__all__ = ["WsActionsMiddleware", "context", "current_account", "result", "template_view"]

_STATE = "_wsactions_state"


class _State:
    """What one request keeps: its context, the result of its action, the template view."""

    __slots__ = ("context", "ran", "result", "view")

    def __init__(self, ctx: Context) -> None:
        self.context = ctx
        self.result: ActionResult | None = None
        self.ran = False
        self.view: TemplateView | None = None


def _state(request: HttpRequest) -> _State:
    found = getattr(request, _STATE, None)
    if isinstance(found, _State):
        return found
    config = get_config()
    session = request.session
    optin = request.GET.get("wsoptin")
    if not optin and request.method == "POST":
        optin = request.POST.get("wsoptin")
    # LocaleMiddleware sets LANGUAGE_CODE (Django's active language); without it, the
    # request's Accept-Language decides.
    locale = getattr(request, "LANGUAGE_CODE", None) or negotiate(
        config.settings, request.headers.get("Accept-Language")
    )

    def cycle() -> None:  # what django.contrib.auth.login does: new session id, new CSRF token
        session.cycle_key()
        rotate_token(request)

    ctx = config.registry.context(
        session=MappingSession(session, cycle_id=cycle),
        storage=config.storage,
        mailer=config.mailer,
        request=RequestInfo(
            client_address=request.META.get("REMOTE_ADDR") or "",
            optin_token=optin or None,
            locale=locale,
        ),
    )
    state = _State(ctx)
    setattr(request, _STATE, state)
    return state


def context(request: HttpRequest) -> Context:
    """This request's context (built once): for ``wsactions.rights.for_request``,
    ``wsactions.logins.end_all``, ``wsactions.optin.issue`` …"""
    return _state(request).context


def result(request: HttpRequest) -> ActionResult | None:
    """The result of the action this request ran, if any."""
    return _state(request).result


def current_account(request: HttpRequest) -> Account | None:
    """The logged-in customer's account, or ``None`` (same as
    :func:`wsactions.current_account` for this request's context)."""
    return _current_account(context(request))


def template_view(request: HttpRequest) -> TemplateView:
    """The template globals of this request (made once, after the action ran)."""
    state = _state(request)
    if state.view is None:
        state.view = TemplateView(get_config().registry, state.context, state.result)
    return state.view


def _wants_json(request: HttpRequest) -> bool:
    preferred = request.get_preferred_type(["text/html", "application/json"])
    return bool(preferred == "application/json")


class WsActionsMiddleware:
    """Runs the action a request names (see the module's documentation)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        """Run the named action (after Django's CSRF check, which runs in process_view too)."""
        if request.method == "POST" and "wsact" in request.POST:
            form: Any = request.POST
            follow = False
        elif request.method == "GET" and "wsact" in request.GET:
            form = request.GET
            follow = True
        else:
            return None
        state = _state(request)
        if state.ran:  # pragma: no cover - process_view runs once per request
            return None
        registry = get_config().registry
        ctx = state.context
        ran = registry.follow(ctx, form) if follow else registry.execute(ctx, form)
        state.ran = True
        state.result = ran
        state.view = None
        if ran is None:
            return None
        spec = registry.get(ran.name)
        if _wants_json(request) or (spec is not None and spec.trigger == "ajax"):
            return JsonResponse(json_answer(ctx, ran))
        if ran.redirect:
            response = HttpResponseRedirect(ran.redirect)
            response.status_code = 303
            return response
        return None
