"""Tests for the ``wsAccount`` template view and the seed's address and card templates."""

from __future__ import annotations

from html.parser import HTMLParser

import jinja2
import pytest

from helpers import account_logged_in
from wsactions import Account
from wsactions.actions.payment import save_card
from wsactions.testing import Client, Harness

DE = {
    "firstName": "Erika",
    "lastName": "Mustermann",
    "street": "Heidestraße",
    "houseNumber": "17",
    "zip": "51147",
    "city": "Köln",
    "country": "DE",
}
GB = {
    "firstName": "John",
    "lastName": "O'Brien",
    "street": "Baker Street",
    "houseNumber": "221b",
    "zip": "NW1 6XE",
    "city": "London",
    "country": "GB",
}
ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

SET_MAIN_TEMPLATE = """
{% set cActionSetMainAddress = wsActions.create("SetMainAddress") %}
{% for cAddress in wsAccount.addresses %}
  {% if cAddress.id != wsAccount.mainAddress.id %}
    <form action="/account/addresses" method="post">
      <input type="hidden" name="wsact" value="{{ cActionSetMainAddress.id }}">
      <input type="hidden" name="wscsrf" value="{{ cActionSetMainAddress.csrf }}">
      <input type="hidden" name="addressId" value="{{ cAddress.id }}">
      <button type="submit">Set as main address.</button>
    </form>
  {% endif %}
{% endfor %}
"""

CARD_DELETE_TEMPLATE = """
{% for cCreditCard in wsAccount.pseudoCreditCards %}
  {% set cActionCreditCardDelete = wsActions.create("CreditCardDelete") %}
  <form method="POST" action="/account/cards">
    <input type="hidden" name="wscsrf" value="{{ cActionCreditCardDelete.csrf }}">
    <input type="hidden" name="wsact" value="{{ cActionCreditCardDelete.id }}">
    <input type="hidden" name="pseudoCCId" value="{{ cCreditCard.id }}">
    <span>{{ cCreditCard.brand }} **** {{ cCreditCard.last4 }}</span>
    <button type="submit">Delete credit card.</button>
  </form>
{% endfor %}
"""

ADDRESS_UPDATE_TEMPLATE = """
{% set myActionAddressUpdate = wsActions.create("AddressUpdate") %}
{% set myAddress = wsAccount.mainAddress %}
<form action="/account/addresses" method="post">
  <input type="hidden" name="wsact" value="{{ myActionAddressUpdate.id }}">
  <input type="hidden" name="wscsrf" value="{{ myActionAddressUpdate.csrf }}">
  <input type="hidden" name="addressId" value="{{ myAddress.id }}">
  <input type="hidden" name="type" value="delivery">
  <input type="text" name="address.firstName" value="{{ myAddress.firstName }}">
  <input type="text" name="address.lastName" value="{{ myAddress.lastName }}">
  <input type="text" name="address.street" value="{{ myAddress.street }}">
  <input type="text" name="address.zip" value="{{ myAddress.zip }}">
  <input type="text" name="address.city" value="{{ myAddress.city }}">
  <button type="submit">Update shipping address.</button>
</form>
"""


class FormParser(HTMLParser):
    """Collects each ``<form>``'s ``<input>`` names and values, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and self.forms:
            self.forms[-1][values["name"] or ""] = values.get("value") or ""


def render(client: Client, source: str) -> str:
    """Render *source* with the template globals of *client*'s next page."""
    return ENV.from_string(source).render(client.view().globals())


def forms(client: Client, source: str) -> list[dict[str, str]]:
    """The forms *source* renders for *client*."""
    parser = FormParser()
    parser.feed(render(client, source))
    return parser.forms



def create(client: Client, fields: dict[str, str], type: str = "bill") -> str:
    """Create an address through the action; its id."""
    result = client.submit(
        "AddressCreate", {f"address.{k}": v for k, v in fields.items()}, type=type
    )
    assert result.success, result.errors
    address_id: str = result.data["addressId"]
    return address_id


