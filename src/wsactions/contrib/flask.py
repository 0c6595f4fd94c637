"""Flask integration: ``WsActions(app)`` runs the engine once per request.

::

    from flask import Flask
    from wsactions.contrib.flask import WsActions

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "..."                       # also signs wsactions' tokens
    app.config["WSACTIONS_BASE_URL"] = "https://shop.example"
    WsActions(app)                                          # the account area at /account/

The adapter has no logic of its own: each request builds a context from
Flask's request and session, hands posted forms (``wsact``) to
``registry.execute`` and followed links to ``registry.follow``, applies the
validated redirect (post/redirect/get) and answers AJAX actions with
:func:`wsactions.json_answer`. Templates get ``wsActions``, ``wsSession``,
``wsAccount``, ``wsOptIn``, ``wsCheckout`` plus ``wsPages`` (the account
area's URLs) and ``wsHostCsrf`` (Flask-WTF's token field when CSRFProtect is
on, so wsactions forms pass it without exempting a view). With Flask-WTF's
``CSRFProtect`` its check runs before any action, whether it was set up before
``WsActions`` or after it.

Configuration (``app.config``; every key optional but ``SECRET_KEY``):

=================================  ==================================================
``SECRET_KEY``                     signs CSRF tokens and links (required)
``SECRET_KEY_FALLBACKS``           older keys still accepted while rotating
``WSACTIONS_BASE_URL``             absolute URL of the shop (links in mails)
``WSACTIONS_SHOP_NAME``            the shop's name in mails
``WSACTIONS_STORAGE_URL``          SQL URL; default: a SQLite file in the instance folder
``WSACTIONS_AUTO_MIGRATE``         run migrations at start (default: only for SQLite)
``WSACTIONS_MAILER``               a Mailer, or ``"console"`` (prints mails, links included)
``WSACTIONS_SMTP_HOST``/``PORT``   SMTP server (``..._USER``, ``..._PASSWORD``, ``..._FROM``)
``WSACTIONS_URL_PREFIX``           where the account area lives (default ``/account``)
``WSACTIONS_SETTINGS``             further :class:`~wsactions.Settings` keyword arguments
=================================  ==================================================

Without ``WSACTIONS_MAILER`` mails go to the SMTP server; without one either,
they are printed when debugging or testing, and otherwise the extension
refuses to start (:class:`~wsactions.errors.ConfigurationError`): a printed
password reset link is one anybody who reads the server's output can use.
"""

from __future__ import annotations

import functools
import smtplib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote

import flask
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import json_answer
from .._action import current_account as _current_account
from .._context import Context
from .._registry import ActionRegistry, default_registry
from .._result import ActionResult
from .._view import TemplateView, view_locale
from ..errors import ConfigurationError
from ..i18n import negotiate
from ..mail import BackgroundMailer, ConsoleMailer, SmtpMailer
from ..models import Account, RequestInfo
from ..protocols import Mailer, Storage
from ..sessions import MappingSession
from ..settings import Settings
from .pages import OPTIN_PAGES
from .pages import PAGES as _PACK_PAGES

__all__ = ["PAGES", "WsActions", "current_account", "login_required"]

F = TypeVar("F", bound=Callable[..., Any])

#: The account area's pages: name -> (path below the prefix, template).
PAGES: dict[str, tuple[str, str]] = {
    name: ("/" + path, template) for name, (path, template) in _PACK_PAGES.items()
}
_EXTENSION = "wsactions"
_G_STATE = "_wsactions"
#: On ``flask.g``: wsactions ran Flask-WTF's check itself (CSRFProtect's hook may come later).
_G_HOST_CHECKED = "_wsactions_host_csrf_checked"
#: On ``flask.g``: Flask-WTF's CSRF secret is to be dropped once that hook has run.
_G_RENEW_HOST_CSRF = "_wsactions_renew_host_csrf"


class _State:
    """What the extension keeps per application."""

    def __init__(self, registry: ActionRegistry, storage: Storage, mailer: Mailer, prefix: str):
        self.registry = registry
        self.storage = storage
        self.mailer = mailer
        self.prefix = prefix


