"""pytest-django for this folder only: ``settings`` here is the settings module, and Django
is set up when pytest loads this file (so the rest of the suite runs as before).

``WSACTIONS_DJANGO_DB=postgresql`` runs the tests on PostgreSQL (see ``settings.py``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

if importlib.util.find_spec("django") is None:  # the parent conftest skips the folder too
    collect_ignore_glob = ["*.py"]


def pytest_configure(config: pytest.Config) -> None:
    """Point Django at ``settings`` (unless DJANGO_SETTINGS_MODULE names another module) and
    set it up; pytest-django then creates the test database for the tests that ask for it."""
    if importlib.util.find_spec("django") is None:
        return
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()


def pytest_report_header(config: pytest.Config) -> str:
    """Name the database the Django tests run on."""
    return f"wsactions django database: {os.environ.get('WSACTIONS_DJANGO_DB', 'sqlite')}"


@pytest.fixture(autouse=True)
def _threads_close_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads a test starts close their database connections when they end.

    Django gives every thread a connection of its own and leaves closing it to whoever
    started the thread (a request's connection is closed by Django); the contract's racing
    threads know nothing of Django, so this closes theirs.
    """
    from django.db import connections

    run = threading.Thread.run

    def run_then_close(thread: threading.Thread) -> None:
        try:
            run(thread)
        finally:
            connections.close_all()

    monkeypatch.setattr(threading.Thread, "run", run_then_close)
