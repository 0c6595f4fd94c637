"""The OpenAPI 3.1 document generated from the action declarations: valid, complete, and
describing the answers the engine really gives."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from helpers import PW
from wsactions import default_registry
from wsactions.cli import main
from wsactions.codes import ENGINE_CODES
from wsactions.openapi import (
    BROWSER_ONLY,
    CLIENTS,
    CSRF_HEADER,
    DEFAULT_PREFIX,
    TOKEN_HEADER,
    document,
)
from wsactions.testing import Harness
from wsactions.view import json_answer

SPECS = default_registry().actions
DOCUMENT = document(SPECS)


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)  # raises on any error
    assert DOCUMENT["openapi"] == "3.1.0"


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("client", CLIENTS)
def test_every_action_is_described(spec: Any, client: str) -> None:
    """Path, parameters (required, secret: write-only passwords) and every code it may give;
    apps get every action but those keeping state in a browser session."""
    path = f"{DEFAULT_PREFIX}{client}/{spec.name}"
    if client == "app" and spec.name in BROWSER_ONLY:
        assert path not in DOCUMENT["paths"]
        return
    operation = DOCUMENT["paths"][path]["post"]
    header = {"browser": CSRF_HEADER, "app": TOKEN_HEADER}[client]
    assert [p["name"] for p in operation["parameters"]] == [header]
    if spec.trigger == "optin-link":
        assert (
            "wsoptin"
            in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
        )
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    for param in spec.params:
        if param.prefix:
            continue
        schema = body["properties"][param.name]
        assert (schema.get("writeOnly") is True) == param.secret
        assert (param.name in body.get("required", [])) == param.required
    answer = operation["responses"]["400"]["content"]["application/json"]["schema"]
    codes = answer["properties"]["errors"]["items"]["properties"]["code"]["enum"]
    assert set(codes) == set(spec.codes) | ENGINE_CODES


def _check(name: str, answer: dict[str, Any], status: str) -> None:
    schema = DOCUMENT["paths"][f"{DEFAULT_PREFIX}app/{name}"]["post"]["responses"][status]
    answer = {**answer, "meta": {"authenticated": False, "flow": None, "sessionToken": None}}
    jsonschema.validate(
        answer,
        {**schema["content"]["application/json"]["schema"], "components": DOCUMENT["components"]},
    )


def test_real_answers_match_the_document() -> None:
    """What the engine answers (success and failure, with sub-codes) validates against the
    operation's schema; a secret parameter is in no answer."""
    shop = Harness()
    client = shop.client()
    weak = client.submit(
        "AccountRegister", email="ann@example.com", password="abc", passwordRepeat="abc"
    )
    _check("AccountRegister", json_answer(client.context(), weak), "400")
    done = client.submit("AccountRegister", email="ann@example.com", password=PW, passwordRepeat=PW)
    answer = json_answer(client.context(), done)
    _check("AccountRegister", answer, "200")
    assert PW not in json.dumps(answer)
    refused = client.submit("Login", id="nobody@example.com", password=PW)
    _check("Login", json_answer(client.context(), refused), "400")


def test_cli_prints_the_document() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["openapi"]) == 0
    assert json.loads(out.getvalue()) == json.loads(json.dumps(DOCUMENT))


def test_prefix_is_checked() -> None:
    with pytest.raises(ValueError, match="prefix"):
        document(SPECS, prefix="api")
    assert "/shop/api/app/Login" in document(SPECS, prefix="/shop/api/")["paths"]
