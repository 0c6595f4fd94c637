"""Shared fixtures and the hypothesis profiles of the test suite.

Profiles: ``default`` (local runs), ``ci`` (hypothesis loads it when ``CI`` is
set: derandomized, no example database) and ``thorough`` (many more
examples, for a run by hand). ``HYPOTHESIS_PROFILE=thorough pytest`` picks one.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

from wsactions.backends.memory import MemoryStorage
from wsactions.testing import Client, Harness

# Failed asserts of the shipped contract suite show their values (before it is imported).
pytest.register_assert_rewrite("wsactions.testing.contract")

settings.register_profile("default", deadline=None, max_examples=50)
settings.register_profile("ci", settings.get_profile("ci"), deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", settings.get_current_profile_name()))


@pytest.fixture
def shop() -> Harness:
    """A whole shop in memory with the built-in actions."""
    return Harness()


@pytest.fixture
def alice(shop: Harness) -> Client:
    """A browser of ``shop`` with its own session."""
    return shop.client(client_address="203.0.113.10")


@pytest.fixture
def bob(shop: Harness) -> Client:
    """A second browser of the same ``shop``."""
    return shop.client(client_address="203.0.113.20")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--storage``: the backend every Harness of the suite runs on."""
    parser.addoption(
        "--storage",
        default=os.environ.get("WSACTIONS_TEST_STORAGE", "memory"),
        help="memory (default), sqlite, postgresql, or module:factory, a zero-argument "
        "callable returning a fresh, empty storage (also from WSACTIONS_TEST_STORAGE)",
    )


def storage_factory(name: str) -> Callable[[], Any]:
    """The factory *name* stands for: ``memory``, ``sqlite`` (a new file per Harness),
    ``postgresql`` (a new schema per Harness) or ``module:attribute``."""
    if name == "memory":
        return MemoryStorage
    if name in ("sqlite", "postgresql"):
        import sqlstores

        return sqlstores.sqlite_storage if name == "sqlite" else sqlstores.postgres_storage
    module, _, attribute = name.partition(":")
    if not attribute:
        raise pytest.UsageError(f"--storage {name!r}: use 'memory' or 'module:factory'")
    factory: Callable[[], Any] = getattr(importlib.import_module(module), attribute)
    return factory


def pytest_configure(config: pytest.Config) -> None:
    """Point every Harness built without a storage at the chosen backend."""
    Harness.default_storage = storage_factory(config.getoption("--storage"))


def pytest_report_header(config: pytest.Config) -> str:
    """Name the storage backend in the header of every run."""
    return f"wsactions storage: {config.getoption('--storage')}"


@pytest.fixture(autouse=True)
def _close_sql_storages(request: pytest.FixtureRequest) -> Iterator[None]:
    """SQL storages a test's Harnesses made are closed when it ends."""
    yield
    if request.config.getoption("--storage") in ("sqlite", "postgresql"):
        import sqlstores

        sqlstores.close_all()
