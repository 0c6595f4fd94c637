"""Stateful test: random sequences of the address and card actions for two accounts.

A model of each account's address book, roles and cards predicts every
action's exact outcome; after every step the store must equal the model,
every role must point to an address of the same account (or nothing), and no
address may have moved between accounts. Ids are drawn from the ids either
account created plus random strings, so cross-account ids are tried all the
time.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from helpers import PW
from strategies import DE, GB, US
from wsactions import Account
from wsactions.actions.payment import save_card
from wsactions.testing import Client, Harness

MAX_ADDRESSES = 4
ROLES = ("main_address_id", "default_bill_address_id", "default_delivery_address_id")
SETTERS = {
    "SetMainAddress": "main_address_id",
    "SetDefaultBillAddress": "default_bill_address_id",
    "SetDefaultDeliveryAddress": "default_delivery_address_id",
}
REMOVERS = {
    "RemoveDefaultBillAddress": "default_bill_address_id",
    "RemoveDefaultDeliveryAddress": "default_delivery_address_id",
}

# (fields, valid): values are already normalised, so a valid address is stored as given.
CREATES = [
    (DE, True),
    (GB, True),
    (US, True),
    ({**DE, "zip": "1"}, False),
    ({**US, "state": ""}, False),
    ({"firstName": "Eva"}, False),
]
# Updates laid over any of DE, GB, US: valid ones stay valid, invalid ones stay invalid.
UPDATES = [
    (DE, True),
    (GB, True),
    (US, True),
    ({"city": "Bonn"}, True),
    ({"firstName": "Zoë"}, True),
    ({"zip": "!!"}, False),
    ({"firstName": "R2D2"}, False),
    ({"country": "ZZ"}, False),
    ({"nickname": "x"}, False),
    ({}, None),  # emptyAddress
]
TYPES = [None, "bill", "delivery", "parcel"]

actors = st.sampled_from([0, 1])
junk_ids = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24),
    st.sampled_from(["", " ", "\t", "0", "1", "null", "../x"]),
)


@attrs.define
class Book:
    """The model of one account: addresses by id (type, fields), roles, card ids."""

    addresses: dict[str, tuple[str, dict[str, str]]] = attrs.Factory(dict)
    roles: dict[str, str | None] = attrs.Factory(lambda: dict.fromkeys(ROLES))
    cards: set[str] = attrs.Factory(set)


def form(fields: dict[str, str]) -> dict[str, str]:
    """*fields* as ``address.<name>`` form fields."""
    return {f"address.{name}": value for name, value in fields.items()}


class AddressMachine(RuleBasedStateMachine):
    """Two logged-in accounts running the nine address and card actions."""

    address_ids = Bundle("address_ids")
    card_ids = Bundle("card_ids")

    def __init__(self) -> None:
        super().__init__()
        self.shop = Harness(max_addresses=MAX_ADDRESSES)
        self.clients: list[Client] = []
        self.accounts: list[Account] = []
        for n, email in enumerate(("ann@example.com", "ben@example.com")):
            client = self.shop.client(client_address=f"203.0.113.{10 + n}")
            self.accounts.append(self.shop.create_account(email, PW))
            assert client.submit("Login", id=email, password=PW).success
            self.clients.append(client)
        self.books = [Book(), Book()]
        self.owner: dict[str, int] = {}  # every address id ever created -> its account
        self.deleted: set[str] = set()

    # helpers -----------------------------------------------------------------------------
    def run(
        self, actor: int, name: str, codes: set[str], fields: dict[str, str], **params: Any
    ) -> dict[str, Any]:
        """Submit *name* as *actor*; assert the exact codes, and no change on failure."""
        before = self.shop.state()
        result = self.clients[actor].submit(name, fields, **params)
        assert result.codes == codes, (name, result.errors)
        assert result.success == (not codes)
        if codes:
            assert self.shop.state() == before
        return dict(result.data)

    # setup -------------------------------------------------------------------------------
    @initialize(target=card_ids)
    def add_cards(self) -> Any:
        """Two saved cards per account, as a payment integration stores them."""
        ids = []
        for actor, account in enumerate(self.accounts):
            for last4 in ("1111", "4444"):
                card = save_card(
                    self.shop.accounts,
                    account.id,
                    brand="VISA",
                    last4=last4,
                    expiry="12/30",
                    holder="Card Holder",
                    pseudo_card_id=f"pcc_{actor}_{last4}",
                )
                self.books[actor].cards.add(card.id)
                ids.append(card.id)
        return multiple(*ids)

    @initialize(target=address_ids)
    def first_addresses(self) -> Any:
        """One address per account, so the id bundle is never empty."""
        return multiple(*(self.create_address(actor, DE, None) for actor in (0, 1)))

    # rules -------------------------------------------------------------------------------
    @rule(
        target=address_ids,
        actor=actors,
        case=st.sampled_from(CREATES),
        kind=st.sampled_from(TYPES),
    )
    def create(self, actor: int, case: tuple[dict[str, str], bool], kind: str | None) -> Any:
        """AddressCreate with a valid or invalid address and any type."""
        fields, valid = case
        if not valid or kind not in (None, "bill", "delivery"):
            codes = set()
            if not valid:
                codes.add("addressCheckFailed")
            if kind not in (None, "bill", "delivery"):
                codes.add("invalidType")
            self.run(actor, "AddressCreate", codes, form(fields), **self._type(kind))
            return multiple()
        address_id = self.create_address(actor, fields, kind)
        return multiple(address_id) if address_id else multiple()

    def create_address(self, actor: int, fields: dict[str, str], kind: str | None) -> str | None:
        """AddressCreate of a valid address; the new id, or None at the limit."""
        book = self.books[actor]
        if len(book.addresses) >= MAX_ADDRESSES:
            self.run(actor, "AddressCreate", {"addressLimitReached"}, form(fields))
            return None
        data = self.run(actor, "AddressCreate", set(), form(fields), **self._type(kind))
        address_id: str = data["addressId"]
        assert address_id not in self.owner
        kind = kind or "bill"
        # Only the first address (of its kind) takes a role, never a later one.
        first = not book.addresses
        first_of_kind = all(k != kind for k, _ in book.addresses.values())
        book.addresses[address_id] = (kind, dict(fields))
        self.owner[address_id] = actor
        roles = book.roles
        if first:
            roles["main_address_id"] = address_id
        if first_of_kind:
            roles[f"default_{kind}_address_id"] = address_id
        return address_id

    @rule(
        actor=actors,
        address_id=st.one_of(address_ids, junk_ids),
        case=st.sampled_from(UPDATES),
        kind=st.sampled_from(TYPES),
    )
    def update(
        self,
        actor: int,
        address_id: str,
        case: tuple[dict[str, str], bool | None],
        kind: str | None,
    ) -> None:
        """AddressUpdate of an own, foreign, deleted or made-up id."""
        fields, valid = case
        book = self.books[actor]
        params = {"addressId": address_id, **self._type(kind)}
        if address_id not in book.addresses:
            self.run(actor, "AddressUpdate", {"invalidAddressId"}, form(fields), **params)
        elif valid is None:
            self.run(actor, "AddressUpdate", {"emptyAddress"}, form(fields), **params)
        elif not valid or kind not in (None, "bill", "delivery"):
            codes = set()
            if not valid:
                codes.add("addressCheckFailed")
            if kind not in (None, "bill", "delivery"):
                codes.add("invalidType")
            self.run(actor, "AddressUpdate", codes, form(fields), **params)
        else:
            self.run(actor, "AddressUpdate", set(), form(fields), **params)
            old_kind, old_fields = book.addresses[address_id]
            book.addresses[address_id] = (kind or old_kind, {**old_fields, **fields})

    @rule(actor=actors, address_id=st.one_of(address_ids, junk_ids))
    def delete(self, actor: int, address_id: str) -> None:
        """AddressDelete of an own, foreign, deleted or made-up id."""
        book = self.books[actor]
        if address_id not in book.addresses:
            self.run(actor, "AddressDelete", {"invalidAddressId"}, {}, addressId=address_id)
            return
        self.run(actor, "AddressDelete", set(), {}, addressId=address_id)
        del book.addresses[address_id]
        self.deleted.add(address_id)
        for role, held in book.roles.items():
            if held == address_id:
                book.roles[role] = None

    @rule(
        actor=actors,
        name=st.sampled_from(sorted(SETTERS)),
        address_id=st.one_of(address_ids, junk_ids),
    )
    def set_role(self, actor: int, name: str, address_id: str) -> None:
        """SetMainAddress / SetDefaultBillAddress / SetDefaultDeliveryAddress."""
        book = self.books[actor]
        if not address_id.strip():
            self.run(actor, name, {"missingAddressId"}, {}, addressId=address_id)
        elif address_id not in book.addresses:
            self.run(actor, name, {"invalidAddressId"}, {}, addressId=address_id)
        else:
            self.run(actor, name, set(), {}, addressId=address_id)
            book.roles[SETTERS[name]] = address_id

    @rule(actor=actors, name=st.sampled_from(sorted(REMOVERS)))
    def remove_role(self, actor: int, name: str) -> None:
        """RemoveDefaultBillAddress / RemoveDefaultDeliveryAddress always succeed."""
        self.run(actor, name, set(), {})
        self.books[actor].roles[REMOVERS[name]] = None

    @rule(actor=actors, card_id=st.one_of(card_ids, junk_ids))
    def delete_card(self, actor: int, card_id: str) -> None:
        """CreditCardDelete of an own, foreign, deleted or made-up card id."""
        book = self.books[actor]
        if card_id not in book.cards:
            self.run(actor, "CreditCardDelete", {"invalidPseudoCCId"}, {}, pseudoCCId=card_id)
            return
        self.run(actor, "CreditCardDelete", set(), {}, pseudoCCId=card_id)
        book.cards.remove(card_id)

    @staticmethod
    def _type(kind: str | None) -> dict[str, str]:
        return {} if kind is None else {"type": kind}

    # invariants ----------------------------------------------------------------------------
    @invariant()
    def roles_point_to_own_addresses(self) -> None:
        """Every role names an existing address of the same account, or nothing."""
        for account in self.accounts:
            current = self.shop.accounts.get_account(account.id)
            own = {a.id for a in self.shop.accounts.list_addresses(account.id)}
            for role in ROLES:
                held = getattr(current, role)
                assert held is None or held in own, (role, held)

    @invariant()
    def no_address_moved(self) -> None:
        """Each created id is listed under its creator until deleted, never under the other."""
        listed = [
            {a.id for a in self.shop.accounts.list_addresses(account.id)}
            for account in self.accounts
        ]
        for address_id, actor in self.owner.items():
            where = [n for n, ids in enumerate(listed) if address_id in ids]
            assert where == ([] if address_id in self.deleted else [actor])

    @invariant()
    def store_matches_model(self) -> None:
        """Addresses (owner, type, fields), roles and cards equal the model, counts included."""
        for account, book in zip(self.accounts, self.books, strict=True):
            addresses = self.shop.accounts.list_addresses(account.id)
            assert len(addresses) == len(book.addresses) <= MAX_ADDRESSES
            assert all(a.account_id == account.id for a in addresses)
            assert {a.id: (a.type, dict(a.fields)) for a in addresses} == book.addresses
            current = self.shop.accounts.get_account(account.id)
            assert {role: getattr(current, role) for role in ROLES} == book.roles
            cards = self.shop.accounts.list_cards(account.id)
            assert all(c.account_id == account.id for c in cards)
            assert {c.id for c in cards} == book.cards


def test_address_and_card_actions_keep_invariants():
    """Random action sequences of two accounts match the model and keep every invariant."""
    run_state_machine_as_test(
        AddressMachine,
        settings=settings(max_examples=60, stateful_step_count=30, deadline=None),
    )
