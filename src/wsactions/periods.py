"""Budget periods: the day, week, month, quarter or (fiscal) year a moment falls in, in the
shop's time zone.

A B2B budget that renews each period counts only what was charged in the current period;
the period is computed from the moment, never reset by a job. Periods start at local
midnight (a day across a daylight-saving change is 23 or 25 hours long), weeks on the
shop's first day of the week, quarters and years on the first day of the fiscal year's
first month::

    period_of("month", now, timezone="Europe/Berlin")              # Period(start, end, key)
    period_of("year", now, timezone="Europe/Berlin", fiscal_start_month=4)
    period_of("week", now, timezone="Europe/Berlin", week_start=0)  # Monday
    period_of("none", now, ...)                                     # None: one budget, ever
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

__all__ = ["PERIODS", "Period", "period_of"]

#: The kinds of budget period (``none``: the budget never renews).
PERIODS: tuple[str, ...] = ("none", "day", "week", "month", "quarter", "year")


@attrs.frozen
class Period:
    """One period: from *start* (inclusive) to *end* (exclusive), seconds since the epoch;
    *key* names it uniquely among periods of its kind (its first day, ``2027-04-01``)."""

    kind: str
    start: float
    end: float
    key: str

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment < self.end


def _midnight(day: date, zone: ZoneInfo) -> float:
    """The moment *day* begins in *zone* (a day that begins in a gap begins after it)."""
    return datetime.combine(day, time(0), zone).timestamp()


def _month_start(year: int, month: int) -> date:
    """The first day of *month* of *year*, months counted on past 12 into later years."""
    year += (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def period_of(
    kind: str,
    moment: float,
    *,
    timezone: str = "UTC",
    week_start: int = 0,
    fiscal_start_month: int = 1,
) -> Period | None:
    """The period of *kind* that *moment* falls in, in *timezone*; ``None`` for ``none``.

    *week_start* is the weekday a week begins on (0 Monday … 6 Sunday);
    *fiscal_start_month* the month (1–12) a fiscal year, and its quarters, begin in.
    Raises ``ValueError`` for an unknown kind or an out-of-range setting.
    """
    if kind not in PERIODS:
        raise ValueError(f"unknown budget period {kind!r}; known: {PERIODS}")
    if not 0 <= week_start <= 6:
        raise ValueError("week_start must be 0 (Monday) to 6 (Sunday)")
    if not 1 <= fiscal_start_month <= 12:
        raise ValueError("fiscal_start_month must be 1 to 12")
    if kind == "none":
        return None
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(moment, zone).date()
    if kind == "day":
        first, after = today, today + timedelta(days=1)
    elif kind == "week":
        first = today - timedelta(days=(today.weekday() - week_start) % 7)
        after = first + timedelta(days=7)
    elif kind == "month":
        first = today.replace(day=1)
        after = _month_start(first.year, first.month + 1)
    else:
        length = 3 if kind == "quarter" else 12
        # Months since the fiscal year's first month, and the period's first month.
        offset = (today.month - fiscal_start_month) % 12
        start_month = today.month - offset % length
        year = today.year if start_month >= 1 else today.year - 1
        first = _month_start(year, start_month if start_month >= 1 else start_month + 12)
        after = _month_start(first.year, first.month + length)
    return Period(kind, _midnight(first, zone), _midnight(after, zone), first.isoformat())
