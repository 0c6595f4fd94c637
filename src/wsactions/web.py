"""The request cycle every web adapter shares: configuration, language, dispatch, pages.

A framework adapter (``wsactions.contrib.flask``, ``wsactions.contrib.django``,
or one of your own) only translates: its request into a :class:`WebRequest`,
its session into a :class:`~wsactions.protocols.Session`, and an
:class:`Answer` back into its response. Everything else happens here, once,
for every framework::

    area = AccountArea.from_config(config.get, secret_key=..., debug=...)   # at start
    cycle = area.cycle(web_request, session, host)     # per request
    answer = cycle.run()           # the action a form or link names: 303, JSON, 503 or None
    answer = cycle.page("login")   # a page of the template pack, in the host's layout

The pack's templates are Jinja2 and are rendered here, with the shop's
catalogues (their strings are English message ids, translated through
gettext); a host's own layout (Jinja2 for Flask, Django's template language
for Django) wraps their content. docs/web.md lists the configuration keys and
the variables a layout gets.
"""

from __future__ import annotations

import functools
import importlib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import jinja2
from markupsafe import Markup

from ._context import Context
from ._registry import ActionRegistry
from ._result import ActionResult
from .actions import default_registry
from .errors import ConfigurationError, StorageUnavailableError
from .events import log_event
from .i18n import country_name, gettext, match_locale, negotiate, offered_locales
from .logins import logged_in_account
from .mail import BackgroundMailer, ConsoleMailer, SmtpMailer
from .models import Account, LoginRecord, RequestInfo
from .pages import PageTable
from .protocols import Clock, Mailer, Session, Storage
from .settings import Settings
from .view import TemplateView, json_answer

__all__ = [
    "PACK_TEMPLATES",
    "STATIC_DIR",
    "STATIC_FILES",
    "AccountArea",
    "Answer",
    "Formats",
    "Host",
    "PageLinks",
    "RequestCycle",
    "WebRequest",
    "install_translations",
    "wants_json",
]

_CONTRIB = Path(__file__).resolve().parent / "contrib"
#: The template pack (Jinja2), overridable one file at a time.
PACK_TEMPLATES = _CONTRIB / "templates"
#: The pack's static files, served by the adapters below ``<prefix>/static/``.
STATIC_DIR = _CONTRIB / "static"
#: The files of :data:`STATIC_DIR` that may be served.
STATIC_FILES = frozenset({"wsactions.css", "strength.js", "passkeys.js"})
#: The Jinja template the pages extend when a host layout wraps them (it captures blocks).
_FRAGMENT = "wsactions/_fragment.html"


@attrs.frozen
class WebRequest:
    """A request as the cycle needs it; adapters build one from their framework's.

    *query* and *form* may be multi-value mappings (``getlist``): the engine
    refuses a repeated field. *framework_locale* is the language the
    framework chose, if any (Django's ``LANGUAGE_CODE``); *native* the
    framework's request object, handed to a host's locale selector.
    """

    method: str
    #: The path with the query string (where a form on the page comes back to).
    path: str = "/"
    query: Mapping[str, Any] = attrs.field(factory=dict)
    form: Mapping[str, Any] = attrs.field(factory=dict)
    accept: str = ""
    accept_language: str = ""
    client_address: str = ""
    script_root: str = ""
    framework_locale: str | None = None
    user_agent: str = ""
    native: Any = attrs.field(default=None, eq=False, repr=False)
    #: The request's headers (a case-insensitive mapping: Werkzeug's, Django's); the
    #: headless API reads its own (``X-CSRF-Token``, ``X-Session-Token``, ``Origin``).
    headers: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)
    #: The raw body of a request that is not a form (a JSON body for the headless API),
    #: read by the adapter up to :data:`wsactions.headless.MAX_BODY` + 1 bytes.
    body: bytes = attrs.field(default=b"", eq=False, repr=False)


