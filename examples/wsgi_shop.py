"""A tiny shop on the standard library's WSGI server: register, confirm, log in, log out, notes.

Run it with ``python examples/wsgi_shop.py`` (needs Jinja2: ``pip install jinja2``)
and open http://127.0.0.1:8000/. It shows the whole integration: one context per
request, ``execute`` for posted forms, ``follow`` for links (Logout, the
confirmation link in the registration mail), the redirect after success, and
the template globals.

Sessions live in memory, keyed by a random cookie id. What makes them safe to
copy: the id changes at every login and logout (``cycle_id``), an id the server
does not know is never adopted, a session is stored only once it holds
something, idle sessions expire and their number is capped. A real host uses
its framework's server-side session and passes its id rotation as ``cycle_id``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

import jinja2

import wsactions
from wsactions.backends.memory import MemoryStorage

PAGE = jinja2.Template(
    """<!doctype html><title>wsactions demo</title>
{% set current = wsActions.current %}
{% if current.name == "EmailVerify" %}
  <p>{{ "Email address confirmed." if current.success else "This link is no longer valid." }}</p>
{% endif %}
{% if wsAccount.isLoggedIn %}
  <p>Hello {{ wsAccount.email }}.
     <a href="{{ wsActions.url('Logout', '/') }}">Log out</a></p>
{% else %}
  {% set login = wsActions.create("Login") %}
  <form method="post">
    <input type="hidden" name="wsact" value="{{ login.id }}">
    <input type="hidden" name="wscsrf" value="{{ login.csrf }}">
    <input type="hidden" name="wstarget" value="/">
    {% if login.error %}<p>Login failed: {{ login.codes|join(", ") }}</p>{% endif %}
    <input name="id" value="{{ login.params.id }}"> <input type="password" name="password">
    <button>Log in</button>
  </form>
  {% set register = wsActions.create("AccountRegister") %}
  <form method="post">
    <input type="hidden" name="wsact" value="{{ register.id }}">
    <input type="hidden" name="wscsrf" value="{{ register.csrf }}">
    {% if register.success %}<p>Check your mail for the confirmation link.</p>{% endif %}
    {% if register.error %}<p>Registration failed: {{ register.codes|join(", ") }}</p>{% endif %}
    <input name="email" value="{{ register.params.email }}"> <input type="password" name="password">
    <input type="password" name="passwordRepeat"> <button>Register</button>
  </form>
{% endif %}
{% set note = wsActions.create("SessionUpdate") %}
<form method="post">
  <input type="hidden" name="wsact" value="{{ note.id }}">
  <input type="hidden" name="wscsrf" value="{{ note.csrf }}">
  <input type="hidden" name="wstarget" value="/">
  <input name="session.note" value="{{ wsSession.get('note') or '' }}"> <button>Save note</button>
