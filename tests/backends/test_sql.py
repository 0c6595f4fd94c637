"""The storage contract run against the SQL backend: SQLite files and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from sqlstores import POSTGRES_URL, factory_of, require_postgres, sqlite_storage
from wsactions.backends.sql import SqlStorage, create_all
from wsactions.backends.sql.schema import metadata
from wsactions.testing.contract import Requirements, StorageContract


class TestSqliteStorage(StorageContract):
    """SQLite: one file, WAL, BEGIN IMMEDIATE units of work; shared between processes."""

    requirements = Requirements(process_safe=True)

    @pytest.fixture
    def storage(self) -> Iterator[SqlStorage]:
        storage = sqlite_storage()
        yield storage
        storage.close()

    @pytest.fixture
    def storage_factory(self, storage: SqlStorage) -> Callable[[], SqlStorage]:
        return factory_of(storage)


class SharedSchema:
    """A PostgreSQL schema the contract's tests share, emptied before each one (a schema
    of its own per test took ten times as long); a new one if a test left rows locked."""

    def __init__(self) -> None:
        require_postgres()
        self.engine = sa.create_engine(POSTGRES_URL, connect_args={"options": "-c lock_timeout=5s"})
        self.names: list[str] = []
        self.renew()

    @property
    def name(self) -> str:
        """The schema in use."""
        return self.names[-1]

    def renew(self) -> None:
        """Use a new schema with the declared tables."""
        name = f"wsa_test_{secrets.token_hex(6)}"
        with self.engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        self.names.append(name)
        create_all(POSTGRES_URL, schema=name)

    def empty(self) -> None:
        """Delete every row the last test left (the schema's revision stays)."""
        in_schema = self.engine.execution_options(schema_translate_map={None: self.name})
        try:
            with in_schema.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())
        except sa.exc.OperationalError:  # lock_timeout: a failed test's thread holds a lock
            self.renew()

    def drop(self) -> None:
        """Drop every schema used."""
        with self.engine.begin() as connection:
            for name in self.names:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        self.engine.dispose()


@pytest.fixture(scope="module")
def shared_schema() -> Iterator[SharedSchema]:
    shared = SharedSchema()
    yield shared
    shared.drop()


class TestPostgresStorage(StorageContract):
    """PostgreSQL: READ COMMITTED with locking reads; shared between processes."""

    requirements = Requirements(process_safe=True)

    @pytest.fixture
    def storage(self, shared_schema: SharedSchema) -> Iterator[SqlStorage]:
        shared_schema.empty()
        storage = SqlStorage(POSTGRES_URL, schema=shared_schema.name)
        yield storage
        storage.close()

    @pytest.fixture
    def storage_factory(self, storage: SqlStorage) -> Callable[[], SqlStorage]:
        return factory_of(storage)
