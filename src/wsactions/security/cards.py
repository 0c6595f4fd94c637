"""Recognising card numbers, so that stores can refuse to hold them."""

from __future__ import annotations

import re
import unicodedata

from ..errors import CardDataRefusedError
from ..models import SavedCard

#: The longest value checked (and so stored); NFKC is quadratic on crafted input.
MAX_LENGTH = 200

# Runs of at least 13 digits, optionally grouped by single spaces or dashes.
_CANDIDATE = re.compile(r"[0-9](?:[ -]?[0-9]){12,}")


def luhn_valid(digits: str) -> bool:
    """Whether the string of digits passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """Whether *value* contains 13-19 digits (spaces or dashes allowed) passing Luhn.

    Digits of any script count (full-width ``４`` is NFKC-normalised to ``4``).
    Values longer than :data:`MAX_LENGTH` are refused as if they held one
    (nothing that long belongs in a saved card's fields).
    """
    if len(value) > MAX_LENGTH:
        return True
    for match in _CANDIDATE.finditer(unicodedata.normalize("NFKC", value)):
        digits = re.sub(r"[ -]", "", match.group())
        # Any 13..19-digit window of a longer run may be the number.
        for length in range(13, min(19, len(digits)) + 1):
            for start in range(len(digits) - length + 1):
                if luhn_valid(digits[start : start + length]):
                    return True
    return False


def refuse_card_data(card: SavedCard) -> None:
    """Raise :class:`~wsactions.errors.CardDataRefusedError` when a field of *card* looks like
    a card number: what every store's ``add_card`` checks before it stores anything."""
    for name in ("brand", "last4", "expiry", "holder", "pseudo_card_id", "id"):
        if looks_like_card_number(getattr(card, name)):
            raise CardDataRefusedError(
                f"SavedCard.{name} looks like a card number; store only the payment "
                "provider's pseudo card id and the last four digits"
            )
