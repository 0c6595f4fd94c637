"""The contract of :class:`~wsactions.protocols.CompanyDirectory`: privilege groups per
company, one global group, budgets changed in single steps."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import pytest

from ...models import GroupDeletion, PrivilegeGroup, Privileges
from ...protocols import Storage
from ._records import _account, _group, _ids, _spent, _types
from .requirements import CapabilityChecks

__all__ = ["CompanyDirectoryContract"]


class CompanyDirectoryContract(CapabilityChecks):
    """Privilege groups: per company, one global group, budgets changed in single steps."""

    def test_groups_add_get_list(self, storage: Storage) -> None:
        """Groups are found through their company and listed in creation order."""
        full = PrivilegeGroup(
            id="g2",
            company_id="c1",
            name="Buyers",
            type="account",
            privileges=Privileges(
                allowed_payment_methods={"invoice"},
                payment_limit_per_order=Decimal("99.95"),
                payment_limit=Decimal("1000.00"),
                blocked_templates=("a.html",),
                blocked_urls=("/b",),
                editable_fields={"display_name"},
                group_name="Buyers",
            ),
            budget_since=100.0,
            spent=Decimal("12.34"),
        )
        assert storage.accounts.add_group(full)
        assert storage.accounts.add_group(_group("g1"))
        assert storage.accounts.add_group(_group("g3", "c2"))
        assert storage.accounts.get_group("c1", "g2") == full
        assert storage.accounts.get_group("c1", "g2", for_update=True) == full
        assert list(storage.accounts.list_groups("c1")) == [full, _group("g1")]
        assert storage.accounts.get_group("c2", "g2") is None
        assert storage.accounts.get_group("c1", "g9") is None
        assert storage.accounts.list_groups("c9") == []

    def test_add_duplicate_id_refused(self, storage: Storage) -> None:
        """A second group of the same id in a company is refused; nothing changes."""
        assert storage.accounts.add_group(_group("g1"))
        before = storage.snapshot()
        assert not storage.accounts.add_group(_group("g1", name="Other", type="global"))
        assert storage.snapshot() == before

    def test_add_global_with_taken_id_demotes_nothing(self, storage: Storage) -> None:
        """A refused global group (its id is taken) leaves the company's global group."""
        assert storage.accounts.add_group(_group("g0", type="global"))
        assert storage.accounts.add_group(_group("g1"))
        before = storage.snapshot()
        assert not storage.accounts.add_group(_group("g1", name="Other", type="global"))
        assert storage.snapshot() == before

    def test_update_gone_group_to_global_demotes_nothing(self, storage: Storage) -> None:
        """Making a group that does not exist global answers False and demotes nothing."""
        assert storage.accounts.add_group(_group("g0", type="global"))
        before = storage.snapshot()
        assert storage.accounts.update_group("c1", "g9", {"type": "global"}) is False
        assert storage.snapshot() == before

    def test_update_group_without_changes_answers_existence(self, storage: Storage) -> None:
        """An update naming no field changes nothing and answers whether the group exists."""
        assert storage.accounts.add_group(_group("g1"))
        before = storage.snapshot()
        assert storage.accounts.update_group("c1", "g1", {}) is True
        assert storage.accounts.update_group("c1", "g9", {}) is False
        assert storage.snapshot() == before

    def test_same_id_in_other_company(self, storage: Storage) -> None:
        """Group ids are scoped by company: another company may use the same id."""
        assert storage.accounts.add_group(_group("g1", "c1"))
        assert storage.accounts.add_group(_group("g1", "c2", limit=5))
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")
        assert storage.accounts.get_group("c2", "g1") == _group("g1", "c2", limit=5)
        assert storage.accounts.update_group("c2", "g1", {"name": "Two"})
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")
        assert storage.accounts.delete_group("c2", "g1") is GroupDeletion.DELETED
        assert storage.accounts.get_group("c1", "g1") == _group("g1", "c1")

    def test_update_group_sets_named_fields_only(self, storage: Storage) -> None:
        """update_group sets name, type or privileges and keeps the budget."""
        original = _group("g1", limit=100, budget_since=50.0, spent=Decimal(30))
        storage.accounts.add_group(original)
        assert storage.accounts.update_group("c1", "g1", {"name": "Renamed"})
        assert storage.accounts.get_group("c1", "g1") == attrs.evolve(original, name="Renamed")
        privileges = Privileges(payment_limit=Decimal(500), blocked_urls=("/x",))
        assert storage.accounts.update_group("c1", "g1", {"privileges": privileges})
        assert storage.accounts.get_group("c1", "g1") == attrs.evolve(
            original, name="Renamed", privileges=privileges
        )

    def test_update_gone_group_is_false(self, storage: Storage) -> None:
        """Updating a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c1"))
        before = storage.snapshot()
        assert storage.accounts.update_group("c1", "g9", {"name": "X"}) is False
        assert storage.accounts.update_group("c2", "g1", {"name": "X"}) is False
        assert storage.snapshot() == before

    @pytest.mark.parametrize(
        "changes", [{"spent": Decimal(0)}, {"budget_since": 0.0}, {"name": "X", "spent": 1}]
    )
    def test_update_refuses_budget_fields(
        self, storage: Storage, changes: Mapping[str, Any]
    ) -> None:
        """spent and budget_since are not set by update_group (ValueError)."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(30), budget_since=5.0))
        before = storage.snapshot()
        with pytest.raises(ValueError):  # noqa: PT011  (the message is the backend's)
            storage.accounts.update_group("c1", "g1", changes)
        assert storage.snapshot() == before

    def test_update_to_global_demotes_former(self, storage: Storage) -> None:
        """type="global" makes the former global group of the company an account group."""
        storage.accounts.add_group(_group("g1", type="global"))
        storage.accounts.add_group(_group("g2"))
        storage.accounts.add_group(_group("g3", "c2", type="global"))
        assert storage.accounts.update_group("c1", "g2", {"type": "global"})
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}
        assert _types(storage, "c2") == {"g3": "global"}
        # setting it again keeps it the only one
        assert storage.accounts.update_group("c1", "g2", {"type": "global"})
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}

    def test_add_global_demotes_former(self, storage: Storage) -> None:
        """A new global group makes the former one an account group: one per company."""
        storage.accounts.add_group(_group("g1", type="global"))
        storage.accounts.add_group(_group("g2", type="global"))
        assert _types(storage, "c1") == {"g1": "account", "g2": "global"}

    def test_restart_budget(self, storage: Storage) -> None:
        """restart_budget starts a new period with nothing spent; False when gone."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(70), budget_since=5.0))
        assert storage.accounts.restart_budget("c1", "g1", 500.0)
        assert storage.accounts.get_group("c1", "g1") == _group(
            "g1", limit=100, spent=Decimal(0), budget_since=500.0
        )
        before = storage.snapshot()
        assert storage.accounts.restart_budget("c1", "g9", 600.0) is False
        assert storage.accounts.restart_budget("c2", "g1", 600.0) is False
        assert storage.snapshot() == before

    def test_delete_group(self, storage: Storage) -> None:
        """delete_group answers IN_USE while a member is assigned, then DELETED, then MISSING."""
        storage.accounts.add_account(_account(1, company_id="c1", privilege_group_id="g1"))
        storage.accounts.add_group(_group("g1"))
        storage.accounts.add_group(_group("g2"))
        before = storage.snapshot()
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.IN_USE
        assert storage.snapshot() == before
        assert storage.accounts.delete_group("c1", "g9") is GroupDeletion.MISSING
        assert storage.accounts.delete_group("c2", "g2") is GroupDeletion.MISSING
        assert storage.snapshot() == before
        storage.accounts.update_account("acc-1", {"privilege_group_id": None})
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.DELETED
        assert storage.accounts.get_group("c1", "g1") is None
        assert _ids(storage.accounts.list_groups("c1")) == ["g2"]
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.MISSING

    def test_delete_group_ignores_other_companies(self, storage: Storage) -> None:
        """A member of another company assigned to a group of the same id does not block."""
        storage.accounts.add_account(_account(1, company_id="c2", privilege_group_id="g1"))
        storage.accounts.add_account(_account(2, privilege_group_id="g1"))
        storage.accounts.add_group(_group("g1", "c1"))
        storage.accounts.add_group(_group("g1", "c2"))
        assert storage.accounts.delete_group("c1", "g1") is GroupDeletion.DELETED
        assert storage.accounts.delete_group("c2", "g1") is GroupDeletion.IN_USE

    def test_charge_within_limits(self, storage: Storage) -> None:
        """Charges add up to the budget exactly; without limits anything is charged."""
        storage.accounts.add_group(_group("g1", limit=100, per_order=60))
        storage.accounts.add_group(_group("g2"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("60"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("39.99"))
        assert storage.accounts.charge_group("c1", "g1", Decimal("0.01"))
        assert _spent(storage) == Decimal(100)
        assert storage.accounts.charge_group("c1", "g2", Decimal("1000000"))
        assert _spent(storage, "g2") == Decimal(1000000)
        group = storage.accounts.get_group("c1", "g1")
        assert group == _group("g1", limit=100, per_order=60, spent=Decimal(100))

    def test_charge_in_a_new_budget_period(self, storage: Storage) -> None:
        """With *period_start* after the budget's start, what was spent before counts zero
        and ``budget_since`` moves to the period's start, in the same step; a refund of an
        order charged before the period is refused."""
        storage.accounts.add_group(_group("g1", limit=100, budget_since=10.0, spent=Decimal(90)))
        assert not storage.accounts.charge_group("c1", "g1", Decimal(20), period_start=5.0)
        assert storage.accounts.charge_group("c1", "g1", Decimal(80), period_start=50.0)
        group = storage.accounts.get_group("c1", "g1")
        assert group is not None
        assert (group.spent, group.budget_since) == (Decimal(80), 50.0)
        assert not storage.accounts.charge_group("c1", "g1", Decimal(21), period_start=50.0)
        before = storage.snapshot()
        assert not storage.accounts.refund_group("c1", "g1", Decimal(10), 20.0, period_start=50.0)
        assert storage.snapshot() == before
        assert storage.accounts.refund_group("c1", "g1", Decimal(30), 60.0, period_start=50.0)
        assert _spent(storage) == Decimal(50)
        # the next period: nothing spent yet, and nothing of the last one to refund
        assert not storage.accounts.refund_group("c1", "g1", Decimal(10), 60.0, period_start=100.0)
        assert storage.accounts.charge_group("c1", "g1", Decimal(100), period_start=100.0)
        assert _spent(storage) == Decimal(100)

    def test_charge_refused_by_per_order_limit(self, storage: Storage) -> None:
        """An amount above the per-order limit is refused; nothing changes."""
        storage.accounts.add_group(_group("g1", per_order=50))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal("50.01"))
        assert storage.snapshot() == before
        assert storage.accounts.charge_group("c1", "g1", Decimal(50))
        assert _spent(storage) == Decimal(50)

    def test_charge_refused_by_budget(self, storage: Storage) -> None:
        """A charge that would exceed the budget is refused; nothing changes."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(90)))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal("10.01"))
        assert storage.snapshot() == before
        assert storage.accounts.charge_group("c1", "g1", Decimal(10))
        assert not storage.accounts.charge_group("c1", "g1", Decimal("0.01"))
        assert _spent(storage) == Decimal(100)

    def test_charge_reads_stored_limits(self, storage: Storage) -> None:
        """charge_group applies the limits as stored now, after update_group changed them."""
        storage.accounts.add_group(_group("g1", limit=100))
        assert storage.accounts.charge_group("c1", "g1", Decimal(80))
        tighter = Privileges(payment_limit=Decimal(100), payment_limit_per_order=Decimal(5))
        assert storage.accounts.update_group("c1", "g1", {"privileges": tighter})
        assert not storage.accounts.charge_group("c1", "g1", Decimal(6))
        assert storage.accounts.charge_group("c1", "g1", Decimal(5))
        wider = Privileges(payment_limit=Decimal(200))
        assert storage.accounts.update_group("c1", "g1", {"privileges": wider})
        assert storage.accounts.charge_group("c1", "g1", Decimal(115))
        assert _spent(storage) == Decimal(200)

    def test_charge_missing_group(self, storage: Storage) -> None:
        """Charging a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c2"))
        before = storage.snapshot()
        assert not storage.accounts.charge_group("c1", "g1", Decimal(1))
        assert storage.snapshot() == before

    def test_refund_in_current_period(self, storage: Storage) -> None:
        """A refund of a charge made since budget_since lowers spent."""
        storage.accounts.add_group(_group("g1", limit=100, spent=Decimal(50), budget_since=100.0))
        assert storage.accounts.refund_group("c1", "g1", Decimal(20), 150.0)
        assert _spent(storage) == Decimal(30)
        assert storage.accounts.refund_group("c1", "g1", Decimal(10), 100.0)  # at the start
        assert _spent(storage) == Decimal(20)
        group = storage.accounts.get_group("c1", "g1")
        assert group == _group("g1", limit=100, spent=Decimal(20), budget_since=100.0)

    def test_refund_of_earlier_period_refused(self, storage: Storage) -> None:
        """A charge from before budget_since is not refunded; nothing changes."""
        storage.accounts.add_group(_group("g1", spent=Decimal(50), budget_since=100.0))
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(20), 99.9) is False
        assert storage.snapshot() == before

    def test_refund_never_below_zero(self, storage: Storage) -> None:
        """A refund larger than spent leaves zero; with nothing spent it answers False."""
        storage.accounts.add_group(_group("g1", spent=Decimal(15), budget_since=100.0))
        assert storage.accounts.refund_group("c1", "g1", Decimal(40), 120.0)
        assert _spent(storage) == Decimal(0)
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(1), 120.0) is False
        assert storage.snapshot() == before

    def test_refund_missing_group(self, storage: Storage) -> None:
        """Refunding a group that does not exist (in this company) answers False."""
        storage.accounts.add_group(_group("g1", "c2", spent=Decimal(5)))
        before = storage.snapshot()
        assert storage.accounts.refund_group("c1", "g1", Decimal(1), 0.0) is False
        assert storage.snapshot() == before
