"""Value objects an action run produces: errors, results, form handles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _errors(items: Iterable[ActionError]) -> tuple[ActionError, ...]:
    return tuple(items)


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not mapping:
        return _EMPTY
    return MappingProxyType(dict(mapping))


@attrs.frozen
class ActionError:
    """One reason an action failed.

    *code* is the documented error code, *field* the parameter it concerns
    (or ``None``), *subcodes* refine it (``passwordCheckFailed`` carries
    ``minlen``, ``maxlen`` or ``weak``; ``addressCheckFailed`` carries
    ``minlen``, ``maxlen``, ``numeric``, ``country`` or ``zip``).
    """

    code: str
    field: str | None = None
    subcodes: tuple[str, ...] = attrs.field(default=(), converter=_strings)


@attrs.frozen
class ActionResult:
    """What one executed action reports to the host and its templates.

    ``params`` echoes the submitted non-secret parameters so that a form can
    be refilled; parameters declared secret (passwords) never appear.
    ``redirect`` is the validated ``wstarget`` of a successful action.
    """

    name: str
    success: bool
    errors: tuple[ActionError, ...] = attrs.field(default=(), converter=_errors)
    params: Mapping[str, str] = attrs.field(default=_EMPTY, converter=_freeze)
    data: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_freeze)
    redirect: str | None = None

    @property
    def error(self) -> bool:
        """``True`` when the action failed (always ``not success``)."""
        return not self.success

    @property
    def codes(self) -> frozenset[str]:
        """The error codes of :attr:`errors`, for quick membership checks."""
        return frozenset(e.code for e in self.errors)

    def errors_for(self, field: str) -> tuple[ActionError, ...]:
        """The errors that concern *field*."""
        return tuple(e for e in self.errors if e.field == field)


@attrs.frozen
class ActionHandle:
    """What a template needs to render an action's form.

    ``id`` goes into the ``wsact`` field, ``csrf`` into ``wscsrf``.
    """

    name: str
    id: str
    csrf: str = attrs.field(repr=False)
