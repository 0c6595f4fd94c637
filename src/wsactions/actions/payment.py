"""Saved cards: pseudonymised by the payment provider, deletable by their owner.

The host's payment integration stores a card after a payment with
:func:`save_card`; the store refuses anything that looks like a card number,
so the library never holds card data.
"""

from __future__ import annotations

import re

from .._action import Access, Call, Outcome, Param, action, fail, ok
from ..errors import CardDataRefusedError
from ..models import SavedCard
from ..protocols import CardVault
from ._common import new_id

_LAST4 = re.compile(r"[0-9]{4}")
_EXPIRY = re.compile(r"(0[1-9]|1[0-2])/[0-9]{2}")


def save_card(
    cards: CardVault,
    account_id: str,
    *,
    brand: str,
    last4: str,
    expiry: str,
    holder: str,
    pseudo_card_id: str,
) -> SavedCard:
    """Store a pseudonymised card for *account_id*; the stored record.

    *last4* must be four digits, *expiry* ``MM/YY``; *pseudo_card_id* is the
    payment provider's token for the card. Raises
    :class:`~wsactions.errors.CardDataRefusedError` (a ``ValueError``) for
    malformed values or anything that looks like a card number.
    """
    if not _LAST4.fullmatch(last4) or not _EXPIRY.fullmatch(expiry):
        raise CardDataRefusedError("last4 must be four digits and expiry MM/YY")
    card = SavedCard(
        id=new_id(),
        account_id=account_id,
        brand=brand,
        last4=last4,
        expiry=expiry,
        holder=holder,
        pseudo_card_id=pseudo_card_id,
    )
    cards.add_card(card)
    return card


@action(
    "CreditCardDelete",
    family="payment",
    access=Access.LOGIN,
    blocked_when_locked=True,
    params=[Param("pseudoCCId", required=True)],
    codes=["notLoggedIn", "invalidPseudoCCId"],
    fresh_login=True,
)
def credit_card_delete(call: Call[None]) -> Outcome:
    """Deletes one saved card of the logged-in account."""
    account = call.account
    if account is None:  # pragma: no cover - the access rule checked it
        return fail("notLoggedIn")
    if not call.accounts.delete_card(account.id, call.get("pseudoCCId") or ""):
        return fail("invalidPseudoCCId", "pseudoCCId")
    return ok()


ACTIONS = (credit_card_delete,)
