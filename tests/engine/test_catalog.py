"""The registered declarations match the documented catalog (tests/catalog/actions.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wsactions import ActionSpec, default_registry
from wsactions.cli import main
from wsactions.codes import ENGINE_CODES, MESSAGES

CATALOG = json.loads((Path(__file__).parents[1] / "catalog" / "actions.json").read_text("utf-8"))
ENTRIES: dict[str, dict[str, Any]] = {entry["name"]: entry for entry in CATALOG["actions"]}
REGISTERED = default_registry().actions


def _params(entry: dict[str, Any]) -> list[tuple[str, bool, bool, bool]]:
    return [
        (p["name"], p["required"], p.get("secret", False), p.get("prefix", False))
        for p in entry["params"]
    ]


def _declared_params(spec: ActionSpec) -> list[tuple[str, bool, bool, bool]]:
    return [(p.name, p.required, p.secret, p.prefix) for p in spec.params]


@pytest.mark.parametrize("spec", REGISTERED, ids=lambda spec: spec.name)
class TestDeclarationMatchesCatalog:
    """Each registered action is declared exactly as the catalog documents it."""

    def test_documented(self, spec: ActionSpec) -> None:
        """The action has a catalog entry under its canonical name."""
        assert spec.name in ENTRIES

    def test_family(self, spec: ActionSpec) -> None:
        """The family matches."""
        assert spec.family == ENTRIES[spec.name]["family"]

    def test_access(self, spec: ActionSpec) -> None:
        """The access rule matches."""
        assert spec.access.value == ENTRIES[spec.name]["access"]

    def test_trigger(self, spec: ActionSpec) -> None:
        """The trigger matches."""
        assert spec.trigger == ENTRIES[spec.name]["trigger"]

    def test_aliases(self, spec: ActionSpec) -> None:
        """The aliases match, in order."""
        assert list(spec.aliases) == ENTRIES[spec.name]["aliases"]

    def test_params(self, spec: ActionSpec) -> None:
        """Parameters match: name, required, secret and prefix, in order."""
        assert _declared_params(spec) == _params(ENTRIES[spec.name])

    def test_codes(self, spec: ActionSpec) -> None:
        """Error codes match, in order."""
        assert list(spec.codes) == [e["code"] for e in ENTRIES[spec.name]["errors"]]


#: Sub-codes an action gives beyond the catalog, each documented in docs/actions.md.
_SCREENING = {"breached", "breachCheckUnavailable"}  # M46, with Settings.breached_passwords
SUBCODE_ADDITIONS = {
    ("AccountRegister", "passwordCheckFailed"): _SCREENING,
    ("ResetPassword", "passwordCheckFailed"): _SCREENING,
    ("GuestRegister", "passwordCheckFailed"): {"weak", *_SCREENING},
    ("SaveGuestDataToUser", "passwordCheckFailed"): _SCREENING,
}


@pytest.mark.parametrize("spec", REGISTERED, ids=lambda spec: spec.name)
def test_subcodes_match_catalog(spec: ActionSpec) -> None:
    """Declared sub-codes are the catalog's plus the documented additions, and no others."""
    documented = {
        e["code"]: set(e.get("subcodes", ()))
        for e in ENTRIES[spec.name]["errors"]
        if e.get("subcodes")
    }
    for (name, code), extra in SUBCODE_ADDITIONS.items():
        if name == spec.name:
            documented[code] = documented.get(code, set()) | extra
    assert {code: set(subs) for code, subs in spec.subcodes.items()} == documented


def test_subcode_additions_are_documented() -> None:
    """Every sub-code addition is named in the action's section of docs/actions.md."""
    docs = (Path(__file__).parents[2] / "docs" / "actions.md").read_text("utf-8")
    for (name, code), extra in SUBCODE_ADDITIONS.items():
        section = docs.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        row = next(line for line in section.splitlines() if line.startswith(f"| `{code}`"))
        assert all(f"`{sub}` is an addition" in row for sub in extra)


def test_registered_in_catalog_order() -> None:
    """Built-ins are registered in the order the catalog lists them."""
    names = [spec.name for spec in REGISTERED]
    assert names == [name for name in ENTRIES if name in names]


def test_every_code_has_a_message() -> None:
    """Every catalog code and every engine code has a default message."""
    codes = {e["code"] for entry in CATALOG["actions"] for e in entry["errors"]}
    codes |= {e["code"] for e in CATALOG["engine"]["engine_errors"]}
    codes |= ENGINE_CODES
    assert sorted(code for code in codes if not MESSAGES.get(code)) == []


def test_catalog_engine_codes_are_engine_codes() -> None:
    """The engine codes the catalog documents are engine codes of the library."""
    documented = {e["code"] for e in CATALOG["engine"]["engine_errors"]}
    assert documented <= ENGINE_CODES


def test_no_action_declares_an_engine_code() -> None:
    """No catalog entry lists an engine code among its own codes."""
    declared = {e["code"] for entry in CATALOG["actions"] for e in entry["errors"]}
    assert declared & ENGINE_CODES == set()


def test_cli_json_matches_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    """`wsactions actions --json` lists every registered action as declared."""
    assert main(["actions", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in listed] == [spec.name for spec in REGISTERED]
    for item, spec in zip(listed, REGISTERED, strict=True):
        assert item["family"] == spec.family
        assert item["access"] == spec.access.value
        assert item["trigger"] == spec.trigger
        assert item["aliases"] == list(spec.aliases)
        assert item["errors"] == list(spec.codes)
        params = [(p["name"], p["required"], p["secret"], p["prefix"]) for p in item["params"]]
        assert params == _declared_params(spec)


def test_cli_json_matches_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's JSON agrees with the catalog for every listed action."""
    main(["actions", "--json"])
    for item in json.loads(capsys.readouterr().out):
        entry = ENTRIES[item["name"]]
        assert item["errors"] == [e["code"] for e in entry["errors"]]
        assert [(p["name"], p["required"], p["secret"], p["prefix"]) for p in item["params"]] == (
            _params(entry)
        )


def test_every_catalog_action_is_registered() -> None:
    """default_registry() and the catalog list the same actions, with the same aliases."""
    registry = default_registry()
    assert [spec.name for spec in registry.actions] == list(ENTRIES)
    for name, entry in ENTRIES.items():
        for alias in entry["aliases"]:
            spec = registry.get(alias)
            assert spec is not None
            assert spec.name == name
