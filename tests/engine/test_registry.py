"""Tests for ActionRegistry: registration checks, lookup, handles and execution."""

from __future__ import annotations

from typing import Any

import pytest

from wsactions import (
    Access,
    Account,
    ActionHandle,
    ActionRegistrationError,
    ActionRegistry,
    ActionSpec,
    Call,
    ConfigurationError,
    Outcome,
    Param,
    UndeclaredCodeError,
    UnknownActionError,
    action,
    default_registry,
    fail,
    ok,
)
from wsactions.testing import Harness


def _ok(call: Call) -> Outcome:
    return ok()


def spec(name: str = "Custom", **declaration: Any) -> ActionSpec:
    """A custom action declared exactly as the built-ins are."""
    declaration.setdefault("family", "custom")
    return action(name, **declaration)(_ok)


class TestLookup:
    """Names are case-insensitive; aliases resolve to the same action."""

    def test_get_ignores_case(self) -> None:
        """get() finds an action under any spelling of its name."""
        registry = default_registry()
        update = registry.get("SessionUpdate")
        assert update is not None
        assert registry.get("sessionupdate") is update
        assert registry.get("SESSIONUPDATE") is update
        assert "sEsSiOnUpDaTe" in registry

    def test_get_unknown_is_none(self) -> None:
        """get() answers None for an unknown name and for a non-string."""
        registry = default_registry()
        assert registry.get("NoSuchAction") is None
        assert registry.get(5) is None  # type: ignore[arg-type]
        assert 5 not in registry

    def test_getitem_unknown_raises(self) -> None:
        """registry[name] raises UnknownActionError (a KeyError) for an unknown name."""
        registry = default_registry()
        with pytest.raises(UnknownActionError, match="NoSuchAction"):
            registry["NoSuchAction"]
        with pytest.raises(KeyError):
            registry["NoSuchAction"]

    def test_getitem_known(self) -> None:
        """registry[name] returns the declaration."""
        registry = default_registry()
        assert registry["sessionunlock"].name == "SessionUnlock"

    def test_alias_resolves_to_spec(self) -> None:
        """An alias finds the same declaration in any case."""
        registry = ActionRegistry()
        custom = registry.register(spec("Custom", aliases=["CustomAlias"]))
        assert registry.get("customalias") is custom
        assert registry["CUSTOMALIAS"] is custom
        assert registry.actions == (custom,)

    def test_alias_runs_the_action(self) -> None:
        """A form naming the alias runs the action under its canonical name."""
        registry = default_registry()
        registry.register(spec("Custom", aliases=["CustomAlias"]))
        shop = Harness(registry=registry)
        alice = shop.client()
        handle = alice.create("customALIAS")
        assert handle.name == "Custom"
        result = alice.post({"wsact": "customalias", "wscsrf": handle.csrf})
        assert result.success
        assert result.name == "Custom"


