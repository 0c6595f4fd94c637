"""The WSGI example shop works end to end (driven without a server)."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "wsgi_shop.py"
PW = "correct horse battery staple 42"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example module, freshly imported, with cheap hashing and silent mail."""
    spec = importlib.util.spec_from_file_location("wsgi_shop", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "wsgi_shop", module)
    spec.loader.exec_module(module)
    import attrs

    from wsactions import TESTING_HASHING

    module.settings = attrs.evolve(module.settings, password_hashing=TESTING_HASHING)
    module.registry.settings = module.settings
    module.registry.event_sink = None
    module.mailer.stream = io.StringIO()
    return module


class Browser:
    """Calls the WSGI app like a browser with one cookie."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookie = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[str, dict[str, str], str]:
        body = urlencode(form or {}).encode()
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_COOKIE": self.cookie,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
        }
        seen: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]]) -> None:
            seen["status"], seen["headers"] = status, dict(headers)

        page = b"".join(self.app(environ, start)).decode()
        self.cookie = seen["headers"]["Set-Cookie"].split(";")[0]
        return seen["status"], seen["headers"], page


def _hidden(page: str, form_index: int) -> dict[str, str]:
    form = re.findall(r"<form.*?</form>", page, re.S)[form_index]
    return dict(re.findall(r'name="(ws\w+)" value="([^"]*)"', form))


def test_login_note_and_logout(example: ModuleType) -> None:
    """Log in through the rendered form, save a session note, log out through the signed link."""
    assert example.register_demo_account("demo@example.com", PW).success
    browser = Browser(example.app)
    status, _, page = browser.request("GET", "/")
    assert status == "200 OK"
    assert "Log in" in page
    login = {**_hidden(page, 0), "id": "demo@example.com", "password": PW}
    status, headers, _ = browser.request("POST", "/", login)
    assert status == "200 OK"
    status, _, page = browser.request("GET", "/")
    assert "Hello demo@example.com" in page
    note = {**_hidden(page, 0), "session.note": "remember me"}
    status, headers, _ = browser.request("POST", "/", note)
    assert (status, headers["Location"]) == ("303 See Other", "/")
    _, _, page = browser.request("GET", "/")
    assert 'value="remember me"' in page
    logout = re.search(r'href="([^"]+)"', page)
    assert logout is not None
    status, headers, _ = browser.request("GET", logout.group(1).replace("&amp;", "&"))
    assert (status, headers["Location"]) == ("303 See Other", "/")
    _, _, page = browser.request("GET", "/")
    assert "Log in" in page
