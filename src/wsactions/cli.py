"""``wsactions`` command line.

``wsactions actions [--json] [--lang de]`` lists every action (with the customer
message of each code in a language); ``wsactions db upgrade [URL]``
brings a SQL database to the newest schema, ``wsactions db current [URL]``
prints the revision it is at.

Give the database URL in the environment variable ``WSACTIONS_DATABASE_URL``
(recommended): a URL on the command line, password and all, is shown to every
user of the machine by ``ps``. Errors never show the password.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._action import ActionSpec
from ._result import ActionError
from .actions import default_registry
from .i18n import catalogs, error_message
from .settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


#: The environment variable ``wsactions db`` reads the database URL from.
DATABASE_URL_ENV = "WSACTIONS_DATABASE_URL"
_DB_HELP = f"""The database URL is read from ${DATABASE_URL_ENV} unless given as URL.
Prefer the environment variable: a URL given as an argument, with its password,
is shown to every user of the machine (ps)."""


def describe(spec: ActionSpec, locale: str | None = None) -> dict[str, Any]:
    """An action's declaration as plain data (the shape of the catalog's entries); with
    *locale*, also the customer message of each code and sub-code in that language."""
    found: dict[str, Any] = {
        "name": spec.name,
        "family": spec.family,
        "access": spec.access.value,
        "trigger": spec.trigger,
        "aliases": list(spec.aliases),
        "params": [
            {"name": p.name, "required": p.required, "secret": p.secret, "prefix": p.prefix}
            for p in spec.params
        ],
        "errors": list(spec.codes),
        "summary": spec.summary,
    }
    if locale is not None:
        found["messages"] = code_messages(spec, locale)
    return found


def code_messages(spec: ActionSpec, locale: str) -> dict[str, str]:
    """``{code or code.subcode: message}`` of *spec* in *locale*, as customers read them."""
    settings = _settings()
    found: dict[str, str] = {}
    for code in spec.codes:
        found[code] = error_message(settings, locale, spec.name, ActionError(code))
        for sub in spec.subcodes.get(code, ()):
            error = ActionError(code, subcodes=(sub,))
            found[f"{code}.{sub}"] = error_message(settings, locale, spec.name, error)
    return found


def _settings() -> Settings:
    return Settings(secret_key="wsactions-cli-messages-only-" + "x" * 16)


def _table(specs: Sequence[ActionSpec], locale: str | None) -> str:
    lines = []
    for spec in specs:
        params = ", ".join(
            p.name + ("*" if p.prefix else "") + (" (secret)" if p.secret else "")
            for p in spec.params
        )
        aliases = f"  aka {', '.join(spec.aliases)}" if spec.aliases else ""
        lines.append(f"{spec.name}  [{spec.family}, {spec.access.value}, {spec.trigger}]{aliases}")
        lines.append(f"    params: {params or '-'}")
        if locale is None:
            lines.append(f"    errors: {', '.join(spec.codes) or '-'}")
            continue
        lines.append("    errors:" + ("" if spec.codes else " -"))
        lines += [f"      {code}: {text}" for code, text in code_messages(spec, locale).items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wsactions`` command."""
    parser = argparse.ArgumentParser(prog="wsactions", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("actions", help="list every registered action")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument(
        "--lang", metavar="LOCALE", help="also print each code's customer message (en, de, ...)"
    )
    commands.add_parser("demo", help="the demo shop on http://127.0.0.1:8000 (extra: demo)")
    commands.add_parser("openapi", help="print the OpenAPI 3.1 document of the actions")
    db = commands.add_parser("db", help="schema migrations of the SQL backend", epilog=_DB_HELP)
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "bring the database to the newest schema (or --revision)"),
        ("current", "print the schema revision of the database"),
    ):
        sub = db_commands.add_parser(name, help=text, epilog=_DB_HELP)
        sub.add_argument(
            "url",
            nargs="?",
            metavar="URL",
            help="sqlite:///shop.db or postgresql+psycopg://user@host/db "
            f"(default: ${DATABASE_URL_ENV}, the recommended way)",
        )
        sub.add_argument("--schema", help="PostgreSQL schema of the tables (default: search path)")
        if name == "upgrade":
            sub.add_argument("--revision", default="head", help="target revision (default: head)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        return _demo(argv[1:])
    args = parser.parse_args(argv)

    if args.command == "db":
        return _db(args)
    specs = default_registry().actions
    if args.command == "openapi":
        from .openapi import document

        json.dump(document(specs), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    locale = args.lang
    if locale is not None and locale not in catalogs(_settings()).available():
        sys.stderr.write(f"wsactions actions: no messages for {locale!r}\n")
        return 2
    if args.json:
        json.dump([describe(s, locale) for s in specs], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(specs, locale) + f"\n\n{len(specs)} actions\n")
    return 0


def _demo(argv: Sequence[str]) -> int:
    try:
        from .contrib.demo import main as demo
    except ImportError as error:  # Flask is an extra
        sys.stderr.write(f"wsactions demo needs Flask ({error}): pip install 'wsactions[demo]'\n")
        return 2
    return demo(argv)


def _db(args: argparse.Namespace) -> int:
    try:
        from sqlalchemy.engine import make_url
    except ImportError:  # the SQL backend is an extra
        sys.stderr.write("wsactions db needs the SQL backend: pip install 'wsactions[sql]'\n")
        return 2
    from sqlalchemy.exc import ArgumentError

    from .backends.sql import StorageUnavailableError, migrate

    url = args.url or os.environ.get(DATABASE_URL_ENV)
    if not url:
        sys.stderr.write(
            f"wsactions db {args.db_command}: no database URL: set {DATABASE_URL_ENV} "
            "(recommended) or give it as an argument\n"
        )
        return 2
    try:
        parsed: URL = make_url(url)
    except (ArgumentError, ValueError):  # their messages may quote the URL: not shown
        sys.stderr.write(
            "wsactions db: the database URL cannot be read "
            "(expected sqlite:///shop.db or postgresql+psycopg://user@host/db)\n"
        )
        return 2
    schema = args.schema
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(url, args.revision, schema=schema)
            done = migrate.current(url, schema=schema)
            sys.stdout.write(f"{done} (head: {migrate.head()})\n")
        else:
            sys.stdout.write(f"{migrate.current(url, schema=schema) or 'not migrated'}\n")
    except (StorageUnavailableError, ValueError, ArgumentError) as error:
        lines = _without_password(str(error), url, parsed).strip().splitlines()
        sys.stderr.write(f"wsactions db: {lines[0] if lines else type(error).__name__}\n")
        return 1
    return 0


def _without_password(text: str, url: str, parsed: URL) -> str:
    """*text* with the URL shown as SQLAlchemy shows it (password ``***``) and any other
    copy of the password masked too."""
    text = text.replace(url, parsed.render_as_string(hide_password=True))
    if parsed.password:
        text = text.replace(str(parsed.password), "***")
    return text


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
