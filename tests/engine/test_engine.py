"""Tests for the engine: CSRF, parsing, echo, redirects, lock, unit of work, mails, events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from strategies import UNSAFE_TARGETS, MultiDict, as_dict_of_lists, as_multidict
from wsactions import (
    Account,
    ActionError,
    ActionResult,
    Address,
    Call,
    Mail,
    Outcome,
    Param,
    action,
    default_registry,
    fail,
    ok,
)
from wsactions.testing import Client, Harness

# custom actions, registered exactly as the built-ins are ---------------------------------


def _note(call: Call) -> Outcome:
    return ok({"seen": sorted(call.params)})


NOTE = action(
    "Note",
    family="custom",
    params=[
        Param("note"),
        Param("pin", secret=True),
        Param("secret.", prefix=True, secret=True),
    ],
)(_note)

ACCOUNT = Account(id="acc-1", email="ann@example.com", email_key="ann@example.com")
ADDRESS = Address(id="adr-1", account_id="acc-1", type="private", fields={"city": "Köln"})


def _write_then_fail(call: Call) -> Outcome:
    call.accounts.add_account(ACCOUNT)
    call.accounts.add_address(ADDRESS)
    return fail("boom")


WRITE_THEN_FAIL = action("WriteThenFail", family="custom", codes=["boom"])(_write_then_fail)


class Explosion(RuntimeError):
    """What the raising handler raises."""


def _write_then_raise(call: Call) -> Outcome:
    call.accounts.add_account(ACCOUNT)
    call.accounts.add_address(ADDRESS)
    raise Explosion("handler bug")


WRITE_THEN_RAISE = action("WriteThenRaise", family="custom")(_write_then_raise)


def _write(call: Call) -> Outcome:
    call.accounts.add_account(ACCOUNT)
    return ok()


WRITE = action("Write", family="custom")(_write)


def _mailing(call: Call) -> Outcome:
    call.send(Mail(to="ann@example.com", subject="on success", text="committed"))
    call.send(
        Mail(to="ann@example.com", subject="always", text="audit"),
        even_on_failure=True,
    )
    if call.get("outcome") == "raise":
        raise Explosion("after queueing mails")
    return fail("boom") if call.get("outcome") == "fail" else ok()


MAILING = action("Mailing", family="custom", params=[Param("outcome")], codes=["boom"])(_mailing)


@pytest.fixture
def custom() -> Harness:
    """A shop whose registry holds the built-ins and the custom test actions."""
    registry = default_registry()
    for spec in (NOTE, WRITE_THEN_FAIL, WRITE_THEN_RAISE, WRITE, MAILING):
        registry.register(spec)
    return Harness(registry=registry)


# helpers ------------------------------------------------------------------------------


def assert_refused(
    shop: Harness,
    client: Client,
    form: Mapping[str, Any],
    code: str,
    field: str | None,
) -> ActionResult:
    """Post *form*; the result has exactly one error (*code*, *field*) and nothing changed."""
    before_state = shop.state()
    before_session = dict(client.cookie)
    result = client.post(form)
    assert result.errors == (ActionError(code, field),)
    assert not result.success
    assert result.error
    assert shop.state() == before_state
    assert dict(client.cookie) == before_session
    return result


def update_form(client: Client, **extra: Any) -> dict[str, Any]:
    """A valid SessionUpdate form writing ``session.step=payment``."""
    handle = client.create("SessionUpdate")
    return {"wsact": handle.id, "wscsrf": handle.csrf, "session.step": "payment", **extra}


# tests -------------------------------------------------------------------------------


class TestCsrf:
    """Every posted action needs a wscsrf token bound to the session and the action."""

    def test_valid_token_succeeds(self, alice: Client) -> None:
        """The token of the session's own handle is accepted (control case)."""
        result = alice.post(update_form(alice))
        assert result.success
        assert alice.session.get("step") == "payment"

    def test_missing_token(self, shop: Harness, alice: Client) -> None:
        """No wscsrf: csrfCheckFailed, nothing written."""
        form = update_form(alice)
        del form["wscsrf"]
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")

    def test_empty_token(self, shop: Harness, alice: Client) -> None:
        """An empty wscsrf is refused."""
        assert_refused(shop, alice, update_form(alice, wscsrf=""), "csrfCheckFailed", "wscsrf")

    @pytest.mark.parametrize(
        "tamper",
        [
            lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
            lambda t: t[:-1],
            lambda t: t + "A",
            lambda t: t.upper(),
            lambda t: t[:-1] + "é",
        ],
        ids=["last-char", "shortened", "lengthened", "upper", "non-ascii"],
    )
    def test_tampered_token(
        self, shop: Harness, alice: Client, tamper: Callable[[str], str]
    ) -> None:
        """An altered token is refused."""
        form = update_form(alice)
        form["wscsrf"] = tamper(form["wscsrf"])
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")

    def test_token_of_another_session(self, shop: Harness, alice: Client, bob: Client) -> None:
        """Bob's token in Alice's post is refused."""
        alice.create("SessionUpdate")  # Alice's session has a binding of its own
        form = update_form(alice, wscsrf=bob.create("SessionUpdate").csrf)
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")

    def test_token_into_session_without_binding(self, shop: Harness, bob: Client) -> None:
        """A token posted into a fresh session is refused and creates no session state."""
        alice = shop.client()
        handle = bob.create("SessionUpdate")
        form = {"wsact": handle.id, "wscsrf": handle.csrf, "session.step": "x"}
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")
        assert alice.cookie == {}

    def test_token_of_another_action(self, shop: Harness, alice: Client) -> None:
        """SessionUnlock's token does not run SessionUpdate."""
        form = update_form(alice, wscsrf=alice.create("SessionUnlock").csrf)
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")

    def test_token_of_another_secret_key(self, alice: Client) -> None:
        """A token made with another secret key for the same binding is refused."""
        alice.create("SessionUpdate")
        mallory = Harness(secret_key="another-secret-key-of-at-least-32-characters").client()
        mallory.cookie.update(alice.cookie)  # same binding, other key
        forged = mallory.create("SessionUpdate").csrf
        assert forged != alice.create("SessionUpdate").csrf
        result = alice.post(update_form(alice, wscsrf=forged))
        assert result.codes == {"csrfCheckFailed"}

    @pytest.mark.parametrize(
        "change",
        [
            lambda c: c.session.rotate(),
            lambda c: c.session.log_in("acc-1", "stamp"),
            lambda c: c.session.log_out(),
        ],
        ids=["rotate", "log_in", "log_out"],
    )
    def test_token_dead_after_rotation(
        self, shop: Harness, alice: Client, change: Callable[[Client], None]
    ) -> None:
        """A token minted before the CSRF binding rotates is refused afterwards."""
        form = update_form(alice)
        change(alice)
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")
        assert alice.post(update_form(alice)).success


