"""The ``WSACTIONS`` setting, read once into a typed :class:`WsActionsConfig`.

::

    WSACTIONS = {
        "BASE_URL": "https://shop.example",   # absolute URL of the shop: links in mails
        "SHOP_NAME": "Example shop",           # the shop's name in mails
        "URL_PREFIX": "/account/",             # where urls.py is included (mailed links land there)
        "SETTINGS": {"locales": ("de",)},      # further wsactions.Settings arguments
        "LAYOUT": "shop/account_layout.html",  # your DTL layout around the pack's pages
        "PAGES": ["account", "addresses"],     # the page groups you offer
        "PATHS": {"register": "registrieren"}, # page paths of your own
        "STORAGE": "myshop.wsa.storage",       # a Storage, a factory, or a dotted path to either
        "MAILER": "myshop.wsa.mailer",         # a Mailer, a factory, or a dotted path to either
        "REGISTRY": "myshop.wsa.registry",     # an ActionRegistry, or a factory(settings)
        "FROM_EMAIL": "shop@example.com",      # sender of the default mailer
    }

Every key is optional and means what it means for every adapter
(:meth:`wsactions.web.AccountArea.from_config`, docs/web.md). The secret is
Django's ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS`` while rotating). The
default storage is :class:`~wsactions.contrib.django.storage.DjangoStorage`
(the ORM, database ``default``); the default mailer sends through Django's
email backend (text and HTML), in the background unless the backend is one of
Django's local ones (console, file, memory, dummy). ``TEMPLATE_DIRS`` lists
folders of Jinja templates that override the pack's (default: the ``DIRS`` of
a Jinja2 backend in ``TEMPLATES``).

This module never touches Django's settings at import time, so a settings
module may import :data:`TEMPLATE_DIR` from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ... import ActionRegistry, headless
from ...errors import ConfigurationError
from ...headless import HeadlessApi
from ...mail import BackgroundMailer, Mail
from ...pages import OPTIN_PAGES, PAGES
from ...protocols import Mailer, Storage
from ...settings import Settings
from ...web import PACK_TEMPLATES, STATIC_DIR, STATIC_FILES, AccountArea

__all__ = [
    "KEYS",
    "OPTIN_PAGES",
    "PAGES",
    "STATIC_DIR",
    "STATIC_FILES",
    "TEMPLATE_DIR",
    "DjangoMailer",
    "WsActionsConfig",
    "get_config",
    "read_settings",
    "reset",
]

#: The template pack (Jinja2). The pack renders its pages itself; a Jinja2 backend of
#: your own may list it in ``DIRS`` for templates of yours that extend the pack's.
TEMPLATE_DIR = PACK_TEMPLATES

#: The keys ``WSACTIONS`` may hold.
KEYS = frozenset(
    {
        "BASE_URL",
        "SHOP_NAME",
        "URL_PREFIX",
        "SETTINGS",
        "PAGES",
        "PATHS",
        "LAYOUT",
        "LOCALE_SELECTOR",
        "TEMPLATE_DIRS",
        "STORAGE",
        "STORAGE_URL",
        "AUTO_MIGRATE",
        "MAILER",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SMTP_FROM",
        "REGISTRY",
        "TEMPLATE_CACHE",
        "FROM_EMAIL",
    }
)
#: Django's email backends that talk to no server: mails go out on the request's thread.
_LOCAL_BACKENDS = frozenset(
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("console", "filebased", "locmem", "dummy")
)


class DjangoMailer:
    """Sends wsactions' mails through Django's email backend (``EMAIL_BACKEND``): the text
    body with the HTML body as an alternative. *from_email* ``None``: ``DEFAULT_FROM_EMAIL``.
    """

    def __init__(self, from_email: str | None = None) -> None:
        self.from_email = from_email

    def send(self, mail: Mail) -> None:
        """Deliver *mail* (raises what the backend raises)."""
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(mail.subject, mail.text, self.from_email, [mail.to])
        if mail.html:
            message.attach_alternative(mail.html, "text/html")
        message.send()


@attrs.frozen
class WsActionsConfig:
    """What the Django integration reads once: the account area and its parts."""

    area: AccountArea
    url_prefix: str
    #: The headless API (``WSACTIONS["API"]``), served by ``wsactions.contrib.django.api_urls``.
    api: HeadlessApi | None = None

    @property
    def settings(self) -> Settings:
        """The wsactions settings."""
        return self.area.settings

    @property
    def registry(self) -> ActionRegistry:
        """The registry of actions."""
        return self.area.registry

    @property
    def storage(self) -> Storage:
        """The storage."""
        return self.area.storage

    @property
    def mailer(self) -> Mailer:
        """The mailer."""
        return self.area.mailer


def _raw() -> Mapping[str, Any]:
    from django.conf import settings as django_settings

    raw = getattr(django_settings, "WSACTIONS", None) or {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError("WSACTIONS must be a dict")
    return raw


def url_prefix(raw: Mapping[str, Any] | None = None) -> str:
    """``WSACTIONS["URL_PREFIX"]`` as ``/path/`` (default ``/account/``)."""
    value = str((raw if raw is not None else _raw()).get("URL_PREFIX", "/account/")).strip("/")
    return f"/{value}/" if value else "/"


def read_settings() -> Settings:
    """:class:`~wsactions.Settings` from the Django settings (raises ``ConfigurationError``)."""
    settings, _ = AccountArea.read_config(_get(_raw()), key_name=_key_name, **_secrets())
    return settings


def _get(raw: Mapping[str, Any]) -> Callable[[str], Any]:
    """Reads one key of ``WSACTIONS`` (``URL_PREFIX`` as ``/path/``)."""
    return lambda key: url_prefix(raw) if key == "URL_PREFIX" else raw.get(key)


def _key_name(key: str) -> str:
    return f'WSACTIONS["{key}"]'


def _secrets() -> dict[str, Any]:
    from django.conf import settings as django_settings

    return {
        "secret_key": getattr(django_settings, "SECRET_KEY", "") or "",
        "secret_key_fallbacks": tuple(getattr(django_settings, "SECRET_KEY_FALLBACKS", ()) or ()),
    }


def _django_mailer(raw: Mapping[str, Any]) -> Mailer:
    """Django's email backend; in the background when it talks to a server."""
    from django.conf import settings as django_settings

    mailer = DjangoMailer(raw.get("FROM_EMAIL"))
    backend = getattr(django_settings, "EMAIL_BACKEND", "")
    return mailer if backend in _LOCAL_BACKENDS else BackgroundMailer(mailer)


