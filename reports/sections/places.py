"""This month's new flagged ads by province and city, read from the listings' locations.

Sellers' locations are free text; ``monitor.places`` reads each distinct one against the shipped
gazetteer (mainland provinces and prefecture-level cities, Taiwan, Hong Kong, Macau), so the
query groups by location string in SQL and only the distinct strings are read in Python. A
location naming no known place (empty, abroad, a shop name) is counted as unknown, as its own row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from monitor.places import city_name, place_of, province_name

from .. import rows
from .base import Context, Query, Section, Tables


def locations(s: Any, month: str) -> dict[str, int]:
    """location text -> new flagged ads in ``month`` giving it ("" for none), as the report's figures
    are: as known at the end of the report's month, rejected ads left out."""
    from sqlalchemy import func, select

    from monitor.storage.models import Listing, MonthListing
    from monitor.storage.newness import new_in, resolve

    as_of = resolve(s, month)
    counts = s.execute(
        select(Listing.location, func.count())
        .join(MonthListing, MonthListing.listing_id == Listing.id)
        .where(new_in(s, month, as_of))
        .group_by(Listing.location)
    ).all()
    out: Counter = Counter()
    for location, n in counts:
        out[(location or "").strip()] += n
    return dict(out)


def build(q: Query, context: Context) -> dict[str, Any]:
    by_province: Counter = Counter()
    by_city: dict[str, Counter] = defaultdict(Counter)
    for location, n in locations(q.session, q.month).items():
        place = place_of(location)
        by_province[place.province] += n
        by_city[place.province][place.city] += n
    total = sum(by_province.values())
    known = sorted((p for p in by_province if p), key=lambda p: (-by_province[p], p))
    out = [_row(p, by_province[p], by_city[p], total, q) for p in known]
    if by_province.get(""):
        out.append(_row("", by_province[""], Counter(), total, q))
    return {"places": out, "places_total": total}


def _row(province: str, count: int, cities: Counter, total: int, q: Query) -> dict[str, Any]:
    named = sorted((c for c in cities if c), key=lambda c: (-cities[c], c))
    return {
        "province": province,
        "province_name": province_name(province, q.lang) if province else q.labels["unknown"],
        "count": count,
        "share": rows.share(count, total),
        "cities": [{"city": c, "city_name": city_name(c, q.lang), "count": cities[c]} for c in named],
        "city_unknown": cities.get("", 0) if province else 0,
    }


def export(context: Context) -> Tables:
    """One row per province and city (the city empty where the location named the province alone)."""
    out = []
    for r in context["places"]:
        base = {"province": r["province"], "province_name": r["province_name"]}
        for c in r["cities"]:
            out.append({**base, "city": c["city"], "city_name": c["city_name"], "count": c["count"]})
        rest = r["count"] - sum(c["count"] for c in r["cities"])
        if rest:
            out.append({**base, "city": "", "city_name": "", "count": rest})
    return {"places": out}


SECTION = Section(key="places", title="by_place", template="_places.html", build=build, export=export)
