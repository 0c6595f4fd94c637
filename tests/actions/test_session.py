"""Tests for the session actions: SessionUpdate and SessionUnlock."""

from __future__ import annotations

from typing import Any

import pytest

from wsactions import ActionError, ActionResult, SessionLimits
from wsactions.testing import Client, Harness


def update(client: Client, fields: dict[str, Any]) -> ActionResult:
    """Post SessionUpdate with *fields* and a valid token."""
    handle = client.create("SessionUpdate")
    return client.post({"wsact": handle.id, "wscsrf": handle.csrf, **fields})


def assert_nothing_written(client: Client, fields: dict[str, Any], *errors: ActionError) -> None:
    """SessionUpdate with *fields* fails with exactly *errors* and the session is unchanged."""
    client.create("SessionUpdate")  # the CSRF binding exists before the snapshot
    before = dict(client.cookie)
    result = update(client, fields)
    assert not result.success
    assert result.errors == errors
    assert dict(client.cookie) == before


def fill(client: Client, count: int) -> None:
    """Give the session *count* variables ``k0`` .. ``k<count-1>``."""
    client.session.set_variables({f"k{i}": "v" for i in range(count)})


class TestSessionUpdate:
    """SessionUpdate writes bounded, well-formed session variables, all or nothing."""

    def test_writes_variable(self, alice: Client) -> None:
        """session.<key> sets the variable; the value is echoed."""
        result = update(alice, {"session.lastViewedCategory": "shoes"})
        assert result.success
        assert result.errors == ()
        assert alice.session.get("lastViewedCategory") == "shoes"
        assert dict(result.params) == {"session.lastViewedCategory": "shoes"}

    def test_writes_several_keys(self, alice: Client) -> None:
        """Several variables are written at once."""
        assert update(alice, {"session.a": "1", "session.b": "2", "session.c.d-e_f": "3"}).success
        assert dict(alice.session.variables()) == {"a": "1", "b": "2", "c.d-e_f": "3"}

    def test_overwrites(self, alice: Client) -> None:
        """A second write replaces the value."""
        update(alice, {"session.step": "1"})
        assert update(alice, {"session.step": "2"}).success
        assert alice.session.get("step") == "2"

    def test_empty_value_removes(self, alice: Client) -> None:
        """An empty value removes the variable; others stay."""
        update(alice, {"session.step": "1", "session.keep": "k"})
        assert update(alice, {"session.step": ""}).success
        assert alice.session.get("step") is None
        assert dict(alice.session.variables()) == {"keep": "k"}

    def test_empty_value_for_absent_key(self, alice: Client) -> None:
        """Removing a variable that does not exist succeeds and writes nothing."""
        assert update(alice, {"session.none": ""}).success
        assert dict(alice.session.variables()) == {}

    def test_unicode_value(self, alice: Client) -> None:
        """Values may be any valid Unicode text."""
        assert update(alice, {"session.name": "Zoë 👟 東京"}).success
        assert alice.session.get("name") == "Zoë 👟 東京"

    def test_bounds_inclusive(self, alice: Client) -> None:
        """A 64-character key and a 1024-character value are accepted."""
        key = "k" * 64
        assert update(alice, {f"session.{key}": "v" * 1024}).success
        assert alice.session.get(key) == "v" * 1024

    def test_no_session_param(self, alice: Client) -> None:
        """Without any session.* parameter: invalidSessionVariable on "session."."""
        assert_nothing_written(
            alice, {"session": "x", "other": "y"}, ActionError("invalidSessionVariable", "session.")
        )

    def test_empty_key(self, alice: Client) -> None:
        """The key "session." itself names no variable."""
        assert_nothing_written(
            alice, {"session.": "x"}, ActionError("invalidSessionVariable", "session.")
        )

    @pytest.mark.parametrize(
        "key",
        [
            "_wsa.account",
            "1abc",
            "a b",
            "a\n",
            "\na",
            "a\tb",
            "-a",
            ".a",
            "_a",
            "a/b",
            "a$",
            "ä",
            "a\u200b",
            "a:b",
        ],
        ids=repr,
    )
    def test_malformed_key(self, alice: Client, key: str) -> None:
        """A key that is not letter-first [A-Za-z0-9_.-] is refused."""
        assert_nothing_written(
            alice,
            {f"session.{key}": "x"},
            ActionError("invalidSessionVariable", f"session.{key}"),
        )

    def test_key_too_long(self, alice: Client) -> None:
        """A key of 65 characters is refused."""
        key = "k" * 65
        assert_nothing_written(
            alice, {f"session.{key}": "x"}, ActionError("invalidSessionVariable", f"session.{key}")
        )

    def test_value_too_long(self, alice: Client) -> None:
        """A value of 1025 characters is refused."""
        assert_nothing_written(
            alice,
            {"session.step": "v" * 1025},
            ActionError("invalidSessionVariable", "session.step"),
        )

    def test_every_bad_key_reported_nothing_written(self, alice: Client) -> None:
        """All failing keys are reported at once; the good one is not written either."""
        assert_nothing_written(
            alice,
            {"session.good": "1", "session.1bad": "2", "session.b c": "3"},
            ActionError("invalidSessionVariable", "session.1bad"),
            ActionError("invalidSessionVariable", "session.b c"),
        )

    def test_too_many_keys_at_once(self, alice: Client) -> None:
        """51 variables in one post are refused."""
        fields = {f"session.k{i}": "v" for i in range(51)}
        assert_nothing_written(alice, fields, ActionError("invalidSessionVariable", "session."))

    def test_fifty_keys_at_once(self, alice: Client) -> None:
        """50 variables in one post are accepted."""
        assert update(alice, {f"session.k{i}": "v" for i in range(50)}).success
        assert len(alice.session.variables()) == 50

    def test_too_many_keys_with_existing(self, alice: Client) -> None:
        """The bound counts existing variables: 50 stored plus one new is refused."""
        fill(alice, 50)
        assert_nothing_written(
            alice, {"session.new": "v"}, ActionError("invalidSessionVariable", "session.")
        )

    def test_full_session_may_overwrite(self, alice: Client) -> None:
        """With 50 variables stored, one of them can still be changed."""
        fill(alice, 50)
        assert update(alice, {"session.k0": "changed"}).success
        assert alice.session.get("k0") == "changed"

    def test_full_session_may_swap(self, alice: Client) -> None:
        """With 50 variables stored, removing one makes room for a new one in the same post."""
        fill(alice, 50)
        assert update(alice, {"session.k0": "", "session.new": "v"}).success
        assert alice.session.get("k0") is None
        assert alice.session.get("new") == "v"
        assert len(alice.session.variables()) == 50

    def test_full_session_may_remove(self, alice: Client) -> None:
        """Removing a variable from a full session succeeds."""
        fill(alice, 50)
        assert update(alice, {"session.k3": ""}).success
        assert len(alice.session.variables()) == 49

    def test_writable_keys_allow_list(self) -> None:
        """With a host allow-list only listed keys are writable."""
        shop = Harness(session=SessionLimits(writable_keys={"step"}))
        alice = shop.client()
        assert update(alice, {"session.step": "2"}).success
        assert_nothing_written(
            alice,
            {"session.step": "3", "session.other": "x"},
            ActionError("invalidSessionVariable", "session.other"),
        )
        assert alice.session.get("step") == "2"

    def test_configured_limits(self) -> None:
        """Host limits on key length, value length and count apply."""
        limits = SessionLimits(max_keys=2, max_key_length=3, max_value_length=4)
        alice = Harness(session=limits).client()
        assert update(alice, {"session.abc": "1234", "session.b": "x"}).success
        assert_nothing_written(
            alice, {"session.abcd": "1"}, ActionError("invalidSessionVariable", "session.abcd")
        )
        assert_nothing_written(
            alice, {"session.b": "12345"}, ActionError("invalidSessionVariable", "session.b")
        )
        assert_nothing_written(
            alice, {"session.c": "1"}, ActionError("invalidSessionVariable", "session.")
        )

    @pytest.mark.parametrize(
        "key", ["_wsa.account", "_wsa.csrf", "_wsa.lock", "_wsa.stamp", "_wsa.guest"]
    )
    def test_internal_keys_never_written(self, alice: Client, key: str) -> None:
        """Engine-internal keys cannot be reached through session.<key>."""
        assert_nothing_written(
            alice, {f"session.{key}": "1"}, ActionError("invalidSessionVariable", f"session.{key}")
        )
        assert alice.session.account_id is None
        assert not alice.session.is_locked

    def test_internal_key_spellings(self, alice: Client) -> None:
        """Keys that merely contain engine names are stored as plain variables only."""
        alice.create("SessionUpdate")
        binding = alice.cookie["_wsa.csrf"]
        assert update(alice, {"session.wsa.csrf": "x", "session.x_wsa.lock": "1"}).success
        assert alice.cookie["_wsa.csrf"] == binding
        assert not alice.session.is_locked
        assert {k for k in alice.cookie if not k.startswith("wsv.")} == {"_wsa.csrf"}

    def test_locked_session_refused(self, alice: Client) -> None:
        """A locked session answers sessionLocked and writes nothing."""
        alice.session.lock()
        assert_nothing_written(alice, {"session.step": "1"}, ActionError("sessionLocked"))

    def test_needs_csrf(self, alice: Client) -> None:
        """Without a valid token nothing is written."""
        alice.create("SessionUpdate")
        before = dict(alice.cookie)
        result = alice.post({"wsact": "SessionUpdate", "session.step": "1"})
        assert result.errors == (ActionError("csrfCheckFailed", "wscsrf"),)
        assert dict(alice.cookie) == before


