"""How many illegal ads the matcher missed this month, estimated from analysts' verdicts on the
month's random sample of unflagged listings (``monitor.storage.misses``), with its interval."""

from __future__ import annotations

from typing import Any

from monitor.storage.misses import estimate

from .base import Context, Query, Section, Tables


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def build(q: Query, context: Context) -> dict[str, Any]:
    found = estimate(q.session, q.month)
    figures = found.to_dict()
    if not found.estimated:
        return {"misses": {**figures, "line": q.labels["misses_none"].format(drawn=found.drawn), "rate_line": ""}}
    implied, low, high = found.missed_ads or (0, 0, 0)
    line = q.labels["misses_line"].format(n=f"{implied:,}", low=f"{low:,}", high=f"{high:,}", missed=found.missed,
                                          reviewed=found.reviewed)
    rate_line = q.labels["misses_rate"].format(rate=_percent(found.rate or 0.0), low=_percent(found.low or 0.0),
                                               high=_percent(found.high or 0.0), unflagged=f"{found.unflagged:,}")
    return {"misses": {**figures, "line": line, "rate_line": rate_line}}


def export(context: Context) -> Tables:
    return {"misses": [{k: v for k, v in context["misses"].items() if k not in ("line", "rate_line")}]}


SECTION = Section(key="misses", title="misses", template="_misses.html", build=build, export=export)
