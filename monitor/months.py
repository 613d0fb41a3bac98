"""Calendar months as the monitor counts them: "YYYY-MM" strings in the configured time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# The months the monitor accepts: monitoring of online marketplaces starts long after 1990, and
# a bound well below 9999 leaves room for the month after and the trends before.
FIRST_MONTH, LAST_MONTH = "1990-01", "2999-12"


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of a "YYYY-MM" string; ValueError naming the text otherwise."""
    found = _MONTH.match(text.strip())
    if not found:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    if not FIRST_MONTH <= text.strip() <= LAST_MONTH:
        raise ValueError(f"month {text.strip()!r} is out of range ({FIRST_MONTH} to {LAST_MONTH})")
    return int(found.group(1)), int(found.group(2))


def shift_month(month: str, delta: int) -> str:
    year, mon = parse_month(month)
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(moment: date | datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def last_complete_month(now: datetime) -> str:
    """The month before ``now``'s: what a run on the 1st reports on."""
    return shift_month(month_of(now), -1)


def month_end(month: str, tz: ZoneInfo) -> datetime:
    """The last moment a crawl of ``month`` is taken to observe: its last day, 23:00 local."""
    first_of_next = date(*parse_month(shift_month(month, 1)), 1)
    return datetime.combine(first_of_next - timedelta(days=1), time(23, 0), tzinfo=tz)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = shift_month(current, 1)
    return months
