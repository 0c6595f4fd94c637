"""The storage rules every backend calls (wsactions.backends.rules)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import NoReturn

import pytest

from wsactions.backends import rules
from wsactions.models import (
    Account,
    Address,
    LoginRecord,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)


def member(n: int, group: str | None, company: str = "c1") -> Account:
    """Account ``acc-<n>`` of *company*, assigned to *group*."""
    key = f"user{n}@example.com"
    return Account(
        id=f"acc-{n}", email=key, email_key=key, company_id=company, privilege_group_id=group
    )


class TestChanges:
    """The allow-lists of the update methods."""

    @pytest.mark.parametrize("field", sorted(rules.ACCOUNT_IDENTITY))
    def test_account_identity_refused(self, field: str) -> None:
        """id, email and email_key are refused, and the message names the method."""
        with pytest.raises(ValueError, match="change_email cannot set"):
            rules.account_changes({field: "x"}, "change_email")

    def test_allowed_changes_pass_as_a_dict(self) -> None:
        """Allowed changes come back as a plain dict."""
        assert rules.account_changes({"display_name": "Ann"}) == {"display_name": "Ann"}
        assert rules.address_changes({"visibility": "company"}) == {"visibility": "company"}
        assert rules.group_changes({"name": "G"}) == {"name": "G"}

    @pytest.mark.parametrize("field", ["spent", "budget_since", "id", "company_id"])
    def test_group_budget_and_identity_refused(self, field: str) -> None:
        """update_group sets name, type and privileges only."""
        with pytest.raises(ValueError, match="update_group"):
            rules.group_changes({field: 1})

    def test_address_identity_refused(self) -> None:
        """An address keeps its id and its account."""
        with pytest.raises(ValueError, match="update_address"):
            rules.address_changes({"account_id": "acc-2"})


class TestSelections:
    """Match and the rules that pick records."""

    def test_match_parts(self) -> None:
        """equal, unequal and among must all hold; None among values means unset."""
        match = rules.Match(
            equal={"company_id": "c1"},
            unequal={"id": "acc-1"},
            among={"privilege_group_id": {None}},
        )
        assert not match(member(1, None))
        assert match(member(2, None))
        assert not match(member(3, "g1"))
        assert not match(member(4, None, company="c2"))

    def test_renewed_members(self) -> None:
        """The group's members, plus the ungrouped ones when asked; nobody without either."""
        people = [member(1, "g1"), member(2, None), member(3, "g2"), member(4, "g1", "c2")]

        def renewed(group: str | None, ungrouped: bool) -> list[str]:
            match = rules.renewed_members("c1", group, ungrouped=ungrouped)
            return [p.id for p in people if match(p)]

        assert renewed("g1", False) == ["acc-1"]
        assert renewed("g1", True) == ["acc-1", "acc-2"]
        assert renewed(None, True) == ["acc-2"]
        assert renewed(None, False) == []

    def test_assigned_members(self) -> None:
        """Only members of the company assigned to the group keep it in use."""
        assigned = rules.assigned_members("c1", "g1")
        assert assigned(member(1, "g1"))
        assert not assigned(member(2, "g1", company="c2"))
        assert not assigned(member(3, None))

    def test_former_global(self) -> None:
        """A new global group demotes the company's other global group; other types nothing."""
        assert rules.former_global("c1", "g2", "account") is None
        assert rules.former_global("c1", "g2", None) is None
        former = rules.former_global("c1", "g2", rules.GLOBAL)
        assert former is not None
        assert former(PrivilegeGroup(id="g1", company_id="c1", name="G", type="global"))
        assert not former(PrivilegeGroup(id="g2", company_id="c1", name="G", type="global"))
        assert not former(PrivilegeGroup(id="g3", company_id="c1", name="G"))
        assert not former(PrivilegeGroup(id="g1", company_id="c2", name="G", type="global"))

    def test_superseded_tokens(self) -> None:
        """The account's token of the same purpose, not another account's or purpose's."""
        new = TokenRecord("h2", "activate", "acc-1", 0.0, 9.0)
        superseded = rules.superseded_tokens(new)
        assert superseded(TokenRecord("h1", "activate", "acc-1", 0.0, 9.0))
        assert not superseded(TokenRecord("h3", "password", "acc-1", 0.0, 9.0))
        assert not superseded(TokenRecord("h4", "activate", "acc-2", 0.0, 9.0))

    def test_cleared_roles(self) -> None:
        """Every role pointing to the address is cleared, the others stay."""
        account = account_with_roles(main="a1", bill="a1", delivery="a2")
        assert rules.cleared_roles(account, "a1") == {
            "main_address_id": None,
            "default_bill_address_id": None,
        }
        assert rules.cleared_roles(account, "a9") == {}


