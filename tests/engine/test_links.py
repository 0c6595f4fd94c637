"""Tests for link actions: signed URLs made by url() and run by follow()."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from wsactions import (
    Access,
    ActionError,
    Call,
    ConfigurationError,
    Outcome,
    Param,
    action,
    default_registry,
    ok,
)
from wsactions.testing import Client, Harness


def _leave(call: Call) -> Outcome:
    return ok({"x": call.get("x")})


LEAVE = action("Leave", family="custom", trigger="link", params=[Param("x")])(_leave)


def _filter(call: Call) -> Outcome:
    return ok({"filters": call.prefixed("f.")})


FILTER = action("Filter", family="custom", trigger="link", params=[Param("f.", prefix=True)])(
    _filter
)


def _confirm(call: Call) -> Outcome:
    return ok()


CONFIRM = action(
    "Confirm",
    family="custom",
    trigger="optin-link",
    access=Access.OPTIN,
    optin_purposes=["activate"],
    codes=["unauthorized"],
)(_confirm)


def make_shop(**overrides: object) -> Harness:
    """A shop with the built-ins plus the custom link and opt-in-link actions."""
    registry = default_registry()
    registry.register(LEAVE)
    registry.register(FILTER)
    registry.register(CONFIRM)
    return Harness(registry=registry, **overrides)


@pytest.fixture
def links() -> Harness:
    """The shop of these tests."""
    return make_shop()


def edit(url: str, **changes: str) -> str:
    """*url* with query fields replaced."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def assert_follow_refused(shop: Harness, client: Client, url: str) -> None:
    """Following *url* answers csrfCheckFailed and changes nothing."""
    before_state, before_session = shop.state(), dict(client.cookie)
    result = client.follow(url)
    assert result is not None
    assert result.errors == (ActionError("csrfCheckFailed", "wscsrf"),)
    assert result.redirect is None
    assert shop.state() == before_state
    assert dict(client.cookie) == before_session


class TestLinkAction:
    """A link made by url() runs its action once followed in the same session."""

    def test_follow_runs_action(self, links: Harness) -> None:
        """The action runs with its parameters and redirects to the target."""
        alice = links.client()
        url = alice.url("Leave", "/after", {"x": "1"})
        assert url.startswith("/after?")
        result = alice.follow(url)
        assert result is not None
        assert result.success
        assert result.name == "Leave"
        assert dict(result.data) == {"x": "1"}
        assert result.redirect == "/after"
        assert alice.last is result

    def test_follow_without_params(self, links: Harness) -> None:
        """A link without parameters works too."""
        alice = links.client()
        result = alice.follow(alice.url("Leave", "/after"))
        assert result is not None
        assert result.success
        assert dict(result.data) == {"x": None}

    def test_target_with_query(self, links: Harness) -> None:
        """A target with its own query keeps it and still verifies."""
        alice = links.client()
        url = alice.url("Leave", "/after?page=2", {"x": "1"})
        assert url.startswith("/after?page=2&")
        result = alice.follow(url)
        assert result is not None
        assert result.success
        assert result.redirect == "/after?page=2"

    def test_allow_listed_absolute_target(self, links: Harness) -> None:
        """A link to the shop's own host is allowed."""
        alice = links.client()
        result = alice.follow(alice.url("Leave", "https://shop.example/bye"))
        assert result is not None
        assert result.redirect == "https://shop.example/bye"

    def test_link_of_another_session(self, links: Harness) -> None:
        """A link made in Bob's session does nothing in Alice's."""
        alice, bob = links.client(), links.client()
        alice.create("Leave")  # Alice has a CSRF binding of her own
        assert_follow_refused(links, alice, bob.url("Leave", "/after", {"x": "1"}))

    def test_link_into_fresh_session(self, links: Harness) -> None:
        """A cross-site link followed by a browser without a session does nothing."""
        bob = links.client()
        alice = links.client()
        assert_follow_refused(links, alice, bob.url("Leave", "/after"))
        assert alice.cookie == {}

    def test_link_dead_after_rotation(self, links: Harness) -> None:
        """A link made before the session's binding rotated (login) is dead."""
        alice = links.client()
        url = alice.url("Leave", "/after")
        alice.session.rotate()
        assert_follow_refused(links, alice, url)

    @pytest.mark.parametrize(
        "changes",
        [
            {"wstarget": "/other"},
            {"wstarget": "https://evil.example/"},
            {"x": "2"},
            {"x": ""},
            {"wsact": "Logout"},
            {"wscsrf": ""},
        ],
        ids=repr,
    )
    def test_edited_link(self, links: Harness, changes: dict[str, str]) -> None:
        """Changing the target, a parameter, the action or the signature kills the link."""
        alice = links.client()
        url = edit(alice.url("Leave", "/after", {"x": "1"}), **changes)
        assert_follow_refused(links, alice, url)

    def test_added_param(self, links: Harness) -> None:
        """Adding a declared parameter the link did not carry kills the link."""
        alice = links.client()
        url = alice.url("Leave", "/after") + "&x=1"
        assert_follow_refused(links, alice, url)

    def test_prefix_params_signed(self, links: Harness) -> None:
        """A link action with prefix parameters gets exactly the signed ones."""
        alice = links.client()
        result = alice.follow(alice.url("Filter", "/list", {"f.color": "red", "f.size": "m"}))
        assert result is not None
        assert result.success
        assert dict(result.data["filters"]) == {"color": "red", "size": "m"}

    def test_moved_separator_in_prefix_param(self, links: Harness) -> None:
        """Moving "=" between a prefix key and its value is an edit: the link dies."""
        # {"f.a": "b=c"} and {"f.a=b": "c"} must not share a signature.
        alice = links.client()
        url = alice.url("Filter", "/list", {"f.a": "b=c"})
        assert "f.a=b%3Dc" in url
        assert_follow_refused(links, alice, url.replace("f.a=b%3Dc", "f.a%3Db=c"))

    def test_removed_signature(self, links: Harness) -> None:
        """A link without wscsrf does nothing."""
        alice = links.client()
        parts = urlsplit(alice.url("Leave", "/after", {"x": "1"}))
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wscsrf"]
        assert_follow_refused(links, alice, f"{parts.path}?{urlencode(query)}")

    def test_form_token_is_not_a_link_signature(self, links: Harness) -> None:
        """The action's form token does not authorize a GET of it."""
        alice = links.client()
        token = alice.create("Leave").csrf
        url = f"/after?{urlencode({'wsact': 'Leave', 'wstarget': '/after', 'wscsrf': token})}"
        assert_follow_refused(links, alice, url)

    def test_url_never_returns_a_dead_link(self, links: Harness) -> None:
        """url() either refuses parameters the action does not declare or signs what it checks."""
        alice = links.client()
        try:
            url = alice.url("Leave", "/after", {"x": "1", "utm": "mail"})
        except ConfigurationError:
            return
        result = alice.follow(url)
        assert result is not None
        assert result.success