class TestUnknownAction:
    """wsact must name a registered action, in any case."""

    @pytest.mark.parametrize(
        "form",
        [
            {},
            {"session.step": "x"},
            {"wsact": ""},
            {"wsact": "NoSuchAction"},
            {"wsact": "Session Update"},
            {"wsact": "SessionUpdate\x00"},
            {"wsact": b"\xffSessionUpdate"},
            {"wsact": 42},
            {"wsact": None},
            {"wsact": []},
            {"wsact": "S" * 10_000},
        ],
        ids=repr,
    )
    def test_unknown_action(self, shop: Harness, alice: Client, form: dict[str, Any]) -> None:
        """A missing or unknown wsact gets unknownAction and changes nothing."""
        form = {"wscsrf": alice.create("SessionUpdate").csrf, **form}
        assert_refused(shop, alice, form, "unknownAction", "wsact")

    @pytest.mark.parametrize("name", ["sessionupdate", "SESSIONUPDATE", "sEsSiOnUpDaTe"])
    def test_names_case_insensitive(self, alice: Client, name: str) -> None:
        """wsact in any case runs the action, with the canonical name in the result."""
        form = update_form(alice, wsact=name)
        result = alice.post(form)
        assert result.success
        assert result.name == "SessionUpdate"
        assert alice.session.get("step") == "payment"

    def test_utf8_bytes_name_accepted(self, alice: Client) -> None:
        """A wsact given as UTF-8 bytes is read as text."""
        result = alice.post(update_form(alice, wsact=b"SessionUpdate"))
        assert result.success


