"""The smallest Django shop: wsactions' account area at /account/ (see README.md)."""

import os
from pathlib import Path

from wsactions.contrib.django.conf import TEMPLATE_DIR

SECRET_KEY = os.environ["SECRET_KEY"]  # 32+ random characters; also signs wsactions' tokens
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["django.contrib.sessions", "wsactions.contrib.django"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "wsactions.contrib.django.middleware.WsActionsMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "shop.sqlite3",
                         "OPTIONS": {"transaction_mode": "IMMEDIATE"}}}
TEMPLATES = [{
    "BACKEND": "django.template.backends.jinja2.Jinja2",
    "DIRS": [Path(__file__).parent / "templates", TEMPLATE_DIR],
    "OPTIONS": {"environment": "wsactions.contrib.django.jinja2.environment",
                "context_processors": ["wsactions.contrib.django.context_processors.wsactions"]},
}]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # mails on the console
WSACTIONS = {"BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:8000")}