class TestRegistration:
    """register() refuses inconsistent declarations with a clear message."""

    def test_duplicate_name_refused(self) -> None:
        """A second action with the same name (any case) is refused; the first stays."""
        registry = ActionRegistry()
        first = registry.register(spec("Custom"))
        with pytest.raises(ActionRegistrationError, match="already registered"):
            registry.register(spec("CUSTOM"))
        assert registry.actions == (first,)
        assert registry["custom"] is first

    def test_alias_colliding_with_name_refused(self) -> None:
        """An alias equal to a registered name is refused."""
        registry = ActionRegistry()
        registry.register(spec("Custom"))
        with pytest.raises(ActionRegistrationError, match="already registered"):
            registry.register(spec("Other", aliases=["custom"]))
        assert registry.get("Other") is None

    def test_name_colliding_with_alias_refused(self) -> None:
        """A name equal to a registered alias is refused."""
        registry = ActionRegistry()
        registry.register(spec("Custom", aliases=["Nickname"]))
        with pytest.raises(ActionRegistrationError, match="already registered"):
            registry.register(spec("NICKNAME"))
        assert len(registry.actions) == 1

    def test_builtin_name_refused_for_custom_action(self) -> None:
        """A host cannot register a second SessionUpdate."""
        registry = default_registry()
        builtin = registry["SessionUpdate"]
        with pytest.raises(ActionRegistrationError):
            registry.register(spec("sessionUpdate"))
        assert registry["SessionUpdate"] is builtin

    @pytest.mark.parametrize("name", ["", "1Custom", "Custom Action", "Custom.x", "Custom\n"])
    def test_bad_action_name_refused(self, name: str) -> None:
        """An action name must be an identifier (a trailing newline included)."""
        registry = ActionRegistry()
        with pytest.raises(ActionRegistrationError, match="not an identifier"):
            registry.register(spec(name))
        assert registry.actions == ()

    def test_unknown_access_rule_refused(self) -> None:
        """access="everyone" names no rule and is refused, listing the rules."""
        registry = ActionRegistry()
        with pytest.raises(ActionRegistrationError, match="unknown access rule 'everyone'"):
            registry.register(spec(access="everyone"))
        assert registry.actions == ()

    def test_access_rule_by_string(self) -> None:
        """A string naming a rule becomes that rule."""
        declared = spec(access="login", codes=["notLoggedIn"])
        assert declared.access is Access.LOGIN

    def test_unknown_trigger_refused(self) -> None:
        """A trigger must be form, link, optin-link or ajax."""
        with pytest.raises(ActionRegistrationError, match="unknown trigger"):
            ActionRegistry().register(spec(trigger="websocket"))

    @pytest.mark.parametrize("code", ["csrfCheckFailed", "unknownAction", "invalidParameter"])
    def test_engine_code_declared_refused(self, code: str) -> None:
        """Engine codes are implied and must not be declared."""
        with pytest.raises(ActionRegistrationError, match="engine codes"):
            ActionRegistry().register(spec(codes=["boom", code]))

    def test_code_declared_twice_refused(self) -> None:
        """Each code is declared once."""
        with pytest.raises(ActionRegistrationError, match="declared twice"):
            ActionRegistry().register(spec(codes=["boom", "boom"]))

    @pytest.mark.parametrize(
        ("declaration", "missing"),
        [
            ({"access": Access.LOGIN}, "notLoggedIn"),
            ({"access": Access.LOGIN_OR_OPTIN, "optin_purposes": ["password"]}, "notLoggedIn"),
            ({"access": Access.GUEST}, "nonGuestAccount"),
            ({"access": Access.ADMIN, "codes": ["notLoggedIn"]}, "unauthorized"),
            ({"access": Access.ADMIN, "codes": ["unauthorized"]}, "notLoggedIn"),
            ({"access": Access.OPTIN, "optin_purposes": ["activate"]}, "unauthorized"),
            (
                {
                    "access": Access.OPTIN,
                    "optin_purposes": ["verify"],
                    "denied_code": "actionNotAllowed",
                    "codes": ["unauthorized"],
                },
                "actionNotAllowed",
            ),
        ],
    )
    def test_refusal_code_must_be_declared(self, declaration: dict[str, Any], missing: str) -> None:
        """The code an access rule answers with must be among the declared codes."""
        with pytest.raises(ActionRegistrationError, match=repr(missing)):
            ActionRegistry().register(spec(**declaration))

    @pytest.mark.parametrize(
        "declaration",
        [
            {"access": Access.LOGIN, "codes": ["notLoggedIn"]},
            {"access": Access.GUEST, "codes": ["nonGuestAccount"]},
            {"access": Access.ADMIN, "codes": ["notLoggedIn", "unauthorized"]},
            {"access": Access.OPTIN, "optin_purposes": ["activate"], "codes": ["unauthorized"]},
        ],
    )
    def test_declared_refusal_code_accepted(self, declaration: dict[str, Any]) -> None:
        """With its refusal codes declared the action registers."""
        registry = ActionRegistry()
        registry.register(spec(**declaration))
        assert "Custom" in registry

    @pytest.mark.parametrize(
        ("name", "prefix"),
        [
            ("wsact", False),
            ("wscsrf", False),
            ("wstarget", False),
            ("wsoptin", False),
            ("", False),
            ("1abc", False),
            ("a.b", False),
            ("a b", False),
            ("note\n", False),
            ("session.", False),
            ("session", True),
            ("session.x.", True),
            ("session.\n", True),
        ],
    )
    def test_bad_param_name_refused(self, name: str, prefix: bool) -> None:
        """Parameter names are identifiers (prefixes end in one dot) and never control fields."""
        with pytest.raises(ActionRegistrationError, match="bad parameter name"):
            ActionRegistry().register(spec(params=[Param(name, prefix=prefix)]))

    def test_param_declared_twice_refused(self) -> None:
        """A parameter is declared once."""
        with pytest.raises(ActionRegistrationError, match="declared twice"):
            ActionRegistry().register(spec(params=[Param("note"), Param("note")]))

    def test_good_param_names_accepted(self) -> None:
        """Plain and prefix parameters with identifier names register."""
        registry = ActionRegistry()
        registry.register(spec(params=[Param("note"), Param("extra.", prefix=True)]))
        assert [p.name for p in registry["Custom"].params] == ["note", "extra."]

    @pytest.mark.parametrize("access", [Access.OPTIN, Access.LOGIN_OR_OPTIN])
    def test_optin_access_needs_purposes(self, access: Access) -> None:
        """An opt-in access rule without purposes is refused."""
        with pytest.raises(ActionRegistrationError, match="optin_purposes"):
            ActionRegistry().register(
                spec(access=access, codes=["unauthorized", "notLoggedIn"]),
            )

    def test_unknown_optin_purpose_refused(self) -> None:
        """Opt-in purposes must be known ones."""
        with pytest.raises(ActionRegistrationError, match="unknown opt-in purposes"):
            ActionRegistry().register(
                spec(access=Access.OPTIN, optin_purposes=["world"], codes=["unauthorized"]),
            )

    def test_register_returns_spec(self) -> None:
        """register() returns the declaration and lists it in registration order."""
        registry = ActionRegistry()
        first = registry.register(spec("First"))
        second = registry.register(spec("Second"))
        assert registry.actions == (first, second)


