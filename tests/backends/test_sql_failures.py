"""The SQL backend when things go wrong: a database that is down or locked, a process killed
in the middle of a unit of work, and a shop restarted on the same SQLite file.

Every wait is bounded: subprocesses get deadlines and are killed when a test ends.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import PW
from sqlstores import postgres_storage, sqlite_storage
from wsactions.backends.sql import SqlStorage, StorageUnavailableError, upgrade
from wsactions.models import Account
from wsactions.testing import Harness

SRC = Path(__file__).resolve().parents[2] / "src"
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/test"  # nothing listens on port 9
DEADLINE = 60.0  # seconds any subprocess may take for its part


def register(shop: Harness, email: str = "dana@example.com") -> Any:
    """Submit AccountRegister from a new browser of *shop*."""
    return shop.client().submit("AccountRegister", email=email, password=PW, passwordRepeat=PW)


# a database that is down or locked ----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("AccountRegister", {"email": "dana@example.com", "password": PW, "passwordRepeat": PW}),
        ("Login", {"id": "dana@example.com", "password": PW}),
    ],
)
def test_unreachable_postgres_raises_storage_unavailable(
    action: str, fields: dict[str, str]
) -> None:
    """An action on a PostgreSQL server that does not listen raises StorageUnavailableError."""
    pytest.importorskip("psycopg")
    storage = SqlStorage(UNREACHABLE, timeout=1)
    try:
        shop = Harness(storage=storage)
        browser = shop.client()
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            browser.submit(action, **fields)
        assert time.monotonic() - started < 10
        assert shop.outbox == []
        assert browser.last is None
    finally:
        storage.close()


def test_sqlite_write_lock_held_raises_after_timeout(tmp_path: Path) -> None:
    """A write lock held elsewhere: StorageUnavailableError after ~timeout, nothing kept."""
    path = tmp_path / "shop.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    storage = SqlStorage(url, timeout=0.5)
    raw = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    try:
        shop = Harness(storage=storage)
        shop.create_account("erin@example.com", PW)
        before = shop.state()

        raw.execute("BEGIN IMMEDIATE")  # the database's write lock, held by another connection
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            register(shop)
        waited = time.monotonic() - started
        assert 0.4 <= waited < 5, waited
        raw.execute("ROLLBACK")

        assert shop.state() == before
        assert storage.accounts.find_account("dana@example.com") is None
        assert register(shop).success  # the lock is gone: the same action now goes through
        assert storage.accounts.find_account("dana@example.com") is not None
    finally:
        raw.close()
        storage.close()


# subprocesses -------------------------------------------------------------------------------


def python(script: str, *args: str, stderr: Path) -> subprocess.Popen[bytes]:
    """Start ``python -c script args`` with ``src`` on its path; stderr goes to a file."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    with stderr.open("wb") as errors:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Subprocesses a test starts; any still running when it ends are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)
        if process.stdout is not None:
            process.stdout.close()


def wait_for_output(
    process: subprocess.Popen[bytes], expected: bytes, stderr: Path, timeout: float = DEADLINE
) -> bytes:
    """Read *process*'s stdout until it contains *expected*; fail after *timeout* seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while expected not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"no {expected!r} within {timeout}s: {received!r}")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                process.wait(timeout=DEADLINE)
                pytest.fail(
                    f"the process ended ({process.returncode}) before {expected!r}: "
                    f"{received!r}\n{stderr.read_text()}"
                )
            received += chunk
    return received


def run(script: str, *args: str, tmp_path: Path, name: str) -> str:
    """Run ``python -c script args`` to its end (bounded); its stdout, which must succeed."""
    stderr = tmp_path / f"{name}.stderr"
    process = python(script, *args, stderr=stderr)
    try:
        out, _ = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=DEADLINE)
    assert process.returncode == 0, stderr.read_text()
    return out.decode()


# kill -9 in the middle of a unit of work ------------------------------------------------------

WRITE_AND_HANG = """
import sys, time
from wsactions.backends.sql import SqlStorage
from wsactions.models import Account, Address, TokenRecord

storage = SqlStorage(sys.argv[1], schema=sys.argv[2] or None, timeout=5)
with storage.transaction():
    assert storage.accounts.add_account(
        Account(id="doomed", email="doomed@example.com", email_key="doomed@example.com")
    )
    storage.accounts.add_address(
        Address(id="doomed-home", account_id="doomed", type="private", fields={"city": "Ulm"})
    )
    storage.accounts.update_account("kept", {"display_name": "changed by the doomed one"})
    storage.tokens.add(
        TokenRecord(token_hash="d" * 64, purpose="verify", account_id="kept",
                    created_at=1.0, expires_at=2.0)
    )
    print("written", flush=True)
    time.sleep(120)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_storage(request: pytest.FixtureRequest) -> Iterator[SqlStorage]:
    """A storage on a fresh SQLite file or PostgreSQL schema that other processes can open."""
    storage = sqlite_storage() if request.param == "sqlite" else postgres_storage()
    yield storage
    storage.close()


