"""Tests for the `wsactions` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wsactions import default_registry
from wsactions.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"


class TestActionsCommand:
    """`wsactions actions` lists every action with its parameters and codes."""

    def test_table_lists_every_action(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Every action, its parameters and its codes appear in the table."""
        assert main(["actions"]) == 0
        out = capsys.readouterr().out
        specs = default_registry().actions
        lines = out.splitlines()
        for spec in specs:
            header = next(i for i, line in enumerate(lines) if line.startswith(spec.name + "  "))
            assert f"[{spec.family}, {spec.access.value}, {spec.trigger}]" in lines[header]
            params = lines[header + 1]
            errors = lines[header + 2]
            assert params.strip().startswith("params:")
            assert errors.strip().startswith("errors:")
            for param in spec.params:
                assert param.name in params
            for code in spec.codes:
                assert code in errors
            if not spec.codes:
                assert errors.strip() == "errors: -"
        assert out.rstrip().endswith(f"{len(specs)} actions")

    def test_json_is_valid(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints one JSON list with an object per action."""
        assert main(["actions", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert isinstance(listed, list)
        assert {item["name"] for item in listed} == {s.name for s in default_registry().actions}
        for item in listed:
            assert set(item) >= {"name", "family", "access", "trigger", "params", "errors"}

    def test_command_is_required(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a command argparse exits with status 2 and a usage message."""
        with pytest.raises(SystemExit) as exit_info:
            main([])
        assert exit_info.value.code == 2
        assert "usage: wsactions" in capsys.readouterr().err

    def test_python_dash_m(self) -> None:
        """`python -m wsactions actions` runs the same command in a fresh interpreter."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
        done = subprocess.run(
            [sys.executable, "-m", "wsactions", "actions"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        for spec in default_registry().actions:
            assert spec.name in done.stdout
        assert done.stdout.rstrip().endswith(f"{len(default_registry().actions)} actions")