def _template_dirs(raw: Mapping[str, Any]) -> list[str]:
    """Folders of Jinja templates overriding the pack's: ``TEMPLATE_DIRS``, else the
    ``DIRS`` of Jinja2 backends."""
    given = raw.get("TEMPLATE_DIRS")
    if given is not None:
        return [str(d) for d in given]
    from django.conf import settings as django_settings

    return [
        str(d)
        for backend in getattr(django_settings, "TEMPLATES", ())
        if str(backend.get("BACKEND", "")).endswith("jinja2.Jinja2")
        for d in backend.get("DIRS", ())
        if Path(d).resolve() != PACK_TEMPLATES
    ]


def _area(raw: Mapping[str, Any]) -> AccountArea:
    import jinja2
    from django.conf import settings as django_settings

    def default_storage() -> Storage:
        from .storage import DjangoStorage

        return DjangoStorage()

    dirs = _template_dirs(raw)
    return AccountArea.from_config(
        _get(raw),
        debug=bool(getattr(django_settings, "DEBUG", False)),
        default_storage=default_storage,
        framework_mailer=lambda: _django_mailer(raw),
        template_loaders=[jinja2.FileSystemLoader(dirs)] if dirs else [],
        key_name=_key_name,
        **_secrets(),
    )


_lock = threading.Lock()
_config: WsActionsConfig | None = None


def get_config() -> WsActionsConfig:
    """The configuration, read on first use (``ImproperlyConfigured`` when it is wrong)."""
    global _config
    found = _config
    if found is not None:
        return found
    from django.core.exceptions import ImproperlyConfigured

    with _lock:
        if _config is None:
            try:
                raw = _raw()
                area = _area(raw)
                api = headless.from_config(area, _get(raw), key_name=_key_name)
                _config = WsActionsConfig(area=area, url_prefix=url_prefix(raw), api=api)
            except ConfigurationError as error:
                raise ImproperlyConfigured(f"wsactions: {error}") from error
        return _config


def reset() -> None:
    """Forget the configuration: the next :func:`get_config` reads the settings again."""
    global _config
    with _lock:
        _config = None


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("WSACTIONS", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "TEMPLATES", "DEBUG"):
        reset()


def _connect() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_setting_changed, dispatch_uid="wsactions.conf.reset")


_connect()
