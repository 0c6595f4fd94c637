"""Tests for saved cards: the CreditCardDelete action and the host-side save_card."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from helpers import account_logged_in
from wsactions import Account, ActionError, CardDataRefusedError, SavedCard
from wsactions.actions.payment import save_card
from wsactions.testing import Client, Harness

GOOD = {
    "brand": "VISA",
    "last4": "1111",
    "expiry": "12/30",
    "holder": "Ann Example",
    "pseudo_card_id": "pcc_9f8e7d6c5b4a",
}
#: 16 digits none of whose 13..19-digit windows passes the Luhn check.
NOT_LUHN = "8377835337406812"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def luhn_complete(body: str) -> str:
    """*body* followed by its Luhn check digit (computed here, independently of src)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


#: Luhn-valid numbers of 13 to 19 digits (public test numbers and computed ones).
CARD_NUMBERS = [
    "4222222222222",  # 13, Visa test
    "378282246310005",  # 15, Amex test
    "4111111111111111",  # 16, Visa test
    "5555555555554444",  # 16, Mastercard test
    "3566002020360505",  # 16, JCB test
    luhn_complete("62123456789000"),  # 15
    luhn_complete("621234567890000003"),  # 19
]


def card_like_values(number: str) -> list[str]:
    """*number* plain, grouped by spaces or dashes, and inside other text."""
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    return [
        number,
        " ".join(groups),
        "-".join(groups),
        f"card {number} exp 12/30",
        f"tok_{' '.join(groups)}",
    ]


def store(shop: Harness, account: Account, **overrides: Any) -> SavedCard:
    """save_card with the GOOD values, overridden by *overrides*."""
    return save_card(shop.accounts, account.id, **{**GOOD, **overrides})



@pytest.fixture
def ann(shop: Harness, alice: Client) -> Account:
    """alice logged in as ann@example.com."""
    return account_logged_in(shop, alice, "ann@example.com")


@pytest.fixture
def ben(shop: Harness, bob: Client) -> Account:
    """bob logged in as ben@example.com."""
    return account_logged_in(shop, bob, "ben@example.com")


# CreditCardDelete -------------------------------------------------------------------------


class TestCreditCardDelete:
    def test_not_logged_in(self, shop: Harness, alice: Client, ben: Account):
        """Without login: notLoggedIn, even with an existing card id."""
        card = store(shop, ben)
        before = shop.state()
        result = alice.submit("CreditCardDelete", pseudoCCId=card.id)
        assert not result.success
        assert result.errors == (ActionError("notLoggedIn"),)
        assert shop.state() == before

    def test_session_locked(self, shop: Harness, alice: Client, ann: Account):
        """A locked session: sessionLocked, the card stays."""
        card = store(shop, ann)
        alice.session.lock()
        before = shop.state()
        result = alice.submit("CreditCardDelete", pseudoCCId=card.id)
        assert result.errors == (ActionError("sessionLocked"),)
        assert shop.state() == before

    def test_unknown_and_foreign_card_alike(
        self, shop: Harness, alice: Client, ann: Account, ben: Account
    ):
        """Another account's card id and a made-up id: the same invalidPseudoCCId."""
        store(shop, ann)
        bens = store(shop, ben)
        before = shop.state()
        foreign = alice.submit("CreditCardDelete", pseudoCCId=bens.id)
        unknown = alice.submit("CreditCardDelete", pseudoCCId=secrets.token_urlsafe(16))
        assert foreign.errors == (ActionError("invalidPseudoCCId", "pseudoCCId"),)
        assert unknown.errors == foreign.errors
        assert shop.state() == before
        assert shop.accounts.list_cards(ben.id) == [bens]

    @pytest.mark.parametrize("extra", [{}, {"pseudoCCId": ""}])
    def test_missing_id(self, shop: Harness, alice: Client, ann: Account, extra):
        """A missing or empty pseudoCCId: invalidPseudoCCId."""
        store(shop, ann)
        before = shop.state()
        result = alice.submit("CreditCardDelete", **extra)
        assert result.errors == (ActionError("invalidPseudoCCId", "pseudoCCId"),)
        assert shop.state() == before

    def test_provider_token_is_not_the_id(self, shop: Harness, alice: Client, ann: Account):
        """The provider's pseudo card id does not name the card: invalidPseudoCCId."""
        card = store(shop, ann)
        before = shop.state()
        result = alice.submit("CreditCardDelete", pseudoCCId=card.pseudo_card_id)
        assert result.errors == (ActionError("invalidPseudoCCId", "pseudoCCId"),)
        assert shop.state() == before

    def test_deletes_only_that_card(self, shop: Harness, alice: Client, ann: Account, ben: Account):
        """Success removes exactly the named card: the owner's other cards and others' stay."""
        first = store(shop, ann)
        second = store(shop, ann, last4="4444", brand="MC")
        bens = store(shop, ben)
        before = shop.state()
        result = alice.submit("CreditCardDelete", pseudoCCId=first.id)
        assert result.success, result.errors
        del before["cards"][ann.id][first.id]
        assert shop.state() == before
        assert shop.accounts.list_cards(ann.id) == [second]
        assert shop.accounts.list_cards(ben.id) == [bens]

    def test_second_delete_fails(self, shop: Harness, alice: Client, ann: Account):
        """Deleting the same card twice: the second time invalidPseudoCCId."""
        card = store(shop, ann)
        assert alice.submit("CreditCardDelete", pseudoCCId=card.id).success
        before = shop.state()
        result = alice.submit("CreditCardDelete", pseudoCCId=card.id)
        assert result.errors == (ActionError("invalidPseudoCCId", "pseudoCCId"),)
        assert shop.state() == before


