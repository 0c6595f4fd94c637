"""Value objects an action run produces: errors, results, form handles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _errors(items: Iterable[ActionError]) -> tuple[ActionError, ...]:
    return items if type(items) is tuple else tuple(items)


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if mapping is _EMPTY or not mapping:
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


def engine_result(
    name: str,
    success: bool,
    errors: tuple[ActionError, ...],
    params: dict[str, str],
    data: Mapping[str, Any],
    redirect: str | None,
) -> ActionResult:
    """An :class:`ActionResult` as the engine makes it, on every request: *params* is a
    dict the engine made and hands over (wrapped read-only, not copied), *errors* a
    tuple; the slots are filled directly (a frozen class's ``__init__`` goes through
    ``object.__setattr__``, twice as slow)."""
    result: ActionResult = _new(ActionResult)
    _set_name(result, name)
    _set_success(result, success)
    _set_errors(result, errors)
    _set_params(result, MappingProxyType(params) if params else _EMPTY)
    _set_data(result, _freeze(data))
    _set_redirect(result, redirect)
    return result


_new = object.__new__
_set_name, _set_success, _set_errors, _set_params, _set_data, _set_redirect = (
    ActionResult.__dict__[field.name].__set__ for field in attrs.fields(ActionResult)
)


@attrs.frozen
class ActionHandle:
    """What a template needs to render an action's form.

    ``id`` goes into the ``wsact`` field, ``csrf`` into ``wscsrf``.
    """

    name: str
    id: str
    csrf: str = attrs.field(repr=False)
