"""What the headless API costs on top of the pack's form posts, in one Flask process.

Run by hand: ``python bench/bench_api.py [rounds]``. One logged-in customer on a SQLite
file (the default storage of a Flask shop); Flask's test client (no network). Interleaved
rounds of, each the median of 200 requests:

- the account as JSON: ``GET /_wsa/v1/app/account`` (app token) and
  ``GET /_wsa/v1/browser/account`` (cookie session), next to the pack's account page;
- one action: AccountSetCustomerData through ``POST /_wsa/v1/app/…`` and
  ``/browser/…`` (JSON body), next to the same action as the pack's form post (303).

Prints medians in µs and the ratios API / form. The account as JSON reads the addresses,
logins and cards (the pack's overview page renders them too); an action through the API
reads the login once more than the form post (the app's token lookup, or for the browser
client the state it answers in ``meta``) and answers JSON with messages instead of a
redirect.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask

from wsactions import RecordingMailer
from wsactions.backends.sql import SqlStorage, upgrade
from wsactions.contrib.flask import WsActions, area
from wsactions.sessions import MappingSession
from wsactions.settings import TESTING_HASHING

PW = "correct horse battery staple 42"
N = 200


def _shop(folder: Path) -> tuple[flask.Flask, Any]:
    url = f"sqlite:///{folder / 'shop.db'}"
    upgrade(url)
    app = flask.Flask("bench", instance_path=str(folder))
    app.config.update(
        SECRET_KEY="bench-api-secret-key-0123456789-0123456789",
        WSACTIONS_BASE_URL="http://localhost",
        WSACTIONS_API=True,
        WSACTIONS_SETTINGS={
            "password_hashing": TESTING_HASHING,
            "customer_data_fields": frozenset({"note"}),
        },
        WSACTIONS_TEMPLATE_CACHE=False,
    )
    storage = SqlStorage(url)
    WsActions(app, storage=storage, mailer=RecordingMailer())
    app.extensions["wsactions"].registry.event_sink = None
    return app, storage


def _median(call: Callable[[], Any]) -> float:
    samples = []
    for _ in range(N):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as data:
        app, storage = _shop(Path(data))
        browser = app.test_client()
        csrf = browser.get("/_wsa/v1/browser/account").json["meta"]["csrfToken"]
        values = {"email": "ann@example.com", "password": PW, "passwordRepeat": PW}
        headers = {"X-CSRF-Token": csrf}
        assert browser.post("/_wsa/v1/browser/AccountRegister", json=values, headers=headers)
        login = browser.post(
            "/_wsa/v1/browser/Login",
            json={"id": "ann@example.com", "password": PW},
            headers=headers,
        ).json
        csrf = login["meta"]["csrfToken"]
        app_client = app.test_client(use_cookies=False)
        token = app_client.post(
            "/_wsa/v1/app/Login", json={"id": "ann@example.com", "password": PW}
        ).json["meta"]["sessionToken"]
        cases: dict[str, Callable[[], Any]] = {
            "account: app (JSON)": lambda: app_client.get(
                "/_wsa/v1/app/account", headers={"X-Session-Token": token}
            ),
            "account: browser (JSON)": lambda: browser.get("/_wsa/v1/browser/account"),
            "account: pack page (HTML)": lambda: browser.get("/account/"),
            "action: app (JSON)": lambda: app_client.post(
                "/_wsa/v1/app/AccountSetCustomerData",
                json={"customerData.note": "x"},
                headers={"X-Session-Token": token},
            ),
            "action: browser (JSON)": lambda: browser.post(
                "/_wsa/v1/browser/AccountSetCustomerData",
                json={"customerData.note": "x"},
                headers={"X-CSRF-Token": csrf},
            ),
            "action: form post (303)": lambda: browser.post(
                "/account/",
                data={**_form(app, browser), "customerData.note": "x", "wstarget": "/account/"},
            ),
        }
        for name, call in cases.items():  # each works before it is timed
            response = call()
            assert response.status_code in (200, 303), (name, response.status_code)
        results: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, call in cases.items():
                results[name].append(_median(call))
        storage.close()
    width = max(map(len, results))
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"{name:<{width}}  {value:8.0f} µs")
    print()
    page = medians["account: pack page (HTML)"]
    post = medians["action: form post (303)"]
    for name in ("account: app (JSON)", "account: browser (JSON)"):
        print(f"{name} / pack page: {medians[name] / page:.2f}×")
    for name in ("action: app (JSON)", "action: browser (JSON)"):
        print(f"{name} / form post: {medians[name] / post:.2f}×")


_FORM: dict[str, str] = {}


def _form(app: flask.Flask, browser: Any) -> dict[str, str]:
    """The hidden fields of an AccountSetCustomerData form of this session (made once)."""
    if not _FORM:
        cookie = browser.get_cookie("session")
        with app.test_request_context(headers={"Cookie": f"session={cookie.value}"}):
            session = app.session_interface.open_session(app, flask.request)
            assert session is not None
            registry = area().registry
            ctx = registry.context(
                session=MappingSession(session),
                storage=area().storage,
                mailer=area().mailer,
            )
            handle = registry.create(ctx, "AccountSetCustomerData")
        _FORM.update(wsact=handle.id, wscsrf=handle.csrf)
    return dict(_FORM)


if __name__ == "__main__":
    main()
