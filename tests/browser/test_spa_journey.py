"""The plain-JS example page of examples/spa/ in Chromium, talking to the demo through the
headless API only: register, confirm from the outbox, log in, add an address, log out.

The page comes from a server of its own (a storefront's), on another origin of the same
site: the demo's API lets that origin in (CORS with credentials) and the browser sends
the shop's SameSite=Lax session cookie along. Every request the page makes is recorded:
none may reach the template pack's pages."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import flask
import pytest
from test_browser_journeys import PASSWORD, expect, unique_email
from werkzeug.serving import make_server

from conftest import DemoServer, serve_demo

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

SPA = Path(__file__).resolve().parents[2] / "examples" / "spa"


def _storefront(api: str) -> flask.Flask:
    """The storefront's own server: examples/spa/ under a strict Content-Security-Policy,
    told where the API is (``data-api``). It runs no wsactions at all."""
    app = flask.Flask("storefront")
    api_origin = api.split("/_wsa/", 1)[0]

    @app.route("/", defaults={"name": "index.html"})
    @app.route("/<name>")
    def spa(name: str) -> flask.Response:
        if name not in {"index.html", "spa.js", "spa.css"}:
            flask.abort(404)
        body = (SPA / name).read_bytes()
        if name == "index.html":
            body = body.replace(b'<html lang="en">', f'<html lang="en" data-api="{api}">'.encode())
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = flask.Response(body, mimetype=kind)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'self'; style-src 'self'; "
            f"connect-src {api_origin}; form-action 'none'; base-uri 'none'; "
            "frame-ancestors 'none'"
        )
        return response

    return app


@pytest.fixture(scope="module")
def spa(_browser_available: None) -> Iterator[tuple[str, DemoServer]]:
    """(the storefront's URL, the demo shop whose API it uses)."""
    storefront = make_server("127.0.0.1", 0, lambda e, s: apps[0](e, s), threaded=True)
    origin = f"http://127.0.0.1:{storefront.port}"
    apps: list[flask.Flask] = []

    def allow_storefront(app: flask.Flask) -> None:
        app.extensions["wsactions.api"].cors_origins = frozenset({origin})

    with serve_demo(setup=allow_storefront) as shop:
        apps.append(_storefront(shop.url + "/_wsa/v1/"))
        thread = threading.Thread(target=storefront.serve_forever, daemon=True)
        thread.start()
        try:
            yield origin, shop
        finally:
            stopper = threading.Thread(target=storefront.shutdown, daemon=True)
            stopper.start()
            stopper.join(timeout=5)
            storefront.server_close()


def test_register_confirm_log_in_add_an_address_log_out(
    page: Page, spa: tuple[str, DemoServer]
) -> None:
    storefront, shop = spa
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(f"{request.method} {request.url.split('?', 1)[0]}")

    page.on("request", record)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    email = unique_email("spa")

    page.goto(storefront + "/")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    register = page.locator("#register")
    register.get_by_label("Email address").fill(email)
    register.get_by_label("Password", exact=True).fill(PASSWORD)
    register.get_by_label("Repeat the password").fill(PASSWORD)
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#status")).to_contain_text("Thank you for registering")

    link = shop.outbox_link(email, "verify")  # a link to the pack's confirm page
    query = urlsplit(link).query
    assert "wsoptin=" in query
    page.goto(f"{storefront}/?{query}")  # the shop points its mailed links at the storefront
    expect(page.locator("#status")).to_contain_text("confirmed")
    assert "wsoptin" not in page.url  # the page took the token out of the address bar

    login = page.locator("#login")
    login.get_by_label("Email address").fill(email)
    login.get_by_label("Password").fill("not the password")
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#errors li")).to_have_count(1)
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#email")).to_have_text(email)
    expect(page.locator("#errors li")).to_have_count(0)

    form = page.locator("#address")
    for name, value in (
        ("First name", "Ann"),
        ("Last name", "Smith"),
        ("Street", "Main Street 1"),
        ("Postal code", "10115"),
        ("City", "Berlin"),
    ):
        form.get_by_label(name).fill(value)
    form.get_by_label("Country").select_option("DE")
    form.get_by_role("button", name="Add address").click()
    expect(page.locator("#addresses li")).to_have_text(
        ["Ann, Smith, Main Street 1, 10115, Berlin, DE"]
    )

    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()

    api = [s.replace(shop.url, "") for s in seen if s.split(" ", 1)[1].startswith(shop.url)]
    assert "POST /_wsa/v1/browser/AccountRegister" in api
    assert "POST /_wsa/v1/browser/EmailVerify" in api
    assert "POST /_wsa/v1/browser/AddressCreate" in api
    assert "POST /_wsa/v1/browser/Logout" in api
    assert all(" /_wsa/v1/browser/" in s for s in api)  # the API only: no page of the pack
    assert all(s.split(" ", 1)[1].startswith((storefront, shop.url)) for s in seen)
    # the wrong password's 400 is the one failed load Chromium reports; no script error
    assert errors == [
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]
