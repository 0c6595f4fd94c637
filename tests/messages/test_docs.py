"""The docs that are generated from code stay in step with it."""

from __future__ import annotations

from pathlib import Path

from tools import docs as _docs

ACTIONS_MD = Path(__file__).parents[2] / "docs" / "actions.md"


def test_message_tables_are_current() -> None:
    """docs/actions.md holds exactly the message tables the catalogues render."""
    text = ACTIONS_MD.read_text("utf-8")
    assert _docs.rewrite(text) == text, "run: python tools/docs.py docs/actions.md"


def test_every_action_has_a_table() -> None:
    """The generated section has a table for each registered action."""
    rendered = _docs.render()
    from wsactions import default_registry

    for spec in default_registry().actions:
        assert f"#### {spec.name}\n" in rendered