</form>
""",
    autoescape=True,
)

settings = wsactions.Settings(
    secret_key=secrets.token_urlsafe(48),  # a real shop loads a fixed key from its config
    base_url="http://127.0.0.1:8000",
    # what a form may store in a session: the note, up to 200 characters
    session=wsactions.SessionLimits(writable_keys={"note"}, max_value_length=200),
)
registry = wsactions.default_registry(settings)
registry.event_sink = wsactions.log_event
storage = MemoryStorage()
mailer = wsactions.ConsoleMailer()

SESSION_COOKIE = "sid"
SECURE_COOKIES = settings.base_url is not None and settings.base_url.startswith("https:")
SESSION_IDLE_SECONDS = 30 * 60  # a session unused this long is forgotten
MAX_SESSIONS = 10_000  # beyond this, the least recently used sessions are forgotten
MAX_BODY_BYTES = 1024 * 1024  # a larger posted form answers 413
clock: Callable[[], float] = time.monotonic

#: session id -> (last use, data), from the least to the most recently used
sessions: dict[str, tuple[float, dict[str, Any]]] = {}
_sessions_lock = threading.Lock()


class RequestSession:
    """One request's session: its data, and its id, which :meth:`cycle_id` replaces.

    A cookie id the server does not know (made up, expired, rotated away) is
    never adopted: the request starts with empty data and, if anything gets
    stored, a new random id.
    """

    def __init__(self, cookie_id: str | None) -> None:
        self.cookie_id = cookie_id
        with _sessions_lock:
            now = clock()
            while sessions:  # expire idle sessions; the least recently used come first
                oldest = next(iter(sessions))
                if sessions[oldest][0] > now - SESSION_IDLE_SECONDS:
                    break
                del sessions[oldest]
            stored = sessions.get(cookie_id) if cookie_id else None
        self.id = cookie_id if stored else None
        # a copy: a parallel request that rotates the id never hands this one its login
        self.data: dict[str, Any] = dict(stored[1]) if stored else {}

    def cycle_id(self) -> None:
        """Move the data to a fresh id (wsactions calls this at login, logout, rights change)."""
        with _sessions_lock:
            if self.id is not None:
                sessions.pop(self.id, None)
        self.id = secrets.token_urlsafe(32)

    def save(self) -> list[tuple[str, str]]:
        """Store the session if it holds anything; the Set-Cookie header if its id changed."""
        with _sessions_lock:
            # the cookie's id is gone if a parallel request rotated it, or it expired: keep it gone
            gone = self.id is not None and self.id == self.cookie_id and self.id not in sessions
            if self.id is not None:
                sessions.pop(self.id, None)  # re-inserted last: the most recently used
            if gone or not self.data:
                self.id = None
            else:
                self.id = self.id or secrets.token_urlsafe(32)
                sessions[self.id] = (clock(), self.data)
                while len(sessions) > MAX_SESSIONS:
                    del sessions[next(iter(sessions))]
        if self.id == self.cookie_id:
            return []
        attributes = "HttpOnly; SameSite=Lax; Path=/" + ("; Secure" if SECURE_COOKIES else "")
        if self.id is None:
            return [("Set-Cookie", f"{SESSION_COOKIE}=; Max-Age=0; {attributes}")]
        return [("Set-Cookie", f"{SESSION_COOKIE}={self.id}; {attributes}")]


def _cookie_id(environ: dict[str, Any]) -> str | None:
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value or None
    return None


class HTTPError(Exception):
    """A request refused before it reaches the engine; the argument is the status line."""


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HTTPError("400 Bad Request") from None
    if size < 0:
        raise HTTPError("400 Bad Request")
    if size > MAX_BODY_BYTES:
        raise HTTPError("413 Content Too Large")
    body = environ["wsgi.input"].read(size).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    """One request: build the context, run the action, redirect or render."""
    method = environ["REQUEST_METHOD"]
    try:
        if method not in ("GET", "HEAD", "POST"):
            raise HTTPError("405 Method Not Allowed")
        form = _form(environ) if method == "POST" else None
    except HTTPError as error:
        start(error.args[0], [("Content-Type", "text/plain; charset=utf-8")])
        return [error.args[0].encode()]
    session = RequestSession(_cookie_id(environ))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    ctx = registry.context(
        session=wsactions.MappingSession(session.data, cycle_id=session.cycle_id),
        storage=storage,
        mailer=mailer,
        request=wsactions.RequestInfo(
            client_address=environ.get("REMOTE_ADDR", ""),  # no proxy in front of this demo
            optin_token=(query.get("wsoptin") or [None])[0],
        ),
    )
    # a posted form runs its action; a GET runs the action of a link (Logout, opt-in links)
    result = registry.execute(ctx, form) if form is not None else registry.follow(ctx, query)
    if result is not None and result.redirect:  # post/redirect/get
        start("303 See Other", [("Location", result.redirect), *session.save()])
        return [b""]
    view = wsactions.TemplateView(registry, ctx, result)
    page = PAGE.render(**view.globals()).encode()  # rendering may rotate the id: save after it
    start("200 OK", [("Content-Type", "text/html; charset=utf-8"), *session.save()])
    return [page]


def register_demo_account(email: str, password: str) -> wsactions.ActionResult:
    """Register an account through the engine, as a registration form would."""
    ctx = registry.context(session=wsactions.MappingSession({}), storage=storage, mailer=mailer)
    handle = registry.create(ctx, "AccountRegister")
    form = {"wsact": handle.id, "wscsrf": handle.csrf, "email": email}
    return registry.execute(ctx, {**form, "password": password, "passwordRepeat": password})


def main() -> None:
    """Create a demo account and serve on 127.0.0.1:8000."""
    register_demo_account("demo@example.com", "correct horse battery staple 42")
    print("log in as demo@example.com / correct horse battery staple 42")
    with make_server("127.0.0.1", 8000, app) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
