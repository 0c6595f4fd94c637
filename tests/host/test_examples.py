"""The WSGI example shop and the README's integration snippet are safe to copy."""

from __future__ import annotations

import http.client
import importlib.util
import io
import re
import secrets
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import attrs
import pytest

from helpers import PW
from wsactions import TESTING_HASHING

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "wsgi_shop.py"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example module, freshly imported, with cheap hashing, silent mail and a fake clock."""
    spec = importlib.util.spec_from_file_location("wsgi_shop", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "wsgi_shop", module)
    spec.loader.exec_module(module)
    module.settings = attrs.evolve(module.settings, password_hashing=TESTING_HASHING)
    module.registry.settings = module.settings
    module.registry.event_sink = None
    module.mailer.stream = io.StringIO()
    now = [1000.0]
    module.clock = lambda: now[0]
    module.advance = lambda seconds: now.__setitem__(0, now[0] + seconds)
    return module


class Browser:
    """Calls the WSGI app like a browser that keeps the session cookie."""

    def __init__(self, app: Any, sid: str | None = None) -> None:
        self.app = app
        self.sid = sid

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        content_length: str | None = None,
    ) -> tuple[str, dict[str, str], str]:
        body = urlencode(form or {}).encode()
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_COOKIE": f"other=1; sid={self.sid}" if self.sid else "",
            "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
        }
        seen: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]]) -> None:
            seen["status"], seen["headers"] = status, dict(headers)

        page = b"".join(self.app(environ, start)).decode()
        cookie = seen["headers"].get("Set-Cookie")
        if cookie is not None:
            value = cookie.split(";")[0].removeprefix("sid=")
            self.sid = None if "Max-Age=0" in cookie else value
        return seen["status"], seen["headers"], page

    def get(self, path: str = "/") -> str:
        """The page at *path* (following one redirect)."""
        status, headers, page = self.request("GET", path)
        if status.startswith("303"):
            status, _, page = self.request("GET", headers["Location"])
        assert status == "200 OK"
        return page

    def submit(self, page: str, action: str, **fields: str) -> tuple[str, dict[str, str], str]:
        """Fill in and post the form of *action* on *page*."""
        return self.request("POST", "/", {**_hidden(page, action), **fields})


def _hidden(page: str, action: str) -> dict[str, str]:
    for form in re.findall(r"<form.*?</form>", page, re.S):
        hidden = dict(re.findall(r'name="(ws\w+)" value="([^"]*)"', form))
        if hidden.get("wsact") == action:
            return hidden
    raise AssertionError(f"no {action} form on the page")


def _logout_link(page: str) -> str:
    link = re.search(r'href="([^"]*wsact=Logout[^"]*)"', page)
    assert link is not None
    return link.group(1).replace("&amp;", "&")


def _log_in(browser: Browser, email: str = "demo@example.com") -> None:
    status, headers, _ = browser.submit(browser.get(), "Login", id=email, password=PW)
    assert (status, headers["Location"]) == ("303 See Other", "/")


def test_example_login_note_and_logout(example: ModuleType) -> None:
    """Log in through the rendered form, save a session note, log out through the signed link."""
    assert example.register_demo_account("demo@example.com", PW).success
    browser = Browser(example.app)
    assert "Log in" in browser.get()
    _log_in(browser)
    page = browser.get()
    assert "Hello demo@example.com" in page
    status, headers, _ = browser.submit(page, "SessionUpdate", **{"session.note": "remember me"})
    assert (status, headers["Location"]) == ("303 See Other", "/")
    page = browser.get()
    assert 'value="remember me"' in page
    status, headers, _ = browser.request("GET", _logout_link(page))
    assert (status, headers["Location"]) == ("303 See Other", "/")
    assert "Log in" in browser.get()


def test_example_register_confirm_login_logout(example: ModuleType) -> None:
    """Register on the page, follow the mailed opt-in link, log in, log out through the link."""
    browser = Browser(example.app)
    status, _, page = browser.submit(
        browser.get(), "AccountRegister", email="new@example.com", password=PW, passwordRepeat=PW
    )
    assert status == "200 OK"
    assert "Check your mail" in page
    link = re.search(r"http://127\.0\.0\.1:8000(/\S*wsoptin=\S+)", example.mailer.stream.getvalue())
    assert link is not None
    assert "Email address confirmed." in browser.get(link.group(1))
    account = example.storage.accounts.find_account("new@example.com")
    assert account is not None
    assert account.verified
    assert "no longer valid" in browser.get(link.group(1))  # used up
    _log_in(browser, "new@example.com")
    page = browser.get()
    assert "Hello new@example.com" in page
    before = browser.sid
    status, headers, _ = browser.request("GET", _logout_link(page))
    assert (status, headers["Location"]) == ("303 See Other", "/")
    assert browser.sid not in (None, before)
    assert before not in example.sessions
    assert "Log in" in browser.get()


def test_example_made_up_session_id_is_never_adopted(example: ModuleType) -> None:
    """A cookie id the server never issued is replaced by a fresh one, also at login."""
    assert example.register_demo_account("demo@example.com", PW).success
    made_up = "attacker-chosen-id"
    browser = Browser(example.app, sid=made_up)
    page = browser.get()
    assert browser.sid not in (None, made_up)
    assert made_up not in example.sessions
    _log_in(browser)
    assert made_up not in example.sessions
    assert browser.sid != made_up
    attacker = Browser(example.app, sid=made_up)
    assert "Hello" not in attacker.get()
    assert attacker.sid != made_up
    assert "Log in" in page


def test_example_planted_session_id_is_rotated_at_login(example: ModuleType) -> None:
    """A victim logging in with an id the attacker got from the server gets a new id;
    the attacker's id is not logged in."""
    assert example.register_demo_account("demo@example.com", PW).success
    attacker = Browser(example.app)
    attacker.get()
    planted = attacker.sid
    assert planted in example.sessions
    victim = Browser(example.app, sid=planted)
    page = victim.get()
    assert victim.sid == planted  # a known id is kept until the login
    status, headers, _ = victim.submit(page, "Login", id="demo@example.com", password=PW)
    assert (status, headers["Location"]) == ("303 See Other", "/")
    assert victim.sid not in (None, planted)
    assert len(victim.sid or "") >= 43  # secrets.token_urlsafe(32)
    assert planted not in example.sessions
    assert "Hello demo@example.com" in victim.get()
    page = attacker.get()
    assert "Hello" not in page
    assert "Log in" in page
    assert attacker.sid != planted