class TestDuplicates:
    """A field that must be single, sent twice, is refused with duplicateParameter."""

    @pytest.mark.parametrize("container", [as_dict_of_lists, as_multidict])
    @pytest.mark.parametrize("field", ["wsact", "wscsrf", "wstarget", "session.step"])
    def test_duplicate_same_value(
        self,
        shop: Harness,
        alice: Client,
        field: str,
        container: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    ) -> None:
        """The same value twice is refused (CVE-2023-7028 class) and nothing changes."""
        form = update_form(alice, wstarget="/account")
        form[field] = [form[field], form[field]]
        assert_refused(shop, alice, container(form), "duplicateParameter", field)

    @pytest.mark.parametrize("field", ["wsact", "wstarget", "session.step"])
    def test_duplicate_different_values(self, shop: Harness, alice: Client, field: str) -> None:
        """Two different values are refused."""
        form = update_form(alice, wstarget="/account")
        form[field] = [form[field], "SessionUnlock" if field == "wsact" else "/other"]
        assert_refused(shop, alice, form, "duplicateParameter", field)

    def test_duplicate_declared_param_of_custom_action(self, custom: Harness) -> None:
        """A declared single parameter of any action sent twice is refused."""
        alice = custom.client()
        handle = alice.create("Note")
        form = MultiDict(
            [("wsact", handle.id), ("wscsrf", handle.csrf), ("note", "a"), ("note", "b")]
        )
        assert_refused(custom, alice, form, "duplicateParameter", "note")

    def test_duplicate_undeclared_field_ignored(self, alice: Client) -> None:
        """An undeclared field may repeat: it is ignored."""
        form = update_form(alice, tracking=["1", "2"])
        assert alice.post(form).success


class TestContainers:
    """Hosts hand over plain dicts, dicts of lists or MultiDicts."""

    @pytest.mark.parametrize(
        "container",
        [dict, as_dict_of_lists, as_multidict, lambda f: {k: (v,) for k, v in f.items()}],
        ids=["dict", "dict-of-lists", "multidict", "dict-of-tuples"],
    )
    def test_single_values_accepted(
        self, alice: Client, container: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    ) -> None:
        """Every container with single values runs the action."""
        result = alice.post(container(update_form(alice, wstarget="/next")))
        assert result.success
        assert result.redirect == "/next"
        assert alice.session.get("step") == "payment"

    def test_empty_list_is_absent(self, shop: Harness, alice: Client) -> None:
        """A declared field with no value at all counts as not sent."""
        form = update_form(alice)
        form["session.step"] = []
        assert_refused(shop, alice, form, "invalidSessionVariable", "session.")

    @pytest.mark.parametrize("form", [None, "wsact=SessionUpdate", ["wsact"], 42, b"wsact"])
    def test_not_a_mapping(self, shop: Harness, alice: Client, form: Any) -> None:
        """Input that is not a mapping at all gets invalidParameter."""
        assert_refused(shop, alice, form, "invalidParameter", None)

    def test_mapping_that_raises(self, shop: Harness, alice: Client) -> None:
        """A mapping whose reading raises gets invalidParameter, not an exception."""

        class Broken(dict[str, Any]):
            def items(self) -> Any:
                raise OSError("client disconnected")

        assert_refused(shop, alice, Broken(update_form(alice)), "invalidParameter", None)


