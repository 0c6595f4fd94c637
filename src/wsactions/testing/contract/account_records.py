"""The contract of :class:`~wsactions.protocols.AccountRecords`: accounts, unique by
email key, named-field writes, cascading deletes, company members."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

from typing import Any

import attrs
import pytest

from ...models import Account
from ...protocols import Storage
from ._records import (
    _account,
    _address,
    _card,
    _group,
    _ids,
    _login,
    _members_of,
    _owners,
    _token,
)
from .requirements import CapabilityChecks

__all__ = ["AccountRecordsContract"]


class AccountRecordsContract(CapabilityChecks):
    """Accounts: unique by email key, named-field writes, cascading deletes, members."""

    def test_add_and_get(self, storage: Storage) -> None:
        """An added account is found by id and by email key, also for update."""
        first = _account(1, display_name="Ann", customer_data={"no": "7"})
        assert storage.accounts.add_account(first)
        assert storage.accounts.get_account("acc-1") == first
        assert storage.accounts.get_account("acc-1", for_update=True) == first
        assert storage.accounts.find_account("user1@example.com") == first
        assert storage.accounts.find_account("user1@example.com", for_update=True) == first
        assert storage.accounts.get_account("acc-2") is None
        assert storage.accounts.find_account("nobody@example.com") is None

    def test_account_fields_round_trip(self, storage: Storage) -> None:
        """Every field of an account comes back as it was stored."""
        full = Account(
            id="acc-1",
            email="Ann@Example.com",
            email_key="ann@example.com",
            password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
            display_name="Ann Example",
            active=False,
            verified=True,
            deactivated=True,
            security_stamp="s1",
            rights_stamp="r1",
            created_at=1234.5,
            customer_data={"customerNo": "42", "vat": "DE1"},
            main_address_id="adr-1",
            default_bill_address_id="adr-2",
            default_delivery_address_id="adr-3",
            company_id="c1",
            admin=True,
            privilege_group_id="g1",
            default_address_visibility="company",
            allowed_subshops={"de", "at"},
            invitation_pending=True,
            totp_secret="gAAAAA-sealed",
            totp_pending="gAAAAA-pending",
            totp_step=59_000_000,
            recovery_codes={"a" * 64, "b" * 64},
        )
        assert storage.accounts.add_account(full)
        assert storage.accounts.get_account("acc-1") == full
        assert storage.accounts.find_account("ann@example.com") == full

    def test_second_factor_fields_update(self, storage: Storage) -> None:
        """update_account sets and clears the TOTP fields and the recovery-code hashes."""
        _owners(storage, 1)
        changes = {"totp_secret": "sealed", "totp_step": 7, "recovery_codes": {"h1", "h2"}}
        assert storage.accounts.update_account("acc-1", changes)
        stored = storage.accounts.get_account("acc-1")
        assert stored is not None
        assert (stored.totp_secret, stored.totp_step) == ("sealed", 7)
        assert stored.recovery_codes == frozenset({"h1", "h2"})
        assert stored.has_second_factor
        cleared = {"totp_secret": "", "recovery_codes": frozenset()}
        assert storage.accounts.update_account("acc-1", cleared)
        stored = storage.accounts.get_account("acc-1")
        assert stored is not None
        assert not stored.has_second_factor
        assert stored.recovery_codes == frozenset()

    def test_add_refuses_taken_email_key(self, storage: Storage) -> None:
        """A second account with the same email key is not created; nothing changes."""
        assert storage.accounts.add_account(_account(1, "same@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.add_account(_account(2, "same@example.com"))
        assert storage.snapshot() == before
        assert storage.accounts.get_account("acc-2") is None
        found = storage.accounts.find_account("same@example.com")
        assert found is not None
        assert found.id == "acc-1"

    def test_add_refuses_taken_id(self, storage: Storage) -> None:
        """A second account with the same id is not created; nothing changes."""
        assert storage.accounts.add_account(_account(1, "a@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.add_account(_account(1, "b@example.com"))
        assert storage.snapshot() == before
        assert storage.accounts.find_account("b@example.com") is None
        assert storage.accounts.get_account("acc-1") == _account(1, "a@example.com")

    def test_update_account_sets_named_fields_only(self, storage: Storage) -> None:
        """update_account sets the fields it names and keeps every other one."""
        original = _account(1, display_name="Ann", verified=True, security_stamp="s1")
        storage.accounts.add_account(original)
        changes: dict[str, Any] = {
            "display_name": "Ann B.",
            "customer_data": {"customerNo": "42"},
            "allowed_subshops": ["de"],
            "main_address_id": "adr-1",
        }
        assert storage.accounts.update_account("acc-1", changes)
        expected = attrs.evolve(original, **changes)
        assert storage.accounts.get_account("acc-1") == expected
        assert storage.accounts.find_account("user1@example.com") == expected

    def test_update_can_clear_fields(self, storage: Storage) -> None:
        """Fields set to None are stored as None."""
        storage.accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        assert storage.accounts.update_account(
            "acc-1", {"privilege_group_id": None, "password_hash": None}
        )
        stored = storage.accounts.get_account("acc-1")
        assert stored is not None
        assert stored.privilege_group_id is None
        assert stored.password_hash is None
        assert stored.company_id == "c1"

    @pytest.mark.parametrize("field", ["id", "email", "email_key"])
    def test_update_refuses_identity_fields(self, storage: Storage, field: str) -> None:
        """id, email and email_key are not changed by update_account (ValueError)."""
        storage.accounts.add_account(_account(1))
        storage.accounts.add_account(_account(2))
        before = storage.snapshot()
        with pytest.raises(ValueError):  # noqa: PT011  (the message is the backend's)
            storage.accounts.update_account("acc-1", {field: "x@example.com"})
        assert storage.snapshot() == before

    def test_update_gone_account_is_false(self, storage: Storage) -> None:
        """Updating an account that does not exist answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        before = storage.snapshot()
        assert storage.accounts.update_account("acc-9", {"display_name": "X"}) is False
        assert storage.snapshot() == before
        assert storage.accounts.get_account("acc-9") is None

    def test_update_account_without_changes_answers_existence(self, storage: Storage) -> None:
        """An update naming no field changes nothing and answers whether the account exists."""
        storage.accounts.add_account(_account(1))
        before = storage.snapshot()
        assert storage.accounts.update_account("acc-1", {}) is True
        assert storage.accounts.update_account("acc-9", {}) is False
        assert storage.snapshot() == before

    def test_change_email_moves_key(self, storage: Storage) -> None:
        """change_email frees the old key, takes the new one and sets the changes."""
        original = _account(1, "old@example.com", display_name="Ann")
        storage.accounts.add_account(original)
        assert storage.accounts.change_email(
            "acc-1", "New@Example.com", "new@example.com", {"security_stamp": "s2"}
        )
        expected = attrs.evolve(
            original, email="New@Example.com", email_key="new@example.com", security_stamp="s2"
        )
        assert storage.accounts.get_account("acc-1") == expected
        assert storage.accounts.find_account("new@example.com") == expected
        assert storage.accounts.find_account("old@example.com") is None
        assert storage.accounts.add_account(_account(2, "old@example.com"))

    def test_change_email_to_own_key(self, storage: Storage) -> None:
        """The account's own key is not "taken": only the spelling changes."""
        storage.accounts.add_account(_account(1, "ann@example.com"))
        assert storage.accounts.change_email("acc-1", "ANN@example.com", "ann@example.com", {})
        found = storage.accounts.find_account("ann@example.com")
        assert found is not None
        assert found.email == "ANN@example.com"

    def test_change_email_refuses_taken_key(self, storage: Storage) -> None:
        """Moving to another account's key answers False and changes nothing."""
        storage.accounts.add_account(_account(1, "a@example.com"))
        storage.accounts.add_account(_account(2, "b@example.com"))
        before = storage.snapshot()
        assert not storage.accounts.change_email(
            "acc-1", "b@example.com", "b@example.com", {"display_name": "X"}
        )
        assert storage.snapshot() == before
        assert storage.accounts.find_account("a@example.com") == _account(1, "a@example.com")
        assert storage.accounts.find_account("b@example.com") == _account(2, "b@example.com")

    def test_change_email_gone_account_is_false(self, storage: Storage) -> None:
        """change_email of an account that does not exist answers False, takes no key."""
        before = storage.snapshot()
        assert not storage.accounts.change_email("acc-9", "n@example.com", "n@example.com", {})
        assert storage.snapshot() == before
        assert storage.accounts.add_account(_account(1, "n@example.com"))

    def test_delete_account_cascades(self, storage: Storage) -> None:
        """Deleting an account removes its addresses, cards, tokens and logins, only those."""
        accounts = storage.accounts
        for n in (1, 2):
            owner = f"acc-{n}"
            accounts.add_account(_account(n))
            accounts.add_address(_address(n, owner))
            accounts.add_card(_card(n, owner))
            storage.tokens.add(_token(n, owner))
            storage.logins.add_login(_login(n, owner))
        assert accounts.delete_account("acc-1")
        assert accounts.get_account("acc-1") is None
        assert accounts.find_account("user1@example.com") is None
        assert accounts.list_addresses("acc-1") == []
        assert accounts.count_addresses("acc-1") == 0
        assert accounts.get_address("acc-1", "adr-1") is None
        assert accounts.list_cards("acc-1") == []
        assert storage.tokens.get("hash-1") is None
        assert storage.logins.get_login("login-1") is None
        assert storage.logins.list_logins("acc-1") == []
        # the other account keeps everything
        assert accounts.get_account("acc-2") == _account(2)
        assert _ids(accounts.list_addresses("acc-2")) == ["adr-2"]
        assert _ids(accounts.list_cards("acc-2")) == ["card-2"]
        assert storage.tokens.get("hash-2") == _token(2, "acc-2")
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-2"]
        # the key is free again
        assert accounts.add_account(_account(3, "user1@example.com"))

    def test_delete_account_leaves_no_trace(self, storage: Storage) -> None:
        """After deleting an account the snapshot is as if it had never been added."""
        storage.accounts.add_account(_account(2))
        before = storage.snapshot()
        storage.accounts.add_account(_account(1, company_id="c1"))
        storage.accounts.add_address(_address(1))
        storage.accounts.add_card(_card(1))
        storage.tokens.add(_token(1))
        storage.logins.add_login(_login(1))
        assert storage.accounts.delete_account("acc-1")
        assert storage.snapshot() == before
        assert storage.accounts.list_members("c1") == []

    def test_delete_unknown_account(self, storage: Storage) -> None:
        """Deleting an unknown account answers False and changes nothing."""
        storage.accounts.add_account(_account(1))
        before = storage.snapshot()
        assert storage.accounts.delete_account("acc-9") is False
        assert storage.snapshot() == before

    def test_delete_company(self, storage: Storage) -> None:
        """delete_company removes every member (with their records) and every group."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", admin=True))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(3, company_id="c2"))
        accounts.add_account(_account(4))
        accounts.add_group(_group("g1", "c1"))
        accounts.add_group(_group("g2", "c2"))
        for n in (1, 2, 3, 4):
            owner = f"acc-{n}"
            accounts.add_address(_address(n, owner))
            accounts.add_card(_card(n, owner))
            storage.tokens.add(_token(n, owner))
            storage.logins.add_login(_login(n, owner))
        assert sorted(accounts.delete_company("c1")) == ["acc-1", "acc-2"]
        for n in (1, 2):
            owner = f"acc-{n}"
            assert accounts.get_account(owner) is None
            assert accounts.find_account(f"user{n}@example.com") is None
            assert accounts.list_addresses(owner) == []
            assert accounts.list_cards(owner) == []
            assert storage.tokens.get(f"hash-{n}") is None
            assert storage.logins.list_logins(owner) == []
        assert accounts.list_members("c1") == []
        assert accounts.list_groups("c1") == []
        assert accounts.get_group("c1", "g1") is None
        # another company and an account without company are untouched
        assert _members_of(storage, "c2") == ["acc-3"]
        assert _ids(accounts.list_groups("c2")) == ["g2"]
        assert accounts.get_account("acc-4") == _account(4)
        for n in (3, 4):
            owner = f"acc-{n}"
            assert _ids(accounts.list_addresses(owner)) == [f"adr-{n}"]
            assert _ids(accounts.list_cards(owner)) == [f"card-{n}"]
            assert storage.tokens.get(f"hash-{n}") is not None
            assert _ids(storage.logins.list_logins(owner)) == [f"login-{n}"]

    def test_delete_unknown_company(self, storage: Storage) -> None:
        """Deleting a company without members or groups removes nothing."""
        storage.accounts.add_account(_account(1, company_id="c1"))
        before = storage.snapshot()
        assert list(storage.accounts.delete_company("c9")) == []
        assert storage.snapshot() == before

    def test_list_members_in_insertion_order(self, storage: Storage) -> None:
        """Members are listed in the order they were added, whatever their created_at."""
        storage.accounts.add_account(_account(1, company_id="c1", created_at=5.0))
        storage.accounts.add_account(_account(2, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(3, company_id="c2", created_at=0.0))
        storage.accounts.add_account(_account(4, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(5, company_id="c1", created_at=1.0))
        storage.accounts.add_account(_account(6))
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-4", "acc-5"]
        assert _ids(storage.accounts.list_members("c1", for_update=True)) == [
            "acc-1",
            "acc-2",
            "acc-4",
            "acc-5",
        ]
        assert _members_of(storage, "c2") == ["acc-3"]
        assert storage.accounts.list_members("c9") == []

    def test_list_members_after_changes(self, storage: Storage) -> None:
        """Members come in creation order also after updates, joins and departures."""
        for n in range(1, 5):
            storage.accounts.add_account(_account(n, company_id="c1" if n != 2 else None))
        storage.accounts.update_account("acc-1", {"display_name": "changed"})
        storage.accounts.update_account("acc-2", {"company_id": "c1"})  # joins later
        storage.accounts.update_account("acc-3", {"company_id": "c2"})  # leaves
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-4"]
        assert _members_of(storage, "c2") == ["acc-3"]
        storage.accounts.update_account("acc-3", {"company_id": "c1"})  # comes back
        assert _members_of(storage, "c1") == ["acc-1", "acc-2", "acc-3", "acc-4"]
        storage.accounts.delete_account("acc-2")
        assert _members_of(storage, "c1") == ["acc-1", "acc-3", "acc-4"]

    def test_renew_rights_of_group(self, storage: Storage) -> None:
        """renew_rights stamps the members of the group only; how many."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g2"))
        accounts.add_account(_account(3, company_id="c1"))
        accounts.add_account(_account(4, company_id="c2", privilege_group_id="g1"))
        accounts.add_account(_account(5, company_id="c1", privilege_group_id="g1"))
        assert accounts.renew_rights("c1", "r2", group_id="g1", ungrouped=False) == 2
        stamps = {n: accounts.get_account(f"acc-{n}") for n in range(1, 6)}
        assert {n: a.rights_stamp for n, a in stamps.items() if a} == {
            1: "r2",
            2: "",
            3: "",
            4: "",
            5: "r2",
        }
        assert stamps[1] == _account(1, company_id="c1", privilege_group_id="g1", rights_stamp="r2")

    def test_renew_rights_of_ungrouped(self, storage: Storage) -> None:
        """With ungrouped=True the members without a group are stamped as well."""
        accounts = storage.accounts
        accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        accounts.add_account(_account(2, company_id="c1", privilege_group_id="g2"))
        accounts.add_account(_account(3, company_id="c1"))
        accounts.add_account(_account(4, company_id="c2"))
        accounts.add_account(_account(5))
        assert accounts.renew_rights("c1", "r2", group_id="g1", ungrouped=True) == 2
        stamped = [n for n in range(1, 6) if _stamp(storage, n) == "r2"]
        assert stamped == [1, 3]
        assert accounts.renew_rights("c1", "r3", group_id=None, ungrouped=True) == 1
        assert [n for n in range(1, 6) if _stamp(storage, n) == "r3"] == [3]
        before = storage.snapshot()
        assert accounts.renew_rights("c1", "r4", group_id=None, ungrouped=False) == 0
        assert accounts.renew_rights("c9", "r4", group_id="g1", ungrouped=True) == 0
        assert storage.snapshot() == before


def _stamp(storage: Storage, n: int) -> str | None:
    account = storage.accounts.get_account(f"acc-{n}")
    return None if account is None else account.rights_stamp