def account_with_roles(main: str, bill: str, delivery: str) -> Account:
    """An account whose three address roles point to the given addresses."""
    return Account(
        id="acc-1",
        email="a@example.com",
        email_key="a@example.com",
        main_address_id=main,
        default_bill_address_id=bill,
        default_delivery_address_id=delivery,
    )


class TestCounters:
    """The sliding-window maths."""

    def test_hits_up_to_limit_then_refused(self) -> None:
        """Hits count up to the limit; one more answers limit + 1 and records nothing."""
        events: tuple[float, ...] = ()
        answers = []
        for now in (1.0, 2.0, 3.0):
            hit = rules.counter_hit(events, now, 10.0, 2)
            events = hit.events
            answers.append(hit.count)
        assert answers == [1, 2, 3]
        assert events == (1.0, 2.0)
        assert rules.counter_hit(events, 3.0, 10.0, 2).expires_at == 12.0

    def test_window_is_open_at_its_start(self) -> None:
        """An event exactly *window* old has left it."""
        assert rules.counted([0.0, 5.0], 10.0, 10.0) == 1
        hit = rules.counter_hit([0.0, 5.0], 10.0, 10.0, 2)
        assert hit.events == (5.0, 10.0)
        assert hit.count == 2
        assert hit.expires_at == 20.0


class TestRows:
    """Records in their stored form and back."""

    @pytest.mark.parametrize(
        "record",
        [
            Account(
                id="acc-1",
                email="a@example.com",
                email_key="a@example.com",
                customer_data={"vatId": "DE1"},
                allowed_subshops={"de", "at"},
            ),
            Address(id="a1", account_id="acc-1", type="private", fields={"city": "Bonn"}),
            SavedCard("c1", "acc-1", "visa", "1111", "12/30", "Ann", "pcc_1"),
            PrivilegeGroup(
                id="g1",
                company_id="c1",
                name="G",
                privileges=Privileges(
                    allowed_payment_methods={"invoice", "card"},
                    payment_limit=Decimal("99.95"),
                    blocked_urls=("/x",),
                ),
                spent=Decimal("12.30"),
            ),
            TokenRecord("h1", "activate", "acc-1", 1.0, 2.0, "a@example.com"),
            LoginRecord("l1", "acc-1", 1.0, 2.0, "192.0.2.1"),
        ],
        ids=lambda record: type(record).__name__,
    )
    def test_round_trip(self, record: object) -> None:
        """from_row(to_row(record)) is the record, through JSON-shaped values."""
        row = rules.to_row(record)  # type: ignore[arg-type]
        assert rules.from_row(type(record), row) == record

    def test_stored_form(self) -> None:
        """Sets become sorted lists, mappings dicts, amounts exact text."""
        row = rules.row_values(
            {
                "allowed_subshops": frozenset({"de", "at"}),
                "customer_data": Account("a", "a", "a", customer_data={"k": "v"}).customer_data,
                "privileges": Privileges(payment_limit_per_order=Decimal("1.50")),
                "display_name": "Ann",
            }
        )
        assert row["allowed_subshops"] == ["at", "de"]
        assert type(row["customer_data"]) is dict
        assert row["privileges"]["payment_limit_per_order"] == "1.50"
        assert row["display_name"] == "Ann"

    def test_privileges_missing_keys_are_unrestricted(self) -> None:
        """Stored privileges without a key read as "not restricted"."""
        assert rules.privileges_from_json({}) == Privileges()


class TestUnitsOfWork:
    """Nested blocks join the outermost one, per thread."""

    def test_nesting_joins_and_threads_are_apart(self) -> None:
        """One begin per outermost block; another thread begins its own."""
        begun: list[int] = []

        @contextmanager
        def begin() -> Iterator[int]:
            begun.append(len(begun))
            yield len(begun)

        units = rules.UnitsOfWork(begin)
        assert units.current is None
        with units.join():
            assert units.current == 1
            with units.join():
                assert units.current == 1
            seen: list[int | None] = []
            other = threading.Thread(target=lambda: seen.append(units.current))
            other.start()
            other.join()
            assert seen == [None]
        assert units.current is None
        assert begun == [0]

    def test_failed_begin_leaves_no_unit(self) -> None:
        """When begin raises, the thread is outside a unit of work again."""

        def begin() -> NoReturn:
            raise ConnectionError("down")

        units: rules.UnitsOfWork[None] = rules.UnitsOfWork(begin)
        with pytest.raises(ConnectionError), units.join():
            pass
        with pytest.raises(ConnectionError), units.join():
            pass
        assert units.current is None