def test_kill_9_mid_unit_of_work_keeps_nothing(
    shared_storage: SqlStorage, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """A process killed inside transaction() leaves no trace, and the database stays usable."""
    storage = shared_storage
    assert storage.accounts.add_account(
        Account(id="kept", email="kept@example.com", email_key="kept@example.com")
    )
    before = storage.snapshot()

    stderr = tmp_path / "doomed.stderr"
    process = python(WRITE_AND_HANG, storage.url, storage.schema or "", stderr=stderr)
    processes.append(process)
    wait_for_output(process, b"written\n", stderr)
    assert storage.snapshot() == before  # not committed: invisible to others meanwhile

    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=DEADLINE) == -signal.SIGKILL

    fresh = SqlStorage(storage.url, schema=storage.schema, timeout=5)
    try:
        assert fresh.snapshot() == before
        assert fresh.accounts.get_account("doomed") is None
        assert fresh.accounts.get_account("kept") == before["accounts"]["kept"]
        # the dead unit of work holds no lock: the same rows can be written now
        assert fresh.accounts.add_account(
            Account(id="doomed", email="doomed@example.com", email_key="doomed@example.com")
        )
        assert fresh.accounts.update_account("kept", {"display_name": "Kept"})
        assert fresh.accounts.get_account("doomed") is not None
        assert fresh.accounts.get_account("kept").display_name == "Kept"  # type: ignore[union-attr]
    finally:
        fresh.close()


# a restart: the login lives in the database, not in the process ---------------------------------

REGISTER_AND_LOG_IN = """
import json, sys
from wsactions.backends.sql import SqlStorage
from wsactions.testing import Harness

url, email, password = sys.argv[1:4]
storage = SqlStorage(url, timeout=5)
shop = Harness(storage=storage, require_verified_email=True)
browser = shop.client()
result = browser.submit("AccountRegister", email=email, password=password, passwordRepeat=password)
assert result.success, result
(mail,) = [m for m in shop.outbox if m.purpose == "verify"]
(link,) = mail.links
verified = browser.follow(link)
assert verified is not None and verified.success, verified
browser.leave()
login = browser.submit("Login", id=email, password=password)
assert login.success, login
assert shop.current_account(browser) is not None
print(json.dumps(browser.cookie))
storage.close()
"""

RESTORE_SESSION = """
import json, sys
from wsactions.backends.sql import SqlStorage
from wsactions.testing import Harness

url, email, password, cookie = sys.argv[1:5]
storage = SqlStorage(url, timeout=5)
shop = Harness(storage=storage, require_verified_email=True)
browser = shop.client()
browser.cookie.update(json.loads(cookie))  # the browser's session, as a host would restore it
account = shop.current_account(browser)
stranger = shop.client()
wrong = stranger.submit("Login", id=email, password=password + " no")
again = shop.client().submit("Login", id=email, password=password)
print(json.dumps({
    "account": None if account is None else account.email,
    "logged_in": bool(browser.view().wsAccount.isLoggedIn),
    "stranger": shop.current_account(stranger) is not None,
    "wrong": sorted(wrong.codes),
    "login": again.success,
}))
storage.close()
"""


def test_login_survives_restart(tmp_path: Path) -> None:
    """A session logged in by one process is still logged in for a new process on the file."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    email = "dana@example.com"

    cookie = json.loads(run(REGISTER_AND_LOG_IN, url, email, PW, tmp_path=tmp_path, name="first"))
    assert cookie  # the session holds the login

    seen = json.loads(
        run(RESTORE_SESSION, url, email, PW, json.dumps(cookie), tmp_path=tmp_path, name="second")
    )
    assert seen == {
        "account": email,
        "logged_in": True,
        "stranger": False,
        "wrong": ["invalidCredentials"],
        "login": True,
    }

    storage = SqlStorage(url, timeout=5)
    try:
        account = storage.accounts.find_account(email)
        assert account is not None
        assert account.verified
        assert len(storage.logins.list_logins(account.id)) == 2
    finally:
        storage.close()


def test_idle_connection_that_was_dropped_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pooled PostgreSQL connection ended by the server while idle is noticed when it is
    next handed out (no pool_pre_ping on every checkout): the call after it just works."""
    import sqlalchemy as sa

    import sqlstores
    from wsactions.backends.sql import engine as sql_engine

    storage = sqlstores.postgres_storage()
    assert storage.accounts.get_account("nobody") is None  # a pooled connection now
    with storage.engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = sa.create_engine(sqlstores.POSTGRES_URL)
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    monkeypatch.setattr(sql_engine, "IDLE_BEFORE_PING", 0.0)
    assert storage.accounts.get_account("nobody") is None


def test_idle_connection_that_answers_is_handed_out_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ping of an idle pooled connection leaves no transaction open: a statement sent
    alone (autocommit) and a unit of work both get the connection afterwards."""
    import sqlstores
    from wsactions.backends.sql import engine as sql_engine

    storage = sqlstores.postgres_storage()
    try:
        assert storage.accounts.get_account("nobody") is None  # a pooled connection now
        monkeypatch.setattr(sql_engine, "IDLE_BEFORE_PING", 0.0)
        for _ in range(3):
            assert storage.accounts.get_account("nobody") is None  # pinged, then alone
            assert storage.counters.hit("k", 1.0, 60.0, 5) >= 1  # a write alone
            with storage.transaction():
                assert storage.accounts.get_account("nobody", for_update=True) is None
    finally:
        storage.close()
