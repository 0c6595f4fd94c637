"""What a backend under test can do: capability flags, and the tests that need them.

A test class declares its backend's capabilities once::

    class TestMyStorage(StorageContract):
        requirements = Requirements(process_safe=True)

and a contract test that needs a capability says so with :func:`requires`; it
is skipped, with the flag named in the reason, for a backend that lacks it.
A flag is off unless the class turns it on: a backend is never assumed to
be able to do more than it declared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs
import pytest

__all__ = ["Requirements", "requires"]

F = TypeVar("F", bound=Callable[..., Any])

_REQUIRED = "__wsactions_requires__"


@attrs.frozen
class Requirements:
    """The capabilities of a backend under test (every flag off by default)."""

    #: The data is shared between processes (as a database's is): the process races run,
    #: with a ``storage_factory`` fixture that opens the same data in another process.
    process_safe: bool = False

    def lacking(self, flags: tuple[str, ...]) -> list[str]:
        """The flags among *flags* that are off."""
        return [flag for flag in flags if not getattr(self, flag)]


_FLAGS = frozenset(field.name for field in attrs.fields(Requirements))


def requires(*flags: str) -> Callable[[F], F]:
    """Mark a contract test as needing the capabilities *flags* (fields of
    :class:`Requirements`); it is skipped on a backend without them."""
    unknown = sorted(set(flags) - _FLAGS)
    if unknown:
        raise TypeError(
            f"requires({', '.join(map(repr, unknown))}): known flags are {sorted(_FLAGS)}"
        )

    def mark(test: F) -> F:
        setattr(test, _REQUIRED, (*getattr(test, _REQUIRED, ()), *flags))
        return test

    return mark


def requirements_of(cls: type) -> Requirements:
    """The capabilities *cls* declares: its ``requirements``, and the flags set the old
    way, as class attributes (``process_safe = True``)."""
    declared: Requirements = getattr(cls, "requirements", Requirements())
    legacy = {flag: bool(getattr(cls, flag)) for flag in sorted(_FLAGS) if hasattr(cls, flag)}
    conflicts = [
        flag
        for flag, value in legacy.items()
        if declared != Requirements() and getattr(declared, flag) != value
    ]
    if conflicts:
        raise pytest.UsageError(
            f"{cls.__name__} sets {', '.join(conflicts)} both as a class attribute and in "
            "requirements, differently: keep only requirements = Requirements(...)"
        )
    return attrs.evolve(declared, **legacy)


class CapabilityChecks:
    """Base of the contract mixins: skips a test whose :func:`requires` flags the class's
    :class:`Requirements` lacks, before any other fixture (``storage``) is made."""

    #: What the backend can do; override in the test class.
    requirements: ClassVar[Requirements] = Requirements()

    @pytest.fixture(autouse=True)
    def _contract_requirements(self, request: pytest.FixtureRequest) -> None:
        """Skip unless the backend has every capability the test requires."""
        flags: tuple[str, ...] = getattr(request.function, _REQUIRED, ())
        if not flags:
            return
        lacking = requirements_of(type(self)).lacking(flags)
        if lacking:
            names = ", ".join(f"{flag}=True" for flag in lacking)
            pytest.skip(f"{type(self).__name__} does not declare {names} in its requirements")