class WsActions:
    """The Flask extension (``WsActions(app)`` or ``ext = WsActions(); ext.init_app(app)``)."""

    def __init__(
        self,
        app: flask.Flask | None = None,
        *,
        registry: ActionRegistry | None = None,
        storage: Storage | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self._registry = registry
        self._storage = storage
        self._mailer = mailer
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Read the configuration, open the storage, register the account area and hooks."""
        config = app.config
        prefix = "/" + str(config.get("WSACTIONS_URL_PREFIX", "/account")).strip("/")
        settings = _settings(app, prefix)
        registry = self._registry or default_registry(settings)
        registry.settings = settings
        registry.event_sink = registry.event_sink or _log_event(app)
        storage = self._storage or _storage(app)
        mailer = self._mailer or _mailer(app)
        app.extensions[_EXTENSION] = _State(registry, storage, mailer, prefix)
        blueprint = flask.Blueprint(
            "wsactions",
            __name__,
            template_folder=str(Path(__file__).parent / "templates"),
            static_folder=str(Path(__file__).parent / "static"),
            static_url_path="/static",
            url_prefix=prefix if prefix != "/" else None,
        )
        for name, (path, template) in PAGES.items():
            blueprint.add_url_rule(path, name, _page(name, template), methods=["GET", "POST"])
        app.register_blueprint(blueprint)
        app.before_request(_run_engine)
        app.context_processor(_template_globals)


def _settings(app: flask.Flask, prefix: str) -> Settings:
    config = app.config
    secret = config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("wsactions needs app.config['SECRET_KEY'] (it signs tokens and links)")
    base = prefix.rstrip("/")
    values: dict[str, Any] = {
        "secret_key": secret,
        "secret_key_fallbacks": tuple(config.get("SECRET_KEY_FALLBACKS") or ()),
        "base_url": config.get("WSACTIONS_BASE_URL"),
        "shop_name": config.get("WSACTIONS_SHOP_NAME", ""),
        "optin_paths": {purpose: base + PAGES[page][0] for purpose, page in OPTIN_PAGES.items()},
    }
    values.update(config.get("WSACTIONS_SETTINGS") or {})
    return Settings(**values)


def _storage(app: flask.Flask) -> Storage:
    from ..backends.sql import SqlStorage, upgrade

    url = app.config.get("WSACTIONS_STORAGE_URL")
    if url is None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'wsactions.db'}"
    migrate = app.config.get("WSACTIONS_AUTO_MIGRATE", url.startswith("sqlite"))
    if migrate:
        upgrade(url)
    return SqlStorage(url)


def _mailer(app: flask.Flask) -> Mailer:
    """``WSACTIONS_MAILER``, else SMTP at ``WSACTIONS_SMTP_HOST``, else the console when
    debugging or testing; raises ``ConfigurationError`` when there is none of them."""
    config = app.config
    chosen = config.get("WSACTIONS_MAILER")
    if chosen == "console":
        return ConsoleMailer()
    if chosen is not None:
        if isinstance(chosen, str) or not callable(getattr(chosen, "send", None)):
            kind = type(chosen).__name__  # not the value: it may hold a password
            raise ConfigurationError(
                f'WSACTIONS_MAILER must be a Mailer (with send(mail)) or "console", not a {kind}'
            )
        return cast(Mailer, chosen)
    host = config.get("WSACTIONS_SMTP_HOST")
    if not host:
        if app.debug or app.testing:
            return ConsoleMailer()
        raise ConfigurationError(
            "wsactions has no mailer, and printing mails would put password reset links "
            "into the server's output: set WSACTIONS_SMTP_HOST (with WSACTIONS_SMTP_PORT, "
            "_USER, _PASSWORD, _FROM), or WSACTIONS_MAILER to a Mailer. "
            'WSACTIONS_MAILER = "console" prints them (development only); so does DEBUG '
            "or TESTING when set before WsActions(app)"
        )

    def connect() -> smtplib.SMTP:
        smtp = smtplib.SMTP(host, int(config.get("WSACTIONS_SMTP_PORT", 587)), timeout=30)
        smtp.starttls()
        user = config.get("WSACTIONS_SMTP_USER")
        if user:
            smtp.login(user, config.get("WSACTIONS_SMTP_PASSWORD", ""))
        return smtp

    sender = config.get("WSACTIONS_SMTP_FROM") or f"no-reply@{host}"
    return BackgroundMailer(SmtpMailer(sender=sender, connect=connect))


def _log_event(app: flask.Flask) -> Callable[[Any], None]:
    from ..events import ActionEvent

    def sink(event: ActionEvent) -> None:
        app.logger.info(
            "wsactions action=%s success=%s codes=%s account=%s client=%s",
            event.name,
            event.success,
            ",".join(sorted(event.codes)) or "-",
            event.account_id or "-",
            event.client_address or "-",
        )

    return sink


def _state() -> _State:
    return cast(_State, flask.current_app.extensions[_EXTENSION])


def context() -> Context:
    """Same as ``registry.context(...)``, but built from Flask's request and session (once)."""
    found = flask.g.get(_G_STATE)
    if found is not None:
        return cast(Context, found[0])
    state = _state()
    request = flask.request
    settings = state.registry.settings
    if settings is None:  # pragma: no cover - init_app sets them
        raise RuntimeError("wsactions registry without settings")
    ctx = state.registry.context(
        session=MappingSession(flask.session, cycle_id=_renew_host_csrf),
        storage=state.storage,
        mailer=state.mailer,
        request=RequestInfo(
            client_address=request.remote_addr or "",
            optin_token=request.args.get("wsoptin") or request.form.get("wsoptin"),
            locale=negotiate(settings, request.headers.get("Accept-Language")),
        ),
    )
    flask.g.setdefault(_G_STATE, [ctx, None])
    return ctx


def result() -> ActionResult | None:
    """The result of the action this request ran, if any."""
    found = flask.g.get(_G_STATE)
    return None if found is None else cast(ActionResult | None, found[1])


def _wants_json() -> bool:
    accept = flask.request.accept_mimetypes
    return accept.best == "application/json" or (
        accept["application/json"] > accept["text/html"]
    )


def _run_engine() -> WerkzeugResponse | None:
    request = flask.request
    if request.endpoint == "wsactions.static":
        return None
    if request.method == "POST" and "wsact" in request.form:
        _host_csrf_check()
        ran: ActionResult | None = _state().registry.execute(context(), request.form)
    elif request.method == "GET" and "wsact" in request.args:
        ran = _state().registry.follow(context(), request.args)
    else:
        return None
    flask.g.get(_G_STATE)[1] = ran
    if ran is None:
        return None
    spec = _state().registry.get(ran.name)
    if _wants_json() or (spec is not None and spec.trigger == "ajax"):
        return flask.jsonify(json_answer(context(), ran))
    if ran.redirect:
        return flask.redirect(ran.redirect, 303)
    return None


def _template_globals() -> dict[str, Any]:
    if _EXTENSION not in flask.current_app.extensions:  # pragma: no cover
        return {}
    if flask.g.pop(_G_RENEW_HOST_CSRF, False):
        _drop_host_csrf()  # before the page makes Flask-WTF's token
    state = _state()
    view = TemplateView(state.registry, context(), result())
    ctx = context()
    return {
        **view.globals(),
        "wsPages": _Pages(),
        "wsHostCsrf": _host_csrf,
        "wsLocale": view_locale(ctx),
        "wsShopName": ctx.settings.shop_name,
    }


class _Pages:
    """``wsPages.login`` → the URL of the login page (what templates link to)."""

    def __getattr__(self, name: str) -> str:
        if name not in PAGES:
            raise AttributeError(name)
        return flask.url_for(f"wsactions.{name}")

    def static(self, filename: str) -> str:
        """The URL of a file of the template pack's static folder."""
        return flask.url_for("wsactions.static", filename=filename)


def _host_csrf_check() -> None:
    """Flask-WTF's CSRF check, before an action runs (raises its ``CSRFError``, a 400).

    Flask runs ``before_request`` hooks in the order they were registered: with
    ``CSRFProtect(app)`` after ``WsActions(app)`` its check would come after the
    action. The conditions are CSRFProtect's own (``WTF_CSRF_ENABLED``,
    ``WTF_CSRF_CHECK_DEFAULT``, ``WTF_CSRF_METHODS``, exempted views and
    blueprints), but a request without a view (404, 405) is checked too: the
    action would run all the same.
    """
    app = flask.current_app
    csrf = app.extensions.get("csrf")
    if csrf is None or flask.g.get("csrf_valid"):
        return  # no Flask-WTF, or CSRFProtect's hook has passed this request already
    config = app.config
    if not config.get("WTF_CSRF_ENABLED", True) or not config.get("WTF_CSRF_CHECK_DEFAULT", True):
        return
    if _exempt_from_host_csrf(csrf):
        return
    csrf.protect()
    if flask.g.get("csrf_valid"):  # protect() passed a checked method
        setattr(flask.g, _G_HOST_CHECKED, True)


def _exempt_from_host_csrf(csrf: Any) -> bool:
    """Whether the host exempted this request's view or blueprint (``csrf.exempt``).

    Flask-WTF keeps exemptions in two sets that its hook reads and ``protect()``
    does not (1.2 has no public way to ask); this reads them the same way.
    """
    app = flask.current_app
    request = flask.request
    if request.endpoint is None:
        return False
    blueprint = app.blueprints.get(request.blueprint) if request.blueprint else None
    if blueprint is not None and blueprint in getattr(csrf, "_exempt_blueprints", ()):
        return True
    view = app.view_functions.get(request.endpoint)
    exempt_views = getattr(csrf, "_exempt_views", ())
    return view is not None and f"{view.__module__}.{view.__name__}" in exempt_views


def _renew_host_csrf() -> None:
    """At login and logout: drop Flask-WTF's CSRF secret from the session (a new one is
    made on first use), so that a token learnt before the login is worthless after it.
    Flask's cookie session has no id to renew; wsactions renews its own binding.

    When wsactions ran Flask-WTF's check itself, CSRFProtect's hook may still come in
    this request and check the posted token once more: then the secret goes when a
    page renders or the response is made, whichever is first.
    """
    if not flask.g.get(_G_HOST_CHECKED):
        _drop_host_csrf()
    elif not flask.g.get(_G_RENEW_HOST_CSRF):
        setattr(flask.g, _G_RENEW_HOST_CSRF, True)
        flask.after_this_request(_drop_host_csrf_late)


def _drop_host_csrf_late(response: WerkzeugResponse) -> WerkzeugResponse:
    if flask.g.pop(_G_RENEW_HOST_CSRF, False):
        _drop_host_csrf()
    return response


def _drop_host_csrf() -> None:
    field = flask.current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    flask.session.pop(field, None)
    flask.g.pop(field, None)


def _host_csrf() -> tuple[str, str] | None:
    """Flask-WTF's hidden field (name, value) when CSRFProtect is on, else ``None``."""
    if "csrf" not in flask.current_app.extensions:
        return None
    from flask_wtf.csrf import generate_csrf

    return (flask.current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), generate_csrf())


def _page(name: str, template: str) -> Callable[[], str]:
    """The view of one page (a named function: Flask-WTF and others read ``__name__``)."""

    def view() -> str:
        return flask.render_template(template)

    view.__name__ = view.__qualname__ = f"wsactions_{name}"
    return view


def current_account() -> Account | None:
    """Same as :func:`wsactions.current_account`, but for the current Flask request."""
    return _current_account(context())


def login_required(view: F) -> F:
    """Let *view* run only for a logged-in customer; others go to the login page (with
    ``next``, when the engine would redirect back there: ``registry.safe_target``)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            request = flask.request
            here = quote(request.path)  # Werkzeug's path is decoded; next is a URL
            if request.query_string:
                here += "?" + request.query_string.decode("latin-1")
            back = _state().registry.safe_target(context(), here)  # None: no next
            return flask.redirect(flask.url_for("wsactions.login", next=back), 303)
        return view(*args, **kwargs)

    return cast(F, guarded)
