"""Search query yields: per site, month and query, what searching cost and what it found.

The crawl counts, per query, the result pages it requested and the listings those pages listed;
the storage pipeline adds the flagged listings the query brought in that were new to the
database. The query planner (``monitor.crawling.planner``) reads the last months' yields to
order next month's queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, insert, select, update

from monitor.storage.db import Database
from monitor.storage.models import Listing, QueryYield, Site, SiteCrawl
from monitor.storage.timeutil import naive

MAX_QUERY = 200
_CHUNK = 500


@dataclass(frozen=True)
class YieldRecord:
    """One query's yield on one site in one month (summed over a run's parts)."""

    site: str
    month: str
    query: str
    kind: str = ""
    requests: int = 0
    found: int = 0
    flagged_new: int = 0
    run_id: int | None = None


def record_yields(db: Database, records: Iterable[YieldRecord]) -> int:
    """Store ``records``, adding to the row of the same site, month, query and run when there is
    one (a resumed crawl reports the rest of its counts). Returns the rows written."""
    by_key: dict[tuple[str, str, str, int | None], YieldRecord] = {}
    for r in records:
        query = r.query[:MAX_QUERY]
        if not query:
            continue
        key = (r.site, r.month, query, r.run_id)
        old = by_key.get(key)
        if old is not None:
            r = YieldRecord(r.site, r.month, query, r.kind or old.kind, old.requests + r.requests,
                            old.found + r.found, old.flagged_new + r.flagged_new, r.run_id)
        by_key[key] = YieldRecord(r.site, r.month, query, r.kind[:20], r.requests, r.found, r.flagged_new, r.run_id)
    if not by_key:
        return 0
    groups: dict[tuple[str, str, int | None], list[YieldRecord]] = defaultdict(list)
    for (site, month, _, run_id), r in by_key.items():
        groups[(site, month, run_id)].append(r)
    with db.engine.begin() as conn:
        for (site, month, run_id), rows in groups.items():
            same_run = QueryYield.run_id.is_(None) if run_id is None else QueryYield.run_id == run_id
            existing = {
                row.query: row for row in conn.execute(
                    select(QueryYield.id, QueryYield.query, QueryYield.requests, QueryYield.found,
                           QueryYield.flagged_new)
                    .where(QueryYield.site == site, QueryYield.month == month, same_run)
                )
            }
            fresh = []
            for r in rows:
                old = existing.get(r.query)
                if old is None:
                    fresh.append({"site": site, "month": month, "query": r.query, "kind": r.kind,
                                  "requests": r.requests, "found": r.found, "flagged_new": r.flagged_new,
                                  "run_id": run_id})
                else:
                    conn.execute(update(QueryYield).where(QueryYield.id == old.id).values(
                        requests=old.requests + r.requests, found=old.found + r.found,
                        flagged_new=old.flagged_new + r.flagged_new, kind=r.kind))
            if fresh:
                conn.execute(insert(QueryYield), fresh)
    return len(by_key)


def site_yields(db: Database, sites: Iterable[str] | None = None, before: str | None = None,
                since: str | None = None) -> dict[str, list[YieldRecord]]:
    """Stored yields per site (all sites, or ``sites``), of months ``since`` <= month < ``before``,
    one record per site, month and query (a month's runs summed)."""
    stmt = select(QueryYield.site, QueryYield.month, QueryYield.query, QueryYield.kind, QueryYield.requests,
                  QueryYield.found, QueryYield.flagged_new)
    names = sorted(set(sites)) if sites is not None else None
    if names is not None:
        stmt = stmt.where(QueryYield.site.in_(names))
    if before:
        stmt = stmt.where(QueryYield.month < before)
    if since:
        stmt = stmt.where(QueryYield.month >= since)
    totals: dict[tuple[str, str, str], list] = {}
    with db.engine.connect() as conn:
        for row in conn.execute(stmt):
            key = (row.site, row.month, row.query)
            t = totals.setdefault(key, [row.kind, 0, 0, 0])
            t[0] = t[0] or row.kind
            t[1] += row.requests
            t[2] += row.found
            t[3] += row.flagged_new
    out: dict[str, list[YieldRecord]] = {name: [] for name in names or []}
    for (site, month, query), (kind, requests, found, flagged) in sorted(totals.items()):
        out.setdefault(site, []).append(YieldRecord(site, month, query, kind, requests, found, flagged))
    return out


def new_listing_ids(db: Database, site: str, external_ids: Iterable[str], since: datetime) -> set[str]:
    """Which of the site's ``external_ids`` (as stored) the database first saw at ``since`` or later:
    the listings the crawl observing at ``since`` brought in."""
    ids = sorted(set(external_ids))
    found: set[str] = set()
    if not ids:
        return found
    at = naive(since)
    with db.engine.connect() as conn:
        site_id = conn.execute(select(Site.id).where(Site.name == site)).scalar()
        if site_id is None:
            return found
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            found.update(conn.execute(
                select(Listing.external_id)
                .where(Listing.site_id == site_id, Listing.external_id.in_(chunk), Listing.first_seen >= at)
            ).scalars())
    return found


def other_requests(db: Database, sites: Iterable[str], before: str) -> dict[str, int]:
    """Per site, the requests its last month crawled before ``before`` spent on anything but search
    result pages (revisits, listing pages, browsing): what next month's search plan must leave room
    for. A site whose last crawl did not finish, or that was never crawled, is left out."""
    names = sorted(set(sites))
    if not names:
        return {}
    with db.engine.connect() as conn:
        crawls = conn.execute(
            select(Site.name, SiteCrawl.month, SiteCrawl.health)
            .join(Site, Site.id == SiteCrawl.site_id)
            .where(Site.name.in_(names), SiteCrawl.month < before, SiteCrawl.status == "finished")
        ).all()
        last: dict[str, str] = {}
        for name, month, _ in crawls:
            last[name] = max(month, last.get(name, ""))
        pages: dict[str, int] = defaultdict(int)
        for name, month, health in crawls:
            if month == last[name] and isinstance(health, dict):
                pages[name] += int(health.get("pages") or 0)
        searched: dict[str, int] = defaultdict(int)
        for name, month in last.items():
            searched[name] = int(conn.execute(
                select(func.coalesce(func.sum(QueryYield.requests), 0))
                .where(QueryYield.site == name, QueryYield.month == month)
            ).scalar() or 0)
    return {name: max(0, pages[name] - searched[name]) for name in last if pages.get(name)}
