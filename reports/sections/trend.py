"""The trend: new flagged ads per month since the first crawl, in total and by species."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from monitor.months import months_between

from .. import charts
from ..labels import species_colours, species_name
from .base import Context, Query, Section, Tables
from .species import species_order


def build(q: Query, context: Context) -> dict[str, Any]:
    species = species_order(q)
    series = trend(q.stat("monthly_trend"), q.stat("monthly_totals"), q.first_month, q.month, species, q.lang,
                   q.data_months)
    confirmed = q.stat("monthly_totals", confirmed=True)
    series["confirmed"] = [confirmed.get(m, 0) if n is not None else None for m, n in zip(series["months"], series["total"])]
    return {"trend": series}


def trend(species_counts: Iterable[tuple[str, str, int]], totals_by_month: Mapping[str, int], first: str, last: str,
          species: list[str], lang: str, data_months: Iterable[str]) -> dict[str, Any]:
    """The monthly series; a month no crawl covered is ``None`` (not 0) and no change is
    computed against it (``change`` is ``None`` there and in the month after it)."""
    months = months_between(first, last)
    covered = set(data_months)
    has_data = [m in covered for m in months]
    index = {m: i for i, m in enumerate(months)}
    by_species = {sp: [0] * len(months) for sp in species}
    for m, sp, n in species_counts:
        if m in index:
            by_species.setdefault(sp, [0] * len(months))[index[m]] += int(n)
    totals = [int(totals_by_month.get(m, 0)) if has_data[i] else None for i, m in enumerate(months)]
    by_species = {sp: [n if has_data[i] else None for i, n in enumerate(series)] for sp, series in by_species.items()}
    change = [None] + [totals[i] - totals[i - 1] if totals[i] is not None and totals[i - 1] is not None else None
                       for i in range(1, len(months))]
    colours = species_colours()
    return {
        "months": months,
        "total": totals,
        "change": change,
        "has_data": has_data,
        "no_data": [m for m, ok in zip(months, has_data) if not ok],
        "by_species": {sp: series for sp, series in by_species.items() if any(series)},
        "names": {sp: species_name(sp, lang) for sp in by_species},
        "colours": {sp: colours[sp] for sp in by_species if sp in colours},
    }


def export(context: Context) -> Tables:
    trend_ = context["trend"]
    rows = []
    for index, month in enumerate(trend_["months"]):
        row: dict[str, Any] = {"month": month, "total": trend_["total"][index], "confirmed": trend_["confirmed"][index],
                               "change": trend_["change"][index], "has_data": trend_["has_data"][index]}
        for species, series in trend_["by_species"].items():
            row[species] = series[index]
        rows.append(row)
    return {"trend": rows}


def draw(context: Context) -> dict[str, str]:
    """The trend charts as inline SVG, drawn from the context's numbers at render time."""
    trend_, labels = context["trend"], context["labels"]
    return {
        "trend_total": charts.trend_total_svg(trend_["months"], trend_["total"], labels["trend_total"], labels["no_data"]),
        "trend_species": charts.trend_species_svg(trend_["months"], trend_["by_species"], trend_["names"],
                                                  labels["trend_species"]),
    }


SECTION = Section(key="trend", title="trend", template="_trend.html", build=build, export=export, charts=draw)
