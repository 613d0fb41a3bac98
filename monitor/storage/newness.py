"""When a flagged ad is new: the month it was first posted, not the month a crawl first saw it.

A site's first monitored month finds every ad still online, however old, so counting by first
sighting makes that month look like a surge and the next like a fall. An ad is new in the month
of its ``posted_at`` (the month it was first seen when the site gives no date, or when the date
reads later than the sighting); ads posted before their site's first monitored month are the
*backlog*: counted apart, in the month they were found, and never as new.

Queries stay portable and grouped (no per-row Python on millions of rows): "new in M" is a
WHERE clause on indexed month columns plus a ``posted_at`` range, and per-month series group on
(site, first-seen month, posted year, posted month) and place each group in Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, extract, false, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.months import parse_month, shift_month
from monitor.storage.models import Listing, ListingSpecies, ReviewDecision, SiteCrawl

__all__ = ["backlog", "decided", "month_start", "new_in", "new_month", "new_series", "site_first_months", "standing"]


def decided(decision: str) -> Any:
    """Ids of listings whose current review decision is ``decision``."""
    return select(ReviewDecision.listing_id).where(ReviewDecision.current == true(), ReviewDecision.decision == decision)


def standing(confirmed: bool = False) -> ColumnElement[bool]:
    """WHERE clause on ``Listing``: flagged and not rejected by an analyst (a rejection corrects
    a fact, so the ad leaves every figure); with ``confirmed``, only ads an analyst confirmed."""
    if confirmed:
        return and_(Listing.flagged == true(), Listing.id.in_(decided("confirmed")))
    return and_(Listing.flagged == true(), Listing.id.not_in(decided("rejected")))


def month_start(month: str) -> datetime:
    """Midnight on the 1st of ``month`` as a stored (naive, wall-clock) datetime."""
    year, mon = parse_month(month)
    return datetime(year, mon, 1)


def site_first_months(s: Session) -> dict[int, str]:
    """site id -> its first monitored month: its first crawl, or its first flagged listing if earlier.

    Kept in the session's ``info`` for the session's life: every "new in M" clause reads it and a
    report opens one session (the grouped scan costs a tenth of a second on a million listings).
    """
    cached = s.info.get("wtm_site_first_months")
    if cached is None:
        cached = s.info["wtm_site_first_months"] = _site_first_months(s)
    return dict(cached)


def seen_months(s: Session) -> list[str]:
    """Every first-seen month of a listing, kept in the session's ``info`` like the first months.

    The series queries name them (``first_seen_month IN (...)``) so the planner reads the
    covering month index (ix_listings_month_flagged, with posted_at) instead of the table.
    """
    cached = s.info.get("wtm_seen_months")
    if cached is None:
        cached = s.info["wtm_seen_months"] = sorted(
            m for (m,) in s.execute(select(Listing.first_seen_month).distinct()) if m)
    return list(cached)


def _site_first_months(s: Session) -> dict[int, str]:
    first: dict[int, str] = {}
    crawls = select(SiteCrawl.site_id, func.min(SiteCrawl.month)).where(SiteCrawl.status != "refused").group_by(SiteCrawl.site_id)
    # Flagged listings only: an index-only scan (ix_listings_flagged_site); every site with a
    # recorded crawl has its first month from site_crawls anyway.
    listings = select(Listing.site_id, func.min(Listing.first_seen_month)).where(Listing.flagged == true()).group_by(Listing.site_id)
    for query in (crawls, listings):
        for site_id, month in s.execute(query):
            if month and (site_id not in first or month < first[site_id]):
                first[site_id] = month
    return first


def new_in(s: Session, month: str, confirmed: bool = False, rejected_too: bool = False) -> ColumnElement[bool]:
    """WHERE clause on ``Listing``: flagged and new in ``month`` (posted then, not backlog), not
    rejected on review (``rejected_too``: whatever the review said; ``confirmed``: confirmed only)."""
    start, end = month_start(month), month_start(shift_month(month, 1))
    sites = [site_id for site_id, first in site_first_months(s).items() if first <= month]
    if not sites:
        return false()
    return and_(
        Listing.flagged == true() if rejected_too else standing(confirmed),
        Listing.site_id.in_(sites),
        or_(
            and_(Listing.first_seen_month == month, or_(Listing.posted_at.is_(None), Listing.posted_at >= start)),
            # Posted in month but first seen later (the crawl missed it then).
            and_(Listing.first_seen_month > month, Listing.posted_at >= start, Listing.posted_at < end),
        ),
    )


def new_month(first_seen_month: str, posted_year: Any, posted_month: Any) -> str:
    """The month an ad is new in: its posting month, unless that reads later than its sighting."""
    if posted_year is None or posted_month is None:
        return first_seen_month
    return min(f"{int(posted_year):04d}-{int(posted_month):02d}", first_seen_month)


def _posted_parts() -> tuple[Any, Any]:
    return extract("year", Listing.posted_at), extract("month", Listing.posted_at)


def new_series(s: Session, by_species: bool = False, confirmed: bool = False) -> dict[tuple[str, str], int]:
    """(new month, species or "") -> new flagged ads, every month, backlog and rejected ads left
    out (``confirmed``: confirmed ads only).

    With ``by_species`` a two-species ad counts once per species; without, once.
    """
    first = site_first_months(s)
    if by_species and not confirmed:
        return _species_series(s, first)
    year, mon = _posted_parts()
    columns: list[Any] = [Listing.site_id, Listing.first_seen_month, year, mon]
    if by_species:
        query = (select(ListingSpecies.species, *columns, func.count())
                 .join(Listing, Listing.id == ListingSpecies.listing_id))
    else:
        query = select(*columns, func.count())
    query = query.where(Listing.first_seen_month.in_(seen_months(s)), standing(confirmed)).group_by(*([ListingSpecies.species] if by_species else []), *columns)
    counts: Counter = Counter()
    for row in s.execute(query):
        species, (site_id, seen_month, y, m, n) = (row[0], row[1:]) if by_species else ("", row)
        month = new_month(seen_month, y, m)
        if month >= first.get(site_id, month):
            counts[(month, species)] += n
    return dict(counts)


def _species_series(s: Session, first: dict[int, str]) -> dict[tuple[str, str], int]:
    """The species series as the species rows count them by first-seen month (an index-only
    scan), moved for the few ads posted before they were first seen (to their posting month, or
    out as backlog) and less the rejected ones: joining every species row to its listing would
    read the whole table."""
    counts: Counter = Counter()
    for species, site_id, seen_month, n in s.execute(
        select(ListingSpecies.species, ListingSpecies.site_id, ListingSpecies.first_seen_month, func.count())
        .group_by(ListingSpecies.species, ListingSpecies.site_id, ListingSpecies.first_seen_month)
    ):
        counts[(seen_month, species)] += n
    year, mon = _posted_parts()
    seen_index = (cast(func.substr(Listing.first_seen_month, 1, 4), Integer) * 12
                  + cast(func.substr(Listing.first_seen_month, 6, 2), Integer))
    rejected = Listing.id.in_(decided("rejected"))
    columns: list[Any] = [ListingSpecies.species, Listing.site_id, Listing.first_seen_month, year, mon, rejected]
    for species, site_id, seen_month, y, m, is_rejected, n in s.execute(
        select(*columns, func.count())
        .join(Listing, Listing.id == ListingSpecies.listing_id)
        .where(Listing.first_seen_month.in_(seen_months(s)), Listing.flagged == true(),
               or_(year * 12 + mon < seen_index, rejected))
        .group_by(*columns)
    ):
        counts[(seen_month, species)] -= n
        month = new_month(seen_month, y, m)
        if not is_rejected and month >= first.get(site_id, month):
            counts[(month, species)] += n
    return {key: n for key, n in counts.items() if n}


def backlog(s: Session, month: str) -> list[dict[str, Any]]:
    """Per site, flagged ads first seen in ``month`` that were posted before the site's first
    monitored month (the backlog found then), with the earliest posting month among them."""
    first = site_first_months(s)
    year, mon = _posted_parts()
    rows = s.execute(
        select(Listing.site_id, year, mon, func.count())
        .where(standing(), Listing.first_seen_month == month, Listing.posted_at < month_start(month))
        .group_by(Listing.site_id, year, mon)
    ).all()
    per_site: dict[int, Counter] = defaultdict(Counter)
    for site_id, y, m, n in rows:
        posted = new_month(month, y, m)
        if posted < first.get(site_id, posted):
            per_site[site_id][posted] += n
    return [{"site_id": site_id, "listings": sum(c.values()), "posted_from": min(c)} for site_id, c in per_site.items()]