class TestSessionUnlock:
    """SessionUnlock clears the payment lock and never fails."""

    def test_clears_lock(self, alice: Client) -> None:
        """A locked session is unlocked."""
        alice.session.lock()
        result = alice.submit("SessionUnlock")
        assert result.success
        assert result.errors == ()
        assert not alice.session.is_locked

    def test_not_locked(self, alice: Client) -> None:
        """Unlocking an unlocked session succeeds too."""
        result = alice.submit("SessionUnlock")
        assert result.success
        assert not alice.session.is_locked

    def test_ignores_params(self, alice: Client) -> None:
        """Parameters are ignored and not echoed; variables stay."""
        alice.session.set_variables({"step": "2"})
        alice.session.lock()
        result = alice.submit("SessionUnlock", {"session.step": "9", "x": "y"})
        assert result.success
        assert dict(result.params) == {}
        assert alice.session.get("step") == "2"

    @pytest.mark.parametrize("token", [None, "", "forged", "bob"])
    def test_needs_csrf(self, alice: Client, bob: Client, token: str | None) -> None:
        """Without a valid token (missing, empty, forged, another session's) it stays locked."""
        alice.session.lock()
        form = {"wsact": "SessionUnlock"}
        if token is not None:
            form["wscsrf"] = bob.create("SessionUnlock").csrf if token == "bob" else token
        before = dict(alice.cookie)
        result = alice.post(form)
        assert result.errors == (ActionError("csrfCheckFailed", "wscsrf"),)
        assert alice.session.is_locked
        assert dict(alice.cookie) == before

    def test_token_of_update_refused(self, alice: Client) -> None:
        """SessionUpdate's token does not unlock."""
        alice.session.lock()
        result = alice.post(
            {"wsact": "SessionUnlock", "wscsrf": alice.create("SessionUpdate").csrf}
        )
        assert result.codes == {"csrfCheckFailed"}
        assert alice.session.is_locked
