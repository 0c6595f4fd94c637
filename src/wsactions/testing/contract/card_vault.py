"""The contract of :class:`~wsactions.protocols.CardVault`: pseudonymised saved cards
only, anything like a card number refused."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import pytest

from ...errors import CardDataRefusedError
from ...protocols import Storage
from ._records import _card, _luhn_complete, _owners
from .requirements import CapabilityChecks

__all__ = ["CardVaultContract"]

_CARD_NUMBERS = [
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "378282246310005",
    "4222222222222",
    "5555 5555 5555 4444",
    "４１１１１１１１１１１１１１１１",  # full-width digits
    _luhn_complete("123456789012"),  # 13 digits
    _luhn_complete("123456789012345678"),  # 19 digits
    "card 4111111111111111 of Ann",
]
_CARD_FIELDS = ["pseudo_card_id", "last4", "holder", "brand", "expiry", "id"]


class CardVaultContract(CapabilityChecks):
    """Stores hold only pseudonymised cards."""

    def test_cards_add_and_list(self, storage: Storage) -> None:
        """Cards are listed per account in creation order, with every field."""
        _owners(storage)
        for n in (2, 1, 3):
            storage.accounts.add_card(_card(n))
        storage.accounts.add_card(_card(4, "acc-2"))
        assert list(storage.accounts.list_cards("acc-1")) == [_card(2), _card(1), _card(3)]
        assert list(storage.accounts.list_cards("acc-2")) == [_card(4, "acc-2")]
        assert storage.accounts.list_cards("acc-9") == []

    @pytest.mark.parametrize("number", _CARD_NUMBERS)
    @pytest.mark.parametrize("field", _CARD_FIELDS)
    def test_card_number_refused(self, storage: Storage, number: str, field: str) -> None:
        """A Luhn-valid 13-19 digit run in any field is refused; nothing is stored."""
        before = storage.snapshot()
        with pytest.raises(CardDataRefusedError):
            storage.accounts.add_card(_card(1, **{field: number}))
        assert storage.snapshot() == before
        assert storage.accounts.list_cards("acc-1") == []

    @pytest.mark.parametrize(
        "pseudo",
        ["pcc_9f8e7d", "tok_1234", "411111111111", "PSEUDO-0000-1111", "x" * 40],
    )
    def test_pseudonyms_accepted(self, storage: Storage, pseudo: str) -> None:
        """Pseudo ids and digit runs too short for a card number are stored."""
        _owners(storage)
        storage.accounts.add_card(_card(1, pseudo_card_id=pseudo))
        assert [c.pseudo_card_id for c in storage.accounts.list_cards("acc-1")] == [pseudo]

    def test_delete_card_only_own(self, storage: Storage) -> None:
        """A card is deleted only through its account, once."""
        _owners(storage)
        storage.accounts.add_card(_card(1, "acc-1"))
        storage.accounts.add_card(_card(2, "acc-1"))
        before = storage.snapshot()
        assert not storage.accounts.delete_card("acc-2", "card-1")
        assert storage.snapshot() == before
        assert storage.accounts.delete_card("acc-1", "card-1")
        assert list(storage.accounts.list_cards("acc-1")) == [_card(2)]
        assert not storage.accounts.delete_card("acc-1", "card-1")
