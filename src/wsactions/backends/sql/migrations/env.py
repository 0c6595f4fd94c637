"""Alembic environment of wsactions' SQL backend: the schema of ``schema.metadata``."""

from __future__ import annotations

from alembic import context

from wsactions.backends.sql.engine import create_engine
from wsactions.backends.sql.migrate import SCHEMA_NAME, VERSION_TABLE
from wsactions.backends.sql.schema import metadata

config = context.config
url = config.attributes.get("wsa_url") or config.get_main_option("sqlalchemy.url") or ""
schema = config.attributes.get("wsa_schema")
base = create_engine(url)
try:
    with base.connect() as connection:
        if schema:  # PostgreSQL: the migrations' DDL names no schema, the search path does
            if not SCHEMA_NAME.fullmatch(schema):
                raise ValueError(f"not a plain schema name: {schema!r}")
            connection.exec_driver_sql(f'SET search_path TO "{schema}"')
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    base.dispose()
