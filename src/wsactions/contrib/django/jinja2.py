"""The Jinja2 environment for the template pack under Django's Jinja2 backend.

The account area's templates are Jinja2 (they live in
:data:`wsactions.contrib.django.conf.TEMPLATE_DIR`, outside the Django app)::

    from wsactions.contrib.django.conf import TEMPLATE_DIR

    TEMPLATES = [
        {
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "DIRS": [BASE_DIR / "jinja2", TEMPLATE_DIR],   # yours first: they override
            "APP_DIRS": True,
            "OPTIONS": {
                "environment": "wsactions.contrib.django.jinja2.environment",
                "context_processors": ["wsactions.contrib.django.context_processors.wsactions"],
            },
        },
        # Django's own template language may follow (the admin needs it).
    ]

The environment adds ``url(name, *args, **kwargs)`` (``reverse``) and
``static(path)`` helpers. The pack reads the query string as
``request.args`` (Flask's name); the environment lets Django's request
answer it with ``request.GET``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
import jinja2.runtime
from django.http import HttpRequest, QueryDict
from django.templatetags.static import static
from django.urls import reverse

from ...web import install_translations

__all__ = ["environment"]


class _PackRequest:
    """Django's request, plus ``args`` (the query string) as the template pack reads it."""

    __slots__ = ("_request",)

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @property
    def args(self) -> QueryDict:
        """``request.GET``."""
        return self._request.GET

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class _Template(jinja2.Template):
    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> jinja2.runtime.Context:
        request = vars.get("request") if vars else None
        if vars is not None and isinstance(request, HttpRequest):
            vars = {**vars, "request": _PackRequest(request)}
        return super().new_context(vars, shared, locals)


def _url(name: str, *args: Any, **kwargs: Any) -> str:
    return str(reverse(name, args=args or None, kwargs=kwargs or None))


def environment(**options: Any) -> jinja2.Environment:
    """A Jinja2 environment for Django's Jinja2 backend (``OPTIONS["environment"]``)."""
    env = jinja2.Environment(**options)  # noqa: S701 - Django's backend turns autoescape on
    env.template_class = _Template
    env.globals.update(url=_url, static=static)
    install_translations(env)  # templates of yours that extend the pack's
    return env
