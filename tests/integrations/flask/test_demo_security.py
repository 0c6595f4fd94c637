"""The demo answers only loopback Host names and changes state only by a token-checked POST."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from wsactions.contrib import demo as demo_module
from wsactions.contrib.demo import Outbox, create_app

FOREIGN_HOSTS = ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"]
LOOPBACK_HOSTS = ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:8000", "[::1]:8000"]
LOCKED = "Your order details are locked"
BUTTONS = {
    "/demo/guest-checkout": "Finish a guest checkout",
    "/demo/failed-payment": "Fail a payment",
}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[flask.Flask]:
    """The demo app on a fresh data folder."""
    app = create_app(tmp_path / "demo", base_url="http://127.0.0.1:8000")
    yield app
    app.extensions["wsactions"].storage.close()


def token_of(client: FlaskClient, button: str) -> str:
    """The ``wscsrf`` of the home page's form whose button says *button*."""
    page = client.get("/").get_data(as_text=True)
    for body in re.findall(r"<form\b.*?</form>", page, re.S):
        if f">{button}</button>" in body:
            found = re.search(r'name="wscsrf" value="([^"]*)"', body)
            assert found is not None
            return html.unescape(found.group(1))
    raise AssertionError(f"no {button!r} form on the home page")


def hidden_fields(client: FlaskClient, path: str, action: str) -> dict[str, str]:
    """The hidden fields of the form of *action* on *path* (its ``wsact`` and ``wscsrf``)."""
    page = client.get(path).get_data(as_text=True)
    for body in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        if fields.get("wsact") == action:
            return {name: html.unescape(value) for name, value in fields.items()}
    raise AssertionError(f"no {action} form on {path}")


def locked(client: FlaskClient) -> bool:
    return LOCKED in client.get("/account/session").get_data(as_text=True)


def has_guest_checkout(client: FlaskClient) -> bool:
    return 'name="guestMail"' in client.get("/account/guest").get_data(as_text=True)


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_attack3_4_foreign_host_gets_400_and_changes_nothing(demo: flask.Flask, host: str) -> None:
    """Finding 4: a page whose name resolves to 127.0.0.1 (DNS rebinding) reads nothing,
    sends no reset mail and cannot fail a payment, even with the victim's cookie and token."""
    victim = demo.test_client()
    fields = hidden_fields(victim, "/account/forgot", "PasswordForgotten")
    cookie = victim.get_cookie("session")
    assert cookie is not None
    foreign = {"Host": host, "Cookie": f"session={cookie.value}"}
    for path in ("/", "/outbox", "/account/login", "/account/forgot"):
        assert victim.get(path, headers=foreign).status_code == 400, path
    forgot = victim.post(
        "/account/forgot", data={**fields, "email": demo_module.DEMO_ADMIN}, headers=foreign
    )
    assert forgot.status_code == 400
    token = token_of(victim, BUTTONS["/demo/failed-payment"])
    failed = victim.post("/demo/failed-payment", data={"wscsrf": token}, headers=foreign)
    assert failed.status_code == 400
    outbox: Outbox = demo.extensions["wsactions_demo_outbox"]
    assert outbox.mails == []
    assert not locked(victim)


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_attack3_4_loopback_hosts_are_answered(demo: flask.Flask, host: str) -> None:
    """Finding 4: 127.0.0.1, localhost and [::1], with or without a port, are answered."""
    client = demo.test_client()
    for path in ("/", "/outbox", "/account/login"):
        assert client.get(path, headers={"Host": host}).status_code == 200, path


def test_attack3_4_host_given_with_dash_host_is_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 4: ``--host`` adds a specific address to the Host names; a wildcard address
    adds none (the mails then link to 127.0.0.1)."""
    served: list[flask.Flask] = []

    def run(app: flask.Flask, **options: Any) -> None:
        served.append(app)

    monkeypatch.setattr(flask.Flask, "run", run)
    for host in ("192.0.2.7", "::", "2001:db8::7"):
        assert demo_module.main(["--host", host, "--port", "8123", "--data", str(tmp_path)]) == 0
    specific, wildcard, ipv6 = served
    try:
        for app, answered, refused in (
            (specific, "192.0.2.7:8123", "evil.example:8123"),
            (wildcard, "127.0.0.1:8123", "[::]:8123"),
            (ipv6, "[2001:db8::7]:8123", "[2001:db8::8]:8123"),
        ):
            client = app.test_client()
            assert client.get("/", headers={"Host": answered}).status_code == 200, answered
            assert client.get("/", headers={"Host": refused}).status_code == 400, refused
        assert wildcard.config["WSACTIONS_BASE_URL"] == "http://127.0.0.1:8123"
        assert ipv6.config["WSACTIONS_BASE_URL"] == "http://[2001:db8::7]:8123"
    finally:
        for app in served:
            app.extensions["wsactions"].storage.close()


@pytest.mark.parametrize("path", sorted(BUTTONS))
def test_attack3_4_demo_routes_change_nothing_on_get(demo: flask.Flask, path: str) -> None:
    """Finding 4: a link (GET) to a demo route is refused and changes nothing."""
    client = demo.test_client()
    assert client.get(path).status_code == 405
    assert not locked(client)
    assert not has_guest_checkout(client)


@pytest.mark.parametrize("path", sorted(BUTTONS))
def test_attack3_4_cross_site_post_changes_nothing(demo: flask.Flask, path: str) -> None:
    """Finding 4: a post without the button's token (none, a wrong one, the other button's)
    answers 400 and changes nothing; with it, the demo route works."""
    client = demo.test_client()
    other = next(p for p in BUTTONS if p != path)
    for data in ({}, {"wscsrf": "forged"}, {"wscsrf": token_of(client, BUTTONS[other])}):
        assert client.post(path, data=data).status_code == 400, data
        assert not locked(client)
        assert not has_guest_checkout(client)
    fresh = demo.test_client()  # no session yet: no token can match
    assert fresh.post(path, data={"wscsrf": token_of(client, BUTTONS[path])}).status_code == 400
    answer = client.post(path, data={"wscsrf": token_of(client, BUTTONS[path])})
    assert answer.status_code == 303
    assert locked(client) or has_guest_checkout(client)
