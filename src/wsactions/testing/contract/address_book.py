"""The contract of :class:`~wsactions.protocols.AddressBook`: addresses, reached only
through their account."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import attrs

from ...models import Address
from ...protocols import Storage
from ._records import _account, _address, _ids, _owners
from .requirements import CapabilityChecks

__all__ = ["AddressBookContract"]


class AddressBookContract(CapabilityChecks):
    """Addresses are reached only through their account."""

    def test_add_get_list_count(self, storage: Storage) -> None:
        """Addresses are found by account and id, listed in creation order and counted."""
        _owners(storage)
        storage.accounts.add_account(_account(1))
        for n, at in ((3, 30.0), (1, 30.0), (2, 10.0)):  # one clock tick, then set back
            storage.accounts.add_address(attrs.evolve(_address(n), created_at=at))
        storage.accounts.add_address(_address(4, "acc-2"))
        first = attrs.evolve(_address(1), created_at=30.0)
        assert storage.accounts.get_address("acc-1", "adr-1") == first
        assert storage.accounts.get_address("acc-1", "adr-1", for_update=True) == first
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-3", "adr-1", "adr-2"]
        assert storage.accounts.count_addresses("acc-1") == 3
        assert storage.accounts.count_addresses("acc-2") == 1
        assert storage.accounts.count_addresses("acc-9") == 0
        assert storage.accounts.list_addresses("acc-9") == []
        assert storage.accounts.get_address("acc-1", "adr-9") is None

    def test_address_fields_round_trip(self, storage: Storage) -> None:
        """Every field of an address comes back as it was stored."""
        _owners(storage)
        full = Address(
            id="adr-1",
            account_id="acc-1",
            type="company",
            fields={"firstName": "Ann", "city": "Köln", "zip": "50667"},
            visibility="company",
            created_at=77.5,
        )
        storage.accounts.add_address(full)
        assert storage.accounts.get_address("acc-1", "adr-1") == full
        assert list(storage.accounts.list_addresses("acc-1")) == [full]

    def test_update_address_sets_named_fields_only(self, storage: Storage) -> None:
        """update_address sets the fields it names and keeps the others."""
        _owners(storage)
        original = attrs.evolve(_address(1), visibility="company")
        storage.accounts.add_address(original)
        storage.accounts.add_address(_address(2))
        assert storage.accounts.update_address("acc-1", "adr-1", {"fields": {"city": "Bonn"}})
        assert storage.accounts.get_address("acc-1", "adr-1") == attrs.evolve(
            original, fields={"city": "Bonn"}
        )
        assert storage.accounts.update_address("acc-1", "adr-1", {"visibility": "private"})
        updated = storage.accounts.get_address("acc-1", "adr-1")
        assert updated is not None
        assert updated.fields == {"city": "Bonn"}
        assert updated.visibility == "private"
        assert storage.accounts.get_address("acc-1", "adr-2") == _address(2)
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-1", "adr-2"]

    def test_update_gone_address_is_false(self, storage: Storage) -> None:
        """Updating an address that does not exist answers False and changes nothing."""
        _owners(storage)
        storage.accounts.add_address(_address(1))
        before = storage.snapshot()
        assert storage.accounts.update_address("acc-1", "adr-9", {"visibility": "x"}) is False
        assert storage.accounts.update_address("acc-9", "adr-9", {"visibility": "x"}) is False
        assert storage.snapshot() == before

    def test_update_address_without_changes_answers_existence(self, storage: Storage) -> None:
        """An update naming no field changes nothing and answers whether the address exists."""
        _owners(storage)
        storage.accounts.add_address(_address(1))
        before = storage.snapshot()
        assert storage.accounts.update_address("acc-1", "adr-1", {}) is True
        assert storage.accounts.update_address("acc-1", "adr-9", {}) is False
        assert storage.snapshot() == before

    def test_delete_address_clears_its_roles_only(self, storage: Storage) -> None:
        """Deleting an address clears the roles pointing to it; other roles stay."""
        storage.accounts.add_account(
            _account(
                1,
                main_address_id="adr-1",
                default_bill_address_id="adr-1",
                default_delivery_address_id="adr-2",
            )
        )
        storage.accounts.add_account(_account(2, main_address_id="adr-1"))
        storage.accounts.add_address(_address(1))
        storage.accounts.add_address(_address(2))
        assert storage.accounts.delete_address("acc-1", "adr-1")
        assert storage.accounts.get_account("acc-1") == _account(
            1, default_delivery_address_id="adr-2"
        )
        assert storage.accounts.get_address("acc-1", "adr-1") is None
        assert _ids(storage.accounts.list_addresses("acc-1")) == ["adr-2"]
        assert storage.accounts.count_addresses("acc-1") == 1
        # another account's role naming the same id is not the deleted address
        assert storage.accounts.get_account("acc-2") == _account(2, main_address_id="adr-1")
        assert storage.accounts.delete_address("acc-1", "adr-2")
        assert storage.accounts.get_account("acc-1") == _account(1)

    def test_delete_missing_address(self, storage: Storage) -> None:
        """Deleting an address twice: the second time answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        storage.accounts.add_address(_address(1))
        assert storage.accounts.delete_address("acc-1", "adr-1")
        before = storage.snapshot()
        assert storage.accounts.delete_address("acc-1", "adr-1") is False
        assert storage.snapshot() == before

    def test_other_accounts_address_invisible(self, storage: Storage) -> None:
        """Through another account an address is not found, updated or deleted."""
        storage.accounts.add_account(_account(1, main_address_id="adr-1"))
        storage.accounts.add_account(_account(2, main_address_id="adr-1"))
        storage.accounts.add_address(_address(1, "acc-1"))
        before = storage.snapshot()
        assert storage.accounts.get_address("acc-2", "adr-1") is None
        assert storage.accounts.get_address("acc-2", "adr-1", for_update=True) is None
        assert storage.accounts.list_addresses("acc-2") == []
        assert storage.accounts.count_addresses("acc-2") == 0
        assert not storage.accounts.update_address("acc-2", "adr-1", {"visibility": "company"})
        assert not storage.accounts.delete_address("acc-2", "adr-1")
        assert storage.snapshot() == before
        assert storage.accounts.get_address("acc-1", "adr-1") == _address(1, "acc-1")
