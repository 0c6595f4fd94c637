"""``wsactions`` command line.

``wsactions actions [--json]`` lists every action; ``wsactions db upgrade URL``
brings a SQL database to the newest schema, ``wsactions db current URL``
prints the revision it is at.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._action import ActionSpec
from ._registry import default_registry


def describe(spec: ActionSpec) -> dict[str, Any]:
    """An action's declaration as plain data (the shape of the catalog's entries)."""
    return {
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


def _table(specs: Sequence[ActionSpec]) -> str:
    lines = []
    for spec in specs:
        params = ", ".join(
            p.name + ("*" if p.prefix else "") + (" (secret)" if p.secret else "")
            for p in spec.params
        )
        aliases = f"  aka {', '.join(spec.aliases)}" if spec.aliases else ""
        lines.append(f"{spec.name}  [{spec.family}, {spec.access.value}, {spec.trigger}]{aliases}")
        lines.append(f"    params: {params or '-'}")
        lines.append(f"    errors: {', '.join(spec.codes) or '-'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wsactions`` command."""
    parser = argparse.ArgumentParser(prog="wsactions", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("actions", help="list every registered action")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    db = commands.add_parser("db", help="schema migrations of the SQL backend")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "bring the database to the newest schema (or --revision)"),
        ("current", "print the schema revision of the database"),
    ):
        sub = db_commands.add_parser(name, help=text)
        sub.add_argument("url", help="sqlite:///shop.db or postgresql+psycopg://user@host/db")
        if name == "upgrade":
            sub.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)

    if args.command == "db":
        return _db(args)
    specs = default_registry().actions
    if args.json:
        json.dump([describe(s) for s in specs], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(specs) + f"\n\n{len(specs)} actions\n")
    return 0


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from .backends.sql import StorageUnavailableError, migrate

    try:
        if args.db_command == "upgrade":
            migrate.upgrade(args.url, args.revision)
            sys.stdout.write(f"{migrate.current(args.url)} (head: {migrate.head()})\n")
        else:
            sys.stdout.write(f"{migrate.current(args.url) or 'not migrated'}\n")
    except (StorageUnavailableError, OperationalError, ValueError) as error:
        reason = error.orig if isinstance(error, OperationalError) else error
        sys.stderr.write(f"wsactions db: the database did not answer: {reason}\n")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
