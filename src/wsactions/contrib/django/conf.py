"""The ``WSACTIONS`` setting, read once into a typed :class:`WsActionsConfig`.

::

    WSACTIONS = {
        "BASE_URL": "https://shop.example",   # absolute URL of the shop: links in mails
        "SHOP_NAME": "Example shop",           # the shop's name in mails
        "URL_PREFIX": "/account/",             # where urls.py is included (mailed links land there)
        "SETTINGS": {"enumeration_protection": True},  # further wsactions.Settings arguments
        "STORAGE": "myshop.wsa.storage",       # a Storage, a factory, or a dotted path to either
        "MAILER": "myshop.wsa.mailer",         # a Mailer, a factory, or a dotted path to either
        "REGISTRY": "myshop.wsa.registry",     # an ActionRegistry, or a factory(settings)
        "FROM_EMAIL": "shop@example.com",      # sender of the default mailer
    }

Every key is optional. The secret is Django's ``SECRET_KEY`` (and
``SECRET_KEY_FALLBACKS`` while rotating). The default storage is
:class:`~wsactions.contrib.django.storage.DjangoStorage` (the ORM, database
``default``); the default mailer sends through Django's email backend (text
and HTML), behind :class:`wsactions.BackgroundMailer` when
``enumeration_protection`` is on.

This module never touches Django's settings at import time, so a settings
module may import :data:`TEMPLATE_DIR` from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from ..._registry import ActionRegistry, default_registry
from ...errors import ConfigurationError
from ...events import log_event
from ...mail import BackgroundMailer, Mail
from ...protocols import Mailer, Storage
from ...settings import Settings
from ..pages import OPTIN_PAGES, PAGES

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

_CONTRIB = Path(__file__).resolve().parent.parent
#: The template pack (Jinja2): put it into the ``DIRS`` of a Jinja2 backend.
TEMPLATE_DIR = _CONTRIB / "templates"
#: The pack's static files (the account area serves them itself, see ``urls.py``).
STATIC_DIR = _CONTRIB / "static"
#: The files of :data:`STATIC_DIR` that may be served.
STATIC_FILES = frozenset({"wsactions.css", "strength.js"})

#: The keys ``WSACTIONS`` may hold.
KEYS = frozenset(
    {
        "BASE_URL",
        "SHOP_NAME",
        "URL_PREFIX",
        "SETTINGS",
        "STORAGE",
        "MAILER",
        "REGISTRY",
        "FROM_EMAIL",
    }
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
    """What the Django integration reads once: settings, registry, storage, mailer, prefix."""

    settings: Settings
    registry: ActionRegistry
    storage: Storage
    mailer: Mailer
    url_prefix: str


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


def settings_kwargs(raw: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The keyword arguments of :class:`~wsactions.Settings` the Django settings give."""
    from django.conf import settings as django_settings

    raw = raw if raw is not None else _raw()
    prefix = url_prefix(raw)
    values: dict[str, Any] = {
        "secret_key": getattr(django_settings, "SECRET_KEY", "") or "",
        "secret_key_fallbacks": tuple(getattr(django_settings, "SECRET_KEY_FALLBACKS", ()) or ()),
        "base_url": raw.get("BASE_URL"),
        "shop_name": raw.get("SHOP_NAME", ""),
        "optin_paths": {purpose: prefix + PAGES[page][0] for purpose, page in OPTIN_PAGES.items()},
    }
    extra = raw.get("SETTINGS") or {}
    if not isinstance(extra, Mapping):
        raise ConfigurationError('WSACTIONS["SETTINGS"] must be a dict of Settings arguments')
    values.update(extra)
    return values


def read_settings() -> Settings:
    """:class:`~wsactions.Settings` from the Django settings (raises ``ConfigurationError``)."""
    try:
        return Settings(**settings_kwargs())
    except TypeError as error:  # an unknown Settings argument
        raise ConfigurationError(f'WSACTIONS["SETTINGS"]: {error}') from error


def _load(value: Any) -> Any:
    """*value*, or the object its dotted path names."""
    if isinstance(value, str):
        from django.utils.module_loading import import_string

        return import_string(value)
    return value


def _factory(value: Any, method: str) -> bool:
    """Whether *value* is a class or factory rather than an object with *method*."""
    return isinstance(value, type) or (callable(value) and not hasattr(value, method))


def _storage(raw: Mapping[str, Any]) -> Storage:
    value = _load(raw.get("STORAGE"))
    if value is None:
        from .storage import DjangoStorage

        return cast(Storage, DjangoStorage())
    if _factory(value, "transaction"):
        value = value()
    return cast(Storage, value)


def _mailer(raw: Mapping[str, Any], settings: Settings) -> Mailer:
    value = _load(raw.get("MAILER"))
    if value is None:
        mailer: Mailer = DjangoMailer(raw.get("FROM_EMAIL"))
        return BackgroundMailer(mailer) if settings.enumeration_protection else mailer
    if _factory(value, "send"):
        value = value()
    return cast(Mailer, value)


def _registry(raw: Mapping[str, Any], settings: Settings) -> ActionRegistry:
    value = _load(raw.get("REGISTRY"))
    if value is None:
        registry = default_registry(settings)
    elif isinstance(value, ActionRegistry):
        registry = value
    else:
        registry = cast(Callable[[Settings], ActionRegistry], value)(settings)
    registry.settings = settings
    if registry.event_sink is None:
        registry.event_sink = log_event
    return registry


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
                settings = read_settings()
                _config = WsActionsConfig(
                    settings=settings,
                    registry=_registry(raw, settings),
                    storage=_storage(raw),
                    mailer=_mailer(raw, settings),
                    url_prefix=url_prefix(raw),
                )
            except ConfigurationError as error:
                raise ImproperlyConfigured(f"wsactions: {error}") from error
        return _config


def reset() -> None:
    """Forget the configuration: the next :func:`get_config` reads the settings again."""
    global _config
    with _lock:
        _config = None


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("WSACTIONS", "SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        reset()


def _connect() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_setting_changed, dispatch_uid="wsactions.conf.reset")


_connect()
