"""Fresh SQL storages for tests: a SQLite file, or a PostgreSQL schema of its own.

``WSACTIONS_TEST_POSTGRES`` names the PostgreSQL server (default: the
development and CI server at 127.0.0.1:5432, database ``test``). Without a
server the PostgreSQL tests are skipped, except under ``CI=true``, where
they fail.
"""

from __future__ import annotations

import atexit
import functools
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from wsactions.backends.sql import SqlStorage, create_all
from wsactions.backends.sql.engine import BEGIN

POSTGRES_URL = os.environ.get(
    "WSACTIONS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_TMP = Path(tempfile.mkdtemp(prefix="wsactions-sqlite-"))
_SCHEMAS: list[str] = []
_OPEN: list[SqlStorage] = []


def close_all() -> None:
    """Close every storage made since the last call (and drop its PostgreSQL schema)."""
    while _OPEN:
        discard(_OPEN.pop())


def discard(storage: SqlStorage) -> None:
    """Close *storage*; a PostgreSQL schema of its own is dropped at once."""
    storage.close()
    if storage.schema is None or storage.schema not in _SCHEMAS:
        return
    _SCHEMAS.remove(storage.schema)
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{storage.schema}" CASCADE'))
    engine.dispose()


def sqlite_storage() -> SqlStorage:
    """A new SQLite file with the declared schema."""
    url = f"sqlite:///{_TMP / secrets.token_hex(8)}.db"
    create_all(url)
    storage = SqlStorage(url)
    _OPEN.append(storage)
    return storage


@functools.cache
def postgres_available() -> str | None:
    """``None`` when the server answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to reach it
        return f"{type(error).__name__}: {error}"
    return None


def require_postgres() -> None:
    """Skip without a server; under CI=true fail instead."""
    why = postgres_available()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable under CI=true: {why}")
    pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {why}")


def postgres_storage() -> SqlStorage:
    """A new PostgreSQL schema with the declared tables (dropped when the run ends)."""
    require_postgres()
    name = f"wsa_test_{secrets.token_hex(6)}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    _SCHEMAS.append(name)
    create_all(POSTGRES_URL, schema=name)
    storage = SqlStorage(POSTGRES_URL, schema=name)
    _OPEN.append(storage)
    return storage


def factory_of(storage: SqlStorage) -> Callable[[], SqlStorage]:
    """A picklable factory of another storage on the same data (for other processes)."""
    return functools.partial(SqlStorage, storage.url, schema=storage.schema)


@atexit.register
def _drop_schemas() -> None:
    if not _SCHEMAS:
        return
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        for name in _SCHEMAS:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Counted:
    """The statements (and transactions) one block ran."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0

    @property
    def writes(self) -> list[str]:
        return [s for s in self.statements if not s.startswith("SELECT")]

    def __repr__(self) -> str:
        return f"{self.transactions} transactions: {self.statements}"


@contextmanager
def counting(storage: SqlStorage) -> Iterator[Counted]:
    """Count what *storage* runs inside the block (BEGIN and COMMIT are not statements)."""
    counted = Counted()
    engine = storage._base_engine

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        words = text.split()
        if words and words[0].upper() not in CONTROL:
            counted.statements.append(" ".join(words[:4]))
            if conn.info.get(BEGIN) == "" and words[0].upper() != "SELECT":
                counted.transactions += 1  # a write sent alone: a transaction by itself

    def commit(conn: Any) -> None:
        if conn.info.get(BEGIN) != "":  # not a connection that sends statements alone
            counted.transactions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