class TestInvalidValues:
    """Values that are not acceptable text get invalidParameter and change nothing."""

    @pytest.mark.parametrize(
        "value",
        [
            "pay\x00ment",
            "\x00",
            "\ud800",
            "a\udfffb",
            b"\xff\xfe",
            b"pay\xc3",
            b"a\x00b",
            42,
            None,
            1.5,
            True,
            {"a": "b"},
            object(),
        ],
        ids=repr,
    )
    def test_invalid_value(self, shop: Harness, alice: Client, value: Any) -> None:
        """NUL, lone surrogates, non-UTF-8 bytes and non-text values are refused."""
        form = update_form(alice)
        form["session.step"] = value
        assert_refused(shop, alice, form, "invalidParameter", "session.step")

    def test_utf8_bytes_accepted(self, alice: Client) -> None:
        """UTF-8 bytes are decoded."""
        form = update_form(alice)
        form["session.step"] = "Straße".encode()
        assert alice.post(form).success
        assert alice.session.get("step") == "Straße"

    def test_value_at_limit_accepted(self) -> None:
        """A value exactly max_value_length long passes the engine."""
        alice = Harness(max_value_length=60).client()
        assert alice.post(update_form(alice, **{"session.step": "x" * 60})).success

    def test_value_over_limit(self) -> None:
        """A value longer than max_value_length is refused by the engine."""
        shop = Harness(max_value_length=60)
        alice = shop.client()
        form = update_form(alice, **{"session.step": "x" * 61})
        assert_refused(shop, alice, form, "invalidParameter", "session.step")

    def test_default_limit(self, shop: Harness, alice: Client) -> None:
        """With default settings a value of max_value_length + 1 characters is refused."""
        form = update_form(alice, **{"session.step": "x" * (shop.settings.max_value_length + 1)})
        assert_refused(shop, alice, form, "invalidParameter", "session.step")

    def test_too_many_fields(self) -> None:
        """More fields than max_form_fields are refused."""
        shop = Harness(max_form_fields=5)
        alice = shop.client()
        form = update_form(alice, a="1", b="2", c="3")  # 6 fields
        assert_refused(shop, alice, form, "invalidParameter", None)

    def test_fields_at_limit_accepted(self) -> None:
        """Exactly max_form_fields fields are accepted."""
        alice = Harness(max_form_fields=5).client()
        assert alice.post(update_form(alice, a="1", b="2")).success

    def test_invalid_undeclared_value_ignored(self, alice: Client) -> None:
        """Bad values in undeclared fields do not matter: they are never read."""
        assert alice.post(update_form(alice, junk=b"\xff", other="\x00")).success

    def test_non_text_keys_ignored(self, alice: Client) -> None:
        """Keys that are not text are ignored."""
        form: dict[Any, Any] = update_form(alice)
        form[1] = "x"
        form[b"session.step"] = "bytes-key"
        assert alice.post(form).success
        assert alice.session.get("step") == "payment"


class TestEcho:
    """result.params echoes only declared non-secret parameters."""

    def test_undeclared_fields_never_echoed(self, alice: Client) -> None:
        """Control fields and undeclared fields are not echoed."""
        result = alice.post(update_form(alice, wstarget="/x", junk="1", sessionstep="2"))
        assert dict(result.params) == {"session.step": "payment"}

    def test_echo_on_failure(self, alice: Client) -> None:
        """A failed action echoes what was sent, to refill the form."""
        result = alice.post(update_form(alice, **{"session.1bad": "v"}))
        assert not result.success
        assert dict(result.params) == {"session.step": "payment", "session.1bad": "v"}

    def test_engine_result_equals_public_constructor(self, alice: Client) -> None:
        """The engine fills results directly; they equal what ``ActionResult(...)`` makes,
        every field in its place, and stay frozen and read-only."""
        result = alice.post(update_form(alice, wstarget="/next"))
        expected = ActionResult(
            name="SessionUpdate",
            success=True,
            errors=(),
            params={"session.step": "payment"},
            data={},
            redirect="/next",
        )
        assert result == expected
        assert repr(result) == repr(expected)
        with pytest.raises(AttributeError):
            result.success = False  # type: ignore[misc]
        with pytest.raises(TypeError):
            result.params["session.step"] = "x"  # type: ignore[index]
        failed = alice.post(update_form(alice, **{"session.1bad": "v"}))
        assert failed.errors == (ActionError("invalidSessionVariable", "session.1bad"),)
        assert (failed.success, failed.redirect, dict(failed.data)) == (False, None, {})

    def test_secret_param_never_echoed(self, custom: Harness) -> None:
        """A secret parameter reaches the handler but is not echoed."""
        alice = custom.client()
        result = alice.submit("Note", note="visible", pin="0000-secret-pin")
        assert result.success
        assert result.data["seen"] == ["note", "pin"]
        assert dict(result.params) == {"note": "visible"}
        assert "0000-secret-pin" not in repr(result)

    def test_secret_prefix_param_never_echoed(self, custom: Harness) -> None:
        """A secret prefix parameter (``secret.<key>``) is not echoed either."""
        alice = custom.client()
        result = alice.submit("Note", {"secret.answer": "hunter2-secret"}, note="visible")
        assert result.success
        assert result.data["seen"] == ["note", "secret.answer"]
        assert dict(result.params) == {"note": "visible"}
        assert "hunter2-secret" not in repr(result)

    def test_secret_never_echoed_on_csrf_failure(self, custom: Harness) -> None:
        """Secrets are not echoed when the CSRF check fails either."""
        alice = custom.client()
        result = alice.post({"wsact": "Note", "note": "v", "pin": "0000-secret-pin"})
        assert result.codes == {"csrfCheckFailed"}
        assert dict(result.params) == {"note": "v"}

    def test_secret_never_in_events(self, custom: Harness) -> None:
        """Events carry no parameter values, secret or not."""
        alice = custom.client()
        alice.submit("Note", {"secret.answer": "hunter2-secret"}, pin="0000-secret-pin")
        alice.post({"wsact": "Note", "pin": "0000-secret-pin"})
        assert len(custom.events) == 2
        assert "hunter2-secret" not in repr(custom.events)
        assert "0000-secret-pin" not in repr(custom.events)


