"""When a flagged ad is new: the month it was first posted, not the month a crawl first saw it.

A site's first monitored month finds every ad still online, however old, so counting by first
sighting makes that month look like a surge and the next like a fall. An ad is new in the month
of its ``posted_at`` (the month it was first seen when the site gives no date, or when the date
reads later than the sighting); ads posted before their site's first monitored month are the
*backlog*: counted apart, in the month they were found, and never as new.

Every clause reads a month's snapshot (``monitor.storage.snapshots``): the listings as they
stood at the end of the *as-of* month, so an ad first seen, re-flagged or removed later is not
known to it. ``as_of`` is the report's month; ``resolve`` gives it when a caller names none
(the month itself, or the newest month with data if later: the figures as they stand now).

Queries stay portable and grouped (no per-row Python on millions of rows): "new in M" is a
WHERE clause on indexed month columns plus a ``posted_at`` range; the per-month series, which
read every ad since monitoring began, are counted once when the snapshot is written (grouped on
site, first-seen month and posting month, placed in Python) and corrected when read for the few
ads analysts decided on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, extract, false, func, insert, or_, select, true, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.months import parse_month, shift_month
from monitor.storage import snapshots
from monitor.storage.models import Listing, MonthFigure, MonthListing, MonthSpecies, ReviewDecision, SiteCrawl

__all__ = ["AS_OF_KEY", "backlog", "decided", "decided_rows", "latest_month", "month_start", "new_in", "new_month",
           "new_series", "resolve", "site_first_months", "standing", "write_figures"]

ML, MS = MonthListing, MonthSpecies
# A report's session carries its month here (reports.context): every figure is as of it.
AS_OF_KEY = "wtm_as_of"


def decided(decision: str) -> Any:
    """Ids of listings whose current review decision is ``decision``."""
    return select(ReviewDecision.listing_id).where(ReviewDecision.current == true(), ReviewDecision.decision == decision)


def latest_month(s: Session) -> str | None:
    """The newest month with listings first seen or crawls run (kept for the session's life)."""
    if "wtm_latest_month" not in s.info:
        months = union(select(func.max(Listing.first_seen_month).label("m")), select(func.max(SiteCrawl.month).label("m")))
        s.info["wtm_latest_month"] = max((m for (m,) in s.execute(months) if m), default=None)
    return s.info["wtm_latest_month"]


def resolve(s: Session, month: str | None, as_of: str | None = None) -> str:
    """The month the figures are as of, its snapshot made current: ``as_of``, else the report's
    (``AS_OF_KEY``), else ``month`` or the newest month with data, whichever is later."""
    if as_of is None:
        as_of = s.info.get(AS_OF_KEY)
    if as_of is None:
        latest = latest_month(s) or month
        as_of = max(m for m in (month, latest) if m) if (month or latest) else "1990-01"
    parse_month(as_of)
    ready = s.info.setdefault("wtm_snapshots_ready", set())
    if as_of not in ready:
        snapshots.ensure(s, as_of)
        ready.add(as_of)
    return as_of


def standing(as_of: str | None = None, confirmed: bool = False) -> ColumnElement[bool]:
    """WHERE clause on ``MonthListing``: in ``as_of``'s snapshot, flagged then and not rejected by
    an analyst (a rejection corrects a fact, so the ad leaves every figure); with ``confirmed``,
    only ads an analyst confirmed. Without ``as_of``, the same on ``Listing`` as it stands now."""
    if as_of is None:
        review = Listing.id.in_(decided("confirmed")) if confirmed else Listing.id.not_in(decided("rejected"))
        return and_(Listing.flagged == true(), review)
    if confirmed:
        return and_(ML.month == as_of, ML.flagged == true(), ML.listing_id.in_(decided("confirmed")))
    return and_(ML.month == as_of, ML.flagged == true(), ML.listing_id.not_in(decided("rejected")))


def month_start(month: str) -> datetime:
    """Midnight on the 1st of ``month`` as a stored (naive, wall-clock) datetime."""
    year, mon = parse_month(month)
    return datetime(year, mon, 1)


def site_first_months(s: Session, as_of: str) -> dict[int, str]:
    """site id -> its first monitored month as known at the end of ``as_of``: its first crawl, or
    its first flagged listing if earlier (stored with the snapshot; kept in the session's ``info``)."""
    cache = s.info.setdefault("wtm_site_first_months", {})
    if as_of not in cache:
        stored = {int(a): b for a, b in s.execute(
            select(MonthFigure.a, MonthFigure.b).where(MonthFigure.month == as_of, MonthFigure.figure == "site_first"))}
        cache[as_of] = stored or _first_months(s, as_of)
    return dict(cache[as_of])


def _first_months(s: Session, as_of: str) -> dict[int, str]:
    first: dict[int, str] = {}
    crawls = (select(SiteCrawl.site_id, func.min(SiteCrawl.month))
              .where(SiteCrawl.status != "refused", SiteCrawl.month <= as_of).group_by(SiteCrawl.site_id))
    listings = select(ML.site_id, func.min(ML.first_seen_month)).where(ML.month == as_of, ML.flagged == true()).group_by(ML.site_id)
    for query in (crawls, listings):
        for site_id, month in s.execute(query):
            if month and (site_id not in first or month < first[site_id]):
                first[site_id] = month
    return first


def new_in(s: Session, month: str, as_of: str, confirmed: bool = False, rejected_too: bool = False) -> ColumnElement[bool]:
    """WHERE clause on ``MonthListing``: flagged and new in ``month`` (posted then, not backlog) as
    known at the end of ``as_of``, not rejected on review (``rejected_too``: whatever the review
    said; ``confirmed``: confirmed only)."""
    start, end = month_start(month), month_start(shift_month(month, 1))
    sites = [site_id for site_id, first in site_first_months(s, as_of).items() if first <= month]
    if not sites:
        return false()
    return and_(
        and_(ML.month == as_of, ML.flagged == true()) if rejected_too else standing(as_of, confirmed),
        ML.site_id.in_(sites),
        ML.first_seen_month >= month,  # lets the planner read the month index's range (bound values)
        or_(
            and_(ML.first_seen_month == month, or_(ML.posted_at.is_(None), ML.posted_at >= start)),
            # Posted in month but first seen later (the crawl missed it then), by the as-of month.
            and_(ML.first_seen_month > month, ML.posted_at >= start, ML.posted_at < end),
        ),
    )


def new_month(first_seen_month: str, posted_year: Any, posted_month: Any) -> str:
    """The month an ad is new in: its posting month, unless that reads later than its sighting."""
    if posted_year is None or posted_month is None:
        return first_seen_month
    return min(f"{int(posted_year):04d}-{int(posted_month):02d}", first_seen_month)


def _posted_parts() -> tuple[Any, Any]:
    return extract("year", ML.posted_at), extract("month", ML.posted_at)


def new_series(s: Session, as_of: str, by_species: bool = False, confirmed: bool = False) -> dict[tuple[str, str], int]:
    """(new month, species or "") -> new flagged ads as known at the end of ``as_of``, every
    month up to it, backlog and rejected ads left out (``confirmed``: confirmed ads only).

    With ``by_species`` a two-species ad counts once per species; without, once. The counts
    over every flagged ad are the snapshot's (``write_figures``); the decided ads are applied here.
    """
    first = site_first_months(s, as_of)
    counts: Counter = Counter()
    if not confirmed:
        for a, b, n in s.execute(select(MonthFigure.a, MonthFigure.b, MonthFigure.n).where(
                MonthFigure.month == as_of, MonthFigure.figure == ("new_species" if by_species else "new"))):
            counts[(a, b)] += n
    for row in decided_rows(s, as_of):
        if row["decision"] != ("confirmed" if confirmed else "rejected"):
            continue
        month = row["new_month"]
        if month < first.get(row["site_id"], month):
            continue
        for species in (row["species"] if by_species else [""]):
            counts[(month, species)] += 1 if confirmed else -1
    return {key: n for key, n in counts.items() if n}


def decided_rows(s: Session, as_of: str) -> list[dict[str, Any]]:
    """The ads flagged in ``as_of``'s snapshot that an analyst decided on (current decisions),
    with the columns the figures group on and their species: few, read by primary key."""
    cache = s.info.setdefault("wtm_decided_rows", {})
    if as_of in cache:
        return cache[as_of]
    decisions = dict(s.execute(select(ReviewDecision.listing_id, ReviewDecision.decision).where(ReviewDecision.current == true())).all())
    current = select(ReviewDecision.listing_id).where(ReviewDecision.current == true())
    species: dict[int, list[str]] = defaultdict(list)
    for listing_id, name in s.execute(select(MS.listing_id, MS.species).where(MS.month == as_of, MS.listing_id.in_(current))):
        species[listing_id].append(name)
    year, mon = _posted_parts()
    rows = [
        {"listing_id": listing_id, "site_id": site_id, "first_seen_month": seen, "posted": (y, m),
         "new_month": new_month(seen, y, m), "removed_month": removed, "removal_kind": kind, "dealer_id": dealer_id,
         "decision": decisions.get(listing_id), "species": sorted(species[listing_id])}
        for listing_id, site_id, seen, y, m, removed, kind, dealer_id in s.execute(
            select(ML.listing_id, ML.site_id, ML.first_seen_month, year, mon, ML.removed_month, ML.removal_kind,
                   ML.dealer_id)
            .where(ML.month == as_of, ML.flagged == true(), ML.listing_id.in_(current))
        )
    ]
    cache[as_of] = rows
    return rows


def write_figures(s: Session, as_of: str) -> None:
    """Store ``as_of``'s counts over every flagged ad of its snapshot, whatever analysts decide:
    the sites' first months, new ads by month (and species), and the month's removals and the
    ads live at its start by site (``monitor.storage.stats.removals``). Called by the writer."""
    first = _first_months(s, as_of)
    rows = [{"figure": "site_first", "a": str(site_id), "b": month, "n": 0} for site_id, month in first.items()]
    for figure, by_species in (("new", False), ("new_species", True)):
        rows += [{"figure": figure, "a": month, "b": species, "n": n}
                 for (month, species), n in _scan_series(s, as_of, first, by_species).items()]
    live = (select(ML.site_id, func.count()).where(
        ML.month == as_of, ML.flagged == true(), ML.first_seen_month < as_of,
        or_(ML.removed_month.is_(None), ML.removed_month >= as_of)).group_by(ML.site_id))
    rows += [{"figure": "live", "a": str(site_id), "b": "", "n": n} for site_id, n in s.execute(live)]
    removed = (select(ML.site_id, ML.removal_kind, func.count())
               .where(ML.month == as_of, ML.flagged == true(), ML.removed_month == as_of).group_by(ML.site_id, ML.removal_kind))
    rows += [{"figure": "removed", "a": str(site_id), "b": kind or "unknown", "n": n} for site_id, kind, n in s.execute(removed)]
    if rows:
        s.execute(insert(MonthFigure), [{"month": as_of, **row} for row in rows])


def _scan_series(s: Session, as_of: str, first: dict[int, str], by_species: bool) -> Counter:
    """(new month, species or "") -> every flagged ad of the snapshot, backlog left out."""
    year, mon = _posted_parts()
    columns: list[Any] = [ML.site_id, ML.first_seen_month, year, mon]
    if by_species:
        query = (select(MS.species, *columns, func.count())
                 .join(ML, and_(ML.listing_id == MS.listing_id, ML.month == MS.month)))
    else:
        query = select(*columns, func.count())
    query = (query.where(ML.month == as_of, ML.flagged == true())
             .group_by(*([MS.species] if by_species else []), *columns))
    counts: Counter = Counter()
    for row in s.execute(query):
        species, (site_id, seen_month, y, m, n) = (row[0], row[1:]) if by_species else ("", row)
        month = new_month(seen_month, y, m)
        if month >= first.get(site_id, month):
            counts[(month, species)] += n
    return counts


def backlog(s: Session, month: str, as_of: str) -> list[dict[str, Any]]:
    """Per site, flagged ads first seen in ``month`` that were posted before the site's first
    monitored month (the backlog found then), with the earliest posting month among them."""
    first = site_first_months(s, as_of)
    year, mon = _posted_parts()
    rows = s.execute(
        select(ML.site_id, year, mon, func.count())
        .where(standing(as_of), ML.first_seen_month == month, ML.posted_at < month_start(month))
        .group_by(ML.site_id, year, mon)
    ).all()
    per_site: dict[int, Counter] = defaultdict(Counter)
    for site_id, y, m, n in rows:
        posted = new_month(month, y, m)
        if posted < first.get(site_id, posted):
            per_site[site_id][posted] += n
    return [{"site_id": site_id, "listings": sum(c.values()), "posted_from": min(c)} for site_id, c in per_site.items()]
