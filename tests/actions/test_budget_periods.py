"""Budgets that renew (``budgetPeriod``): what was charged in the current period counts, a
new period starts at zero with no write, refunds only for orders of the current period; in
the shop's time zone, week and fiscal year, on the fake clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from helpers import PW, assert_fails
from wsactions import ActionError, rights
from wsactions.models import Account, PrivilegeGroup, Privileges
from wsactions.testing import FakeClock, Harness

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def setup(period: str, now: str, **settings: object) -> tuple[Harness, Account]:
    shop = Harness(timezone="Europe/Berlin", **settings)  # type: ignore[arg-type]
    shop.clock = FakeClock(at(now))
    admin = shop.create_account("boss@a.example", PW)
    assert admin.company_id is not None
    assert shop.accounts.add_group(
        PrivilegeGroup(
            id="grp",
            company_id=admin.company_id,
            name="Buyers",
            privileges=Privileges(payment_limit=Decimal(100), budget_period=period),
            budget_since=shop.clock.now(),
        )
    )
    member = shop.create_account(
        "emp@a.example", PW, admin=False, company_id=admin.company_id, privilege_group_id="grp"
    )
    return shop, member


def member_rights(shop: Harness, member: Account) -> rights.MemberRights:
    return rights.for_account(shop.accounts, member, settings=shop.settings, clock=shop.clock)


def test_a_monthly_budget_renews_on_the_first() -> None:
    shop, member = setup("month", "2027-01-20T10:00:00")
    january = shop.clock.now()
    assert member_rights(shop, member).record_order(Decimal(80))
    assert member_rights(shop, member).check_order(Decimal(30)) == rights.BUDGET_LIMIT
    assert not member_rights(shop, member).record_order(Decimal(30))
    shop.clock.advance(at("2027-01-31T23:59:59") - shop.clock.now())
    assert member_rights(shop, member).check_order(Decimal(30)) == rights.BUDGET_LIMIT
    shop.clock.advance(1)  # 1 February, 00:00 in Berlin
    before = shop.state()
    granted = member_rights(shop, member)
    assert granted.spent() == Decimal(0)
    assert granted.check_order(Decimal(100)) is None
    assert shop.state() == before  # the new period needed no write
    assert not granted.refund_order(Decimal(80), charged_at=january)  # last month's order
    assert shop.state() == before
    assert granted.record_order(Decimal(70))
    group = shop.accounts.get_group(member.company_id or "", "grp")
    assert group is not None
    assert (group.spent, group.budget_since) == (Decimal(70), at("2027-02-01T00:00:00"))
    assert granted.refund_order(Decimal(20), charged_at=shop.clock.now())
    assert member_rights(shop, member).spent() == Decimal(50)


def test_a_yearly_budget_follows_the_fiscal_year() -> None:
    shop, member = setup("year", "2027-03-15T12:00:00", fiscal_year_start_month=4)
    assert member_rights(shop, member).record_order(Decimal(100))
    shop.clock.advance(at("2027-03-31T23:00:00") - shop.clock.now())
    assert not member_rights(shop, member).record_order(Decimal(1))
    shop.clock.advance(at("2027-04-01T00:00:00") - shop.clock.now())
    assert member_rights(shop, member).record_order(Decimal(100))
    shop.clock.advance(at("2028-01-02T00:00:00") - shop.clock.now())  # calendar year: same FY
    assert member_rights(shop, member).check_order(Decimal(1)) == rights.BUDGET_LIMIT


@pytest.mark.parametrize(
    ("week_start", "renews"), [(0, "2027-03-29T00:00:00"), (6, "2027-03-28T00:00:00")]
)
def test_a_weekly_budget_renews_on_the_shops_first_weekday(week_start: int, renews: str) -> None:
    # the week of Berlin's change to daylight saving time (Sunday, 28 March 2027)
    shop, member = setup("week", "2027-03-24T09:00:00", budget_week_start=week_start)
    assert member_rights(shop, member).record_order(Decimal(100))
    shop.clock.advance(at(renews) - shop.clock.now() - 1)
    assert not member_rights(shop, member).record_order(Decimal(1))
    shop.clock.advance(1)
    assert member_rights(shop, member).record_order(Decimal(100))


def test_a_daily_budget_over_the_autumn_change() -> None:
    shop, member = setup("day", "2027-10-31T01:00:00")
    assert member_rights(shop, member).record_order(Decimal(100))
    shop.clock.advance(at("2027-10-31T23:59:00") - shop.clock.now())  # a 25-hour day
    assert not member_rights(shop, member).record_order(Decimal(1))
    shop.clock.advance(60)
    assert member_rights(shop, member).record_order(Decimal(1))


def test_without_a_period_the_budget_never_renews() -> None:
    shop, member = setup("none", "2027-01-20T10:00:00")
    assert member_rights(shop, member).record_order(Decimal(100))
    shop.clock.advance(400 * 86400)
    assert member_rights(shop, member).period() is None
    assert not member_rights(shop, member).record_order(Decimal(1))


def test_budget_period_is_a_privilege_key() -> None:
    shop = Harness()
    admin = shop.create_account("boss@a.example", PW)
    boss = shop.client()
    assert boss.submit("Login", id="boss@a.example", password=PW).success
    result = boss.submit(
        "UpdatePrivileges",
        privilegeId="grp",
        createMissing="yes",
        privileges='{"paymentLimit": 100, "budgetPeriod": "quarter"}',
    )
    assert result.success, result.errors
    group = shop.accounts.get_group(admin.company_id or "", "grp")
    assert group is not None
    assert group.privileges.budget_period == "quarter"
    before = shop.state()
    for bad in ('"fortnight"', "1", "[]"):
        assert_fails(
            boss.submit(
                "UpdatePrivileges", privilegeId="grp", privileges=f'{{"budgetPeriod": {bad}}}'
            ),
            ActionError("invalidPrivileges", "privileges"),
        )
    assert shop.state() == before
    assert boss.submit(
        "UpdatePrivileges", privilegeId="grp", privileges='{"budgetPeriod": null}'
    ).success
    group = shop.accounts.get_group(admin.company_id or "", "grp")
    assert group is not None
    assert group.privileges.budget_period == "none"


@pytest.mark.parametrize(
    "settings",
    [{"budget_week_start": 7}, {"fiscal_year_start_month": 0}, {"budget_week_start": True}],
)
def test_settings_are_checked(settings: dict[str, object]) -> None:
    from wsactions.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="must be a whole number"):
        Harness(**settings)  # type: ignore[arg-type]
