"""The Flask-Security-Too peer of bench_http.py: login, registration with a confirmation mail,
a page that needs a login. Flask-SQLAlchemy with a minimal user model of its own.

``gunicorn 'fst_app:create_app()'`` (from this folder) serves it; ``python fst_app.py seed N``
creates the tables and N confirmed users. Environment: ``BENCH_DATABASE_URL``
(``sqlite:///…`` or ``postgresql+psycopg://…``), ``BENCH_SECRET_KEY``, ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import datetime
import os
import sys
from typing import Any

from flask import Flask
from flask_mailman import Mail
from flask_security import (
    RoleMixin,
    Security,
    SQLAlchemyUserDatastore,
    UserMixin,
    auth_required,
    current_user,
    hash_password,
)
from flask_sqlalchemy import SQLAlchemy
from markupsafe import escape
from sqlalchemy import event

db = SQLAlchemy()
roles_users = db.Table(
    "roles_users",
    db.Column("user_id", db.Integer, db.ForeignKey("user.id")),
    db.Column("role_id", db.Integer, db.ForeignKey("role.id")),
)


class Role(db.Model, RoleMixin):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True)


class User(db.Model, UserMixin):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True, nullable=False)
    password = db.Column(db.String(255))
    active = db.Column(db.Boolean, nullable=False)
    fs_uniquifier = db.Column(db.String(64), unique=True, nullable=False)
    confirmed_at = db.Column(db.DateTime)
    roles = db.relationship("Role", secondary=roles_users, backref="users")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["BENCH_SECRET_KEY"],
        SECURITY_PASSWORD_SALT=os.environ["BENCH_SECRET_KEY"][:22],
        SQLALCHEMY_DATABASE_URI=os.environ.get("BENCH_DATABASE_URL", "sqlite:///fst.db"),
        # argon2's cheapest parameters (as wsactions' TESTING_HASHING): benchmark only
        SECURITY_PASSWORD_HASH="argon2",
        SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={
            "argon2__rounds": 1,
            "argon2__memory_cost": 8,
            "argon2__parallelism": 1,
        },
        # its confirmation tokens hash the address: by default with sha256_crypt (535,000
        # rounds in pure Python, ~0.2 s a registration); the cheapest scheme it lists instead
        SECURITY_HASHING_SCHEMES=["hex_md5"],
        SECURITY_DEPRECATED_HASHING_SCHEMES=[],
        # no DNS look-up of the address's domain (wsactions does none either)
        SECURITY_EMAIL_VALIDATOR_ARGS={"check_deliverability": False},
        SECURITY_REGISTERABLE=True,
        SECURITY_CONFIRMABLE=True,  # double opt-in, as wsactions: a confirmation mail
        SECURITY_CHANGEABLE=True,  # its logged-in page: /change (change the password)
        SECURITY_POST_LOGIN_VIEW="/private",
        MAIL_BACKEND="locmem",
        MAIL_DEFAULT_SENDER="shop@example.com",
    )
    db.init_app(app)
    Mail(app)
    Security(app, SQLAlchemyUserDatastore(db, User, Role))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # as wsactions' SqlStorage does
            event.listen(db.engine, "connect", _sqlite_pragmas)

    @app.route("/private")
    @auth_required()
    def private() -> str:
        return f"<p>Hello {escape(current_user.email)}</p>"

    return app


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=20000")
    cursor.close()


def seed(count: int) -> None:
    """The tables, and *count* confirmed users bench<i>@example.com."""
    app = create_app()
    with app.app_context():
        db.create_all()
        store = app.extensions["security"].datastore
        password = hash_password(os.environ["BENCH_PASSWORD"])
        now = datetime.datetime.now(datetime.UTC)
        for i in range(count):
            store.create_user(
                email=f"bench{i}@example.com", password=password, confirmed_at=now, active=True
            )
        db.session.commit()


if __name__ == "__main__":
    seed(int(sys.argv[2]))