@attrs.frozen
class Host:
    """What the framework adds to one request: its CSRF form field, and how it renders
    the shop's layout (``render_layout(template, variables) -> html``)."""

    csrf_field: Callable[[], tuple[str, str] | None] = lambda: None
    render_layout: Callable[[str, Mapping[str, Any]], str] | None = None


@attrs.frozen
class Answer:
    """What an adapter sends back: a page (*html*), *json*, or a redirect to *location*;
    *headers* are added to the response (the headless API's CORS and ``Allow``)."""

    status: int
    html: str | None = None
    json: Mapping[str, Any] | None = None
    location: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


def wants_json(accept: str) -> bool:
    """Whether an ``Accept`` header prefers JSON to HTML (a tie is HTML). Bounded: at most
    2,000 characters and 20 entries are read."""
    best = {"application/json": -1.0, "text/html": -1.0}
    rank = {"application/json": -1, "text/html": -1}  # how specific the deciding entry was
    for part in accept[:2000].split(",")[:20]:
        kind, _, params = part.strip().lower().partition(";")
        kind = kind.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value[:5])
                except ValueError:
                    quality = 0.0
        for wanted in best:
            major = wanted.split("/")[0]
            level = {wanted: 2, f"{major}/*": 1, "*/*": 0}.get(kind, -1)
            if level > rank[wanted]:
                rank[wanted], best[wanted] = level, quality
    return best["application/json"] > max(best["text/html"], 0.0)


def _load(value: Any) -> Any:
    """*value*, or the object a dotted path ``module.attribute`` names."""
    if not isinstance(value, str):
        return value
    module, _, name = value.rpartition(".")
    if not module:
        raise ConfigurationError(f"{value!r} is not a dotted path to an object")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"cannot import {value!r}: {error}") from error


def _made(value: Any, method: str) -> Any:
    """*value* itself when it has *method*, else what calling it (a class, a factory) makes."""
    if isinstance(value, type) or (callable(value) and not hasattr(value, method)):
        return value()
    return value


