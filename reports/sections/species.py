"""New flagged ads by species group, with last month's and the analysts' review counts."""

from __future__ import annotations

from typing import Any, Mapping

from .. import rows
from ..labels import legal_basis, species_groups, species_name
from .base import Context, Query, Section, Tables


def species_order(q: Query) -> list[str]:
    """The groups of species.yaml in its order, then any other key the data holds."""
    known = [g.key for g in species_groups()]
    seen: set[str] = set()
    for source in (q.stat("new_flagged_by_species", q.month), q.stat("new_flagged_by_species", q.previous_month),
                   q.stat("review_counts", q.month), q.stat("monthly_trend")):
        if isinstance(source, Mapping):
            seen.update(source)
        else:
            seen.update(row[1] for row in source)
    return known + sorted(seen - set(known))


def build(q: Query, context: Context) -> dict[str, Any]:
    now = q.stat("new_flagged_by_species", q.month)
    before = q.stat("new_flagged_by_species", q.previous_month)
    reviews = q.stat("review_counts", q.month)
    total = sum(q.stat("new_flagged_by_site", q.month).values())
    return {"species": [
        {
            "species": sp,
            "name": species_name(sp, q.lang),
            "count": now.get(sp, 0),
            "previous": before.get(sp, 0),
            "change": now.get(sp, 0) - before.get(sp, 0),
            "share": rows.share(now.get(sp, 0), total),
            "confirmed": reviews.get(sp, {}).get("confirmed", 0),
            "candidate": reviews.get(sp, {}).get("candidate", 0),
            "rejected": reviews.get(sp, {}).get("rejected", 0),
            "legal_basis": legal_basis(sp, q.lang),
        }
        for sp in species_order(q)
    ]}


def export(context: Context) -> Tables:
    return {"species": [dict(r) for r in context["species"]]}


SECTION = Section(key="species", title="by_species", template="_species.html", build=build, export=export)
