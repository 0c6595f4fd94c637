"""Alembic environment of wsactions' SQL backend: the schema of ``schema.metadata``."""

from __future__ import annotations

from alembic import context

from wsactions.backends.sql import _create_engine
from wsactions.backends.sql.migrate import VERSION_TABLE
from wsactions.backends.sql.schema import metadata

config = context.config
url = config.attributes.get("wsa_url") or config.get_main_option("sqlalchemy.url") or ""
engine = _create_engine(url, 15.0, {})
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    engine.dispose()
