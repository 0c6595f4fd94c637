"""Django settings of the Django integration tests (``DJANGO_SETTINGS_MODULE=settings``).

The database is a SQLite file in a temporary folder; with
``WSACTIONS_DJANGO_DB=postgresql`` it is PostgreSQL at ``WSACTIONS_TEST_POSTGRES``
(default ``postgresql://postgres@127.0.0.1:5432/test``: user, password, host
and port; the test database is ``test_wsactions_django``, created and dropped
by pytest-django).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SECRET_KEY = "wsactions-django-tests-only-not-a-secret-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "wsactions.contrib.django",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# databases -----------------------------------------------------------------------------------


def _data_dir() -> Path:
    """The folder of the SQLite files: one per test run, shared with the processes it starts
    (they inherit the environment); removed when the run that made it ends."""
    given = os.environ.get("WSACTIONS_DJANGO_DATA_DIR")
    if given:
        return Path(given)
    made = tempfile.mkdtemp(prefix="wsactions-django-")
    os.environ["WSACTIONS_DJANGO_DATA_DIR"] = made
    atexit.register(shutil.rmtree, made, ignore_errors=True)
    return Path(made)


def _sqlite() -> dict[str, Any]:
    """A SQLite file (never ``:memory:``: the contract's threads and processes share it).

    ``transaction_mode`` IMMEDIATE is required by DjangoStorage; WAL lets readers go on
    while a unit of work writes; ``timeout`` is the busy timeout in seconds.
    """
    folder = _data_dir()
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(folder / "wsactions_django.sqlite3"),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
        "TEST": {"NAME": str(folder / "test_wsactions_django.sqlite3")},
    }


def _postgresql() -> dict[str, Any]:
    """The server of ``WSACTIONS_TEST_POSTGRES``; the test database is
    ``test_wsactions_django``. A lock not granted within 20 s raises."""
    url = urlsplit(
        os.environ.get("WSACTIONS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "wsactions_django",
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
        "OPTIONS": {"connect_timeout": 5, "options": "-c lock_timeout=20000"},
        "TEST": {"NAME": "test_wsactions_django"},
    }


_ENGINES = {"sqlite": _sqlite, "postgresql": _postgresql}
_CHOSEN = os.environ.get("WSACTIONS_DJANGO_DB", "sqlite")
if _CHOSEN not in _ENGINES:
    raise ValueError(f"WSACTIONS_DJANGO_DB={_CHOSEN!r}: use one of {sorted(_ENGINES)}")

DATABASES = {"default": _ENGINES[_CHOSEN]()}


# the integration: middleware, the template pack, WSACTIONS (test_integration.py) -----------

from wsactions import TESTING_HASHING  # noqa: E402 - this section is the integration's
from wsactions.contrib.django.conf import TEMPLATE_DIR  # noqa: E402

MIDDLEWARE = [*MIDDLEWARE, "wsactions.contrib.django.middleware.WsActionsMiddleware"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [TEMPLATE_DIR],
        "OPTIONS": {
            "environment": "wsactions.contrib.django.jinja2.environment",
            "context_processors": ["wsactions.contrib.django.context_processors.wsactions"],
        },
    },
    {
        **TEMPLATES[0],
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "OPTIONS": {
            "context_processors": [
                *TEMPLATES[0]["OPTIONS"]["context_processors"],
                "wsactions.contrib.django.context_processors.wsactions",
            ]
        },
    },
]
WSACTIONS = {
    "BASE_URL": "http://testserver",
    "SHOP_NAME": "Test shop",
    "SETTINGS": {"password_hashing": TESTING_HASHING},
}