class TestHandles:
    """create() gives templates the form values of an action."""

    def test_create_returns_handle(self, shop: Harness) -> None:
        """The handle carries the canonical name, the wsact id and a CSRF token."""
        alice = shop.client()
        handle = shop.registry.create(alice.context(), "sessionupdate")
        assert isinstance(handle, ActionHandle)
        assert handle.name == "SessionUpdate"
        assert handle.id == "SessionUpdate"
        assert isinstance(handle.csrf, str)
        assert len(handle.csrf) >= 32
        assert handle.csrf not in repr(handle)

    def test_create_is_stable_within_a_session(self, shop: Harness) -> None:
        """Two handles of one action in one session carry the same token."""
        alice = shop.client()
        assert alice.create("SessionUpdate").csrf == alice.create("SessionUpdate").csrf

    def test_tokens_differ_by_action_and_session(self, shop: Harness) -> None:
        """Tokens are bound to the action and to the session."""
        alice, bob = shop.client(), shop.client()
        tokens = {
            alice.create("SessionUpdate").csrf,
            alice.create("SessionUnlock").csrf,
            bob.create("SessionUpdate").csrf,
        }
        assert len(tokens) == 3

    def test_create_unknown_raises(self, shop: Harness) -> None:
        """create() of an unknown action raises UnknownActionError."""
        with pytest.raises(UnknownActionError):
            shop.client().create("NoSuchAction")

    def test_context_without_settings_raises(self) -> None:
        """A registry without settings cannot build a context."""
        from wsactions import MappingSession, RecordingMailer
        from wsactions.backends.memory import MemoryStorage

        with pytest.raises(ConfigurationError, match="no settings"):
            ActionRegistry().context(
                session=MappingSession(), storage=MemoryStorage(), mailer=RecordingMailer()
            )


