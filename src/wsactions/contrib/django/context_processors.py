"""``wsactions``: the template globals, for Django's template language and for Jinja2.

::

    TEMPLATES = [{..., "OPTIONS": {"context_processors": [
        ...,
        "wsactions.contrib.django.context_processors.wsactions",
    ]}}]

The same names the Flask adapter gives: ``wsActions``, ``wsSession``,
``wsAccount``, ``wsOptIn``, ``wsCheckout``, plus ``wsPages`` (URLs of the
account area: ``wsPages.login``, ``wsPages.static("wsactions.css")``),
``wsHostCsrf()`` (Django's CSRF field as ``(name, value)``), ``wsLocale`` and
``wsShopName``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from ..._view import view_locale
from .conf import PAGES, STATIC_FILES
from .middleware import context, template_view

__all__ = ["Pages", "wsactions"]


class Pages:
    """``wsPages.login`` → the URL of the login page (``wsactions:login``)."""

    def __getattr__(self, name: str) -> str:
        if name not in PAGES:
            raise AttributeError(name)
        return str(reverse(f"wsactions:{name}"))

    def static(self, filename: str) -> str:
        """The URL of a file of the template pack's static folder."""
        if filename not in STATIC_FILES:
            raise ValueError(f"the template pack has no static file {filename!r}")
        return str(reverse("wsactions:static", args=[filename]))


def wsactions(request: HttpRequest) -> dict[str, Any]:
    """The template globals of *request*."""
    ctx = context(request)

    def host_csrf() -> tuple[str, str]:
        return ("csrfmiddlewaretoken", get_token(request))

    return {
        **template_view(request).globals(),
        "wsPages": Pages(),
        "wsHostCsrf": host_csrf,
        "wsLocale": view_locale(ctx),
        "wsShopName": ctx.settings.shop_name,
    }
