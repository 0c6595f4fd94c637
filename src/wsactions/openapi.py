"""An OpenAPI 3.1 document of the headless API (:mod:`wsactions.headless`), generated from
the action declarations: ``POST <prefix><client>/<Action>`` per action and client
(``browser``, ``app``), its parameters (required, secret), and its answer with the exact
error codes and sub-codes it may give; ``GET <prefix><client>/account`` and
``GET <prefix>config``.

``wsactions openapi`` prints it; the API serves it at ``<prefix>openapi.json``. An
action's answer is the shape the engine's JSON answers have
(:func:`wsactions.view.json_answer`): ``name``, ``success``, ``errors`` (``code``,
``field``, ``subcodes``, ``message`` in the request's language), ``notice``, ``params`` (never
a secret one), ``data``, ``redirect``, plus the API's ``meta``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._action import Access, ActionSpec
from .codes import ENGINE_CODES

__all__ = ["BROWSER_ONLY", "CLIENTS", "CSRF_HEADER", "DEFAULT_PREFIX", "TOKEN_HEADER", "document"]

#: Where the API's endpoints live by default.
DEFAULT_PREFIX = "/_wsa/v1/"
#: The kinds of clients: a page in the shop's browser session, an app with a token.
CLIENTS = ("browser", "app")
#: The browser client's CSRF header (its value: ``meta.csrfToken``).
CSRF_HEADER = "X-CSRF-Token"
#: The app client's session header (its value: ``meta.sessionToken``).
TOKEN_HEADER = "X-Session-Token"
#: Actions whose state lives in a browser session: not offered to apps.
BROWSER_ONLY = frozenset(
    {"SessionUpdate", "SessionUnlock", "LanguageUpdate", "GuestRegister", "SaveGuestDataToUser"}
)

_FLOW = {
    "type": ["object", "null"],
    "required": ["id", "action", "expiresAt"],
    "properties": {
        "id": {"type": "string", "enum": ["secondFactor", "loginCode", "reauthenticate"]},
        "action": {"type": "string", "enum": ["LoginSecondFactor", "LoginCode", "Reauthenticate"]},
        "expiresAt": {"type": ["number", "null"]},
    },
}
_META = {
    "browser": {
        "type": "object",
        "required": ["authenticated", "flow", "csrfToken"],
        "properties": {
            "authenticated": {"type": "boolean"},
            "flow": _FLOW,
            "csrfToken": {"type": "string", "description": f"The next requests' {CSRF_HEADER}."},
        },
    },
    "app": {
        "type": "object",
        "required": ["authenticated", "flow", "sessionToken"],
        "properties": {
            "authenticated": {"type": "boolean"},
            "flow": _FLOW,
            "sessionToken": {
                "type": ["string", "null"],
                "description": f"A new {TOKEN_HEADER} to send from now on (null: keep yours).",
            },
        },
    },
}

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


def _answer_schema(
    spec: ActionSpec, codes: list[str], subcodes: list[str], client: str
) -> dict[str, Any]:
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
        "required": ["name", "success", "errors", "notice", "params", "data", "redirect", "meta"],
        "properties": {
            "name": {"type": "string", "enum": [spec.name, ""]},
            "success": {"type": "boolean"},
            "errors": {"type": "array", "items": error},
            "notice": {"type": ["string", "null"]},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "data": {"type": "object"},
            "redirect": {"type": ["string", "null"]},
            "meta": {"$ref": f"#/components/schemas/{client.title()}Meta"},
        },
    }


def _unavailable(client: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "success", "errors", "meta"],
        "properties": {
            "success": {"const": False},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"const": "storageUnavailable"}},
                },
            },
            "meta": {"$ref": f"#/components/schemas/{client.title()}Meta"},
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
    if spec.trigger == "optin-link":
        properties["wsoptin"] = {
            "type": "string",
            "writeOnly": True,
            "description": "The token of the mailed link (its wsoptin parameter).",
        }
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    if patterns:
        body["patternProperties"] = patterns
    return body


def _operation(spec: ActionSpec, client: str) -> dict[str, Any]:
    codes = sorted(set(spec.codes) | ENGINE_CODES)
    subcodes = sorted({s for subs in spec.subcodes.values() for s in subs})
    answer = {"application/json": {"schema": _answer_schema(spec, codes, subcodes, client)}}
    body = _body_schema(spec)
    description = spec.summary
    if spec.fresh_login:
        description += " Needs a fresh login (reauthenticationRequired otherwise)."
    return {
        "operationId": f"{client}{spec.name[:1].upper()}{spec.name[1:]}",
        "summary": spec.summary,
        "description": description,
        "tags": [spec.family],
        "parameters": [_HEADERS[client]],
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
            "401": {
                "description": "Not logged in, or a login step pending (meta.flow says which).",
                "content": answer,
            },
            "403": {"description": "Refused (csrfCheckFailed, unauthorized).", "content": answer},
            "404": {"description": "Not offered (unknownAction).", "content": answer},
            "429": {"description": "Throttled (loginBlocked, tooManyRequests).", "content": answer},
            "503": {
                "description": "The database did not answer (storageUnavailable).",
                "content": {"application/json": {"schema": _unavailable(client)}},
            },
        },
        "x-wsactions-access": spec.access.value
        if isinstance(spec.access, Access)
        else str(spec.access),
    }


_HEADERS = {
    "browser": {
        "name": CSRF_HEADER,
        "in": "header",
        "required": True,
        "description": "meta.csrfToken of an earlier answer (GET …/browser/account gives one).",
        "schema": {"type": "string"},
    },
    "app": {
        "name": TOKEN_HEADER,
        "in": "header",
        "required": False,
        "description": "meta.sessionToken of an earlier answer (none before a login).",
        "schema": {"type": "string"},
    },
}

_ACCOUNT = {
    "type": "object",
    "required": ["id", "email", "displayName", "isVerified", "addresses", "logins", "cards"],
    "properties": {
        "id": {"type": "string"},
        "email": {"type": "string"},
        "displayName": {"type": "string"},
        "isVerified": {"type": "boolean"},
        "isAdmin": {"type": "boolean"},
        "customerData": {"type": "object", "additionalProperties": {"type": "string"}},
        "hasSecondFactor": {"type": "boolean"},
        "recoveryCodesLeft": {"type": "integer"},
        "mainAddressId": {"type": ["string", "null"]},
        "defaultBillAddressId": {"type": ["string", "null"]},
        "defaultDeliveryAddressId": {"type": ["string", "null"]},
        "addresses": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type", "visibility", "own", "fields"],
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                    "visibility": {"type": "string"},
                    "own": {"type": "boolean"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
        "logins": {"type": "array", "items": {"type": "object"}},
        "cards": {"type": "array", "items": {"type": "object"}},
        "members": {"type": "array", "items": {"type": "object"}},
        "privilegeGroups": {"type": "array", "items": {"type": "object"}},
    },
}


def _account_operation(client: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["authenticated", "account", "meta"],
        "properties": {
            "authenticated": {"type": "boolean"},
            "account": {"oneOf": [{"$ref": "#/components/schemas/Account"}, {"type": "null"}]},
            "meta": {"$ref": f"#/components/schemas/{client.title()}Meta"},
        },
    }
    operation: dict[str, Any] = {
        "operationId": f"{client}Account",
        "summary": "The logged-in account (null when nobody is logged in).",
        "tags": ["account"],
        "responses": {
            "200": {
                "description": "The account, or null.",
                "content": {"application/json": {"schema": schema}},
            },
            "503": {
                "description": "The database did not answer (storageUnavailable).",
                "content": {"application/json": {"schema": _unavailable(client)}},
            },
        },
    }
    if client == "app":
        operation["parameters"] = [_HEADERS["app"]]
    return operation


_CONFIG = {
    "operationId": "config",
    "summary": "What a client needs: languages, password policy, the actions of each client.",
    "tags": ["config"],
    "responses": {
        "200": {
            "description": "The shop's configuration for clients.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["prefix", "locales", "passwordPolicy", "actions", "clients"],
                        "properties": {
                            "prefix": {"type": "string"},
                            "locales": {"type": "array", "items": {"type": "string"}},
                            "defaultLocale": {"type": "string"},
                            "passwordPolicy": {"type": "object"},
                            "clients": {"type": "object"},
                            "actions": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                }
            },
        }
    },
}


def document(
    specs: Iterable[ActionSpec], *, prefix: str = DEFAULT_PREFIX, version: str = "1"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API for *specs* (a registry's ``actions``),
    endpoints under *prefix*."""
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError("prefix must start and end with '/'")
    specs = tuple(specs)
    paths: dict[str, Any] = {f"{prefix}config": {"get": _CONFIG}}
    for client in CLIENTS:
        paths[f"{prefix}{client}/account"] = {"get": _account_operation(client)}
        for spec in specs:
            if client == "app" and spec.name in BROWSER_ONLY:
                continue
            paths[f"{prefix}{client}/{spec.name}"] = {"post": _operation(spec, client)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wsactions",
            "version": version,
            "description": (
                "The customer-account actions of a shop, for a page in the shop's browser "
                f"session (browser: cookies, {CSRF_HEADER}) and for apps (app: "
                f"{TOKEN_HEADER}, no cookies)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {
                "ActionError": _ERROR,
                "Account": _ACCOUNT,
                "BrowserMeta": _META["browser"],
                "AppMeta": _META["app"],
            }
        },
    }