def add_card(shop: Harness, account: Account, last4: str) -> str:
    """Save a card for *account* as a payment integration would; its id."""
    card = save_card(
        shop.accounts,
        account.id,
        brand="VISA",
        last4=last4,
        expiry="12/30",
        holder="Ann Example",
        pseudo_card_id=f"pcc_{last4}",
    )
    return card.id


@pytest.fixture
def ann(shop: Harness, alice: Client) -> Account:
    """alice logged in as ann@example.com, display name "Ann"."""
    return account_logged_in(shop, alice, "ann@example.com", display_name="Ann")


def test_logged_out_view_is_empty(shop: Harness, alice: Client):
    """Without login the view shows no account, addresses, roles or cards."""
    view = alice.view().wsAccount
    assert not view.isLoggedIn
    assert (view.id, view.email, view.displayName) == (None, None, None)
    assert tuple(view.addresses) == ()
    assert view.mainAddress is None
    assert view.defaultBillAddress is None
    assert view.defaultDeliveryAddress is None
    assert tuple(view.pseudoCreditCards) == ()


def test_logged_out_view_shows_no_other_account(shop: Harness, alice: Client, bob: Client):
    """A logged-out browser sees nothing even while another browser's account has addresses."""
    account_logged_in(shop, bob, "ben@example.com")
    create(bob, DE)
    assert tuple(alice.view().wsAccount.addresses) == ()


def test_account_fields(shop: Harness, alice: Client, ann: Account):
    """email, displayName and id show the logged-in account."""
    view = alice.view().wsAccount
    assert view.isLoggedIn
    assert view.id == ann.id
    assert view.email == "ann@example.com"
    assert view.displayName == "Ann"


def test_addresses_and_roles(shop: Harness, alice: Client, bob: Client, ann: Account):
    """addresses lists the own addresses oldest first; the role properties follow the account."""
    account_logged_in(shop, bob, "ben@example.com")
    create(bob, GB)
    first = create(alice, DE)
    delivery = create(alice, GB, type="delivery")
    view = alice.view().wsAccount
    assert [a.id for a in view.addresses] == [first, delivery]
    assert view.mainAddress.id == first
    assert view.defaultBillAddress.id == first
    assert view.defaultDeliveryAddress.id == delivery
    assert view.mainAddress.city == "Köln"
    assert alice.submit("RemoveDefaultBillAddress").success
    assert alice.submit("SetMainAddress", addressId=delivery).success
    view = alice.view().wsAccount
    assert view.defaultBillAddress is None
    assert view.mainAddress.id == delivery


def test_deleted_address_leaves_view(shop: Harness, alice: Client, ann: Account):
    """After AddressDelete the address and its roles are gone from the view."""
    first = create(alice, DE)
    assert alice.submit("AddressDelete", addressId=first).success
    view = alice.view().wsAccount
    assert tuple(view.addresses) == ()
    assert view.mainAddress is None
    assert view.defaultBillAddress is None


def test_pseudo_credit_cards(shop: Harness, alice: Client, bob: Client, ann: Account):
    """pseudoCreditCards lists the own cards only, oldest first."""
    ben = account_logged_in(shop, bob, "ben@example.com")
    add_card(shop, ben, "0005")
    ids = [add_card(shop, ann, "1111"), add_card(shop, ann, "4444")]
    cards = alice.view().wsAccount.pseudoCreditCards
    assert [c.id for c in cards] == ids
    assert [c.last4 for c in cards] == ["1111", "4444"]


def test_set_main_address_loop(shop: Harness, alice: Client, ann: Account):
    """The seed's loop renders one form per non-main address; posting one moves the main role."""
    first = create(alice, DE)
    second = create(alice, GB)
    third = create(alice, GB, type="delivery")
    rendered = forms(alice, SET_MAIN_TEMPLATE)
    assert [f["addressId"] for f in rendered] == [second, third]
    assert all(f["wsact"] == "SetMainAddress" for f in rendered)
    result = alice.post(rendered[1])
    assert result.success, result.errors
    assert alice.view().wsAccount.mainAddress.id == third
    assert [f["addressId"] for f in forms(alice, SET_MAIN_TEMPLATE)] == [first, second]