class TestRedirect:
    """wstarget becomes result.redirect only on success and only when safe."""

    @pytest.fixture
    def partner_shop(self) -> Harness:
        """A shop that allows redirects to partner.example."""
        return Harness(allowed_redirect_hosts={"partner.example"})

    @pytest.mark.parametrize(
        "target",
        [
            "/account",
            "/",
            "/checkout?step=2#pay",
            "https://partner.example/welcome",
            "https://PARTNER.example/",
            "http://partner.example:8080/x",
            "https://shop.example/done",
        ],
    )
    def test_safe_target(self, partner_shop: Harness, target: str) -> None:
        """Paths, allow-listed hosts and the base URL's host are honoured."""
        alice = partner_shop.client()
        result = alice.post(update_form(alice, wstarget=target))
        assert result.success
        assert result.redirect == target

    @pytest.mark.parametrize("target", [t for t in UNSAFE_TARGETS if "\x00" not in t])
    def test_unsafe_target(self, partner_shop: Harness, target: str) -> None:
        """Open-redirect vectors are dropped; the action itself still runs."""
        alice = partner_shop.client()
        result = alice.post(update_form(alice, wstarget=target))
        assert result.success
        assert result.redirect is None

    def test_nul_in_target(self, partner_shop: Harness) -> None:
        """A target with NUL is invalid input: the action does not run at all."""
        alice = partner_shop.client()
        form = update_form(alice, wstarget="/ok\x00")
        assert_refused(partner_shop, alice, form, "invalidParameter", "wstarget")

    def test_no_redirect_on_failure(self, alice: Client) -> None:
        """A failed action never redirects, even to a safe target."""
        result = alice.post(update_form(alice, wstarget="/account", **{"session.1x": "v"}))
        assert not result.success
        assert result.redirect is None

    def test_no_target_no_redirect(self, alice: Client) -> None:
        """Without wstarget there is no redirect."""
        assert alice.post(update_form(alice)).redirect is None

    def test_other_host_not_allowed_by_default(self, alice: Client) -> None:
        """Without an allow-list only the base URL's host is accepted."""
        result = alice.post(update_form(alice, wstarget="https://partner.example/"))
        assert result.redirect is None


class TestSessionLock:
    """A locked session refuses actions blocked while locked; SessionUnlock still works."""

    def test_update_refused_while_locked(self, shop: Harness, alice: Client) -> None:
        """SessionUpdate answers sessionLocked and writes nothing."""
        alice.session.lock()
        result = assert_refused(shop, alice, update_form(alice), "sessionLocked", None)
        assert result.name == "SessionUpdate"
        assert alice.session.is_locked

    def test_unlock_then_update(self, alice: Client) -> None:
        """SessionUnlock clears the lock; SessionUpdate works again."""
        alice.session.lock()
        assert alice.submit("SessionUnlock").success
        assert not alice.session.is_locked
        assert alice.post(update_form(alice)).success

    def test_csrf_checked_before_lock(self, shop: Harness, alice: Client) -> None:
        """A forged post to a locked session learns nothing about the lock."""
        alice.session.lock()
        form = update_form(alice, wscsrf="forged")
        assert_refused(shop, alice, form, "csrfCheckFailed", "wscsrf")


