"""How times are stored: naive wall-clock datetimes, with their "YYYY-MM" month beside them.

An aware datetime keeps its own wall clock (the crawl passes times in the configured
zone), so the stored month is the month the analyst sees.
"""

from __future__ import annotations

from datetime import datetime

from monitor.exceptions import ConfigError
from monitor.months import month_of, parse_month, shift_month

__all__ = ["check_month", "month_of", "naive", "previous_month"]


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def check_month(month: str) -> str:
    """``month`` if it is "YYYY-MM", else a ConfigError naming it."""
    try:
        parse_month(month if isinstance(month, str) and month == month.strip() else repr(month))
    except ValueError as exc:
        raise ConfigError(f"not a month: {exc}") from None
    return month


def previous_month(month: str) -> str:
    return shift_month(month, -1)
