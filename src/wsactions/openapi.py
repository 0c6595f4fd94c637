"""An OpenAPI 3.1 document of the actions, generated from their declarations: one
``POST <prefix><Action>`` per action, its parameters (required, secret), and its answer
with the exact error codes and sub-codes it may give.

``wsactions openapi`` prints it. The answer is the shape the engine's JSON answers have
(:func:`wsactions.view.json_answer`): ``name``, ``success``, ``errors`` (``code``,
``field``, ``subcodes``, ``message`` in the request's language), ``notice``, ``params`` (never
a secret one), ``data``, ``redirect``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._action import Access, ActionSpec
from .codes import ENGINE_CODES

__all__ = ["DEFAULT_PREFIX", "document"]

#: Where the API's endpoints live by default.
DEFAULT_PREFIX = "/_wsa/v1/"

_ERROR = {
    "type": "object",
    "required": ["code", "field", "subcodes", "message"],
    "properties": {
        "code": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "subcodes": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
}


def _answer_schema(spec: ActionSpec, codes: list[str], subcodes: list[str]) -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["code", "field", "subcodes", "message"],
        "properties": {
            "code": {"type": "string", "enum": codes},
            "field": {"type": ["string", "null"]},
            "subcodes": {"type": "array", "items": {"type": "string", "enum": subcodes}}
            if subcodes
            else {"type": "array", "maxItems": 0},
            "message": {"type": "string"},
        },
    }
    return {
        "type": "object",
        "required": ["name", "success", "errors", "notice", "params", "data", "redirect"],
        "properties": {
            "name": {"type": "string", "enum": [spec.name, ""]},
            "success": {"type": "boolean"},
            "errors": {"type": "array", "items": error},
            "notice": {"type": ["string", "null"]},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "data": {"type": "object"},
            "redirect": {"type": ["string", "null"]},
        },
    }


def _body_schema(spec: ActionSpec) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    patterns: dict[str, Any] = {}
    for param in spec.params:
        schema: dict[str, Any] = {"type": "string"}
        if param.secret:
            schema.update(format="password", writeOnly=True)
        if param.description:
            schema["description"] = param.description
        if param.prefix:
            patterns[f"^{param.name.replace('.', '[.]')}"] = schema
            continue
        properties[param.name] = schema
        if param.required:
            required.append(param.name)
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    if patterns:
        body["patternProperties"] = patterns
    return body


def _operation(spec: ActionSpec) -> dict[str, Any]:
    codes = sorted(set(spec.codes) | ENGINE_CODES)
    subcodes = sorted({s for subs in spec.subcodes.values() for s in subs})
    answer = {"application/json": {"schema": _answer_schema(spec, codes, subcodes)}}
    body = _body_schema(spec)
    description = spec.summary
    if spec.fresh_login:
        description += " Needs a fresh login (reauthenticationRequired otherwise)."
    return {
        "operationId": spec.name,
        "summary": spec.summary,
        "description": description,
        "tags": [spec.family],
        "requestBody": {
            "required": bool(body.get("required")),
            "content": {
                "application/json": {"schema": body},
                "application/x-www-form-urlencoded": {"schema": body},
            },
        },
        "responses": {
            "200": {"description": "The action succeeded.", "content": answer},
            "400": {"description": "The action failed with its codes.", "content": answer},
            "401": {"description": "Not logged in (notLoggedIn).", "content": answer},
            "403": {
                "description": "Access refused (CSRF, unauthorized, a fresh login needed).",
                "content": answer,
            },
            "429": {"description": "Throttled (loginBlocked, tooManyRequests).", "content": answer},
            "503": {"description": "The database did not answer.", "content": answer},
        },
        "x-wsactions-access": spec.access.value
        if isinstance(spec.access, Access)
        else str(spec.access),
    }


def document(
    specs: Iterable[ActionSpec], *, prefix: str = DEFAULT_PREFIX, version: str = "1"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of *specs* (a registry's ``actions``), endpoints under
    *prefix*."""
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError("prefix must start and end with '/'")
    paths = {f"{prefix}{spec.name}": {"post": _operation(spec)} for spec in specs}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wsactions",
            "version": version,
            "description": "The customer-account actions of a shop: one endpoint per action.",
        },
        "paths": paths,
        "components": {"schemas": {"ActionError": _ERROR}},
    }
