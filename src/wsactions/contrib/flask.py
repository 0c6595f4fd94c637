"""Flask integration: ``WsActions(app)`` serves the account area and runs the engine.

::

    from flask import Flask
    from wsactions.contrib.flask import WsActions

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "..."                       # also signs wsactions' tokens
    app.config["WSACTIONS_BASE_URL"] = "https://shop.example"
    app.config["WSACTIONS_SETTINGS"] = {"locales": ("de",)}  # a German shop
    app.config["WSACTIONS_LAYOUT"] = "shop/layout.html"      # the shop's own Jinja layout
    WsActions(app)                                          # the account area at /account/

The adapter only translates: Flask's request and session into
:mod:`wsactions.web`'s request cycle, which runs the action (posted forms
with ``wsact``, followed links), decides the language and renders the pack's
pages, and its answers into Flask responses. Every ``WSACTIONS_<KEY>`` of
``app.config`` is a key of :meth:`wsactions.web.AccountArea.from_config`
(docs/web.md); without ``WSACTIONS_STORAGE``/``_STORAGE_URL`` the accounts
live in a SQLite file in the instance folder, migrated at start.

Mail: ``WSACTIONS_MAILER`` (a Mailer, or ``"console"``), else the SMTP server
of ``WSACTIONS_SMTP_HOST`` (in the background); without either, mails are
printed when debugging or testing, and otherwise the extension refuses to
start (:class:`~wsactions.errors.ConfigurationError`): a printed password
reset link is one anybody who reads the server's output can use.

With Flask-WTF's ``CSRFProtect`` its check runs before any action, whether
it was set up before ``WsActions`` or after it; the pack's forms carry its
token (``wsHostCsrf``). Flask's templates get the same globals as the pack's
(``wsActions``, ``wsAccount``, ``wsPages``, …); :func:`render` renders a
template of your own with the pack's environment (translations included).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote

import flask
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import ActionRegistry, ActionResult, Context, headless
from ..errors import ConfigurationError, StorageUnavailableError
from ..models import Account
from ..pages import PAGES as _PACK_PAGES
from ..protocols import Mailer, Storage
from ..sessions import MappingSession
from ..web import (
    PACK_TEMPLATES,
    STATIC_DIR,
    AccountArea,
    Answer,
    Host,
    RequestCycle,
    WebRequest,
    install_translations,
)

__all__ = [
    "PAGES",
    "WsActions",
    "api",
    "area",
    "context",
    "current_account",
    "cycle",
    "login_required",
    "render",
    "result",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The account area's pages: name -> (path below the prefix, template).
PAGES: dict[str, tuple[str, str]] = {
    name: ("/" + path, template) for name, (path, template) in _PACK_PAGES.items()
}
_EXTENSION = "wsactions"
_API = "wsactions.api"
#: The blueprint of the headless API (``WSACTIONS_API``).
_API_BLUEPRINT = "wsactions_api"
_G_CYCLE = "_wsactions_cycle"
#: On ``flask.g``: wsactions ran Flask-WTF's check itself (CSRFProtect's hook may come later).
_G_HOST_CHECKED = "_wsactions_host_csrf_checked"
#: On ``flask.g``: Flask-WTF's CSRF secret is to be dropped once that hook has run.
_G_RENEW_HOST_CSRF = "_wsactions_renew_host_csrf"


class WsActions:
    """The Flask extension (``WsActions(app)`` or ``ext = WsActions(); ext.init_app(app)``);
    *registry*, *storage* and *mailer* replace what the configuration would make."""

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
        if not config.get("SECRET_KEY"):
            raise ConfigurationError(
                "wsactions needs app.config['SECRET_KEY'] (it signs tokens and links)"
            )
        loaders = [app.jinja_loader] if app.jinja_loader is not None else []
        account_area = AccountArea.from_config(
            lambda key: config.get(f"WSACTIONS_{key}"),
            secret_key=config.get("SECRET_KEY") or "",
            secret_key_fallbacks=config.get("SECRET_KEY_FALLBACKS") or (),
            debug=bool(app.debug or app.testing),
            default_storage=lambda: _instance_storage(app),
            template_loaders=loaders,
            registry=self._registry,
            storage=self._storage,
            mailer=self._mailer,
            key_name=lambda key: f"WSACTIONS_{key}",
        )
        app.extensions[_EXTENSION] = account_area
        install_translations(app.jinja_env)  # your templates may extend the pack's
        prefix = account_area.pages.prefix
        blueprint = flask.Blueprint(
            "wsactions",
            __name__,
            template_folder=str(PACK_TEMPLATES),  # for your templates that extend the pack's
            static_folder=str(STATIC_DIR),
            static_url_path="/static",
            url_prefix=prefix or None,
        )
        for name, (path, _) in account_area.pages.pages.items():
            blueprint.add_url_rule("/" + path, name, _page(name), methods=["GET", "POST"])
        app.register_blueprint(blueprint)
        api = headless.from_config(
            account_area,
            lambda key: config.get(f"WSACTIONS_{key}"),
            key_name=lambda key: f"WSACTIONS_{key}",
        )
        app.extensions[_API] = api
        if api is not None:
            routes = flask.Blueprint(_API_BLUEPRINT, __name__, url_prefix=api.prefix.rstrip("/"))
            routes.add_url_rule(
                "/<path:path>", "api", _api, methods=["GET", "HEAD", "POST", "OPTIONS"]
            )
            app.register_blueprint(routes)
            # The API checks its own CSRF header: Flask-WTF's CSRFProtect (set up before
            # WsActions or after it) exempts its blueprint, before its own hook runs.
            app.before_request_funcs.setdefault(None, []).insert(0, _exempt_api)
        app.before_request(_run_engine)
        app.context_processor(_template_globals)
        app.register_error_handler(StorageUnavailableError, _unavailable)


def _instance_storage(app: flask.Flask) -> Storage:
    """A SQLite file in the instance folder, migrated (the default storage)."""
    from ..backends.sql import SqlStorage, upgrade

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{Path(app.instance_path) / 'wsactions.db'}"
    upgrade(url)
    return SqlStorage(url)


def area() -> AccountArea:
    """The account area of the current application."""
    return cast(AccountArea, flask.current_app.extensions[_EXTENSION])


def cycle() -> RequestCycle:
    """Same as ``area().cycle(...)``, but built from Flask's request and session (once)."""
    found = flask.g.get(_G_CYCLE)
    if found is not None:
        return cast(RequestCycle, found)
    request = flask.request
    web = _web_request(request.form if request.method == "POST" else {})
    host = Host(csrf_field=_host_csrf, render_layout=_render_layout)
    made = area().cycle(web, MappingSession(flask.session, cycle_id=_renew_host_csrf), host)
    setattr(flask.g, _G_CYCLE, made)
    return made