class TestFollowOfFormActions:
    """A GET never changes state through a form action."""

    def test_form_action_url_refused(self, links: Harness) -> None:
        """?wsact=SessionUpdate&session.x=1 is refused and writes nothing."""
        alice = links.client()
        assert_follow_refused(links, alice, "/?wsact=SessionUpdate&session.x=1")
        assert alice.session.get("x") is None

    def test_form_action_url_with_valid_form_token_refused(self, links: Harness) -> None:
        """Even the session's own valid form token does not run a form action on a GET."""
        alice = links.client()
        token = alice.create("SessionUpdate").csrf
        url = "/?" + urlencode({"wsact": "SessionUpdate", "wscsrf": token, "session.x": "1"})
        assert_follow_refused(links, alice, url)
        assert alice.session.get("x") is None

    @pytest.mark.parametrize(
        "url", ["/", "/page", "/page?x=1", "/page?wsoptin=abc", "/page?wsactx=1"]
    )
    def test_no_action(self, links: Harness, url: str) -> None:
        """A URL without wsact runs nothing: follow() answers None."""
        alice = links.client()
        assert alice.follow(url) is None
        assert alice.last is None
        assert links.events == []

    @pytest.mark.parametrize("url", ["/?wsact=NoSuchAction", "/?wsact=", "/?wsact"])
    def test_unknown_action(self, links: Harness, url: str) -> None:
        """A URL naming an unknown (or empty) action answers unknownAction."""
        result = links.client().follow(url)
        assert result is not None
        assert result.codes == {"unknownAction"}


class TestUrl:
    """url() refuses what can never be a safe link."""

    @pytest.mark.parametrize(
        "target",
        ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""],
    )
    def test_unsafe_target_raises(self, links: Harness, target: str) -> None:
        """An unsafe target is a programming mistake: ConfigurationError."""
        with pytest.raises(ConfigurationError, match="unsafe link target"):
            links.client().url("Leave", target)

    def test_form_action_raises(self, links: Harness) -> None:
        """Only link actions have URLs."""
        with pytest.raises(ConfigurationError, match="not a link action"):
            links.client().url("SessionUpdate", "/after")


class TestOptInLinks:
    """Opt-in link actions run on a GET unless optin_requires_post is set."""

    def test_runs_on_get_by_default(self, links: Harness) -> None:
        """Without the switch the action runs (and refuses a bogus token)."""
        result = links.client().follow("/?wsact=Confirm&wsoptin=bogus-token")
        assert result is not None
        assert result.name == "Confirm"
        assert result.codes == {"unauthorized"}

    def test_not_run_when_post_required(self) -> None:
        """With optin_requires_post a GET runs nothing: follow() answers None."""
        shop = make_shop(optin_requires_post=True)
        alice = shop.client()
        before = shop.state()
        assert alice.follow("/?wsact=Confirm&wsoptin=bogus-token") is None
        assert alice.last is None
        assert alice.optin == "bogus-token"
        assert shop.events == []
        assert shop.state() == before