class TestUnitOfWork:
    """A failed or raising action leaves the store as it was."""

    def test_commit_on_success(self, custom: Harness) -> None:
        """A successful action's writes are kept (control case)."""
        assert custom.client().submit("Write").success
        assert custom.accounts.get_account("acc-1") == ACCOUNT

    def test_rollback_on_failure(self, custom: Harness) -> None:
        """Writes of a handler that returns fail() are undone."""
        before = custom.state()
        result = custom.client().submit("WriteThenFail")
        assert result.errors == (ActionError("boom"),)
        assert custom.state() == before
        assert custom.accounts.get_account("acc-1") is None
        assert custom.accounts.find_account("ann@example.com") is None
        assert custom.accounts.list_addresses("acc-1") == []

    def test_email_key_free_after_rollback(self, custom: Harness) -> None:
        """The rolled-back account's email key can be taken afterwards."""
        custom.client().submit("WriteThenFail")
        assert custom.accounts.add_account(ACCOUNT)

    def test_rollback_on_exception(self, custom: Harness) -> None:
        """Writes of a raising handler are undone and the exception propagates."""
        alice = custom.client()
        before = custom.state()
        with pytest.raises(Explosion, match="handler bug"):
            alice.submit("WriteThenRaise")
        assert custom.state() == before
        assert custom.accounts.find_account("ann@example.com") is None

    def test_store_usable_after_exception(self, custom: Harness) -> None:
        """After a raising handler the store's lock is free for the next action."""
        alice = custom.client()
        with pytest.raises(Explosion):
            alice.submit("WriteThenRaise")
        assert alice.submit("Write").success
        assert custom.accounts.get_account("acc-1") == ACCOUNT


class TestMails:
    """Queued mails go out on success; even_on_failure ones also on failure."""

    def test_all_mails_on_success(self, custom: Harness) -> None:
        """Both mails are delivered after a successful action."""
        assert custom.client().submit("Mailing", outcome="ok").success
        assert [m.subject for m in custom.outbox] == ["on success", "always"]

    def test_only_failure_mails_on_failure(self, custom: Harness) -> None:
        """A failed action delivers only its even_on_failure mails."""
        result = custom.client().submit("Mailing", outcome="fail")
        assert result.codes == {"boom"}
        assert [m.subject for m in custom.outbox] == ["always"]

    def test_no_mail_when_handler_raises(self, custom: Harness) -> None:
        """A raising handler delivers nothing."""
        with pytest.raises(Explosion):
            custom.client().submit("Mailing", outcome="raise")
        assert custom.outbox == []

    def test_no_mail_without_csrf(self, custom: Harness) -> None:
        """A refused post never reaches the handler, so nothing is mailed."""
        result = custom.client().post({"wsact": "Mailing", "outcome": "ok"})
        assert result.codes == {"csrfCheckFailed"}
        assert custom.outbox == []


class TestEvents:
    """One event per executed action, without parameter values."""

    def test_one_event_per_execute(self, shop: Harness, alice: Client) -> None:
        """Success, failure and CSRF refusal each produce one event with the right fields."""
        alice.post(update_form(alice))
        alice.post(update_form(alice, **{"session.1x": "v"}))
        alice.post({"wsact": "SessionUpdate", "session.step": "x"})
        assert [(e.name, e.success, e.codes) for e in shop.events] == [
            ("SessionUpdate", True, frozenset()),
            ("SessionUpdate", False, frozenset({"invalidSessionVariable"})),
            ("SessionUpdate", False, frozenset({"csrfCheckFailed"})),
        ]
        assert {e.client_address for e in shop.events} == {"203.0.113.10"}
        assert {e.account_id for e in shop.events} == {None}
        assert {e.at for e in shop.events} == {shop.clock.now()}

    def test_event_names_account(self, shop: Harness, alice: Client) -> None:
        """The event of a logged-in session carries its account id."""
        account = Account(id="acc-9", email="z@example.com", email_key="z", security_stamp="s")
        shop.accounts.add_account(account)
        shop.log_in(alice, account)
        alice.post(update_form(alice))
        assert shop.events[-1].account_id == "acc-9"

    def test_event_time_from_clock(self, shop: Harness, alice: Client) -> None:
        """Events are stamped with the context's clock."""
        shop.clock.advance(123)
        alice.post(update_form(alice))
        assert shop.events[-1].at == shop.clock.now()

    def test_event_has_no_values(self, shop: Harness, alice: Client) -> None:
        """Neither parameter values nor the CSRF token appear in an event."""
        form = update_form(alice, **{"session.step": "value-marker-123"})
        alice.post(form)
        text = repr(shop.events)
        assert "value-marker-123" not in text
        assert form["wscsrf"] not in text
