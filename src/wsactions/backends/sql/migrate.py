"""Schema migrations (Alembic), shipped in the package: ``wsactions db upgrade URL``.

The migration scripts live in ``migrations/``; the version table is
``wsa_alembic_version`` so that a host's own Alembic history in the same
database stays apart. A database that does not answer raises
:class:`~wsactions.backends.sql.StorageUnavailableError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from ...errors import StorageUnavailableError
from .engine import create_engine
from .schema import VERSION_TABLE

__all__ = ["SCHEMA_NAME", "VERSION_TABLE", "config", "current", "downgrade", "head", "upgrade"]
#: What a schema name may look like (it is put into a ``SET search_path``).
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SCRIPTS = Path(__file__).parent / "migrations"


def config(url: str, schema: str | None = None) -> Config:
    """An Alembic configuration for the database at *url* (no ini file needed); *schema*
    names the PostgreSQL schema the tables live in (as ``SqlStorage(url, schema=...)``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["wsa_url"] = url
    cfg.attributes["wsa_schema"] = schema
    return cfg


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        text = str(error.orig or error).strip()
        first = text.splitlines()[0] if text else "no answer"
        raise StorageUnavailableError(f"the database did not answer: {first}") from error


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Bring the database at *url* to *revision* (default: the newest)."""
    with _unavailable():
        command.upgrade(config(url, schema), revision)


def downgrade(url: str, revision: str, *, schema: str | None = None) -> None:
    """Take the database at *url* back to *revision*."""
    with _unavailable():
        command.downgrade(config(url, schema), revision)


def current(url: str, *, schema: str | None = None) -> str | None:
    """The revision the database at *url* is at (``None``: not migrated yet)."""
    engine = create_engine(url)
    options = {"version_table": VERSION_TABLE, "version_table_schema": schema}
    try:
        with _unavailable(), engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=options)
            return context.get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision shipped."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(config("sqlite://")).get_current_head()
    if found is None:  # pragma: no cover - the package ships migrations
        raise RuntimeError("no migrations shipped")
    return found
