"""The django-allauth peer of bench_http.py: account login and signup (with a mandatory
confirmation mail), a page that needs a login; a whole project in one module.

``gunicorn allauth_app:application`` (from this folder) serves it; ``python allauth_app.py
migrate`` and ``python allauth_app.py seed N`` (N users with a confirmed address) prepare the
database. Environment: ``BENCH_DATABASE_URL`` (``sqlite:///…`` or ``postgresql+psycopg://…``),
``BENCH_SECRET_KEY``, ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import django
from django.conf import settings

URL = urlsplit(os.environ.get("BENCH_DATABASE_URL", "sqlite:///allauth.sqlite3"))
if URL.scheme == "sqlite":  # the same database settings as the wsactions Django shop
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
DATABASE["CONN_MAX_AGE"] = 600
UNLIMITED = "1000000/m/ip"  # the limits are still counted, but never reached from 127.0.0.1

settings.configure(
    SECRET_KEY=os.environ["BENCH_SECRET_KEY"],
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "allauth",
        "allauth.account",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "allauth.account.middleware.AccountMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    AUTHENTICATION_BACKENDS=[
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ],
    DATABASES={"default": DATABASE},
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # benchmark only
    AUTH_PASSWORD_VALIDATORS=[  # what startproject writes
        {"NAME": f"django.contrib.auth.password_validation.{name}"}
        for name in (
            "UserAttributeSimilarityValidator",
            "MinimumLengthValidator",
            "CommonPasswordValidator",
            "NumericPasswordValidator",
        )
    ],
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",  # mails stay in memory
    LOGIN_REDIRECT_URL="/private",
    ACCOUNT_LOGIN_METHODS={"email"},
    ACCOUNT_SIGNUP_FIELDS=["email*", "password1*", "password2*"],
    ACCOUNT_EMAIL_VERIFICATION="mandatory",  # double opt-in, as wsactions
    ACCOUNT_RATE_LIMITS={
        "login": UNLIMITED,
        "signup": UNLIMITED,
        "login_failed": f"{UNLIMITED},1000000/5m/key",
    },
)
django.setup()

from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils.html import format_html  # noqa: E402


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse(format_html("<p>Hello {}</p>", request.user.email))


urlpatterns = [path("accounts/", include("allauth.urls")), path("private", private)]
application = get_wsgi_application()


def seed(count: int) -> None:
    """*count* users bench<i>@example.com with a confirmed primary address."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import transaction

    password = make_password(os.environ["BENCH_PASSWORD"])
    with transaction.atomic():
        for i in range(count):
            email = f"bench{i}@example.com"
            user = User.objects.create(username=f"bench{i}", email=email, password=password)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
