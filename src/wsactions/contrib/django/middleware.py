"""``WsActionsMiddleware``: runs the engine once per request.

::

    MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",        # optional
        "django.middleware.csrf.CsrfViewMiddleware",
        "wsactions.contrib.django.middleware.WsActionsMiddleware",
        ...
    ]

The middleware only translates Django's request and session into
:mod:`wsactions.web`'s request cycle and its answers into responses. The
engine runs in ``process_view``, after Django's CSRF check (which also runs
there): a POST without Django's token never reaches an action. The cycle
answers a posted form (``wsact``) or a followed link with a 303 to the
validated ``wstarget``, JSON for AJAX actions, or lets the view render;
``StorageUnavailableError`` anywhere in a view becomes a 503 page. Every
request gets ``request.customer``: the logged-in customer's
:class:`~wsactions.Account` or ``None``, looked up on first use.

The language: ``LocaleMiddleware``'s choice when it is installed, else
``LANGUAGE_CODE``, among the languages the shop offers
(``Settings.locales``); a language the customer picked with the pack's
switcher comes first.

Helpers for views: :func:`context`, :func:`result`, :func:`current_account`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token, rotate_token
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject

from ... import ActionResult, Context
from ...errors import StorageUnavailableError
from ...models import Account
from ...sessions import MappingSession
from ...view import TemplateView
from ...web import Answer, Host, RequestCycle, WebRequest
from .conf import get_config

__all__ = [
    "WsActionsMiddleware",
    "context",
    "current_account",
    "cycle",
    "respond",
    "result",
    "session",
    "template_view",
    "web_request",
]

_CYCLE = "_wsactions_cycle"


def cycle(request: HttpRequest) -> RequestCycle:
    """This request's cycle (built once): context, result, language, pages."""
    found = getattr(request, _CYCLE, None)
    if isinstance(found, RequestCycle):
        return found

    def render_layout(template: str, variables: Mapping[str, Any]) -> str:
        return str(render_to_string(template, dict(variables), request))

    host = Host(
        csrf_field=lambda: ("csrfmiddlewaretoken", get_token(request)),
        render_layout=render_layout,
    )
    made = get_config().area.cycle(web_request(request), session(request), host)
    setattr(request, _CYCLE, made)
    return made


def web_request(request: HttpRequest, *, form: Any = None, body: bytes = b"") -> WebRequest:
    """The cycle's view of a Django request; *form* replaces the posted form (the API
    reads a JSON *body* instead)."""
    if form is None:
        form = request.POST if request.method == "POST" else {}
    return WebRequest(
        method=request.method or "GET",
        path=request.get_full_path(),
        query=request.GET,
        form=form,
        accept=request.headers.get("Accept", ""),
        accept_language=request.headers.get("Accept-Language", ""),
        client_address=request.META.get("REMOTE_ADDR") or "",
        user_agent=request.META.get("HTTP_USER_AGENT") or "",
        script_root=request.META.get("SCRIPT_NAME") or "",
        # LocaleMiddleware's choice, else the project's language
        framework_locale=getattr(request, "LANGUAGE_CODE", None)
        or getattr(django_settings, "LANGUAGE_CODE", None),
        native=request,
        headers=request.headers,
        body=body,
    )


def session(request: HttpRequest) -> MappingSession:
    """The engine's view of this request's Django session; a login or logout gives it a new
    session key and a new CSRF token, as ``django.contrib.auth.login`` does."""
    django_session = request.session

    def cycle_id() -> None:
        django_session.cycle_key()
        rotate_token(request)

    return MappingSession(django_session, cycle_id=cycle_id)


def context(request: HttpRequest) -> Context:
    """This request's context (built once): for ``wsactions.rights.for_request``,
    ``wsactions.logins.end_all``, ``wsactions.optin.issue`` …"""
    return cycle(request).ctx


def result(request: HttpRequest) -> ActionResult | None:
    """The result of the action this request ran, if any."""
    found = getattr(request, _CYCLE, None)
    return found.result if isinstance(found, RequestCycle) else None


def current_account(request: HttpRequest) -> Account | None:
    """The logged-in customer's account, or ``None`` (same as
    :func:`wsactions.current_account` for this request's context)."""
    return cycle(request).account()


def template_view(request: HttpRequest) -> TemplateView:
    """The template globals of this request (made once, after the action ran)."""
    return cycle(request).view


def respond(answer: Answer) -> HttpResponse:
    """A Django response for an answer of the request cycle."""
    response: HttpResponse
    if answer.location is not None:
        response = HttpResponseRedirect(answer.location)
        response.status_code = answer.status
    elif answer.json is not None:
        response = JsonResponse(dict(answer.json), status=answer.status)
    else:
        response = HttpResponse(answer.html or "", status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


class WsActionsMiddleware:
    """Runs the action a request names (see the module's documentation)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.customer = SimpleLazyObject(lambda: current_account(request))
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        """Run the named action (after Django's CSRF check, which runs in process_view too).
        The headless API's views run their actions themselves."""
        if getattr(view_func, "wsactions_api", False):
            return None
        posted = request.method == "POST" and "wsact" in request.POST
        if not posted and not (request.method == "GET" and "wsact" in request.GET):
            return None
        answer = cycle(request).run()
        return None if answer is None else respond(answer)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A database that is down answers 503 with a translated page."""
        if isinstance(exception, StorageUnavailableError):
            return respond(cycle(request).unavailable())
        return None
