"""SECURITY.md requirements the engine covers, one test (or more) per requirement number."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    ACTION_NAMES,
    UNSAFE_TARGETS,
    containers,
    form_fields,
    log_in_member,
)
from wsactions import (
    ActionError,
    ActionEvent,
    ActionRegistry,
    ActionSpec,
    Call,
    ConfigurationError,
    Outcome,
    Param,
    action,
    default_registry,
    log_event,
    ok,
)
from wsactions.codes import ENGINE_CODES
from wsactions.security.redirects import safe_target
from wsactions.testing import Client, Harness


def _ok(call: Call) -> Outcome:
    return ok()


#: A custom action with secret parameters, plain and prefixed, and a link action.
SECRETIVE = action(
    "Secretive",
    family="custom",
    params=[Param("note"), Param("pin", secret=True), Param("answer.", secret=True, prefix=True)],
)(_ok)
LEAVE = action("Leave", family="custom", trigger="link", params=[Param("x")])(_ok)


def registry() -> ActionRegistry:
    """The built-ins plus the custom actions above."""
    registry = default_registry()
    registry.register(SECRETIVE)
    registry.register(LEAVE)
    return registry


ALL_SPECS: tuple[ActionSpec, ...] = registry().actions
LINK_ACTIONS = [spec.name for spec in ALL_SPECS if spec.trigger == "link"]
SINGLE_FIELDS = [
    (spec.name, param.name) for spec in ALL_SPECS for param in spec.params if not param.prefix
]

_PLAUSIBLE = {
    "email": "new.customer@example.com",
    "id": "member@example.com",
    "guestMail": "guest@example.com",
    "displayName": "Ann Example",
}


def plausible_form(
    spec: ActionSpec, secret: str = "Correct-Horse-Battery-9-Staple"
) -> dict[str, str]:
    """Values for every declared parameter that could let the action succeed."""
    form: dict[str, str] = {}
    for param in spec.params:
        if param.prefix:
            form[param.name + "city"] = secret if param.secret else "Köln"
        elif param.secret:
            form[param.name] = secret
        else:
            form[param.name] = _PLAUSIBLE.get(param.name, "1")
    return form


def new_shop(*, logged_in: bool) -> tuple[Harness, Client, Client]:
    """A shop with Alice (logged in as a company admin when asked) and Bob."""
    shop = Harness(registry=registry())
    alice, bob = shop.client(), shop.client(client_address="198.51.100.7")
    if logged_in:
        log_in_member(shop, alice)
    return shop, alice, bob


def assert_refused(
    shop: Harness, client: Client, form: Mapping[str, Any], code: str, field: str | None
) -> None:
    """Posting *form* fails with exactly (*code*, *field*), sends no mail, changes nothing."""
    before_state, before_session = shop.state(), dict(client.cookie)
    result = client.post(form)
    assert result.errors == (ActionError(code, field),)
    assert shop.state() == before_state
    assert dict(client.cookie) == before_session
    assert shop.outbox == []


# C25 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
@pytest.mark.parametrize("token", ["missing", "empty", "tampered", "other-session", "other-action"])
@pytest.mark.parametrize("name", [spec.name for spec in ALL_SPECS])
def test_c25_csrf_required_for_every_action(name: str, token: str, logged_in: bool) -> None:
    """Every action refuses a missing, tampered or foreign wscsrf and changes nothing."""
    shop, alice, bob = new_shop(logged_in=logged_in)
    spec = shop.registry[name]
    own = alice.create(name).csrf
    form: dict[str, Any] = {"wsact": name, **plausible_form(spec)}
    if token == "empty":
        form["wscsrf"] = ""
    elif token == "tampered":
        form["wscsrf"] = own[:-2] + ("AA" if not own.endswith("AA") else "BB")
    elif token == "other-session":
        form["wscsrf"] = bob.create(name).csrf
    elif token == "other-action":
        other = "SessionUnlock" if name != "SessionUnlock" else "SessionUpdate"
        form["wscsrf"] = alice.create(other).csrf
    assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")


# C26 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LINK_ACTIONS)
def test_c26_link_signature_bound_to_session(name: str) -> None:
    """A link action's URL made in another session does nothing; the session's own works."""
    shop, alice, bob = new_shop(logged_in=True)
    alice.create(name)
    before_state, before_session = shop.state(), dict(alice.cookie)
    foreign = alice.follow(bob.url(name, "/after"))
    assert foreign is not None
    assert foreign.errors == (ActionError("csrfCheckFailed", "wscsrf"),)
    assert shop.state() == before_state
    assert dict(alice.cookie) == before_session
    assert alice.session.account_id is not None
    own = alice.follow(alice.url(name, "/after"))
    assert own is not None
    assert own.success
    assert own.redirect == "/after"


@pytest.mark.parametrize("name", LINK_ACTIONS)
def test_c26_link_not_run_by_post_without_form_token(name: str) -> None:
    """The link signature is not a form token: posting it does nothing."""
    shop, alice, _ = new_shop(logged_in=True)
    url = alice.url(name, "/after")
    query = dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))
    form = {"wsact": name, "wscsrf": query["wscsrf"], "wstarget": "/after"}
    assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")


# C27 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_c27_redirect_vectors_refused(target: str) -> None:
    """No open-redirect vector becomes a redirect, and url() refuses to build a link to one."""
    _, alice, _ = new_shop(logged_in=False)
    result = alice.submit("SessionUpdate", {"session.step": "1", "wstarget": target})
    assert result.redirect is None
    if "\x00" not in target:
        assert result.success
    assert safe_target(target, frozenset({"shop.example"})) is None
    with pytest.raises(ConfigurationError):
        alice.url(LINK_ACTIONS[0], target)


@given(target=st.one_of(st.text(max_size=40), st.sampled_from(UNSAFE_TARGETS)))
def test_c27_accepted_targets_are_local_or_allowed(target: str) -> None:
    """Whatever target is accepted is a local path or an http(s) URL of an allowed host."""
    accepted = safe_target(target, frozenset({"shop.example"}))
    if accepted is None:
        return
    assert accepted == target
    assert target.isascii()
    assert target.isprintable()
    assert " " not in target
    assert "\\" not in target
    if target.startswith("/"):
        assert not target.startswith("//")
    else:
        parts = urlsplit(target)
        assert parts.scheme in ("http", "https")
        assert parts.hostname == "shop.example"
        assert "@" not in parts.netloc


# I31 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key", ["_wsa.account", "_wsa.csrf", "_wsa.lock", "_wsa.stamp", "_wsa.guest", "_wsa.x"]
)
def test_i31_session_update_cannot_write_internal_keys(key: str) -> None:
    """session._wsa.* is refused with invalidSessionVariable and the session is untouched."""
    shop, alice, _ = new_shop(logged_in=True)
    handle = alice.create("SessionUpdate")
    form = {"wsact": handle.id, "wscsrf": handle.csrf, f"session.{key}": "attacker"}
    assert_refused(shop, alice, form, "invalidSessionVariable", f"session.{key}")


@given(suffixes=st.lists(st.text(max_size=20), min_size=1, max_size=5), value=st.text(max_size=5))
def test_i31_any_key_stays_a_plain_variable(suffixes: list[str], value: str) -> None:
    """Whatever session.<key> is posted, only plain variables (wsv.*) can change."""
    _, alice, _ = new_shop(logged_in=True)
    handle = alice.create("SessionUpdate")
    internal = {k: v for k, v in alice.cookie.items() if not k.startswith("wsv.")}
    form = {"wsact": handle.id, "wscsrf": handle.csrf}
    form.update({f"session.{suffix}": value for suffix in suffixes})
    result = alice.post(form)
    assert result.codes <= {"invalidSessionVariable", "invalidParameter"}
    assert {k: v for k, v in alice.cookie.items() if not k.startswith("wsv.")} == internal
    assert alice.session.account_id == "acc-member"


# I32 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [spec.name for spec in ALL_SPECS if spec.secret_params])
def test_i32_events_never_contain_secrets(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """Neither events nor their log lines contain secret values or CSRF tokens."""
    shop, alice, _ = new_shop(logged_in=True)
    events: list[ActionEvent] = []

    def sink(event: ActionEvent) -> None:
        events.append(event)
        log_event(event)

    shop.registry.event_sink = sink
    caplog.set_level(logging.INFO, logger="wsactions")
    secret = "Zq9-secret-marker-Unusual-Pass-4417"
    spec = shop.registry[name]
    handle = alice.create(name)
    alice.post({"wsact": handle.id, "wscsrf": handle.csrf, **plausible_form(spec, secret)})
    alice.post({"wsact": name, **plausible_form(spec, secret)})  # refused: no token
    assert len(events) == 2
    for text in (repr(events), caplog.text):
        assert secret not in text
        assert handle.csrf not in text
    assert f"action={name}" in caplog.text


# I33 -----------------------------------------------------------------------------------------
@given(
    name=st.sampled_from(ACTION_NAMES),
    fields=form_fields(),
    container=containers,
    authentic=st.booleans(),
)
def test_i33_any_input_yields_documented_codes(
    name: str, fields: dict[Any, Any], container: Any, authentic: bool
) -> None:
    """Any input to any action yields success or its documented codes; a failure changes nothing."""
    shop, alice, _ = new_shop(logged_in=False)
    handle = alice.create(name)
    if authentic:
        fields = {**fields, "wsact": handle.id, "wscsrf": handle.csrf}
    before_state, before_session = shop.state(), dict(alice.cookie)
    result = alice.post(container(fields))
    spec = shop.registry.get(result.name) if result.name else None
    assert result.codes <= ENGINE_CODES | set(spec.codes if spec else ())
    if not result.success:
        assert shop.state() == before_state
        assert dict(alice.cookie) == before_session


# S20 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SessionUpdate", "SessionUnlock"])
def test_s20_pre_rotation_csrf_token_dead(name: str) -> None:
    """A token minted before log_in (which rotates the binding) is refused afterwards."""
    shop, alice, _ = new_shop(logged_in=False)
    before_login = alice.create(name).csrf
    log_in_member(shop, alice)
    form = {"wsact": name, "wscsrf": before_login, "session.step": "1"}
    assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")
    assert alice.create(name).csrf != before_login


def test_s20_pre_logout_csrf_token_dead() -> None:
    """A token minted while logged in is refused after log_out."""
    shop, alice, _ = new_shop(logged_in=True)
    token = alice.create("SessionUpdate").csrf
    alice.session.log_out()
    form = {"wsact": "SessionUpdate", "wscsrf": token, "session.step": "1"}
    assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")


# T16 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["wsact", "wscsrf", "wstarget"])
@pytest.mark.parametrize("name", [spec.name for spec in ALL_SPECS])
def test_t16_duplicate_control_fields_refused(name: str, field: str) -> None:
    """wsact, wscsrf or wstarget twice: duplicateParameter, no mail, nothing changed."""
    shop, alice, _ = new_shop(logged_in=True)
    spec = shop.registry[name]
    handle = alice.create(name)
    form: dict[str, Any] = {
        "wsact": handle.id,
        "wscsrf": handle.csrf,
        "wstarget": "/done",
        **plausible_form(spec),
    }
    form[field] = [form[field], form[field]]
    assert_refused(shop, alice, form, "duplicateParameter", field)


@pytest.mark.parametrize(("name", "field"), SINGLE_FIELDS)
def test_t16_duplicate_single_fields_refused(name: str, field: str) -> None:
    """A declared single parameter twice (same or different values) is refused, no mail."""
    shop, alice, _ = new_shop(logged_in=True)
    spec = shop.registry[name]
    handle = alice.create(name)
    form: dict[str, Any] = {"wsact": handle.id, "wscsrf": handle.csrf, **plausible_form(spec)}
    form[field] = [form[field], "member@example.com"]
    assert_refused(shop, alice, form, "duplicateParameter", field)
