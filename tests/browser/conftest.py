"""Browser journeys: the demo shop served on 127.0.0.1, driven by Playwright in Chromium.

The folder is skipped when Playwright is not installed or ``/usr/bin/chromium``
is missing, except under ``CI=true``, where that fails every test of it. A
failed journey leaves a screenshot in ``$WSACTIONS_SCREENSHOTS`` (default
``/tmp/wsactions-screenshots``), named after the test; the run's summary lists
them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import flask
import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from wsactions.contrib.demo import Outbox, create_app
from wsactions.mail import Mail

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Every wait of a journey (navigation, locator, expect) gives up after this many ms.
TIMEOUT_MS = 10_000
#: A small phone's viewport: no page may be wider (``new_context(viewport=PHONE)``).
PHONE = {"width": 375, "height": 740}
#: Where failed journeys leave a screenshot: outside the repository on purpose.
SCREENSHOTS = Path(os.environ.get("WSACTIONS_SCREENSHOTS", "/tmp/wsactions-screenshots"))  # noqa: S108


def _missing() -> str | None:
    """Why the journeys cannot run here, or ``None``."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    """Skip the journeys without Playwright or Chromium; under ``CI=true`` fail them."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser journeys cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@attrs.frozen
class DemoServer:
    """The demo shop served in a thread: its root URL, the app and its outbox."""

    url: str
    app: flask.Flask
    outbox: Outbox

    def page(self, path: str) -> str:
        """The absolute URL of *path* (``/account/login``)."""
        return self.url + path

    def outbox_link(self, to: str, purpose: str) -> str:
        """Same as :func:`outbox_link` for this server."""
        return outbox_link(self, to, purpose)


@pytest.fixture(scope="session")
def server(_browser_available: None) -> Iterator[DemoServer]:
    """The demo app (production argon2 hashing, a fresh SQLite file) on a free port."""
    with serve_demo() as served:
        yield served


@pytest.fixture(scope="session")
def german_server(_browser_available: None) -> Iterator[DemoServer]:
    """Same as :func:`server`, for ``wsactions demo --lang de``: a German shop."""
    with serve_demo(lang="de") as served:
        yield served


@contextmanager
def serve_demo(
    lang: str | None = None,
    setup: Callable[[flask.Flask], None] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[DemoServer]:
    """The demo app in *lang* on a free port of 127.0.0.1, served in a thread; *setup* may
    add routes before it serves; *host* is the name its base URL uses (``localhost`` for
    passkeys: a relying party id cannot be an IP address)."""
    apps: list[flask.Flask] = []

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return apps[0](environ, start_response)

    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://{host}:{httpd.port}"
    with tempfile.TemporaryDirectory(prefix="wsactions-browser-") as data:
        app = create_app(Path(data) / "demo", base_url=url, lang=lang)
        if setup is not None:
            setup(app)
        apps.append(app)
        thread = threading.Thread(target=httpd.serve_forever, name="demo-server", daemon=True)
        thread.start()
        try:
            yield DemoServer(url, app, app.extensions["wsactions_demo_outbox"])
        finally:
            # shutdown() waits for serve_forever without a bound: wait in a helper thread.
            stopper = threading.Thread(target=httpd.shutdown, daemon=True)
            stopper.start()
            stopper.join(timeout=5)
            thread.join(timeout=5)
            httpd.server_close()
            app.extensions["wsactions"].storage.close()


def outbox_link(server: DemoServer, to: str, purpose: str, *, wait: float = 5.0) -> str:
    """The first link of the newest mail to *to* whose purpose is *purpose* (``verify``,
    ``unlock``, ``password``, ``email_update``, ``invitation``) or whose subject contains it.

    Mails are sent before the answer of the request that sends them, so the wait is only
    a bound for a slow machine.
    """
    deadline = time.monotonic() + wait
    while True:
        for mail in reversed(list(server.outbox.mails)):
            if _matches(mail, to, purpose) and mail.links:
                return mail.links[0]
        if time.monotonic() > deadline:
            sent = [(m.to, m.purpose, m.subject) for m in server.outbox.mails]
            raise AssertionError(f"no {purpose!r} mail with a link to {to}; outbox: {sent}")
        time.sleep(0.05)


def _matches(mail: Mail, to: str, purpose: str) -> bool:
    return mail.to.lower() == to.lower() and (
        mail.purpose == purpose or purpose.lower() in mail.subject.lower()
    )


@pytest.fixture(scope="session")
def playwright(_browser_available: None) -> Iterator[Playwright]:
    """The Playwright driver for the whole run."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole run."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Makes fresh browser contexts (own cookies, an American English browser) for one
    test, given Playwright's context options (``viewport=PHONE``); all closed at its end."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(locale="en-US", **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(
    request: pytest.FixtureRequest, new_context: Callable[[], BrowserContext]
) -> Iterator[Page]:
    """A page in a fresh context; a screenshot of it is saved when the test fails."""
    tab = new_context().new_page()
    yield tab
    _screenshot_if_failed(request.node, tab)


def _screenshot_if_failed(item: pytest.Item, page: Page) -> None:
    report = getattr(item, "_wsactions_call_report", None)
    if report is None or not report.failed or page.is_closed():
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", item.name) + ".png")
    try:
        page.screenshot(path=str(path), full_page=True, timeout=5_000)
    except Exception as error:  # a lost screenshot must not hide the failure
        item.config.stash.setdefault(_SAVED, []).append(f"{item.nodeid}: no screenshot ({error})")
        return
    item.config.stash.setdefault(_SAVED, []).append(f"{item.nodeid}: {path}")


_SAVED = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call phase's report on the item, for the page fixture's teardown."""
    report = yield
    if report.when == "call":
        item._wsactions_call_report = report  # type: ignore[attr-defined]
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Name the screenshots of failed journeys."""
    saved = config.stash.get(_SAVED, [])
    if saved:
        terminalreporter.section("browser screenshots")
        for line in saved:
            terminalreporter.write_line(line)
