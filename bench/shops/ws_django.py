"""wsactions' Django shop for bench_http.py: the app ``wsactions.contrib.django`` on
DjangoStorage, a whole project in one module.

``gunicorn ws_django:application`` (from this folder) serves it; ``python ws_django.py
migrate`` and ``python ws_django.py seed N`` (N confirmed accounts) prepare the database.
Environment: ``BENCH_DATABASE_URL`` (``sqlite:///…`` or ``postgresql+psycopg://…``),
``BENCH_SECRET_KEY``, ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import django
from django.conf import settings

from wsactions import TESTING_HASHING, RateLimit

URL = urlsplit(os.environ.get("BENCH_DATABASE_URL", "sqlite:///ws_django.sqlite3"))
if URL.scheme == "sqlite":
    DATABASE = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": URL.path[1:],
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
else:
    DATABASE = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": URL.path[1:],
        "USER": URL.username,
        "HOST": URL.hostname,
        "PORT": URL.port,
        "OPTIONS": {"options": "-c lock_timeout=15000"},
    }
DATABASE["CONN_MAX_AGE"] = 600  # one connection per worker, as production settings do

settings.configure(
    SECRET_KEY=os.environ["BENCH_SECRET_KEY"],
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.sessions", "wsactions.contrib.django"],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "wsactions.contrib.django.middleware.WsActionsMiddleware",
    ],
    DATABASES={"default": DATABASE},
    USE_TZ=True,
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",  # mails stay in memory
    WSACTIONS={
        "BASE_URL": "http://127.0.0.1:8000",
        "SETTINGS": {
            "password_hashing": TESTING_HASHING,  # argon2's cheapest parameters: benchmark only
            "mail_per_client": RateLimit(limit=10**9, window=3600),  # every mail from 127.0.0.1
        },
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils.html import format_html  # noqa: E402

from wsactions.contrib.django import login_required  # noqa: E402


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse(format_html("<p>Hello {}</p>", request.customer.email))


urlpatterns = [
    path("account/", include("wsactions.contrib.django.urls")),
    path("private", private),
]
application = get_wsgi_application()


def seed(count: int) -> None:
    """*count* confirmed accounts bench<i>@example.com."""
    from django.db import transaction

    from wsactions.contrib.django.storage import DjangoStorage
    from wsactions.testing import Harness

    shop = Harness(storage=DjangoStorage(), **settings.WSACTIONS["SETTINGS"])
    with transaction.atomic():
        for i in range(count):
            shop.create_account(
                f"bench{i}@example.com", os.environ["BENCH_PASSWORD"], company_id=None, admin=False
            )


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