class TestDefaultRegistry:
    """default_registry() registers the built-in families."""

    def test_session_family_registered(self) -> None:
        """SessionUpdate and SessionUnlock are built in, in the session family."""
        registry = default_registry()
        assert registry["SessionUpdate"].family == "session"
        assert registry["SessionUnlock"].family == "session"

    def test_families_filter(self) -> None:
        """families= keeps only the named families."""
        session_only = default_registry(families=["session"])
        assert {spec.family for spec in session_only.actions} == {"session"}
        assert default_registry(families=[]).actions == ()

    def test_each_call_builds_a_new_registry(self) -> None:
        """Registering on one default registry does not leak into another."""
        first = default_registry()
        first.register(spec("Custom"))
        assert "Custom" not in default_registry()


def _note(call: Call) -> Outcome:
    note = call.get("note")
    if not note:
        return fail("missingNote", "note")
    return ok({"note": note, "extra": call.prefixed("extra.")})


NOTE = action(
    "Note",
    family="custom",
    params=[Param("note", required=True), Param("extra.", prefix=True)],
    codes=["missingNote"],
)(_note)


def _undeclared(call: Call) -> Outcome:
    call.accounts.add_account(Account(id="acc-u", email="u@example.com", email_key="u"))
    return fail("notDeclaredAnywhere")


class TestExecution:
    """Custom actions run through execute() like the built-ins."""

    def test_custom_action_runs(self) -> None:
        """A registered custom action gets its parameters and returns data."""
        registry = default_registry()
        registry.register(NOTE)
        alice = Harness(registry=registry).client()
        result = alice.submit("Note", {"note": "hi", "extra.a": "1", "other": "x"})
        assert result.success
        assert dict(result.data) == {"note": "hi", "extra": {"a": "1"}}
        assert dict(result.params) == {"note": "hi", "extra.a": "1"}

    def test_custom_action_fails_with_its_code(self) -> None:
        """A declared failure comes back as the result's error."""
        registry = default_registry()
        registry.register(NOTE)
        alice = Harness(registry=registry).client()
        result = alice.submit("Note")
        assert not result.success
        assert result.codes == {"missingNote"}
        assert result.errors_for("note")[0].code == "missingNote"

    def test_undeclared_code_raises(self) -> None:
        """A handler answering an undeclared code raises UndeclaredCodeError; nothing is kept."""
        registry = default_registry()
        registry.register(action("Sloppy", family="custom")(_undeclared))
        shop = Harness(registry=registry)
        before = shop.state()
        with pytest.raises(UndeclaredCodeError, match="notDeclaredAnywhere"):
            shop.client().submit("Sloppy")
        assert shop.state() == before

    def test_undeclared_subcode_raises(self) -> None:
        """A sub-code the declaration does not list raises UndeclaredCodeError."""

        def handler(call: Any) -> Any:
            return fail("badNote", "note", ["tooLoud"])

        registry = default_registry()
        registry.register(
            action("Loud", family="custom", codes=["badNote"], subcodes={"badNote": ["quiet"]})(
                handler
            )
        )
        with pytest.raises(UndeclaredCodeError, match="tooLoud"):
            Harness(registry=registry).client().submit("Loud")

    def test_declared_subcode_passes(self) -> None:
        """A declared sub-code reaches the result."""

        def handler(call: Any) -> Any:
            return fail("badNote", "note", ["quiet"])

        registry = default_registry()
        registry.register(
            action("Quiet", family="custom", codes=["badNote"], subcodes={"badNote": ["quiet"]})(
                handler
            )
        )
        result = Harness(registry=registry).client().submit("Quiet")
        assert [(e.code, e.subcodes) for e in result.errors] == [("badNote", ("quiet",))]

    def test_subcodes_of_undeclared_code_refused(self) -> None:
        """Registration refuses sub-codes for a code the action does not declare."""
        spec = action("Odd", family="custom", codes=["a"], subcodes={"b": ["x"]})(_undeclared)
        with pytest.raises(ActionRegistrationError, match="sub-codes"):
            default_registry().register(spec)