def test_set_main_address_loop_without_main(shop: Harness, alice: Client, ann: Account):
    """With no main address (Undefined id) every address gets a form."""
    first = create(alice, DE)
    second = create(alice, GB, type="delivery")
    third = create(alice, DE)
    assert alice.submit("AddressDelete", addressId=first).success
    assert alice.view().wsAccount.mainAddress is None
    lenient = jinja2.Environment(autoescape=True)
    parser = FormParser()
    parser.feed(lenient.from_string(SET_MAIN_TEMPLATE).render(alice.view().globals()))
    assert [f["addressId"] for f in parser.forms] == [second, third]


def test_rendered_form_is_bound_to_its_session(
    shop: Harness, alice: Client, bob: Client, ann: Account
):
    """A form rendered for alice does nothing when bob posts it."""
    ben = account_logged_in(shop, bob, "ben@example.com")
    create(alice, DE)
    create(alice, GB)
    [form] = forms(alice, SET_MAIN_TEMPLATE)
    before = shop.state()
    assert bob.post(form).codes == {"csrfCheckFailed"}
    assert shop.state() == before
    assert shop.accounts.get_account(ben.id).main_address_id is None


def test_credit_card_delete_loop(shop: Harness, alice: Client, ann: Account):
    """The seed's card loop renders one form per card; posting one deletes that card only."""
    ids = [add_card(shop, ann, "1111"), add_card(shop, ann, "4444")]
    html = render(alice, CARD_DELETE_TEMPLATE)
    assert "VISA **** 1111" in html
    assert "pcc_" not in html
    rendered = forms(alice, CARD_DELETE_TEMPLATE)
    assert [f["pseudoCCId"] for f in rendered] == ids
    result = alice.post(rendered[0])
    assert result.success, result.errors
    assert [c.id for c in alice.view().wsAccount.pseudoCreditCards] == [ids[1]]
    assert [f["pseudoCCId"] for f in forms(alice, CARD_DELETE_TEMPLATE)] == [ids[1]]


def test_address_update_form(shop: Harness, alice: Client, ann: Account):
    """The seed's update form is prefilled through attribute access and posts back."""
    address_id = create(alice, GB)
    [form] = forms(alice, ADDRESS_UPDATE_TEMPLATE)
    assert form["addressId"] == address_id
    assert form["address.firstName"] == "John"
    assert form["address.lastName"] == "O'Brien"  # escaped in HTML, unescaped by the parser
    assert form["address.zip"] == "NW1 6XE"
    form["address.city"] = "Westminster"
    result = alice.post(form)
    assert result.success, result.errors
    address = alice.view().wsAccount.mainAddress
    assert address.city == "Westminster"
    assert address.type == "delivery"
    assert address.firstName == "John"


def test_missing_field_attribute_is_undefined(shop: Harness, alice: Client, ann: Account):
    """A field the address lacks is no attribute (templates see Undefined, not an error)."""
    create(alice, DE)
    address = alice.view().wsAccount.mainAddress
    assert not hasattr(address, "company")
    lenient = jinja2.Environment(autoescape=True)
    out = lenient.from_string("[{{ a.company }}|{{ a.city }}]").render(a=address)
    assert out == "[|Köln]"


def test_markup_in_fields_is_escaped(shop: Harness, alice: Client, ann: Account):
    """Field values are plain text: an autoescaping engine escapes them."""
    create(alice, {**DE, "street": "<b>Main</b> & Co"})
    html = render(alice, ADDRESS_UPDATE_TEMPLATE)
    assert "<b>" not in html
    assert "&lt;b&gt;Main&lt;/b&gt; &amp; Co" in html
