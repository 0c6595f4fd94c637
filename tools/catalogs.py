"""Regenerate the shipped message catalogues: ``python tools/catalogs.py [--check]``.

The template ``locales/wsactions.pot`` lists

* the symbolic ids every catalogue must answer (error codes, notices, mails:
  :func:`wsactions.i18n.required_keys`), then
* every string of the template pack and of the demo's pages, English texts
  that are their own message ids, as Babel extracts them from the templates
  that ``locales/babel.cfg`` names (``_()``, ``{% trans %}``; a
  ``{# Translators: … #}`` comment before one becomes its note).

Each ``locales/<lang>/LC_MESSAGES/wsactions.po`` is then brought up to date
in the template's order: new ids are added untranslated, translations are
kept, symbolic ids the template does not list (``error.<Action>.<code>``, where
one action needs its own words) are kept as they are, after the others, and
English ids no template uses any more move to the obsolete entries (``#~``).
Unlike ``pybabel update``, which would make those action-specific messages
obsolete too.

Each catalogue is also compiled to the ``wsactions.mo`` beside it, which is what
wsactions reads when a page or mail is rendered.

``--check`` writes nothing and exits 1 when a file is not what regenerating
gives (the test suite checks the same with :func:`stale`).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

import wsactions

if TYPE_CHECKING:
    from wsactions import ActionSpec

__all__ = ["PACKAGE_DIR", "TEMPLATE", "main", "pack_strings", "regenerated", "stale", "write"]

PACKAGE_DIR = Path(wsactions.__file__).resolve().parent
LOCALES_DIR = PACKAGE_DIR / "locales"
#: The catalogue template.
TEMPLATE = LOCALES_DIR / "wsactions.pot"
#: Babel's extraction mapping: which files hold the pack's strings (paths below the package).
MAPPING = LOCALES_DIR / "babel.cfg"
#: A symbolic message id (``error.loginBlocked``), as opposed to an English text.
_SYMBOLIC = re.compile(r"(?:error|success|mail|field|notice)\.[\w.]+")
_WIDTH = 76  # pybabel's


def pack_strings() -> dict[str, tuple[list[tuple[str, int]], list[str]]]:
    """Every string of the pack's and the demo's templates: message id -> (the first place
    in each file it is in, translators' notes), in order of first appearance."""
    with MAPPING.open(encoding="utf-8") as stream:
        method_map, options_map = parse_mapping_cfg(stream)  # type: ignore[no-untyped-call]
    found: dict[str, tuple[list[tuple[str, int]], list[str]]] = {}
    extracted = extract_from_dir(
        PACKAGE_DIR,
        method_map,
        options_map,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, _context in sorted(extracted, key=_position):
        if not isinstance(message, str):  # plural forms: the pack translates each text alone
            raise ValueError(f"{filename}: use one _() per text, not a plural form: {message}")
        places, notes = found.setdefault(message, ([], []))
        if all(name != filename for name, _ in places):
            places.append((filename, lineno))
        notes.extend(c for c in comments if c not in notes)
    return found


def _position(item: tuple[str, int, object, list[str], object]) -> tuple[str, int]:
    return item[0], item[1]


def _template(creation_date: datetime) -> Catalog:
    from wsactions.i18n import required_keys
    from wsactions.mails import MAIL_KINDS

    registry_specs = _specs()
    catalog = Catalog(project="wsactions", creation_date=creation_date, fuzzy=False)
    for key, note in sorted(required_keys(registry_specs, MAIL_KINDS).items()):
        catalog.add(key, auto_comments=[note])
    for text, (places, notes) in pack_strings().items():
        if text in catalog:
            raise ValueError(f"the pack's string {text!r} is also a required message id")
        catalog.add(text, locations=places, auto_comments=notes)  # no line numbers written
    return catalog


def _specs() -> Sequence[ActionSpec]:
    from wsactions import default_registry

    return default_registry().actions


def _render(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_po(out, catalog, width=_WIDTH, include_lineno=False)
    return out.getvalue()


def _read(path: Path) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as stream:
        return read_po(stream)


def _template_bytes() -> tuple[bytes, Catalog]:
    """The template's text; the committed file's date is kept when nothing else changed."""
    committed = _read(TEMPLATE)
    if committed is not None and isinstance(committed.creation_date, datetime):
        catalog = _template(committed.creation_date)
        text = _render(catalog)
        if text == TEMPLATE.read_bytes():
            return text, catalog
    catalog = _template(datetime.now(UTC).replace(second=0, microsecond=0))
    return _render(catalog), catalog


def _updated(po: Catalog, template: Catalog) -> Catalog:
    """*po* with *template*'s messages and its own translations: the symbolic ids in the
    template's order, then *po*'s own symbolic ids, then the pack's strings in the
    template's order; English ids no template has are obsolete."""
    out = Catalog(
        locale=po.locale,
        domain=po.domain,
        header_comment=po.header_comment,
        fuzzy=po.fuzzy,
    )
    out.mime_headers = po.mime_headers
    own = [m for m in _messages(po) if m.id not in template and _SYMBOLIC.fullmatch(str(m.id))]
    for message in _messages(template):
        if not _SYMBOLIC.fullmatch(str(message.id)):
            break  # the pack's strings follow the symbolic ids
        _copy(out, message, po.get(message.id))
    for message in own:
        out[message.id] = message
    for message in _messages(template):
        if not _SYMBOLIC.fullmatch(str(message.id)):
            _copy(out, message, po.get(message.id))
    for message in _messages(po):
        if message.id not in out:
            out.obsolete[str(message.id)] = message
    for key, message in po.obsolete.items():
        if key not in out and key not in out.obsolete:
            out.obsolete[key] = message
    return out


def _copy(out: Catalog, message: Message, old: Message | None) -> None:
    """Add template *message* to *out*, with the translation of *old* (if any)."""
    out.add(
        message.id,
        old.string if old is not None else "",
        locations=message.locations,
        flags=old.flags if old is not None else (),
        auto_comments=message.auto_comments,
        user_comments=old.user_comments if old is not None else (),
    )


def _messages(catalog: Catalog) -> Iterator[Message]:
    """The messages of *catalog* but its header."""
    return (message for message in catalog if message.id)


def _catalogue_paths() -> list[Path]:
    return sorted(LOCALES_DIR.glob("*/LC_MESSAGES/wsactions.po"))


def regenerated() -> dict[Path, bytes]:
    """What every catalogue file (the template and each language's) should hold."""
    text, template = _template_bytes()
    files = {TEMPLATE: text}
    for path in _catalogue_paths():
        po = _read(path)
        if po is not None:
            updated = _updated(po, template)
            files[path] = _render(updated)
            compiled = io.BytesIO()
            write_mo(compiled, updated)  # what wsactions reads at run time
            files[path.with_suffix(".mo")] = compiled.getvalue()
    return files


def stale() -> list[Path]:
    """The catalogue files that are not what regenerating gives."""
    return [
        path
        for path, text in regenerated().items()
        if not path.is_file() or path.read_bytes() != text
    ]


def write() -> list[Path]:
    """Regenerate the catalogue files; the ones that changed."""
    changed = []
    for path, text in regenerated().items():
        if not path.is_file() or path.read_bytes() != text:
            path.write_bytes(text)
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python tools/catalogs.py [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python tools/catalogs.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    paths = stale() if args.check else write()
    verb = "is stale" if args.check else "written"
    for path in paths:
        sys.stdout.write(f"{path.relative_to(PACKAGE_DIR.parent)}: {verb}\n")
    missing = _untranslated()
    for locale, keys in missing.items():
        sys.stdout.write(f"{locale}: {len(keys)} pack strings without a translation\n")
    return 1 if args.check and paths else 0


def _untranslated() -> dict[str, list[str]]:
    """Per language but English (whose ids are the texts): pack strings with no translation."""
    texts = pack_strings()
    missing: dict[str, list[str]] = {}
    for path in _catalogue_paths():
        locale = path.parent.parent.name
        po = _read(path)
        if po is None or locale == "en":
            continue
        keys = [key for key in texts if not _translation(po, key)]
        if keys:
            missing[locale] = keys
    return missing


def _translation(catalog: Catalog, key: str) -> str:
    message = catalog.get(key)
    return str(message.string) if message is not None and message.string else ""


if __name__ == "__main__":
    raise SystemExit(main())