class AccountArea:
    """The account area of one shop: engine, storage, mailer, pages, layout, language.

    Adapters build one per application, usually with :meth:`from_config`.
    *layout* names the host's layout template, rendered by the adapter's
    ``Host.render_layout`` with the page's parts (``None``: the pack's own
    ``wsactions/base.html``). *locale_selector* is a host hook: given the
    framework's request, the language to show (or ``None`` to let the shop's
    rules decide). *template_loaders* are searched for pack templates before
    the pack itself (a host overrides one file by giving one of the same name).
    *template_cache* keeps the compiled templates between worker starts (Jinja's
    bytecode cache; :meth:`from_config` makes one unless ``TEMPLATE_CACHE`` is false).
    *clock* is the clock of every request (``None``: the system's; tests pass a fake one).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        mailer: Mailer,
        registry: ActionRegistry | None = None,
        pages: PageTable | None = None,
        layout: str | None = None,
        locale_selector: Callable[[Any], str | None] | None = None,
        template_loaders: Iterable[jinja2.BaseLoader] = (),
        template_cache: jinja2.BytecodeCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        registry = registry or default_registry(settings)
        registry.settings = settings
        if registry.event_sink is None:
            registry.event_sink = log_event
        self.settings = settings
        self.registry = registry
        self.storage = storage
        self.mailer = mailer
        self.pages = pages or PageTable()
        self.layout = layout
        self.locale_selector = locale_selector
        self.templates = _environment(tuple(template_loaders), template_cache)
        #: The clock of every request's context (``None``: the system's); a test may set a
        #: :class:`wsactions.testing.FakeClock` here to move a shop through time.
        self.clock = clock

    @classmethod
    def from_config(
        cls,
        get: Callable[[str], Any],
        *,
        secret_key: str | bytes,
        secret_key_fallbacks: Iterable[str | bytes] = (),
        debug: bool = False,
        default_storage: Callable[[], Storage],
        framework_mailer: Callable[[], Mailer] | None = None,
        template_loaders: Iterable[jinja2.BaseLoader] = (),
        registry: ActionRegistry | None = None,
        storage: Storage | None = None,
        mailer: Mailer | None = None,
        key_name: Callable[[str], str] = str,
    ) -> AccountArea:
        """The area a host's configuration describes; ``get(key)`` reads one key (``None``
        when unset): Flask's ``app.config["WSACTIONS_<key>"]``, Django's
        ``WSACTIONS[<key>]``. Raises :class:`ConfigurationError` saying what to fix.

        Keys: ``BASE_URL``, ``SHOP_NAME``, ``URL_PREFIX``, ``SETTINGS`` (further
        :class:`Settings` arguments), ``PAGES`` (the page groups offered),
        ``PATHS`` (page paths of the shop's own), ``LAYOUT``, ``LOCALE_SELECTOR``,
        ``STORAGE`` / ``STORAGE_URL`` / ``AUTO_MIGRATE``, ``MAILER`` (a Mailer, a
        factory, a dotted path, or ``"console"``), ``SMTP_HOST`` / ``_PORT`` /
        ``_USER`` / ``_PASSWORD`` / ``_FROM``, ``REGISTRY``, ``TEMPLATE_CACHE`` (a
        directory for the compiled templates; unset: Jinja's own per-user directory
        under the temporary directory, which it creates with mode 0700 and refuses if
        another user owns it; false: none). *key_name* spells a key as the host's
        configuration does, for error messages.
        """
        settings, pages = cls.read_config(
            get, secret_key=secret_key, secret_key_fallbacks=secret_key_fallbacks, key_name=key_name
        )
        chosen_registry = registry or _load(get("REGISTRY"))
        if chosen_registry is not None and not isinstance(chosen_registry, ActionRegistry):
            chosen_registry = chosen_registry(settings)
        selector = _load(get("LOCALE_SELECTOR"))
        return cls(
            settings=settings,
            storage=storage or _storage(get, default_storage),
            mailer=mailer
            or _mailer(get, debug=debug, framework_mailer=framework_mailer, key_name=key_name),
            registry=chosen_registry,
            pages=pages,
            layout=get("LAYOUT"),
            locale_selector=selector,
            template_loaders=template_loaders,
            template_cache=_template_cache(get("TEMPLATE_CACHE"), key_name),
        )

    @staticmethod
    def read_config(
        get: Callable[[str], Any],
        *,
        secret_key: str | bytes,
        secret_key_fallbacks: Iterable[str | bytes] = (),
        key_name: Callable[[str], str] = str,
    ) -> tuple[Settings, PageTable]:
        """The :class:`Settings` and the page table a configuration describes, without
        making a storage or a mailer (what a configuration check needs)."""
        if not secret_key:
            raise ConfigurationError("a secret key is needed: it signs tokens and links")
        pages = PageTable(
            str(get("URL_PREFIX") or "/account"),
            groups=get("PAGES"),
            paths=get("PATHS"),
        )
        values: dict[str, Any] = {
            "secret_key": secret_key,
            "secret_key_fallbacks": tuple(secret_key_fallbacks),
            "base_url": get("BASE_URL"),
            "shop_name": get("SHOP_NAME") or "",
            "optin_paths": pages.optin_paths(),
        }
        extra = get("SETTINGS") or {}
        if not isinstance(extra, Mapping):
            raise ConfigurationError(
                f"{key_name('SETTINGS')} must be a dict of wsactions.Settings arguments"
            )
        values.update(extra)
        try:
            return Settings(**values), pages
        except TypeError as error:  # an unknown Settings argument
            raise ConfigurationError(f"{key_name('SETTINGS')}: {error}") from error

    def cycle(
        self, request: WebRequest, session: Session, host: Host | None = None
    ) -> RequestCycle:
        """The cycle of one request."""
        return RequestCycle(self, request, session, host or Host())

    def choose_locale(self, request: WebRequest, session: Session) -> str:
        """The language of one request: the host's selector, else the only language the
        shop offers, else the one this browser chose (the language switcher), else the
        framework's choice, else the browser's Accept-Language, else the default."""
        settings = self.settings
        if self.locale_selector is not None:
            chosen = match_locale(settings, self.locale_selector(request.native))
            if chosen is not None:
                return chosen
        offered = offered_locales(settings)
        if len(offered) == 1:
            return offered[0]
        chosen = match_locale(settings, session.locale, request.framework_locale)
        return chosen or negotiate(settings, request.accept_language)


def _storage(get: Callable[[str], Any], default: Callable[[], Storage]) -> Storage:
    chosen = _load(get("STORAGE"))
    if chosen is not None:
        return _made(chosen, "transaction")  # type: ignore[no-any-return]
    url = get("STORAGE_URL")
    if url is None:
        return default()
    from .backends.sql import SqlStorage, upgrade

    if get("AUTO_MIGRATE"):
        upgrade(str(url))
    return SqlStorage(str(url))


def _mailer(
    get: Callable[[str], Any],
    *,
    debug: bool,
    framework_mailer: Callable[[], Mailer] | None,
    key_name: Callable[[str], str],
) -> Mailer:
    """``MAILER``, else SMTP at ``SMTP_HOST`` (in the background), else the framework's own
    (Django's email backend), else the console when debugging; else a ConfigurationError:
    printed mails would put password reset links into the server's output."""
    chosen = get("MAILER")
    if chosen == "console":
        return ConsoleMailer()
    if chosen is not None:
        if isinstance(chosen, str) and "." not in chosen:
            raise ConfigurationError(
                f'{key_name("MAILER")} must be a Mailer, a dotted path to one, or "console"'
            )
        mailer = _made(_load(chosen), "send")
        if not callable(getattr(mailer, "send", None)):
            kind = type(mailer).__name__  # not the value: it may hold a password
            raise ConfigurationError(
                f'{key_name("MAILER")} must be a Mailer (with send(mail)) or "console", '
                f"not a {kind}"
            )
        return mailer  # type: ignore[no-any-return]
    host = get("SMTP_HOST")
    if host:
        return BackgroundMailer(_smtp(get, str(host)))
    if framework_mailer is not None:
        return framework_mailer()
    if debug:
        return ConsoleMailer()
    smtp = ", ".join(key_name(k) for k in ("SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM"))
    raise ConfigurationError(
        "wsactions has no mailer, and printing mails would put password reset links into "
        f"the server's output: set {key_name('SMTP_HOST')} (with {smtp}) or "
        f'{key_name("MAILER")} to a Mailer. {key_name("MAILER")} = "console" prints them '
        "(development only); so does debug or testing mode, when set before the account "
        "area starts"
    )


def _smtp(get: Callable[[str], Any], host: str) -> SmtpMailer:
    def connect() -> Any:
        import smtplib

        smtp = smtplib.SMTP(host, int(get("SMTP_PORT") or 587), timeout=30)
        smtp.starttls()
        user = get("SMTP_USER")
        if user:
            smtp.login(user, get("SMTP_PASSWORD") or "")
        return smtp

    return SmtpMailer(sender=str(get("SMTP_FROM") or f"no-reply@{host}"), connect=connect)


class RequestCycle:
    """One request: its context, the action it ran, its language and its pages."""

    def __init__(self, area: AccountArea, request: WebRequest, session: Session, host: Host):
        self.area = area
        self.request = request
        self.host = host
        self.locale = area.choose_locale(request, session)
        optin = _single(request.query, "wsoptin")
        if not optin and request.method == "POST":
            optin = _single(request.form, "wsoptin")
        self.ctx: Context = area.registry.context(
            session=session,
            storage=area.storage,
            mailer=area.mailer,
            clock=area.clock,
            request=RequestInfo(
                client_address=request.client_address,
                user_agent=request.user_agent,
                optin_token=optin or None,
                locale=self.locale,
            ),
        )
        self.result: ActionResult | None = None
        self._view: TemplateView | None = None
        self._account: tuple[tuple[Any, ...], Account | None] | None = None

    def account(self, *, found: tuple[LoginRecord, Account | None] | None = None) -> Account | None:
        """The logged-in customer's account (:func:`wsactions.logins.logged_in_account`),
        read once for this request and again after any action ran. *found*: the login
        and account the caller read already for this session (checked, not read again)."""
        session = self.ctx.session
        key = (self.area.registry.generation, session.account_id, session.login_secret)
        if found is not None:
            self._account = None
        if self._account is None or self._account[0] != key:
            checked = (
                logged_in_account(self.ctx)
                if found is None
                else logged_in_account(self.ctx, found=found)
            )
            key = (self.area.registry.generation, session.account_id, session.login_secret)
            self._account = (key, checked)
        return self._account[1]

    # the action ------------------------------------------------------------------------
    def run(self) -> Answer | None:
        """Run the action a posted form or a followed link names; the answer to send
        (a 303 to the validated target, JSON, a 503), or ``None``: show the page."""
        request = self.request
        if request.method == "POST" and "wsact" in request.form:
            form, follow = request.form, False
        elif request.method == "GET" and "wsact" in request.query:
            form, follow = request.query, True
        else:
            return None
        try:
            ran = self.execute(form, follow=follow)
        except StorageUnavailableError:
            return self.unavailable()
        if ran is None:
            return None
        spec = self.area.registry.get(ran.name)
        if wants_json(request.accept) or (spec is not None and spec.trigger == "ajax"):
            return Answer(200, json=json_answer(self.ctx, ran))
        if ran.redirect:
            return Answer(303, location=ran.redirect)
        return None

    def execute(self, form: Mapping[str, Any], *, follow: bool = False) -> ActionResult | None:
        """Run the action *form* names (a followed link's query when *follow*), keep its
        result (:attr:`result`) and the language it chose; what :meth:`run` and the
        headless API share. Raises :class:`StorageUnavailableError` when the database is
        down."""
        registry = self.area.registry
        ran = registry.follow(self.ctx, form) if follow else registry.execute(self.ctx, form)
        self.result, self._view = ran, None
        if ran is not None and ran.success and ran.name == "LanguageUpdate":
            self._set_locale(self.area.choose_locale(self.request, self.ctx.session))
        return ran

    def _set_locale(self, locale: str) -> None:
        self.locale = locale
        self.ctx = attrs.evolve(self.ctx, request=attrs.evolve(self.ctx.request, locale=locale))

    def unavailable(self) -> Answer:
        """The 503 answer when the database is down: a translated page, or JSON."""
        if wants_json(self.request.accept):
            text = gettext(self.area.settings, self.locale, UNAVAILABLE)
            error: dict[str, Any] = {
                "code": "storageUnavailable",
                "field": None,
                "subcodes": [],
                "message": text,
            }
            return Answer(503, json={"name": "", "success": False, "errors": [error]})
        variables = {"wsLocale": self.locale, "wsShopName": self.area.settings.shop_name}
        return Answer(503, html=self._render("wsactions/unavailable.html", variables))

    # templates -------------------------------------------------------------------------
    @property
    def view(self) -> TemplateView:
        """The template view of this request (made once, after the action ran)."""
        if self._view is None:
            self._view = TemplateView(
                self.area.registry, self.ctx, self.result, account=self.account
            )
        return self._view

    def globals(self) -> dict[str, Any]:
        """The template globals of this request, for the pack's templates and the host's."""
        settings = self.area.settings
        return {
            **self.view.globals(),
            "wsPages": PageLinks(self.area.pages, self.request.script_root),
            "wsHostCsrf": self.host.csrf_field,
            "wsLocale": self.locale,
            "wsLocales": _locale_names(offered_locales(settings)),
            "wsShopName": settings.shop_name,
            "wsRequest": self.request,
            "wsFormat": Formats(settings, self.locale),
            "_wsa_gettext": functools.partial(gettext, settings, self.locale),
        }

    def page(self, name: str) -> Answer:
        """Page *name* of the pack (404 for one the shop does not offer; 503 when the
        database is down), in the host's layout if it has one."""
        if name not in self.area.pages:
            return Answer(404, html="")
        try:
            html = self.render(self.area.pages.pages[name][1], active_page=name)
        except StorageUnavailableError:
            return self.unavailable()
        return Answer(200, html=html)

    def render(self, template: str, /, **variables: Any) -> str:
        """A whole page from *template* (any template the pack's loaders find, the host's
        own included) with this request's globals, in the host's layout if it has one."""
        area = self.area
        values = {**self.globals(), **variables}
        if area.layout is None or self.host.render_layout is None:
            return self._render(template, values)
        parts: dict[str, Any] = {}
        self._render(template, {**values, "wsBase": _FRAGMENT, "wsCapture": parts})
        values.update(
            active_page=parts.get("active_page", ""),
            needs_strength=parts.get("needs_strength", False),
        )
        empty = Markup("")
        layout = {
            **self.globals(),
            "wsLang": self.locale,
            "wsTitle": parts.get("title", empty),
            "wsContent": parts.get("content", empty),
            "wsHead": self._markup("wsactions/_head.html", values) + parts.get("head", empty),
            "wsNav": self._markup("wsactions/_nav.html", values),
            "wsScripts": self._markup("wsactions/_scripts.html", values)
            + parts.get("scripts", empty),
        }
        return self.host.render_layout(area.layout, layout)

    def render_string(self, source: str, /, **variables: Any) -> str:
        """Like :meth:`render`, for a template given as text (it may extend the pack's)."""
        values = {**self.globals(), **variables}
        return self._render(self.area.templates.from_string(source), values)

    def _markup(self, template: str, values: Mapping[str, Any]) -> Markup:
        # What an autoescaping template rendered is markup already: safe to insert as is.
        return Markup(self._render(template, values))  # noqa: S704

    def _render(self, template: str | jinja2.Template, values: Mapping[str, Any]) -> str:
        found = (
            self.area.templates.get_template(template) if isinstance(template, str) else template
        )
        if "_wsa_gettext" not in values:  # pages without the globals (503)
            locale = str(values.get("wsLocale") or self.locale)
            translate = functools.partial(gettext, self.area.settings, locale)
            values = {**values, "_wsa_gettext": translate}
        return found.render(values)


UNAVAILABLE = "The shop cannot be reached right now. Please try again in a few minutes."


def _single(values: Mapping[str, Any], key: str) -> str | None:
    """One text value of *key* in a (multi-value) mapping, or ``None``."""
    getlist = getattr(values, "getlist", None)
    found = getlist(key) if callable(getlist) else values.get(key)
    if isinstance(found, list | tuple):
        found = found[0] if len(found) == 1 else None
    return found if isinstance(found, str) else None


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    translate = context.get("_wsa_gettext")
    return str(translate(message)) if translate is not None else message


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, count: int) -> str:
    # English and German (the shipped languages) share the rule "one, else other".
    return str(_gettext(context, singular if count == 1 else plural))


def install_translations(env: jinja2.Environment) -> None:
    """Give a Jinja environment the i18n extension (``{% trans %}``, ``_()``) translating
    through the catalogues of the request a template is rendered for (its globals carry
    them); an environment that has the extension already (Flask-Babel) is left alone."""
    if "jinja2.ext.InternationalizationExtension" in env.extensions:
        return
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def _template_cache(value: Any, key_name: Callable[[str], str]) -> jinja2.BytecodeCache | None:
    """The bytecode cache ``TEMPLATE_CACHE`` asks for: compiling the pack's templates is
    most of a new worker's first answer (about 0.1 s), loading them compiled a few ms."""
    if value is not None and not value:
        return None
    if value is not None and not isinstance(value, str | Path):
        raise ConfigurationError(f"{key_name('TEMPLATE_CACHE')} must be a directory or False")
    try:
        return jinja2.FileSystemBytecodeCache(None if value is None else str(value))
    except (OSError, RuntimeError):  # no usable temporary directory: compile every start
        if value is not None:
            raise
        return None


def _environment(
    loaders: tuple[jinja2.BaseLoader, ...], cache: jinja2.BytecodeCache | None = None
) -> jinja2.Environment:
    """The pack's Jinja environment: the host's loaders first, then the pack's templates."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(PACK_TEMPLATES)]),
        autoescape=True,
        bytecode_cache=cache,
    )
    install_translations(env)
    return env


class PageLinks:
    """``wsPages``: ``wsPages.login`` is the URL of the login page; ``wsPages.offers("cards")``
    whether the shop serves that page; ``wsPages.static("wsactions.css")`` a static file."""

    __slots__ = ("_root", "_table")

    def __init__(self, table: PageTable, script_root: str = "") -> None:
        self._table = table
        self._root = script_root.rstrip("/")

    def __getattr__(self, name: str) -> str:
        if name.startswith("_") or name not in self._table:
            raise AttributeError(name)
        return self._root + self._table.url(name)

    def offers(self, name: str) -> bool:
        """Whether the shop serves page *name*."""
        return name in self._table

    @property
    def offered(self) -> frozenset[str]:
        """The names of the pages the shop serves (``{% if "cards" in wsPages.offered %}``)."""
        return frozenset(self._table.pages)

    def static(self, filename: str) -> str:
        """The URL of a file of the pack's static folder."""
        if filename not in STATIC_FILES:
            raise ValueError(f"the template pack has no static file {filename!r}")
        return f"{self._root}{self._table.prefix}/static/{filename}"


#: The shipped languages' names in themselves (CLDR's), so that a page in one of them
#: loads no locale data of Babel's for the switcher.
_SHIPPED_NAMES = {"en": "English", "de": "Deutsch"}


@functools.lru_cache(maxsize=64)
def _locale_names(tags: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(tag, name of the language in itself)`` for the language switcher."""
    names = []
    for tag in tags:
        name = _SHIPPED_NAMES.get(tag)
        if name is None:
            from babel import Locale, UnknownLocaleError

            try:
                name = Locale.parse(tag).get_display_name(tag) or tag
            except (UnknownLocaleError, ValueError):
                name = tag
        names.append((tag, name[:1].upper() + name[1:]))
    return tuple(names)


class Formats:
    """``wsFormat``: dates, amounts and country names in the page's language (Babel's
    CLDR data), times in the shop's time zone, amounts in the shop's currency."""

    __slots__ = ("_locale", "_settings")

    def __init__(self, settings: Settings, locale: str) -> None:
        self._settings = settings
        self._locale = locale

    def _moment(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, ZoneInfo(self._settings.timezone))

    def datetime(self, seconds: float) -> str:
        """A moment (seconds since the epoch) as a date and time, e.g. ``07.12.2026, 17:41``."""
        from babel.dates import format_datetime

        return str(format_datetime(self._moment(seconds), "medium", locale=self._locale))

    def date(self, seconds: float) -> str:
        """A moment as a date, e.g. ``07.12.2026``."""
        from babel.dates import format_date

        return str(format_date(self._moment(seconds), "medium", locale=self._locale))

    def iso(self, seconds: float) -> str:
        """A moment for ``<time datetime="…">`` (ISO 8601 with the shop's offset)."""
        return self._moment(seconds).isoformat(timespec="minutes")

    def money(self, amount: Decimal | int | str) -> str:
        """An amount in the shop's currency, e.g. ``1.234,50 €``."""
        from babel.numbers import format_currency

        return str(format_currency(Decimal(amount), self._settings.currency, locale=self._locale))

    def country(self, code: str) -> str:
        """The name of country *code* in the page's language."""
        return country_name(self._settings, self._locale, code)

    def countries(self) -> list[tuple[str, str]]:
        """``(code, name)`` of every country the address rules know, sorted by name for
        the page's language (accents and case aside)."""
        named = [(code, self.country(code)) for code in self._settings.address_rules.countries]
        return sorted(named, key=lambda item: _sort_key(item[1]))


def _sort_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
