"""Calendar tools: `datetime` and `calendar`, dates written as ISO text (YYYY-MM-DD)."""

from __future__ import annotations

import calendar
import datetime as dt

from langchain_core.tools import tool

from core.domain import read_only
from evals.foreign.tools import as_json

WEEKEND = (5, 6)  # Saturday, Sunday


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


@read_only
@tool
async def date_info(date: str) -> str:
    """Describe a date (YYYY-MM-DD).

    Returns its weekday, ISO week, day of the year, quarter, whether the year is a leap
    year, and the days in its month.
    """
    day = _date(date)
    iso = day.isocalendar()
    return as_json(
        {
            "date": day.isoformat(),
            "weekday": calendar.day_name[day.weekday()],
            "iso_week": iso.week,
            "day_of_year": day.timetuple().tm_yday,
            "quarter": (day.month - 1) // 3 + 1,
            "is_leap_year": calendar.isleap(day.year),
            "days_in_month": calendar.monthrange(day.year, day.month)[1],
        }
    )


@read_only
@tool
async def add_days(start: str, days: int, business_days: bool = False) -> str:
    """Return the date a number of days after (or before, if negative) a date (YYYY-MM-DD).

    Args:
        start: the date to count from.
        days: how many days to add.
        business_days: count only Monday to Friday (a weekend start counts from the weekend).
    """
    day = _date(start)
    if business_days and days:
        step = 1 if days >= 0 else -1
        weeks = (abs(days) - 1) // 5  # any 7 days in a row hold 5 weekdays
        day += dt.timedelta(days=7 * weeks * step)
        left = abs(days) - 5 * weeks
        while left:
            day += dt.timedelta(days=step)
            left -= day.weekday() not in WEEKEND
    elif not business_days:
        day += dt.timedelta(days=days)
    return as_json({"date": day.isoformat(), "weekday": calendar.day_name[day.weekday()]})


@read_only
@tool
async def days_between(start: str, end: str, business_days: bool = False) -> str:
    """Count the days from start to end (YYYY-MM-DD; end not included; negative if end is first).

    Args:
        start: the first date.
        end: the second date.
        business_days: count only Monday to Friday.
    """
    first, last = _date(start), _date(end)
    if not business_days:
        return as_json({"days": (last - first).days})
    low, high = sorted((first, last))
    weeks, rest = divmod((high - low).days, 7)  # any 7 days in a row hold 5 weekdays
    count = 5 * weeks + sum(
        (low + dt.timedelta(days=i)).weekday() not in WEEKEND for i in range(rest)
    )
    return as_json({"days": count if first <= last else -count})


TOOLS = (date_info, add_days, days_between)
