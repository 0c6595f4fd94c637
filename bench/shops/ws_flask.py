"""wsactions' Flask shop for bench_http.py: the account area on SqlStorage.

``gunicorn 'ws_flask:create_app()'`` (from this folder) serves it; ``python ws_flask.py
seed N`` creates the schema and N confirmed accounts. Environment: ``BENCH_DATABASE_URL``
(``sqlite:///…`` or ``postgresql+psycopg://…``), ``BENCH_SECRET_KEY``, ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import os
import sys

from flask import Flask
from markupsafe import escape

from wsactions import TESTING_HASHING, RateLimit, RecordingMailer
from wsactions.backends.sql import SqlStorage, upgrade
from wsactions.contrib.flask import WsActions, current_account, login_required

URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:///ws_flask.db")
SETTINGS = {
    "password_hashing": TESTING_HASHING,  # argon2's cheapest parameters: benchmark only
    "mail_per_client": RateLimit(limit=10**9, window=3600),  # every mail from 127.0.0.1
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["BENCH_SECRET_KEY"]
    app.config["WSACTIONS_BASE_URL"] = "http://127.0.0.1:8000"
    app.config["WSACTIONS_SETTINGS"] = SETTINGS
    WsActions(app, storage=SqlStorage(URL), mailer=RecordingMailer())

    @app.route("/private")
    @login_required
    def private() -> str:
        account = current_account()
        assert account is not None
        return f"<p>Hello {escape(account.email)}</p>"

    return app


def seed(count: int) -> None:
    """The schema, and *count* confirmed accounts bench<i>@example.com."""
    from wsactions.testing import Harness

    upgrade(URL)
    shop = Harness(storage=SqlStorage(URL), **SETTINGS)
    for i in range(count):
        shop.create_account(
            f"bench{i}@example.com", os.environ["BENCH_PASSWORD"], company_id=None, admin=False
        )


if __name__ == "__main__":
    seed(int(sys.argv[2]))
