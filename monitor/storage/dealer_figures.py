"""Dealers' records as of a month, counted once when its snapshot is written.

Both dealer tables of the report show, per dealer, every flagged ad known at the end of the
as-of month: how many, of which species, on which sites and in which months; the all-time table
also ranks every dealer by that count. Read from the snapshot each time, that is two or three
passes over a dealer's every ad (tens of thousands for the busiest dealers at a million
listings); here they are counted when the snapshot is written (``month_figures``: "dealer_ads",
and by species, site and first-seen month) and corrected when read for the few ads analysts
rejected since, as ``newness.new_series`` does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import String, and_, cast, func, insert, literal, select, true
from sqlalchemy.orm import Session

from monitor.storage.models import MonthFigure, MonthListing as ML, MonthSpecies as MS
from monitor.storage.newness import decided_rows

__all__ = ["dealer_records", "dealers_with_ads", "most_ads", "write_dealer_figures"]

_CHUNK = 500  # ids per IN list: an export reads every dealer, beyond SQLite's bound parameters
_RECORD_FIGURES = ("dealer_site", "dealer_month", "dealer_species")


def write_dealer_figures(s: Session, as_of: str) -> None:
    """Store the per-dealer counts over ``as_of``'s flagged ads, whatever analysts decide (INSERT
    ... SELECT, so the hundred thousand rows never pass through Python)."""
    flagged = and_(ML.month == as_of, ML.flagged == true(), ML.dealer_id.is_not(None))
    dealer = cast(ML.dealer_id, String)
    head = (literal(as_of), dealer)
    queries = (
        select(*head, literal("dealer_ads"), literal(""), func.count()).where(flagged).group_by(ML.dealer_id),
        select(*head, literal("dealer_site"), cast(ML.site_id, String), func.count()).where(flagged)
        .group_by(ML.dealer_id, ML.site_id),
        select(*head, literal("dealer_month"), ML.first_seen_month, func.count()).where(flagged)
        .group_by(ML.dealer_id, ML.first_seen_month),
        select(*head, literal("dealer_species"), MS.species, func.count())
        .join(MS, and_(MS.listing_id == ML.listing_id, MS.month == ML.month)).where(flagged)
        .group_by(ML.dealer_id, MS.species),
    )
    for query in queries:
        s.execute(insert(MonthFigure).from_select(["month", "a", "figure", "b", "n"], query))


def _rejected(s: Session, as_of: str) -> list[dict[str, Any]]:
    return [row for row in decided_rows(s, as_of) if row["decision"] == "rejected" and row["dealer_id"] is not None]


def most_ads(s: Session, as_of: str, limit: int | None) -> list[tuple[int, int]]:
    """(dealer id, flagged ads not rejected) of the ``limit`` dealers with the most (None: all),
    as of the end of ``as_of``; ties by dealer id. A rejection only lowers a count, so the true
    top ``limit`` lie within the stored top ``limit`` + (rejected ads with a dealer), ties
    included: no more is read."""
    rejected = Counter(row["dealer_id"] for row in _rejected(s, as_of))
    mine = and_(MonthFigure.month == as_of, MonthFigure.figure == "dealer_ads")
    if limit is not None:
        # the count the (limit + rejected)-th dealer has: every dealer with as many is read (ties)
        cut = (select(MonthFigure.n).where(mine).order_by(MonthFigure.n.desc())
               .offset(limit + sum(rejected.values()) - 1).limit(1).scalar_subquery())
        mine = and_(mine, MonthFigure.n >= func.coalesce(cut, 0))
    stored = s.execute(select(MonthFigure.a, MonthFigure.n).where(mine)).all()
    counts = [(int(a), n - rejected[int(a)]) for a, n in stored]
    return sorted(((did, n) for did, n in counts if n > 0), key=lambda pair: (-pair[1], pair[0]))[:limit]


def dealers_with_ads(s: Session, as_of: str) -> int:
    """Dealers with a flagged ad known at the end of ``as_of`` that no analyst rejected."""
    rejected = Counter(row["dealer_id"] for row in _rejected(s, as_of))
    mine = and_(MonthFigure.month == as_of, MonthFigure.figure == "dealer_ads")
    stored = s.execute(select(func.count()).where(mine)).scalar_one()
    emptied = 0
    ids = sorted(rejected)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        emptied += sum(n <= rejected[int(a)] for a, n in s.execute(
            select(MonthFigure.a, MonthFigure.n).where(mine, MonthFigure.a.in_([str(d) for d in chunk]))))
    return stored - emptied


def dealer_records(s: Session, as_of: str, dealer_ids: list[int],
                   site_names: dict[int, str]) -> dict[int, dict[str, Any]]:
    """dealer id -> ``total_ads``, ``ads_by_species``, ``sites`` (names) and ``months_active`` over
    its flagged ads known at the end of ``as_of``, rejected ones left out."""
    counts: dict[str, dict[int, Counter]] = {figure: defaultdict(Counter) for figure in _RECORD_FIGURES}
    for start in range(0, len(dealer_ids), _CHUNK):
        keys = [str(did) for did in dealer_ids[start:start + _CHUNK]]
        for figure, a, b, n in s.execute(
            select(MonthFigure.figure, MonthFigure.a, MonthFigure.b, MonthFigure.n)
            .where(MonthFigure.month == as_of, MonthFigure.figure.in_(_RECORD_FIGURES), MonthFigure.a.in_(keys))
        ):
            counts[figure][int(a)][b] += n
    wanted = set(dealer_ids)
    for row in _rejected(s, as_of):
        if row["dealer_id"] in wanted:
            counts["dealer_site"][row["dealer_id"]][str(row["site_id"])] -= 1
            counts["dealer_month"][row["dealer_id"]][row["first_seen_month"]] -= 1
            counts["dealer_species"][row["dealer_id"]].subtract(row["species"])
    out = {}
    for did in dealer_ids:
        sites = +counts["dealer_site"][did]
        out[did] = {"total_ads": sum(sites.values()),
                    "ads_by_species": dict(sorted((+counts["dealer_species"][did]).items())),
                    "sites": sorted(site_names[int(site_id)] for site_id in sites),
                    "months_active": sorted(+counts["dealer_month"][did])}
    return out
