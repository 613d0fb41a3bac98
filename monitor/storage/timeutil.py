"""How times are stored: naive wall-clock datetimes, with their "YYYY-MM" month beside them.

An aware datetime keeps its own wall clock (the crawl passes times in the configured
zone), so the stored month is the month the analyst sees.
"""

from __future__ import annotations

import re
from datetime import datetime

from monitor.exceptions import ConfigError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def check_month(month: str) -> str:
    """``month`` if it is "YYYY-MM", else an error naming it."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ConfigError(f"not a month: {month!r} (expected YYYY-MM)")
    return month


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1)
