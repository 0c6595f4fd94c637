"""The storage contract run against DjangoStorage: a SQLite file, or PostgreSQL with
``WSACTIONS_DJANGO_DB=postgresql``; threads and processes included."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from wsactions.backends.sql import StorageUnavailableError
from wsactions.contrib.django.storage import DjangoStorage, database_problem
from wsactions.models import Account
from wsactions.testing.contract import Requirements, StorageContract


class RacerStorage(DjangoStorage):
    """A DjangoStorage in a worker process of the contract's process races."""

    def close(self) -> None:
        """Close this process's connections: the worker outlives the race, and an open
        connection would keep PostgreSQL from dropping the test database."""
        connections.close_all()


def open_storage(settings_module: str, database: dict[str, Any]) -> DjangoStorage:
    """In a worker process: Django with *database* merged into the default database (the
    parent's test database), then a storage on it (Django is set up on the first call)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.conf import settings

    settings.DATABASES["default"].update(database)
    django.setup()
    return RacerStorage()


class TestDjangoStorage(StorageContract):
    """Every guarantee, on the test database pytest-django made (emptied after each test)."""

    requirements = Requirements(process_safe=True)

    @pytest.fixture
    def storage(self, transactional_db: None) -> DjangoStorage:
        return DjangoStorage()

    @pytest.fixture
    def storage_factory(self, storage: DjangoStorage) -> Callable[[], DjangoStorage]:
        name = connections[storage.using].settings_dict["NAME"]
        return functools.partial(open_storage, os.environ["DJANGO_SETTINGS_MODULE"], {"NAME": name})


@pytest.fixture
def storage(transactional_db: None) -> DjangoStorage:
    return DjangoStorage()


@pytest.fixture
def short_lock_wait() -> Iterator[None]:
    """This thread's connection waits 0.1 s for a lock, not 20 s."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 100")
        else:
            cursor.execute("SET lock_timeout = 100")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 20000")
        else:
            cursor.execute("RESET lock_timeout")


def test_lock_not_granted_is_unavailable(storage: DjangoStorage, short_lock_wait: None) -> None:
    """A lock not granted in time raises StorageUnavailableError; nothing is kept, and the
    storage works again once the lock is free."""
    ann = Account(id="acc-1", email="ann@example.com", email_key="ann@example.com")
    assert storage.accounts.add_account(ann)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with storage.transaction():
                storage.accounts.get_account("acc-1", for_update=True)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock, daemon=True)
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(StorageUnavailableError, match="did not answer"):
            storage.accounts.update_account("acc-1", {"display_name": "Ann"})
        with pytest.raises(StorageUnavailableError), storage.transaction():
            storage.accounts.get_account("acc-1", for_update=True)
    finally:
        release.set()
        holder.join(30)
    assert storage.accounts.get_account("acc-1") == ann
    assert storage.accounts.update_account("acc-1", {"display_name": "Ann"})


def test_sqlite_needs_immediate_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite the storage refuses a database whose transactions begin without the lock."""
    assert database_problem() is None
    connection = connections["default"]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "transaction_mode", "DEFERRED")
    problem = database_problem()
    assert problem is not None
    assert "transaction_mode" in problem
    with pytest.raises(ImproperlyConfigured, match="IMMEDIATE"):
        DjangoStorage()


def test_str_shows_no_secrets() -> None:
    """Admin lists and logs show no password hash, token hash or login id."""
    from wsactions.contrib.django import models  # after django.setup(): not in processes

    account = models.Account(
        account_id="acc-1",
        email="ann@example.com",
        email_key="ann@example.com",
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
    )
    token = models.OptinToken(
        token_hash="f" * 64, purpose="password", account_id="acc-1", created_at=0, expires_at=1
    )
    login = models.Login(
        login_id="e" * 64, account_id="acc-1", created_at=0, last_seen=0, client_address="::1"
    )
    assert str(account) == "ann@example.com"
    assert "f" * 16 not in str(token)
    assert "e" * 16 not in str(login)
    assert "argon2" not in str(account)
