"""Schema migrations (Alembic), shipped in the package: ``wsactions db upgrade URL``.

The migration scripts live in ``migrations/``; the version table is
``wsa_alembic_version`` so that a host's own Alembic history in the same
database stays apart.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from . import _create_engine

VERSION_TABLE = "wsa_alembic_version"
_SCRIPTS = Path(__file__).parent / "migrations"


def config(url: str) -> Config:
    """An Alembic configuration for the database at *url* (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["wsa_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at *url* to *revision* (default: the newest)."""
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at *url* back to *revision*."""
    command.downgrade(config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at *url* is at (``None``: not migrated yet)."""
    engine = _create_engine(url, 15.0, {})
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
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
