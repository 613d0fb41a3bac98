"""New flagged ads by site, with last month's and the split by species."""

from __future__ import annotations

from typing import Any

from .. import rows
from .base import Context, Query, Section, Tables


def build(q: Query, context: Context) -> dict[str, Any]:
    now = q.stat("new_flagged_by_site", q.month)
    before = q.stat("new_flagged_by_site", q.previous_month)
    by_site_species = q.stat("new_flagged_by_site_species", q.month)
    confirmed = q.stat("new_flagged_by_site", q.month, confirmed=True)
    total = sum(now.values())
    return {"sites": [
        {
            "site": site,
            "count": now.get(site, 0),
            "confirmed": confirmed.get(site, 0),
            "previous": before.get(site, 0),
            "change": now.get(site, 0) - before.get(site, 0),
            "share": rows.share(now.get(site, 0), total),
            "by_species": {sp: n for (st, sp), n in sorted(by_site_species.items()) if st == site and n},
        }
        for site in sorted(set(now) | set(before), key=lambda k: (-now.get(k, 0), k))
    ]}


def export(context: Context) -> Tables:
    return {"sites": [{**{k: v for k, v in r.items() if k != "by_species"}, "by_species": rows.pairs(r["by_species"])}
                      for r in context["sites"]]}


SECTION = Section(key="sites", title="by_site", template="_sites.html", build=build, export=export)