def _web_request(form: Any, body: bytes = b"") -> WebRequest:
    """The cycle's view of the current Flask request, with *form* (and a JSON *body*)."""
    request = flask.request
    here = quote(request.script_root + request.path)
    if request.query_string:
        here += "?" + request.query_string.decode("latin-1")
    return WebRequest(
        method=request.method,
        path=here,
        query=request.args,
        form=form,
        accept=request.headers.get("Accept", ""),
        accept_language=request.headers.get("Accept-Language", ""),
        client_address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        script_root=request.script_root,
        native=request,
        headers=cast(Mapping[str, str], request.headers),  # case-insensitive
        body=body,
    )


def context() -> Context:
    """Same as ``registry.context(...)``, but for the current Flask request (made once)."""
    return cycle().ctx


def result() -> ActionResult | None:
    """The result of the action this request ran, if any."""
    found = flask.g.get(_G_CYCLE)
    return None if found is None else cast(RequestCycle, found).result


def render(template: str, /, **variables: Any) -> str:
    """Same as :meth:`wsactions.web.RequestCycle.render`, for the current request: a
    template of yours (it may extend ``wsactions/base.html``) with the pack's globals and
    translations."""
    _drop_renewed_host_csrf()
    return cycle().render(template, **variables)


def _response(answer: Answer) -> WerkzeugResponse:
    response: WerkzeugResponse
    if answer.location is not None:
        response = flask.redirect(answer.location, answer.status)
    elif answer.json is not None:
        response = flask.jsonify(answer.json)
        response.status_code = answer.status
    elif answer.status == 404:
        flask.abort(404)
    else:
        response = flask.Response(answer.html or "", answer.status, mimetype="text/html")
    response.headers.update(answer.headers)
    return response


def api() -> headless.HeadlessApi | None:
    """The headless API of the current application (``None`` unless ``WSACTIONS_API``)."""
    return cast("headless.HeadlessApi | None", flask.current_app.extensions.get(_API))


def _api(path: str) -> WerkzeugResponse:
    """Every request below the API's prefix: :meth:`wsactions.headless.HeadlessApi.serve`."""
    request = flask.request
    served = api()
    if served is None:  # pragma: no cover - the route exists only with the API
        flask.abort(404)
    form: Any = {}
    body = b""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.form
    else:
        body = request.stream.read(headless.MAX_BODY + 1)
    web = _web_request(form, body)

    def session() -> MappingSession:
        return MappingSession(flask.session, cycle_id=_renew_host_csrf)

    return _response(served.serve(web, path, session))


def _exempt_api() -> None:
    if flask.request.blueprint != _API_BLUEPRINT:
        return
    csrf = flask.current_app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(flask.current_app.blueprints[_API_BLUEPRINT])


def _run_engine() -> WerkzeugResponse | None:
    request = flask.request
    if request.endpoint == "wsactions.static" or request.blueprint == _API_BLUEPRINT:
        return None
    posted = request.method == "POST" and "wsact" in request.form
    if not posted and not (request.method == "GET" and "wsact" in request.args):
        return None
    if posted:
        _host_csrf_check()
    answer = cycle().run()
    return None if answer is None else _response(answer)


def _page(name: str) -> Callable[[], WerkzeugResponse]:
    """The view of one page (a named function: Flask-WTF and others read ``__name__``)."""

    def view() -> WerkzeugResponse:
        _drop_renewed_host_csrf()
        return _response(cycle().page(name))

    view.__name__ = view.__qualname__ = f"wsactions_{name}"
    return view


def _unavailable(error: StorageUnavailableError) -> WerkzeugResponse:
    return _response(cycle().unavailable())


def _render_layout(template: str, variables: Any) -> str:
    return flask.render_template(template, **variables)


def _template_globals() -> dict[str, Any]:
    if _EXTENSION not in flask.current_app.extensions:  # pragma: no cover
        return {}
    _drop_renewed_host_csrf()
    return cycle().globals()


def _drop_renewed_host_csrf() -> None:
    if flask.g.pop(_G_RENEW_HOST_CSRF, False):
        _drop_host_csrf()  # before the page makes Flask-WTF's token


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


def current_account() -> Account | None:
    """Same as :func:`wsactions.current_account`, but for the current Flask request."""
    return cycle().account()


def login_required(view: F) -> F:
    """Let *view* run only for a logged-in customer; others go to the login page (with
    ``next``, when the engine would redirect back there: ``registry.safe_target``)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            current = cycle()
            back = area().registry.safe_target(current.ctx, current.request.path)
            return flask.redirect(flask.url_for("wsactions.login", next=back), 303)
        return view(*args, **kwargs)

    return cast(F, guarded)
