"""The contract of :class:`~wsactions.protocols.PasskeyStore`: the accounts' passkeys."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import attrs

from ...models import Passkey
from ...protocols import Storage
from ._races import _race
from ._records import _ids, _owners
from .requirements import CapabilityChecks

__all__ = ["PasskeyStoreContract", "_passkey"]


def _passkey(n: int, owner: str = "acc-1", sign_count: int = 0) -> Passkey:
    """Passkey ``cred-<n>`` of *owner*."""
    return Passkey(
        id=f"cred-{n}",
        account_id=owner,
        public_key=f"pQECAyYgASFYIK{n}",
        sign_count=sign_count,
        transports=["internal", "hybrid"],
        backup_eligible=True,
        backup_state=False,
        aaguid="adce0002-35bc-c60a-648b-0b25f1f05503",
        name=f"Key {n}",
        created_at=1000.0 + n,
    )


class PasskeyStoreContract(CapabilityChecks):
    """The accounts' passkeys."""

    def test_passkeys_add_get_list(self, storage: Storage) -> None:
        """Passkeys are found by credential id and listed per account in creation order; a
        credential id is unique across accounts."""
        _owners(storage)
        assert storage.passkeys.add_passkey(_passkey(2))
        assert storage.passkeys.add_passkey(_passkey(1))
        assert storage.passkeys.add_passkey(_passkey(3, "acc-2"))
        assert not storage.passkeys.add_passkey(_passkey(1, "acc-2"))
        assert storage.passkeys.get_passkey("cred-1") == _passkey(1)
        assert storage.passkeys.get_passkey("cred-9") is None
        assert _ids(storage.passkeys.list_passkeys("acc-1")) == ["cred-2", "cred-1"]
        assert list(storage.passkeys.list_passkeys("acc-2")) == [_passkey(3, "acc-2")]
        assert storage.passkeys.list_passkeys("acc-9") == []

    def test_use_passkey_needs_a_counter_that_goes_forward(self, storage: Storage) -> None:
        """use_passkey records counter, time and backup state only for a counter that went
        forward (W47); 0 after 0 is an authenticator without a counter."""
        _owners(storage)
        storage.passkeys.add_passkey(_passkey(1, sign_count=5))
        storage.passkeys.add_passkey(_passkey(2))
        assert storage.passkeys.use_passkey("cred-1", 6, 2000.0, True)
        assert storage.passkeys.get_passkey("cred-1") == attrs.evolve(
            _passkey(1), sign_count=6, last_used=2000.0, backup_state=True
        )
        before = storage.snapshot()
        assert not storage.passkeys.use_passkey("cred-1", 6, 3000.0, False)
        assert not storage.passkeys.use_passkey("cred-1", 2, 3000.0, False)
        assert not storage.passkeys.use_passkey("cred-1", 0, 3000.0, False)
        assert not storage.passkeys.use_passkey("cred-9", 9, 3000.0, False)
        assert storage.snapshot() == before
        assert storage.passkeys.use_passkey("cred-2", 0, 4000.0, False)
        assert storage.passkeys.use_passkey("cred-2", 0, 5000.0, False)
        assert storage.passkeys.get_passkey("cred-2").last_used == 5000.0  # type: ignore[union-attr]

    def test_rename_and_delete_only_the_owners(self, storage: Storage) -> None:
        _owners(storage)
        storage.passkeys.add_passkey(_passkey(1))
        storage.passkeys.add_passkey(_passkey(2))
        assert not storage.passkeys.rename_passkey("acc-2", "cred-1", "Stolen")
        assert not storage.passkeys.delete_passkey("acc-2", "cred-1")
        assert storage.passkeys.rename_passkey("acc-1", "cred-1", "Phone")
        assert storage.passkeys.get_passkey("cred-1") == attrs.evolve(_passkey(1), name="Phone")
        assert not storage.passkeys.rename_passkey("acc-1", "cred-9", "x")
        assert storage.passkeys.delete_passkey("acc-1", "cred-1")
        assert storage.passkeys.get_passkey("cred-1") is None
        assert not storage.passkeys.delete_passkey("acc-1", "cred-1")
        assert _ids(storage.passkeys.list_passkeys("acc-1")) == ["cred-2"]

    def test_passkeys_go_with_their_account(self, storage: Storage) -> None:
        """Deleting an account removes its passkeys; their ids are free again."""
        _owners(storage)
        storage.passkeys.add_passkey(_passkey(1))
        storage.passkeys.add_passkey(_passkey(2, "acc-2"))
        assert storage.accounts.delete_account("acc-1")
        assert storage.passkeys.get_passkey("cred-1") is None
        assert storage.passkeys.list_passkeys("acc-1") == []
        assert storage.passkeys.get_passkey("cred-2") == _passkey(2, "acc-2")
        assert storage.passkeys.add_passkey(_passkey(1, "acc-2"))

    def test_snapshot_and_units_of_work_cover_passkeys(self, storage: Storage) -> None:
        """A unit of work that fails leaves no passkey change behind."""
        _owners(storage)
        storage.passkeys.add_passkey(_passkey(1))
        before = storage.snapshot()
        try:
            with storage.transaction():
                storage.passkeys.add_passkey(_passkey(2))
                storage.passkeys.rename_passkey("acc-1", "cred-1", "Renamed")
                storage.passkeys.use_passkey("cred-1", 3, 9.0, True)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert storage.snapshot() == before
        storage.passkeys.add_passkey(_passkey(2))
        assert storage.snapshot() != before

    def test_concurrent_uses_with_one_counter(self, storage: Storage) -> None:
        """16 threads using one passkey with the same counter value: exactly one succeeds."""
        _owners(storage)
        storage.passkeys.add_passkey(_passkey(1, sign_count=1))
        results = _race(lambda i: storage.passkeys.use_passkey("cred-1", 2, 100.0 + i, False))
        assert results.count(True) == 1
        assert storage.passkeys.get_passkey("cred-1").sign_count == 2  # type: ignore[union-attr]
