"""System checks of wsactions' settings (registered by the app config).

``python manage.py check`` reports:

==================  ============================================================
``wsactions.E001``  ``SECRET_KEY`` missing or shorter than 32 characters
``wsactions.E002``  ``WSACTIONS["BASE_URL"]`` not an absolute http(s) URL
``wsactions.E003``  ``allowed_redirect_hosts`` malformed (not a list of host names)
``wsactions.E004``  ``WsActionsMiddleware`` missing from ``MIDDLEWARE``
``wsactions.E005``  ``WsActionsMiddleware`` before ``SessionMiddleware`` or
                    ``CsrfViewMiddleware`` (or one of them missing)
``wsactions.E006``  ``wsactions.Settings(...)`` refuses the configuration
``wsactions.E007``  ``WSACTIONS`` is not a dict or has unknown keys
``wsactions.E008``  the database cannot keep the default storage's guarantees (SQLite
                    without ``transaction_mode = "IMMEDIATE"``)
``wsactions.E009``  wsactions' migrations are not all applied (a database check)
``wsactions.E010``  ``WSACTIONS["LAYOUT"]`` names no template
``wsactions.W001``  ``LocaleMiddleware`` after ``WsActionsMiddleware``
``wsactions.W002``  the account area is not where ``URL_PREFIX`` says
``wsactions.W003``  Django's templates lack the request context processor (template tags)
==================  ============================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ...errors import ConfigurationError
from . import conf

__all__ = ["check_database", "check_middleware", "check_settings", "check_urls"]

_MIDDLEWARE = "wsactions.contrib.django.middleware.WsActionsMiddleware"
_SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
_CSRF = "django.middleware.csrf.CsrfViewMiddleware"
_LOCALE = "django.middleware.locale.LocaleMiddleware"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-[]:")


def _host_ok(host: Any) -> bool:
    """Whether *host* is a bare host name (or IP literal) as ``safe_target`` compares them."""
    if not isinstance(host, str) or not host or host != host.strip():
        return False
    lowered = host.lower()
    if not set(lowered) <= _HOST_CHARS or lowered.startswith((".", "-")):
        return False
    return ":" not in lowered or (lowered.startswith("[") and lowered.endswith("]"))


@register(Tags.security)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 (secret key), E002 (base URL), E003 (redirect hosts), E006, E007."""
    raw = getattr(django_settings, "WSACTIONS", None) or {}
    if not isinstance(raw, Mapping):
        return [Error("WSACTIONS must be a dict.", id="wsactions.E007")]
    found: list[CheckMessage] = []
    unknown = sorted(set(raw) - conf.KEYS)
    if unknown:
        found.append(
            Error(
                f"WSACTIONS has unknown keys: {', '.join(map(str, unknown))}.",
                hint=f"Known keys: {', '.join(sorted(conf.KEYS))}.",
                id="wsactions.E007",
            )
        )
    secret = getattr(django_settings, "SECRET_KEY", "") or ""
    if len(secret) < 32:
        found.append(
            Error(
                "SECRET_KEY is missing or shorter than 32 characters; wsactions signs its "
                "CSRF tokens and links with it.",
                hint="Generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                id="wsactions.E001",
            )
        )
    base_url = raw.get("BASE_URL")
    if base_url is not None:
        parts = urlsplit(str(base_url))
        if (
            not isinstance(base_url, str)
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            found.append(
                Error(
                    f'WSACTIONS["BASE_URL"] must be an absolute http(s) URL without '
                    f"credentials, query or fragment, got {base_url!r}.",
                    hint="For example https://shop.example (mailed links start with it).",
                    id="wsactions.E002",
                )
            )
    extra = raw.get("SETTINGS") or {}
    hosts = extra.get("allowed_redirect_hosts", ()) if isinstance(extra, Mapping) else ()
    if isinstance(hosts, str) or not isinstance(hosts, Iterable) or not all(map(_host_ok, hosts)):
        found.append(
            Error(
                "allowed_redirect_hosts must be a list of bare host names "
                f"(no scheme, path, port or spaces), got {hosts!r}.",
                hint='For example {"allowed_redirect_hosts": ["pay.example"]}.',
                id="wsactions.E003",
            )
        )
    if found:  # Settings would refuse the same, less precisely
        return found
    try:
        conf.read_settings()
    except ConfigurationError as error:
        found.append(Error(f"wsactions: {error}", id="wsactions.E006"))
    return found


@register(Tags.security)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E004 (middleware missing), E005 (order), W001 (locale after wsactions)."""
    middleware = list(getattr(django_settings, "MIDDLEWARE", None) or ())
    if _MIDDLEWARE not in middleware:
        return [
            Error(
                f"{_MIDDLEWARE} is not in MIDDLEWARE: no wsactions form or link runs.",
                hint=f"Add it after {_SESSION} and {_CSRF}.",
                id="wsactions.E004",
            )
        ]
    position = middleware.index(_MIDDLEWARE)
    found: list[CheckMessage] = []
    for needed in (_SESSION, _CSRF):
        if needed not in middleware[:position]:
            found.append(
                Error(
                    f"{_MIDDLEWARE} must come after {needed} in MIDDLEWARE.",
                    hint="wsactions keeps its state in Django's session, and runs actions "
                    "only after Django's CSRF check.",
                    id="wsactions.E005",
                )
            )
    if _LOCALE in middleware[position:]:
        found.append(
            Warning(
                f"{_LOCALE} comes after {_MIDDLEWARE}: wsactions' messages ignore the "
                "language Django chooses.",
                hint=f"Move {_LOCALE} before {_MIDDLEWARE}.",
                id="wsactions.W001",
            )
        )
    return found


@register(Tags.security)
def check_database(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E008: the default storage's database cannot keep its guarantees."""
    raw = getattr(django_settings, "WSACTIONS", None) or {}
    if not isinstance(raw, Mapping) or raw.get("STORAGE") is not None:
        return []  # E007, or the host's own storage
    from .storage import database_problem

    problem = database_problem()
    return [] if problem is None else [Error(f"wsactions: {problem}.", id="wsactions.E008")]


@register(Tags.database)
def check_migrations(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E009: wsactions' migrations are not all applied (``check --database default``, and
    ``migrate`` itself, run it)."""
    raw = getattr(django_settings, "WSACTIONS", None) or {}
    if not databases or not isinstance(raw, Mapping) or raw.get("STORAGE") is not None:
        return []
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    if DEFAULT_DB_ALIAS not in databases:
        return []
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    targets = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "wsactions"]
    missing = [migration.name for migration, _ in executor.migration_plan(targets)]
    if not missing:
        return []
    return [
        Error(
            f"wsactions: the database lacks the migrations {', '.join(missing)}.",
            hint="Run: python manage.py migrate wsactions",
            id="wsactions.E009",
        )
    ]


@register(Tags.templates)
def check_templates(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E010: ``WSACTIONS["LAYOUT"]`` names no template; W003: the template tags lack the
    request (``django.template.context_processors.request``)."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    raw = getattr(django_settings, "WSACTIONS", None) or {}
    if not isinstance(raw, Mapping):
        return []  # E007
    found: list[CheckMessage] = []
    layout = raw.get("LAYOUT")
    if layout:
        try:
            get_template(layout)
        except TemplateDoesNotExist:
            found.append(
                Error(
                    f'wsactions: WSACTIONS["LAYOUT"] = {layout!r} names no template.',
                    hint="Put the layout into a folder of TEMPLATES (DIRS, or an app's "
                    "templates/), or remove LAYOUT to use the pack's own.",
                    id="wsactions.E010",
                )
            )
    request_processor = "django.template.context_processors.request"
    for backend in getattr(django_settings, "TEMPLATES", ()):
        if not str(backend.get("BACKEND", "")).endswith("DjangoTemplates"):
            continue
        processors = backend.get("OPTIONS", {}).get("context_processors", ())
        if request_processor not in processors:
            found.append(
                Warning(
                    "wsactions' template tags ({% wsaction %} …) need the request in the "
                    "context of Django's templates.",
                    hint=f'Add "{request_processor}" to OPTIONS["context_processors"].',
                    id="wsactions.W003",
                )
            )
    return found


@register(Tags.urls)
def check_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W002: the account area is included somewhere else than ``URL_PREFIX`` says."""
    from django.urls import NoReverseMatch, reverse

    if not getattr(django_settings, "ROOT_URLCONF", None):
        return []  # no URLs at all (a worker or a test settings module)
    try:
        prefix = conf.url_prefix()
        where = reverse("wsactions:account")
    except (NoReverseMatch, ConfigurationError):
        return []  # the host renders its own pages, or E007 says what is wrong
    script = getattr(django_settings, "FORCE_SCRIPT_NAME", None) or ""
    if where not in (prefix, script.rstrip("/") + prefix):
        return [
            Warning(
                f"wsactions' account area is at {where}, but mailed links point below "
                f'{prefix} (WSACTIONS["URL_PREFIX"]).',
                hint=f'Set WSACTIONS["URL_PREFIX"] = "{where}", or include the URLs there.',
                id="wsactions.W002",
            )
        ]
    return []