# save_card ---------------------------------------------------------------------------------


class TestSaveCard:
    def test_stores_and_returns_record(self, shop: Harness):
        """A well-formed card is stored for the account and returned."""
        account = shop.create_account("ann@example.com")
        card = store(shop, account)
        assert (card.account_id, card.brand, card.last4, card.expiry, card.holder) == (
            account.id,
            "VISA",
            "1111",
            "12/30",
            "Ann Example",
        )
        assert card.pseudo_card_id == GOOD["pseudo_card_id"]
        assert shop.accounts.list_cards(account.id) == [card]

    def test_ids_are_opaque(self, shop: Harness):
        """Card ids differ, are long and not numeric."""
        account = shop.create_account("ann@example.com")
        a, b = store(shop, account), store(shop, account)
        assert a.id != b.id
        assert len(a.id) >= 16
        assert not a.id.isdigit()

    def test_card_not_in_repr(self, shop: Harness):
        """The provider's card token stays out of the record's repr."""
        account = shop.create_account("ann@example.com")
        assert GOOD["pseudo_card_id"] not in repr(store(shop, account))

    @pytest.mark.parametrize(
        "last4", ["", "123", "12345", "abcd", "12 4", "１２３４", "1234\n", " 1234"]
    )
    def test_malformed_last4_refused(self, shop: Harness, last4: str):
        """last4 must be exactly four ASCII digits, nothing more."""
        account = shop.create_account("ann@example.com")
        before = shop.state()
        with pytest.raises(CardDataRefusedError):
            store(shop, account, last4=last4)
        assert shop.state() == before

    @pytest.mark.parametrize(
        "expiry",
        ["", "13/30", "00/30", "1/30", "12/2030", "12-30", "1230", "12/3", "12/30\n", "12/30 "],
    )
    def test_malformed_expiry_refused(self, shop: Harness, expiry: str):
        """expiry must be exactly MM/YY."""
        account = shop.create_account("ann@example.com")
        before = shop.state()
        with pytest.raises(CardDataRefusedError):
            store(shop, account, expiry=expiry)
        assert shop.state() == before

    @pytest.mark.parametrize("expiry", ["01/25", "09/99", "10/00", "12/30"])
    def test_wellformed_expiry_accepted(self, shop: Harness, expiry: str):
        """Every month 01..12 with two year digits is accepted."""
        account = shop.create_account("ann@example.com")
        assert store(shop, account, expiry=expiry).expiry == expiry

    @pytest.mark.parametrize("field", ["holder", "pseudo_card_id", "brand"])
    @pytest.mark.parametrize(
        "value", [v for number in CARD_NUMBERS for v in card_like_values(number)]
    )
    def test_card_number_refused_in_any_field(self, shop: Harness, field: str, value: str):
        """A Luhn-valid 13..19-digit run (spaces or dashes allowed) is refused in any field."""
        account = shop.create_account("ann@example.com")
        before = shop.state()
        with pytest.raises(CardDataRefusedError):
            store(shop, account, **{field: value})
        assert shop.state() == before

    @pytest.mark.parametrize("number", CARD_NUMBERS)
    def test_card_number_in_fullwidth_digits_refused(self, shop: Harness, number: str):
        """A card number written in full-width digits is still a card number."""
        account = shop.create_account("ann@example.com")
        before = shop.state()
        with pytest.raises(CardDataRefusedError):
            store(shop, account, holder=number.translate(_FULLWIDTH))
        assert shop.state() == before

    def test_refusal_is_a_value_error(self, shop: Harness):
        """CardDataRefusedError is a ValueError, as documented."""
        account = shop.create_account("ann@example.com")
        with pytest.raises(ValueError, match="card number"):
            store(shop, account, holder="4111 1111 1111 1111")

    @pytest.mark.parametrize(
        "pseudo", [NOT_LUHN, "pcc_" + NOT_LUHN, "123456789012", "1111-2222-3333"]
    )
    def test_non_card_numbers_accepted(self, shop: Harness, pseudo: str):
        """Digit runs that fail Luhn or are shorter than 13 digits are accepted."""
        account = shop.create_account("ann@example.com")
        card = store(shop, account, pseudo_card_id=pseudo)
        assert shop.accounts.list_cards(account.id) == [card]
