"""Budget periods (issue: budgets that renew): day, week, month, quarter and fiscal year in
the shop's time zone, across month and year ends, a fiscal year from April, a week from
Monday or Sunday, and daylight-saving changes in Europe/Berlin."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsactions.periods import PERIODS, period_of

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone: ZoneInfo = BERLIN) -> float:
    """A local time in *zone* as seconds since the epoch."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def local(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, BERLIN).isoformat()


def test_month_end_in_berlin() -> None:
    last = period_of("month", at("2027-01-31T23:59:59"), timezone="Europe/Berlin")
    first = period_of("month", at("2027-02-01T00:00:00"), timezone="Europe/Berlin")
    assert last is not None
    assert first is not None
    assert (last.key, first.key) == ("2027-01-01", "2027-02-01")
    assert last.end == first.start == at("2027-02-01T00:00:00")
    assert local(last.start) == "2027-01-01T00:00:00+01:00"


def test_a_fiscal_year_from_april() -> None:
    march = period_of(
        "year", at("2027-03-31T23:00:00"), timezone="Europe/Berlin", fiscal_start_month=4
    )
    april = period_of(
        "year", at("2027-04-01T00:00:00"), timezone="Europe/Berlin", fiscal_start_month=4
    )
    january = period_of(
        "year", at("2028-01-01T00:30:00"), timezone="Europe/Berlin", fiscal_start_month=4
    )
    assert march is not None
    assert april is not None
    assert january is not None
    assert (march.key, april.key, january.key) == ("2026-04-01", "2027-04-01", "2027-04-01")
    assert local(april.end) == "2028-04-01T00:00:00+02:00"


def test_fiscal_quarters_from_april() -> None:
    def quarter(month: int) -> str:
        found = period_of(
            "quarter",
            at(f"2027-{month:02d}-15T12:00:00"),
            timezone="Europe/Berlin",
            fiscal_start_month=4,
        )
        assert found is not None
        return found.key

    starts = ["2027-01-01", "2027-04-01", "2027-07-01", "2027-10-01"]
    assert [quarter(m) for m in range(1, 13)] == [s for s in starts for _ in range(3)]


def test_a_calendar_year_ends_on_new_years_eve() -> None:
    eve = period_of("year", at("2027-12-31T23:59:59"), timezone="Europe/Berlin")
    new = period_of("year", at("2028-01-01T00:00:00"), timezone="Europe/Berlin")
    assert eve is not None
    assert new is not None
    assert (eve.key, new.key) == ("2027-01-01", "2028-01-01")
    assert eve.end == new.start


@pytest.mark.parametrize(("week_start", "key"), [(0, "2027-03-22"), (6, "2027-03-28")])
def test_weeks_from_monday_or_sunday(week_start: int, key: str) -> None:
    # Sunday 28 March 2027, the day daylight saving time begins in Berlin
    week = period_of(
        "week", at("2027-03-28T12:00:00"), timezone="Europe/Berlin", week_start=week_start
    )
    assert week is not None
    assert week.key == key
    hours = (week.end - week.start) / 3600
    assert hours == 167  # a week with the night that loses an hour


def test_days_across_daylight_saving_changes() -> None:
    spring = period_of("day", at("2027-03-28T12:00:00"), timezone="Europe/Berlin")
    autumn = period_of("day", at("2027-10-31T12:00:00"), timezone="Europe/Berlin")
    assert spring is not None
    assert autumn is not None
    assert (spring.end - spring.start) / 3600 == 23
    assert (autumn.end - autumn.start) / 3600 == 25
    # the hour that repeats in autumn (02:00-03:00 twice) belongs to the same day
    assert at("2027-10-31T02:30:00") in autumn


def test_the_shops_time_zone_decides() -> None:
    moment = at("2027-01-01T00:30:00")  # Berlin: New Year; UTC: still 2026
    berlin = period_of("year", moment, timezone="Europe/Berlin")
    utc = period_of("year", moment, timezone="UTC")
    assert berlin is not None
    assert utc is not None
    assert (berlin.key, utc.key) == ("2027-01-01", "2026-01-01")


def test_none_and_bad_values() -> None:
    assert period_of("none", 0.0) is None
    for kwargs in ({"week_start": 7}, {"fiscal_start_month": 0}, {"fiscal_start_month": 13}):
        with pytest.raises(ValueError, match="must be"):
            period_of("week", 0.0, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown budget period"):
        period_of("fortnight", 0.0)


@given(
    kind=st.sampled_from([p for p in PERIODS if p != "none"]),
    moment=st.floats(min_value=1.6e9, max_value=2.2e9),
    zone=st.sampled_from(["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"]),
    week_start=st.integers(0, 6),
    fiscal=st.integers(1, 12),
)
def test_every_moment_lies_in_its_period_and_periods_touch(
    kind: str, moment: float, zone: str, week_start: int, fiscal: int
) -> None:
    def of(when: float) -> object:
        return period_of(
            kind, when, timezone=zone, week_start=week_start, fiscal_start_month=fiscal
        )

    period = of(moment)
    assert period is not None
    assert moment in period  # type: ignore[operator]
    following = of(period.end)  # type: ignore[attr-defined]
    assert following is not None
    assert following.start == period.end  # type: ignore[attr-defined]
    assert following.key > period.key  # type: ignore[attr-defined]
    assert of(period.end - 0.001) == period  # type: ignore[attr-defined]
