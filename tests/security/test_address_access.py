"""A29: addresses and cards are looked up through the acting account (ASVS 8.2.2).

Another account's id and an id that does not exist get the same answer, and
nothing stored changes, whether the actor is logged in or (for the actions
that allow it) acts through an address opt-in token.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from helpers import PW, account_logged_in
from wsactions import Account, ActionResult, default_registry
from wsactions.actions.payment import save_card
from wsactions.models import TokenRecord
from wsactions.security.tokens import new_token
from wsactions.testing import Client, Harness

DE = {
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}

#: Every action taking an address id, with the other fields a real form sends.
ADDRESS_ACTIONS: dict[str, dict[str, str]] = {
    "AddressUpdate": {"address.city": "Bonn"},
    "AddressDelete": {},
    "SetMainAddress": {},
    "SetDefaultBillAddress": {},
    "SetDefaultDeliveryAddress": {},
}
#: (action, via): the ways an actor can reach each address action.
ADDRESS_CASES = [
    (name, via)
    for name in ADDRESS_ACTIONS
    for via in ("login", "optin")
    if via == "login" or default_registry()[name].optin_purposes
]
CARD_ACTIONS = ["CreditCardDelete"]


def test_every_id_taking_action_is_covered():
    """The parametrization names every registered action that takes addressId or pseudoCCId."""
    takes_id = {
        spec.name
        for spec in default_registry().actions
        if {"addressId", "pseudoCCId"} & spec.param_names
    }
    assert takes_id == set(ADDRESS_ACTIONS) | set(CARD_ACTIONS)



def act_via_token(shop: Harness, client: Client, email: str) -> Account:
    """Create an account for *email* and hand *client* a valid address token for it."""
    account = shop.create_account(email, PW)
    token, token_hash = new_token()
    now = shop.clock.now()
    shop.tokens.add(
        TokenRecord(
            token_hash=token_hash,
            purpose="address",
            account_id=account.id,
            created_at=now,
            expires_at=now + 3600,
        )
    )
    client.optin = token
    return account


def assert_same_refusal(
    shop: Harness, client: Client, name: str, field: str, foreign: str, fields: dict[str, str]
) -> tuple[ActionResult, ActionResult]:
    """Submit *name* with *foreign* and with a made-up id; both fail alike and change nothing."""
    before = shop.state()
    with_foreign = client.submit(name, fields, **{field: foreign})
    assert shop.state() == before
    with_unknown = client.submit(name, fields, **{field: secrets.token_urlsafe(16)})
    assert shop.state() == before
    assert not with_foreign.success
    assert not with_unknown.success
    assert with_foreign.errors == with_unknown.errors
    assert [e.field for e in with_foreign.errors] == [field]
    return with_foreign, with_unknown


@pytest.mark.parametrize(("name", "via"), ADDRESS_CASES)
def test_a29_addresses_looked_up_through_acting_account(name: str, via: str) -> None:
    """Another account's address id answers exactly like a made-up id; nothing changes."""
    shop = Harness()
    alice, bob = shop.client(), shop.client(client_address="198.51.100.7")
    ben = account_logged_in(shop, bob, "ben@example.com")
    bens = bob.submit("AddressCreate", DE).data["addressId"]
    ben_spare = bob.submit("AddressCreate", DE, type="delivery").data["addressId"]
    bens_before = (
        shop.accounts.get_account(ben.id),
        list(shop.accounts.list_addresses(ben.id)),
    )
    ann = (account_logged_in if via == "login" else act_via_token)(shop, alice, "ann@example.com")
    result = alice.submit("AddressCreate", DE)
    assert result.success, result.errors
    own = result.data["addressId"]

    for foreign in (bens, ben_spare):
        refused, _ = assert_same_refusal(
            shop, alice, name, "addressId", foreign, ADDRESS_ACTIONS[name]
        )
        assert refused.codes == {"invalidAddressId"}
    assert (
        shop.accounts.get_account(ben.id),
        list(shop.accounts.list_addresses(ben.id)),
    ) == bens_before

    # The same action on the actor's own address works, and still leaves ben alone.
    mine = alice.submit(name, ADDRESS_ACTIONS[name], addressId=own)
    assert mine.success, mine.errors
    assert (
        shop.accounts.get_account(ben.id),
        list(shop.accounts.list_addresses(ben.id)),
    ) == bens_before
    assert shop.accounts.get_address(ann.id, bens) is None


@pytest.mark.parametrize("name", CARD_ACTIONS)
def test_a29_cards_looked_up_through_acting_account(name: str) -> None:
    """Another account's card id answers exactly like a made-up id; nothing changes."""
    shop = Harness()
    alice, bob = shop.client(), shop.client(client_address="198.51.100.7")
    ann = account_logged_in(shop, alice, "ann@example.com")
    ben = account_logged_in(shop, bob, "ben@example.com")
    card: dict[str, Any] = {
        "brand": "VISA",
        "last4": "1111",
        "expiry": "12/30",
        "holder": "Card Holder",
        "pseudo_card_id": "pcc_test",
    }
    own = save_card(shop.accounts, ann.id, **card)
    bens = save_card(shop.accounts, ben.id, **card)
    refused, _ = assert_same_refusal(shop, alice, name, "pseudoCCId", bens.id, {})
    assert refused.codes == {"invalidPseudoCCId"}
    assert shop.accounts.list_cards(ben.id) == [bens]

    assert alice.submit(name, pseudoCCId=own.id).success
    assert shop.accounts.list_cards(ann.id) == []
    assert shop.accounts.list_cards(ben.id) == [bens]
