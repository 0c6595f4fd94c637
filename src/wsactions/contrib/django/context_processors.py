"""``wsactions``: the template globals, for Django's template language and for Jinja2.

::

    TEMPLATES = [{..., "OPTIONS": {"context_processors": [
        ...,
        "wsactions.contrib.django.context_processors.wsactions",
    ]}}]

The same names every adapter gives (:meth:`wsactions.web.RequestCycle.globals`):
``wsActions``, ``wsSession``, ``wsAccount``, ``wsOptIn``, ``wsCheckout``,
``wsPages`` (URLs of the account area: ``wsPages.login``,
``wsPages.static("wsactions.css")``), ``wsHostCsrf`` (Django's CSRF field as
``(name, value)``), ``wsLocale``, ``wsLocales``, ``wsShopName`` and
``wsFormat``. In Django's template language::

    {% if wsAccount.isLoggedIn %}<a href="{{ wsPages.account }}">{{ wsAccount.email }}</a>
    {% else %}<a href="{{ wsPages.login }}">Log in</a>{% endif %}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .middleware import cycle

__all__ = ["wsactions"]


def wsactions(request: HttpRequest) -> dict[str, Any]:
    """The template globals of *request*."""
    return cycle(request).globals()
