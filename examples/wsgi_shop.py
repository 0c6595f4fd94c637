"""A tiny shop on the standard library's WSGI server: login, logout, session variables.

Run it with ``python examples/wsgi_shop.py`` (needs Jinja2: ``pip install jinja2``)
and open http://127.0.0.1:8000/. It shows the whole integration: one context per
request, ``execute`` for posted forms, ``follow`` for links, the redirect after
success, and the template globals. Sessions live in a dict keyed by a cookie;
a real host uses its framework's session instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

import jinja2

import wsactions
from wsactions.backends.memory import MemoryStorage

PAGE = jinja2.Template(
    """<!doctype html><title>wsactions demo</title>
{% if wsAccount.isLoggedIn %}
  <p>Hello {{ wsAccount.email }}.
     <a href="{{ wsActions.url('Logout', '/') }}">Log out</a></p>
{% else %}
  {% set login = wsActions.create("Login") %}
  <form method="post">
    <input type="hidden" name="wsact" value="{{ login.id }}">
    <input type="hidden" name="wscsrf" value="{{ login.csrf }}">
    {% if login.error %}<p>Login failed: {{ login.codes|join(", ") }}</p>{% endif %}
    <input name="id" value="{{ login.params.id }}"> <input type="password" name="password">
    <button>Log in</button>
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
)
registry = wsactions.default_registry(settings)
registry.event_sink = wsactions.log_event
storage = MemoryStorage()
mailer = wsactions.ConsoleMailer()
sessions: dict[str, dict[str, Any]] = {}


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(min(size, 1_000_000)).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    """One request: build the context, run the action, redirect or render."""
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    sid = cookie["sid"].value if "sid" in cookie and cookie["sid"].value in sessions else None
    if sid is None:
        sid = secrets.token_urlsafe(24)
        sessions[sid] = {}
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    ctx = registry.context(
        session=wsactions.MappingSession(sessions[sid]),
        storage=storage,
        mailer=mailer,
        request=wsactions.RequestInfo(
            client_address=environ.get("REMOTE_ADDR", ""),  # no proxy in front of this demo
            optin_token=(query.get("wsoptin") or [None])[0],
        ),
    )
    if environ["REQUEST_METHOD"] == "POST":
        result = registry.execute(ctx, _form(environ))
    else:
        result = registry.follow(ctx, query)
    headers = [("Set-Cookie", f"sid={sid}; HttpOnly; SameSite=Lax; Path=/")]
    if result is not None and result.redirect:
        start("303 See Other", [*headers, ("Location", result.redirect)])
        return [b""]
    view = wsactions.TemplateView(registry, ctx, result)
    start("200 OK", [*headers, ("Content-Type", "text/html; charset=utf-8")])
    return [PAGE.render(**view.globals()).encode()]


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
