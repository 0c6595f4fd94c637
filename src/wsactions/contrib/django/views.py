"""The account area's views: one per page of the template pack, plus its static files.

The middleware has run the action already; a page view hands the page to
the request cycle, which renders it (Jinja2, with the shop's catalogues) in
``WSACTIONS["LAYOUT"]`` if the project names one, a template of Django's own
language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ...headless import MAX_BODY
from ...web import STATIC_DIR, STATIC_FILES
from .conf import get_config
from .middleware import current_account, cycle, respond, session, web_request

__all__ = ["api", "login_required", "page", "static_file"]

F = TypeVar("F", bound=Callable[..., Any])


def page(name: str) -> Callable[[HttpRequest], HttpResponse]:
    """The view of page *name* of the pack."""

    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        return respond(cycle(request).page(name))

    view.__name__ = view.__qualname__ = f"wsactions_{name}"
    return cast(Callable[[HttpRequest], HttpResponse], view)


@csrf_exempt  # the API checks its own header (X-CSRF-Token) for the browser client
def api(request: HttpRequest, path: str) -> HttpResponse:
    """Every request below the headless API's prefix
    (:meth:`wsactions.headless.HeadlessApi.serve`)."""
    served = get_config().api
    if served is None:
        raise Http404("the headless API is off (WSACTIONS['API'])")
    form: Any = {}
    body = b""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.POST
    else:
        body = request.read(MAX_BODY + 1)
    web = web_request(request, form=form, body=body)
    return respond(served.serve(web, path, lambda: session(request)))


api.wsactions_api = True  # the middleware leaves it alone: it runs its actions itself


_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@require_GET
def static_file(request: HttpRequest, name: str) -> HttpResponse:
    """One of the pack's static files (``wsactions.css``, ``strength.js``)."""
    if name not in STATIC_FILES:
        raise Http404(name)
    path = STATIC_DIR / name
    response = HttpResponse(path.read_bytes(), content_type=_TYPES[path.suffix])
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def login_required(view: F) -> F:
    """Let *view* run only for a logged-in customer; others go to the login page with
    ``next`` when the engine would redirect back there (``registry.safe_target``; the
    login page posts it as ``wstarget``)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if current_account(request) is None:
            target = str(reverse("wsactions:login"))
            here = cycle(request)
            back = get_config().registry.safe_target(here.ctx, here.request.path)
            if back:
                target += f"?next={quote(back)}"
            response = HttpResponseRedirect(target)
            response.status_code = 303
            return response
        return view(request, *args, **kwargs)

    return cast(F, guarded)
