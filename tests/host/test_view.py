"""Tests for the template view: a real Jinja2 template renders forms that round-trip."""

from __future__ import annotations

from html.parser import HTMLParser

import jinja2
import pytest

from wsactions.testing import Client, Harness

PAGE = """\
{%- set a = wsActions.create("SessionUpdate") -%}
<p id="category">{{ wsSession.get("lastViewedCategory") or "none" }}</p>
<p id="current">{{ wsActions.current.name or "-" }}:{{ wsActions.current.success }}</p>
<form id="update" method="post">
  <input type="hidden" name="wsact" value="{{ a.id }}">
  <input type="hidden" name="wscsrf" value="{{ a.csrf }}">
  <input type="hidden" name="wstarget" value="/category">
  <input name="session.lastViewedCategory"
         value="{{ a.params.get('session.lastViewedCategory', 'shoes') }}">
</form>
{%- if a.error %}
<ul id="errors">{% for e in a.errors %}<li>{{ e.code }} {{ e.field }}</li>{% endfor %}</ul>
{%- endif %}
{%- if wsSession.isLocked %}
{%- set u = wsActions.create("SessionUnlock") %}
<form id="unlock" method="post">
  <input type="hidden" name="wsact" value="{{ u.id }}">
  <input type="hidden" name="wscsrf" value="{{ u.csrf }}">
</form>
{%- endif %}
{%- if wsAccount.isLoggedIn %}
<p id="account">{{ wsAccount.email }}</p>
{%- else %}
<p id="account">guest</p>
{%- endif %}
<p id="optin">{{ "valid" if wsOptIn.current.valid else "no token" }}</p>
"""


class _Page(HTMLParser):
    """Collects the inputs of every form and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        self._form: str | None = None
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = attributes["id"]
            self.forms[self._form] = {}
        elif tag == "input" and self._form is not None:
            self.forms[self._form][attributes["name"]] = attributes.get("value", "")
        elif "id" in attributes:
            self._id = attributes["id"]
            self.texts[self._id] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag in ("p", "ul"):
            self._id = None

    def handle_data(self, data: str) -> None:
        if self._id is not None:
            self.texts[self._id] += data


def render(client: Client) -> _Page:
    """Render PAGE with *client*'s template globals and parse the result."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(PAGE, globals=client.view().globals())
    page = _Page()
    page.feed(template.render())
    return page


class TestTemplateView:
    """The four template globals, as the seeds use them."""

    def test_first_render(self, alice: Client) -> None:
        """A fresh session shows no current action, no login, no opt-in and no lock."""
        page = render(alice)
        assert page.texts["category"] == "none"
        assert page.texts["current"] == "-:False"
        assert page.texts["account"] == "guest"
        assert page.texts["optin"] == "no token"
        assert set(page.forms) == {"update"}
        assert page.forms["update"]["wsact"] == "SessionUpdate"
        assert "errors" not in page.texts

    def test_rendered_form_round_trips(self, alice: Client) -> None:
        """Posting the rendered form's fields runs the action successfully."""
        form = render(alice).forms["update"]
        result = alice.post(form)
        assert result.success
        assert result.redirect == "/category"
        assert alice.session.get("lastViewedCategory") == "shoes"
        page = render(alice)
        assert page.texts["category"] == "shoes"
        assert page.texts["current"] == "SessionUpdate:True"

    def test_rendered_form_of_another_browser_refused(self, alice: Client, bob: Client) -> None:
        """The form rendered for Bob does not work in Alice's session."""
        render(alice)
        result = alice.post(render(bob).forms["update"])
        assert result.codes == {"csrfCheckFailed"}
        assert alice.session.get("lastViewedCategory") is None

    def test_locked_session_offers_unlock(self, alice: Client) -> None:
        """A locked session renders the SessionUnlock form, which unlocks it."""
        alice.session.lock()
        page = render(alice)
        assert alice.post(page.forms["update"]).codes == {"sessionLocked"}
        result = alice.post(render(alice).forms["unlock"])
        assert result.success
        assert not alice.session.is_locked
        assert "unlock" not in render(alice).forms

    def test_errors_and_refill(self, alice: Client) -> None:
        """A failed post shows its codes and refills the form from the echo."""
        form = render(alice).forms["update"]
        form["session.lastViewedCategory"] = "x" * 1025
        alice.post(form)
        page = render(alice)
        assert page.texts["errors"] == "invalidSessionVariable session.lastViewedCategory"
        assert page.texts["current"] == "SessionUpdate:False"
        assert page.forms["update"]["session.lastViewedCategory"] == "x" * 1025

    def test_echo_is_escaped(self, alice: Client) -> None:
        """Echoed values are autoescaped by the template engine."""
        form = render(alice).forms["update"]
        form["session.lastViewedCategory"] = '"><script>alert(1)</script>'
        alice.post(form)
        env = jinja2.Environment(autoescape=True)
        html = env.from_string(PAGE, globals=alice.view().globals()).render()
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


class TestHandleReflectsOwnResult:
    """A handle shows this request's result only when it is its own action's."""

    @pytest.fixture
    def failed(self, alice: Client) -> Client:
        """Alice after a failed SessionUpdate."""
        result = alice.submit("SessionUpdate", {"session.1bad": "v"})
        assert result.codes == {"invalidSessionVariable"}
        return alice

    def test_own_action(self, failed: Client) -> None:
        """The SessionUpdate handle reports the failure and echoes the params."""
        handle = failed.view().wsActions.create("sessionupdate")
        assert handle.name == "SessionUpdate"
        assert handle.error
        assert not handle.success
        assert handle.codes == {"invalidSessionVariable"}
        assert dict(handle.params) == {"session.1bad": "v"}

    def test_other_action(self, failed: Client) -> None:
        """The SessionUnlock handle shows nothing of SessionUpdate's run."""
        handle = failed.view().wsActions.create("SessionUnlock")
        assert not handle.error
        assert not handle.success
        assert handle.errors == ()
        assert dict(handle.params) == {}

    def test_current(self, failed: Client) -> None:
        """wsActions.current is the executed action."""
        current = failed.view().wsActions.current
        assert current.name == "SessionUpdate"
        assert current.error
        assert current.codes == {"invalidSessionVariable"}

    def test_no_result(self, shop: Harness) -> None:
        """Without an executed action, current is empty and not an error."""
        view = shop.client().view()
        assert view.wsActions.current.name == ""
        assert not view.wsActions.current.error
        assert not view.wsActions.create("SessionUpdate").error

    def test_success_data(self, alice: Client) -> None:
        """After a success the handle reports success and no error."""
        alice.submit("SessionUpdate", {"session.step": "2"})
        handle = alice.view().wsActions.create("SessionUpdate")
        assert handle.success
        assert not handle.error
        assert dict(handle.params) == {"session.step": "2"}
