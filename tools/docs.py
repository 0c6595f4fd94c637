"""The message tables of ``docs/actions.md``, generated from the catalogues.

``python tools/docs.py docs/actions.md`` rewrites the part between
``<!-- messages:begin -->`` and ``<!-- messages:end -->``; a test fails when
the file differs from what this renders, so docs and catalogues cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wsactions import ActionError, Settings, default_registry
from wsactions.i18n import LOCALES, error_message, success_message

BEGIN = "<!-- messages:begin -->"
END = "<!-- messages:end -->"
_NAMES = {"en": "English", "de": "Deutsch"}


def _cell(text: str | None) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The generated section: one table per action, a row per code and sub-code."""
    settings = Settings(secret_key="wsactions-docs-rendering-only-" + "x" * 16)
    lines = [
        BEGIN,
        "",
        "Generated from the message catalogues (`src/wsactions/locales`) by",
        "`python tools/docs.py docs/actions.md`; do not edit by hand.",
        "",
    ]
    for spec in default_registry().actions:
        lines += [f"#### {spec.name}", ""]
        lines.append("| code | " + " | ".join(_NAMES.get(loc, loc) for loc in LOCALES) + " |")
        lines.append("|---" * (len(LOCALES) + 1) + "|")
        notices = [success_message(settings, loc, spec.name, {}) for loc in LOCALES]
        lines.append("| (success) | " + " | ".join(_cell(n) for n in notices) + " |")
        for code in spec.codes:
            errors = [ActionError(code)]
            errors += [ActionError(code, subcodes=(sub,)) for sub in spec.subcodes.get(code, ())]
            for error in errors:
                label = f"`{code}`" + (f" / `{error.subcodes[0]}`" if error.subcodes else "")
                texts = [
                    error_message(settings, loc, spec.name, error, country="DE") for loc in LOCALES
                ]
                lines.append(f"| {label} | " + " | ".join(_cell(t) for t in texts) + " |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str) -> str:
    """*text* with its generated section replaced (appended when it has none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + render() + tail
    return text.rstrip("\n") + "\n\n## Customer messages\n\n" + render() + "\n"


def main(argv: list[str]) -> int:
    """Rewrite the file named by the only argument."""
    path = Path(argv[0])
    path.write_text(rewrite(path.read_text("utf-8")), "utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
