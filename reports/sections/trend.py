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
    return {"trend": trend(q.stat("monthly_trend"), q.stat("monthly_totals"), q.first_month, q.month, species, q.lang)}


def trend(species_counts: Iterable[tuple[str, str, int]], totals_by_month: Mapping[str, int], first: str, last: str,
          species: list[str], lang: str) -> dict[str, Any]:
    months = months_between(first, last)
    index = {m: i for i, m in enumerate(months)}
    by_species = {sp: [0] * len(months) for sp in species}
    for m, sp, n in species_counts:
        if m in index:
            by_species.setdefault(sp, [0] * len(months))[index[m]] += int(n)
    totals = [int(totals_by_month.get(m, 0)) for m in months]
    colours = species_colours()
    return {
        "months": months,
        "total": totals,
        "by_species": {sp: series for sp, series in by_species.items() if any(series)},
        "names": {sp: species_name(sp, lang) for sp in by_species},
        "colours": {sp: colours[sp] for sp in by_species if sp in colours},
    }


def export(context: Context) -> Tables:
    trend_ = context["trend"]
    rows = []
    for index, month in enumerate(trend_["months"]):
        row: dict[str, Any] = {"month": month, "total": trend_["total"][index]}
        for species, series in trend_["by_species"].items():
            row[species] = series[index]
        rows.append(row)
    return {"trend": rows}


def draw(context: Context) -> dict[str, str]:
    """The trend charts as inline SVG, drawn from the context's numbers at render time."""
    trend_, labels = context["trend"], context["labels"]
    return {
        "trend_total": charts.trend_total_svg(trend_["months"], trend_["total"], labels["trend_total"]),
        "trend_species": charts.trend_species_svg(trend_["months"], trend_["by_species"], trend_["names"],
                                                  labels["trend_species"]),
    }


SECTION = Section(key="trend", title="trend", template="_trend.html", build=build, export=export, charts=draw)
