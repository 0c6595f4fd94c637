"""The smallest Django shop: wsactions' account area at /account/ (see README.md)."""

import os
from pathlib import Path

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
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [Path(__file__).parent / "templates"],
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "wsactions.contrib.django.context_processors.wsactions"]},
}]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # mails on the console
WSACTIONS = {"BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:8000"),
             "LAYOUT": "layout.html"}  # the account pages inside the shop's own layout
