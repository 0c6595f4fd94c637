"""Schemathesis against the demo's API: property-based requests generated from the served
OpenAPI document, for every operation of both clients. No answer may be a 5xx, and every
answer must match the document (status, content type, headers, body schema).

Each generated request is sent twice: as generated (random tokens: mostly refused), and
as a customer who is logged in (the browser client with its session cookie and CSRF
token; the app client with a session token), each time a new account, so that the actions
run for real. Bounded: ``MAX_EXAMPLES`` requests per operation (about 90 operations), with
the demo's production password hashing."""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import flask
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpers import PW
from wsactions.contrib.demo import create_app
from wsactions.logins import login_id
from wsactions.models import Account, LoginRecord
from wsactions.security.passwords import hasher_for

MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _demo_app() -> flask.Flask:
    """The demo app on a fresh SQLite file, removed when the run ends."""
    data = tempfile.mkdtemp(prefix="wsactions-schemathesis-")
    app = create_app(Path(data) / "demo", base_url="http://localhost")

    def close() -> None:
        app.extensions["wsactions"].storage.close()
        shutil.rmtree(data, ignore_errors=True)

    atexit.register(close)
    return app


APP = _demo_app()
HASH = hasher_for(APP.extensions["wsactions"].settings.password_hashing).hash(PW)
schema = schemathesis.openapi.from_wsgi("/_wsa/v1/openapi.json", APP)


def _customer() -> tuple[str, str]:
    """A new customer with a confirmed address, logged in: (account id, login secret)."""
    storage = APP.extensions["wsactions"].storage
    name = secrets.token_hex(6)
    account = Account(
        id=f"acc-{name}",
        email=f"{name}@example.com",
        email_key=f"{name}@example.com",
        password_hash=HASH,
        verified=True,
        security_stamp=secrets.token_hex(8),
    )
    secret = secrets.token_urlsafe(32)
    now = time.time()
    with storage.transaction():
        assert storage.accounts.add_account(account)
        storage.logins.add_login(LoginRecord(login_id(secret), account.id, now, now))
    return account.id, secret


def _logged_in(case: Any) -> None:
    """Give *case* the credentials of a new logged-in customer."""
    account_id, secret = _customer()
    if "/app/" in case.path:
        case.headers = {**(case.headers or {}), "X-Session-Token": secret}
        return
    http = APP.test_client()
    with http.session_transaction() as session:
        session.update(
            {
                "_wsa.account": account_id,
                "_wsa.stamp": APP.extensions["wsactions"].storage.accounts.get_account(
                    account_id
                ).security_stamp,
                "_wsa.rights": "",
                "_wsa.login": secret,
            }
        )
    answer = http.get("/_wsa/v1/browser/account").get_json()
    assert answer["authenticated"] is True
    cookie = http.get_cookie("session")
    assert cookie is not None
    case.cookies = {**(case.cookies or {}), "session": cookie.value}
    case.headers = {**(case.headers or {}), "X-CSRF-Token": answer["meta"]["csrfToken"]}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_the_api_keeps_its_document(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
    _logged_in(case)
    case.call_and_validate(checks=CHECKS)