def test_example_cookie_attributes(example: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session cookie is HttpOnly, SameSite=Lax, Path=/, and Secure when configured."""
    _, headers, _ = Browser(example.app).request("GET", "/")
    cookie = headers["Set-Cookie"]
    assert re.fullmatch(r"sid=[\w-]{43}; HttpOnly; SameSite=Lax; Path=/", cookie)
    monkeypatch.setattr(example, "SECURE_COOKIES", True)
    _, headers, _ = Browser(example.app).request("GET", "/")
    assert headers["Set-Cookie"].endswith("; HttpOnly; SameSite=Lax; Path=/; Secure")


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("abc", "400"),
        ("-5", "400"),
        ("1" * 5000, "400"),
        (str(1024 * 1024 + 1), "413"),
        (str(10**12), "413"),
    ],
)
def test_example_bad_content_length_is_refused(
    example: ModuleType, length: str, status: str
) -> None:
    """A non-numeric, negative or too large Content-Length answers 400/413 and stores nothing."""
    browser = Browser(example.app)
    got, _, _ = browser.request("POST", "/", {"wsact": "Login"}, content_length=length)
    assert got.startswith(status)
    assert example.sessions == {}
    assert browser.get().startswith("<!doctype html>")


@pytest.fixture
def served(example: ModuleType) -> Iterator[Callable[..., tuple[int, bytes]]]:
    """The example on wsgiref at 127.0.0.1 (ephemeral port) in a thread, stopped at the end."""

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, example.app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()

    def request(method: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        try:
            connection.putrequest(method, "/", skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    try:
        yield request
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_example_server_keeps_answering_bad_content_length(
    served: Callable[..., tuple[int, bytes]],
) -> None:
    """Over real HTTP, bad Content-Length values answer 400/413 (never 500) and the server lives."""
    assert served("POST", {"Content-Length": "abc"})[0] == 400
    assert served("POST", {"Content-Length": "-5"})[0] == 400
    assert served("POST", {"Content-Length": str(2 * 1024 * 1024)})[0] == 413
    status, page = served("GET", {})
    assert status == 200
    assert b"Log in" in page
    status, _ = served("POST", {"Content-Length": "9"}, b"wsact=Foo")
    assert status == 200


def test_example_cookieless_requests_keep_sessions_bounded(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,500 cookie-less clients stay within MAX_SESSIONS and store no oversized notes."""
    monkeypatch.setattr(example, "MAX_SESSIONS", 100)
    for _ in range(20):  # warm up caches (templates, regexes) before measuring
        Browser(example.app).get()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        first = last = None
        for number in range(1500):
            browser = Browser(example.app)
            page = browser.get()
            if number % 10 == 0:  # and some try to fill their session
                fat = {f"session.k{i}": "x" * 1024 for i in range(50)}
                status, _, _ = browser.submit(page, "SessionUpdate", **fat)
                assert status == "200 OK"  # refused: only "note" is writable
            first = first or browser.sid
            last = browser.sid
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(example.sessions) <= 100
    assert first not in example.sessions  # the least recently used went first
    assert last in example.sessions
    assert grown < 8 * 1024 * 1024  # the attack run saw 87 MiB; engine caches are bounded
    assert Browser(example.app).request("PUT", "/")[0].startswith("405")
    assert len(example.sessions) <= 100


def test_example_sessions_are_created_only_when_something_is_stored(example: ModuleType) -> None:
    """Refused requests store nothing; page views store one session and then reuse it."""
    browser = Browser(example.app)
    for _ in range(50):
        browser.request("DELETE", "/")
        browser.request("POST", "/", content_length="abc")
    assert example.sessions == {}
    assert browser.sid is None
    browser.get()
    assert list(example.sessions) == [browser.sid]
    browser.get()
    assert list(example.sessions) == [browser.sid]  # the same session, not a new one


def test_example_idle_sessions_expire(example: ModuleType) -> None:
    """A session idle longer than SESSION_IDLE_SECONDS is forgotten; active ones stay."""
    assert example.register_demo_account("demo@example.com", PW).success
    idle = Browser(example.app)
    _log_in(idle)
    idle_id = idle.sid
    others = [Browser(example.app) for _ in range(10)]
    for other in others:
        other.get()
    active = Browser(example.app)
    active.get()
    for _ in range(3):
        example.advance(example.SESSION_IDLE_SECONDS * 0.6)
        assert "Log in" in active.get()  # each request renews its session
    assert set(example.sessions) == {active.sid}
    page = idle.get()
    assert "Hello" not in page
    assert idle.sid != idle_id
    assert idle_id not in example.sessions


# the README's integration snippet ----------------------------------------------------------


class MultiDict(dict[str, list[str]]):
    """A framework's multi-dict: ``get`` answers the first value, ``getlist`` all."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        values = super().get(key)
        return values[0] if values else default

    def getlist(self, key: str) -> list[str]:
        return list(super().get(key) or [])


class Request:
    """The parts of a framework request the snippet reads."""

    def __init__(self, method: str, url: str, form: dict[str, str] | None = None) -> None:
        self.method = method
        self.remote_addr = "192.0.2.1"
        self.args = MultiDict(parse_qs(urlsplit(url).query, keep_blank_values=True))
        self.form = MultiDict({k: [v] for k, v in (form or {}).items()})


def _readme_snippet(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "handle_request" in b]
    assert len(blocks) == 1
    monkeypatch.setenv("SHOP_SECRET_KEY", "k" * 48)
    namespace: dict[str, Any] = {
        "render_template": lambda name, **globals: ("page", globals),
        "redirect": lambda location, code: ("redirect", location, code),
    }
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    registry = namespace["registry"]
    registry.settings = attrs.evolve(registry.settings, password_hashing=TESTING_HASHING)
    namespace["mailer"].stream = io.StringIO()
    return namespace


def test_readme_snippet_rotates_ids_and_follows_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's handle_request: register, opt-in link, login (new id), logout link (new id)."""
    snippet = _readme_snippet(monkeypatch)
    handle = snippet["handle_request"]
    store: dict[str, dict[str, Any]] = {}
    browser = {"sid": "planted"}  # an id the attacker knows, accepted by this store

    def send(request: Request) -> Any:
        """One request in the browser's session; its id may change on the way."""
        data = store.setdefault(browser["sid"], {})

        def cycle_session_id() -> None:
            new = secrets.token_urlsafe(32)
            store[new] = store.pop(browser["sid"])
            browser["sid"] = new

        return handle(request, data, cycle_session_id)

    def form(name: str, **fields: str) -> dict[str, str]:
        kind, view = send(Request("GET", "/"))
        assert kind == "page"
        handle_ = view["wsActions"].create(name)
        return {"wsact": handle_.id, "wscsrf": handle_.csrf, **fields}

    kind, view = send(
        Request(
            "POST",
            "/",
            form("AccountRegister", email="readme@example.com", password=PW, passwordRepeat=PW),
        )
    )
    assert kind == "page"
    assert view["wsActions"].current.success
    link = re.search(r"https://shop\.example(/\S*wsoptin=\S+)", snippet["mailer"].stream.getvalue())
    assert link is not None
    kind, view = send(Request("GET", link.group(1)))
    assert view["wsActions"].current.name == "EmailVerify"
    assert view["wsActions"].current.success
    assert browser["sid"] == "planted"
    answer = send(
        Request("POST", "/", form("Login", id="readme@example.com", password=PW, wstarget="/"))
    )
    assert answer == ("redirect", "/", 303)
    assert browser["sid"] != "planted"
    assert "planted" not in store
    kind, view = send(Request("GET", "/"))
    assert view["wsAccount"].isLoggedIn
    logged_in = browser["sid"]
    logout = view["wsActions"].url("Logout", "/account")
    assert send(Request("GET", logout)) == ("redirect", "/account", 303)
    assert browser["sid"] != logged_in
    kind, view = send(Request("GET", "/"))
    assert not view["wsAccount"].isLoggedIn


def test_example_parallel_request_does_not_revive_a_rotated_id(example: ModuleType) -> None:
    """A request still running on an id that a parallel login rotated away neither revives
    that id nor gets the login."""
    assert example.register_demo_account("demo@example.com", PW).success
    attacker = Browser(example.app)
    attacker.get()
    planted = attacker.sid
    slow = example.RequestSession(planted)  # the attacker's request, started before the login
    _log_in(Browser(example.app, sid=planted))
    slow.data["wsv.note"] = "written meanwhile"
    assert "_wsa.account" not in slow.data
    assert slow.save() == [("Set-Cookie", "sid=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/")]
    assert planted not in example.sessions
    assert all("wsv.note" not in data for _, data in example.sessions.values())
