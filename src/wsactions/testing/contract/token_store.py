"""The contract of :class:`~wsactions.protocols.TokenStore`: opt-in token records, one
live token per account and purpose, consumed once, swept in bounded steps."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import attrs

from ...protocols import Storage
from ._records import _token
from .requirements import CapabilityChecks

__all__ = ["TokenStoreContract"]


class TokenStoreContract(CapabilityChecks):
    """Opt-in token records: one live token per account and purpose, consumed once."""

    def test_token_add_get(self, storage: Storage) -> None:
        """A record is found by its hash, with every field, and get() does not use it up."""
        record = attrs.evolve(_token(1), email="new@example.com")
        storage.tokens.add(record)
        assert storage.tokens.get("hash-1") == record
        assert storage.tokens.get("hash-1") == record
        assert storage.tokens.get("hash-9") is None

    def test_newer_token_revokes_older(self, storage: Storage) -> None:
        """A new token revokes the account's older token of the same purpose only."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-2", "password"))
        storage.tokens.add(_token(4, "acc-1", "password"))
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") == _token(2, "acc-1", "activate")
        assert storage.tokens.get("hash-3") == _token(3, "acc-2", "password")
        assert storage.tokens.get("hash-4") == _token(4, "acc-1", "password")
        assert storage.tokens.consume("hash-1") is None

    def test_consume_once(self, storage: Storage) -> None:
        """consume() returns the record once, then None; others are untouched."""
        storage.tokens.add(_token(1))
        storage.tokens.add(_token(2, "acc-2"))
        assert storage.tokens.consume("hash-1") == _token(1)
        assert storage.tokens.consume("hash-1") is None
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") == _token(2, "acc-2")
        assert storage.tokens.consume("hash-9") is None

    def test_add_after_consume(self, storage: Storage) -> None:
        """After a token was consumed the account gets a new one of the same purpose."""
        storage.tokens.add(_token(1))
        storage.tokens.consume("hash-1")
        storage.tokens.add(_token(2))
        assert storage.tokens.get("hash-2") == _token(2)

    def test_revoke_by_purposes(self, storage: Storage) -> None:
        """revoke() with purposes removes only those of that account."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-1", "delete"))
        storage.tokens.add(_token(4, "acc-2", "password"))
        storage.tokens.revoke("acc-1", ["password", "delete"])
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-3") is None
        assert storage.tokens.get("hash-2") is not None
        assert storage.tokens.get("hash-4") is not None
        storage.tokens.revoke("acc-1", [])
        assert storage.tokens.get("hash-2") is not None

    def test_sweep_removes_expired_tokens_up_to_limit(self, storage: Storage) -> None:
        """sweep removes tokens that expired before *now*, at most *limit* per call."""
        for n in range(1, 5):
            storage.tokens.add(attrs.evolve(_token(n, f"acc-{n}"), expires_at=1000.0 * n))
        assert storage.tokens.sweep(2500.0, 1) == 1
        assert storage.tokens.sweep(2500.0, 5) == 1
        assert storage.tokens.sweep(2500.0, 5) == 0
        assert [storage.tokens.get(f"hash-{n}") is None for n in range(1, 5)] == [
            True,
            True,
            False,
            False,
        ]
        assert storage.tokens.sweep(3000.0, 5) == 0  # valid at the limit itself

    def test_revoke_all(self, storage: Storage) -> None:
        """revoke() without purposes removes every token of the account, no others."""
        storage.tokens.add(_token(1, "acc-1", "password"))
        storage.tokens.add(_token(2, "acc-1", "activate"))
        storage.tokens.add(_token(3, "acc-2", "password"))
        storage.tokens.revoke("acc-1")
        assert storage.tokens.get("hash-1") is None
        assert storage.tokens.get("hash-2") is None
        assert storage.tokens.get("hash-3") is not None
        before = storage.snapshot()
        storage.tokens.revoke("acc-9")
        storage.tokens.revoke("acc-1")
        assert storage.snapshot() == before
