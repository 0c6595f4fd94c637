"""``wsactions demo``: the whole account area in the browser, on a SQLite file.

A small Flask shop on 127.0.0.1:8000 with the shipped template pack, a
visible outbox (so the mailed links can be clicked), a guest checkout and a
failed payment to try the guest and payment-lock pages, and a seeded B2B
company. ``--lang de`` serves it in German only (whatever the browser asks);
without it the browser's language chooses among the shipped ones. The demo's
own pages are templates in ``demo_templates/`` whose strings are in the
catalogues like the pack's. Demo only: never expose it to a network.

What a web page open in the same browser can do to the demo, and why not:

- DNS rebinding: a site whose name resolves to 127.0.0.1 is same-origin with
  itself and reads every answer, so it could reset a password, read the link
  from the outbox and log in. The demo answers only a ``Host`` of
  ``127.0.0.1``, ``localhost`` or ``[::1]`` (any port), or the address given
  with ``--host``; any other Host gets 400 before anything else runs. (Not
  Flask's ``TRUSTED_HOSTS``: Werkzeug 3.1 cannot match ``[::1]`` in it.)
- Cross-site requests: a foreign page can still make the browser send links
  and form posts to 127.0.0.1, but cannot read the answers. So the demo
  changes state only by POST with a token it cannot know: the template pack's
  forms carry the engine's ``wscsrf``, the demo's own buttons (guest checkout,
  failed payment) a token bound the same way to the session
  (:func:`wsactions.security.csrf.form_token`); without it a post answers 400
  and changes nothing. The session cookie is ``SameSite=Lax`` besides.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import flask

from ..backends.sql import SqlStorage, upgrade
from ..i18n import LOCALES
from ..models import Account, GuestCheckout, Mail, PrivilegeGroup, Privileges
from ..pages import DEFAULT_GROUPS
from ..protocols import Storage
from ..security.csrf import form_token, tokens_equal
from ..security.emails import parse_email
from ..security.passwords import hasher_for
from ..settings import Settings
from .flask import WsActions, context, cycle

#: The seeded company: its admin and an employee, both with this password.
DEMO_PASSWORD = "demo passphrase 4 wsactions"
DEMO_ADMIN = "boss@demo-company.example"
DEMO_EMPLOYEE = "buyer@demo-company.example"

#: The ``Host`` names the demo answers to (with any port); ``--host`` may add one.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
#: A ``Host`` header: a name or IPv4 address, or an IPv6 address in brackets; a port.
_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?", re.IGNORECASE)
#: The demo's own state-changing buttons: route name -> path.
_DEMO_FORMS = {"guest_checkout": "/demo/guest-checkout", "failed_payment": "/demo/failed-payment"}

#: The demo shop's name, in the language it is served in (``--lang``).
_SHOP_NAMES = {"de": "wsactions-Demoshop"}
_SHOP_NAME = "wsactions demo shop"


class Outbox:
    """Keeps the mails of the demo (newest last) and prints each to the console."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        """Keep *mail* for the outbox page."""
        with self._lock:
            self.mails.append(mail)
        print(f"[outbox] {mail.subject} -> {mail.to}", flush=True)


def create_app(
    data_dir: Path, *, base_url: str = "http://127.0.0.1:8000", lang: str | None = None
) -> flask.Flask:
    """The demo's Flask application, keeping its data (and its secret key) in *data_dir*;
    with *lang* (``"de"``) the shop offers only that language."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48), "utf-8")
        key_file.chmod(0o600)
    url = f"sqlite:///{data_dir / 'shop.db'}"
    upgrade(url)
    storage = SqlStorage(url)
    sent = Outbox()
    app = flask.Flask(
        __name__, instance_path=str(data_dir), template_folder="demo_templates"
    )
    own = _host_name(urlsplit(base_url).netloc)  # the address given with --host
    hosts = LOCAL_HOSTS if own is None else LOCAL_HOSTS | {own}

    # Registered before WsActions' hook, so that a foreign Host reaches nothing.
    @app.before_request
    def local_hosts_only() -> None:
        if _host_name(flask.request.headers.get("Host", "")) not in hosts:
            flask.abort(400)

    app.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SECRET_KEY=key_file.read_text("utf-8").strip(),
        WSACTIONS_BASE_URL=base_url,
        WSACTIONS_SHOP_NAME=_SHOP_NAMES.get(lang or "", _SHOP_NAME),
        # the session page (variables, payment lock) is for developers: not in the menu
        WSACTIONS_PAGES=(*DEFAULT_GROUPS, "session"),
        # the headless API at /_wsa/v1/ (its document: /_wsa/v1/openapi.json)
        WSACTIONS_API=True,
        WSACTIONS_SETTINGS={
            "customer_data_fields": frozenset({"phone", "company"}),
            **({"locales": (lang,)} if lang else {}),
        },
    )
    WsActions(app, storage=storage, mailer=sent)
    _seed(storage, app.extensions["wsactions"].registry.settings, lang or "en")
    app.extensions["wsactions_demo_outbox"] = sent

    @app.route("/")
    def home() -> str:
        tokens = {name: _demo_token(name, create=True) for name in _DEMO_FORMS}
        return cycle().render(
            "demo/home.html",
            admin=DEMO_ADMIN,
            employee=DEMO_EMPLOYEE,
            password=DEMO_PASSWORD,
            tokens=tokens,
            urls=_urls(),
        )

    @app.route("/outbox")
    def outbox() -> str:
        return cycle().render("demo/outbox.html", mails=list(sent.mails))

    @app.post(_DEMO_FORMS["guest_checkout"])
    def guest_checkout() -> flask.typing.ResponseReturnValue:
        _check_demo_token("guest_checkout")
        address = {
            "type": "bill",
            "firstName": "Gina",
            "lastName": "Gerber",
            "street": "Marktplatz",
            "houseNumber": "1",
            "zip": "10115",
            "city": "Berlin",
            "country": "DE",
        }
        email = f"guest-{secrets.token_hex(3)}@example.com"
        context().session.set_guest_checkout(
            GuestCheckout(email=email, addresses=(address,), display_name="Gina Gerber")
        )
        return flask.redirect(flask.url_for("wsactions.guest"), 303)

    @app.post(_DEMO_FORMS["failed_payment"])
    def failed_payment() -> flask.typing.ResponseReturnValue:
        _check_demo_token("failed_payment")
        context().session.lock()
        return flask.redirect(flask.url_for("wsactions.session"), 303)

    return app


