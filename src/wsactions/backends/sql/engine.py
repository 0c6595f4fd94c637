"""How wsactions connects to a database: the engine :class:`~wsactions.backends.sql.SqlStorage`
and the migrations (:mod:`~wsactions.backends.sql.migrate`) both use.

* SQLite: WAL journal, ``synchronous=NORMAL``, foreign keys on, a busy timeout;
  the driver's own transaction handling is off, and every transaction begins
  with ``BEGIN IMMEDIATE`` (the write lock at once) unless the connection's
  ``info[BEGIN]`` names another statement (``""``: none, each statement commits
  on its own, as wsactions' reads outside a unit of work do).
* PostgreSQL: READ COMMITTED, ``connect_timeout`` and ``lock_timeout`` from
  *timeout*; a pooled connection that sat idle for more than
  :data:`IDLE_BEFORE_PING` seconds is checked before use (a busy worker pays no
  ping per transaction).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

__all__ = ["BEGIN", "create_engine", "in_schema"]

#: The key of ``Connection.info`` that names how a SQLite transaction begins.
BEGIN = "wsa_begin"


def create_engine(url: str, *, timeout: float = 15.0, **options: Any) -> Engine:
    """An engine for the database at *url* (SQLite or PostgreSQL) that waits at most
    *timeout* seconds for a lock or a connection; *options* go to
    :func:`sqlalchemy.create_engine` (``connect_args`` are added to wsactions' own; a
    PostgreSQL ``options`` string is appended to its settings). ``ValueError`` for
    another database."""
    parsed = sa.engine.make_url(url)
    extra: dict[str, Any] = dict(options.pop("connect_args", None) or {})
    if parsed.get_backend_name() == "sqlite":
        args: dict[str, Any] = {"timeout": timeout, "check_same_thread": False, **extra}
        engine = sa.create_engine(url, connect_args=args, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            begin = connection.info.get(BEGIN, "BEGIN IMMEDIATE")
            if begin:
                connection.exec_driver_sql(begin)

        return engine
    if parsed.get_backend_name() == "postgresql":
        settings = (
            f"-c lock_timeout={int(timeout * 1000)} "
            f"-c idle_in_transaction_session_timeout={int(timeout * 4000)}"
        )
        if "options" in extra:
            settings = f"{settings} {extra.pop('options')}"
        pg_args: dict[str, Any] = {
            "connect_timeout": max(1, int(timeout)),
            **extra,
            "options": settings,
        }
        engine = sa.create_engine(
            url, connect_args=pg_args, isolation_level="READ COMMITTED", **options
        )
        if not options.get("pool_pre_ping"):
            _ping_when_idle(engine)
        return engine
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


#: A pooled connection idle longer than this (seconds) is pinged before it is handed out.
IDLE_BEFORE_PING = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for a while (a server
    restart or a dropped idle connection shows there), not on every checkout as
    ``pool_pre_ping`` does: a busy worker pays no extra round trip per transaction."""

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["wsa_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("wsa_idle_since")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # hand it out idle, not inside the ping's transaction
        except Exception as error:  # a connection that is gone: the pool makes a new one
            raise sa.exc.DisconnectionError("the pooled connection was gone") from error


def in_schema(engine: Engine, schema: str | None) -> Engine:
    """*engine* with its tables in the PostgreSQL *schema* (``None``: *engine* itself)."""
    if schema is None:
        return engine
    return engine.execution_options(schema_translate_map={None: schema})
