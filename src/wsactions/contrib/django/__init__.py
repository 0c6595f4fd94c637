"""The Django integration: customer accounts in your Django project.

::

    INSTALLED_APPS = [..., "wsactions.contrib.django"]

then ``python manage.py migrate`` creates the tables (``wsactions_*``) and
:class:`~wsactions.contrib.django.storage.DjangoStorage` keeps accounts,
addresses, saved cards, privilege groups, opt-in tokens, logins and
throttling counters in them through the ORM. On SQLite the database needs
``OPTIONS={"transaction_mode": "IMMEDIATE"}`` (see
:mod:`wsactions.contrib.django.storage`).

What a view needs comes from here::

    from wsactions.contrib.django import current_account, login_required

(``context``, ``result`` and ``cycle`` too; ``request.customer`` is the
logged-in :class:`~wsactions.Account`, looked up on first use).
"""

from __future__ import annotations

from typing import Any

__all__ = ["context", "current_account", "cycle", "login_required", "result"]

_FROM = {
    "context": "middleware",
    "current_account": "middleware",
    "cycle": "middleware",
    "result": "middleware",
    "login_required": "views",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: the app package is imported before Django is set up.
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