def _urls() -> dict[str, str]:
    """The demo's own pages, for its templates (rendered with the pack's environment)."""
    return {name: flask.url_for(name) for name in ("outbox", *_DEMO_FORMS)}


def _host_name(header: str) -> str | None:
    """The name of a ``Host`` header without its port, lower case (``None``: malformed)."""
    found = _HOST_HEADER.fullmatch(header)
    return found.group(1).lower() if found else None


def _demo_token(name: str, *, create: bool = False) -> str | None:
    """The token of the demo's *name* button, bound to the session like the engine's
    ``wscsrf`` (``None``: the session has no binding yet and *create* is false)."""
    ctx = context()
    binding = ctx.session.csrf_binding(create=create)
    if binding is None:
        return None
    return form_token(ctx.settings.secret_bytes, binding, f"wsactions.demo.{name}")


def _check_demo_token(name: str) -> None:
    """Answer 400 unless the post carries the token of the *name* button."""
    expected = _demo_token(name)
    given = flask.request.form.get("wscsrf", "")
    if expected is None or not tokens_equal(expected, given):
        flask.abort(400)


def _seed(store: Storage, settings: Settings | None, lang: str) -> None:
    """The demo company: an admin, an employee and a privilege group with a budget (its
    name and the accounts' mail language in *lang*)."""
    if settings is None:  # pragma: no cover - WsActions sets them
        return
    admin_key = parse_email(DEMO_ADMIN)
    if admin_key is None or store.accounts.find_account(admin_key.key) is not None:
        return
    hasher = hasher_for(settings.password_hashing)
    company = "demo-company"
    group_name = "Einkauf" if lang == "de" else "Purchasing"
    with store.transaction():
        for email, is_admin in ((DEMO_ADMIN, True), (DEMO_EMPLOYEE, False)):
            parsed = parse_email(email)
            if parsed is None:  # pragma: no cover - constants
                continue
            store.accounts.add_account(
                Account(
                    id=company if is_admin else f"{company}-buyer",
                    email=parsed.address,
                    email_key=parsed.key,
                    password_hash=hasher.hash(DEMO_PASSWORD),
                    display_name="Dana Demo" if is_admin else "Bo Becker",
                    verified=True,
                    security_stamp=secrets.token_urlsafe(16),
                    company_id=company,
                    admin=is_admin,
                    privilege_group_id=None if is_admin else "purchasing",
                    locale=lang,
                )
            )
        store.accounts.add_group(
            PrivilegeGroup(
                id="purchasing",
                company_id=company,
                name=group_name,
                budget_since=time.time(),
                privileges=Privileges(
                    allowed_payment_methods=frozenset({"invoice", "prepayment"}),
                    payment_limit_per_order=Decimal(500),
                    payment_limit=Decimal(5000),
                    group_name=group_name,
                ),
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``wsactions demo [--host 127.0.0.1] [--port 8000] [--data DIR] [--lang de]``."""
    parser = argparse.ArgumentParser(prog="wsactions demo", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; requests must name it, 127.0.0.1, localhost or [::1] "
        "as their Host",
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data", type=Path, default=Path("wsactions-demo"), help="data folder")
    parser.add_argument(
        "--lang",
        choices=LOCALES,
        help="serve the shop in this language only (default: the browser's choice)",
    )
    args = parser.parse_args(argv)
    base_url = f"http://{_url_host(args.host)}:{args.port}"
    app = create_app(args.data, base_url=base_url, lang=args.lang)
    print(
        f"wsactions demo on {base_url}/ (data in {args.data}/)\n"
        f"seeded company admin {DEMO_ADMIN}, employee {DEMO_EMPLOYEE}, "
        f"password: {DEMO_PASSWORD}"
    )
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


def _url_host(host: str) -> str:
    """*host* as the host of a URL: a wildcard address becomes 127.0.0.1 (the demo answers
    only loopback names then), an IPv6 address goes in brackets."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a name
        return host
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{address}]" if address.version == 6 else str(address)
