"""The storage contract run against the SQL backend: SQLite files and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sqlstores import discard, factory_of, postgres_storage, sqlite_storage
from wsactions.backends.sql import SqlStorage
from wsactions.testing.contract import StorageContract


class TestSqliteStorage(StorageContract):
    """SQLite: one file, WAL, BEGIN IMMEDIATE units of work; shared between processes."""

    process_safe = True

    @pytest.fixture
    def storage(self) -> Iterator[SqlStorage]:
        storage = sqlite_storage()
        yield storage
        storage.close()

    @pytest.fixture
    def storage_factory(self, storage: SqlStorage) -> Callable[[], SqlStorage]:
        return factory_of(storage)


class TestPostgresStorage(StorageContract):
    """PostgreSQL: READ COMMITTED with locking reads; shared between processes."""

    process_safe = True

    @pytest.fixture
    def storage(self) -> Iterator[SqlStorage]:
        storage = postgres_storage()
        yield storage
        discard(storage)

    @pytest.fixture
    def storage_factory(self, storage: SqlStorage) -> Callable[[], SqlStorage]:
        return factory_of(storage)
