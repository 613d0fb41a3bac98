"""Takedown request cohorts against their baseline: what a request changed, as far as it is known.

Flagged ads vanish on their own (expiry, the platform's own moderation), so "removed after a
request" says little alone. A cohort (one site's requests filed for one month) is compared with
its baseline: the same site's flagged ads that were never requested, still online on the request
date, weighted to the cohort's ages (posting month), so an old backlog is compared with old ads.
The report shows both rates and their difference, never "removed because of the request".

A window (30 or 60 days after the request) is decided only once a crawl of the site ran at its
end (less CADENCE_SLACK_DAYS, as a removal is seen only at the next crawl); until then it is
pending and no rate is given. Everything is read as of the end of ``as_of`` month (its snapshot,
``monitor.storage.snapshots``, and requests filed up to it): later crawls, removals, flags and
requests are ignored, so a report regenerated later says the same. The month's removals by site
and method (``removals``), the rates the baseline stands for, live here too.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, extract, func, or_, select
from sqlalchemy.orm import Session

from monitor.storage.models import Listing, MonthFigure, MonthListing, Site, SiteCrawl, TakedownItem, TakedownRequest
from monitor.storage.newness import decided, decided_rows, new_month, resolve, standing
from monitor.storage.timeutil import check_month

CADENCE_SLACK_DAYS = 3
WINDOWS = (30, 60)

__all__ = ["CADENCE_SLACK_DAYS", "WINDOWS", "removals", "repeat_unremoved", "takedown_cohorts", "takedown_history",
           "takedown_outcomes"]


def _crawl_times(s: Session, as_of: str) -> dict[int, list[datetime]]:
    """site id -> times of its crawls up to the end of ``as_of``, oldest first."""
    out: dict[int, list[datetime]] = defaultdict(list)
    for site_id, started in s.execute(
        select(SiteCrawl.site_id, SiteCrawl.started_at)
        .where(SiteCrawl.month <= as_of, SiteCrawl.status != "refused")
        .order_by(SiteCrawl.started_at)
    ):
        out[site_id].append(started)
    return out


def _within(gone: datetime | None, sent: datetime, days: int, seen_until: datetime | None) -> bool:
    if gone is None or seen_until is None or gone > seen_until or gone < sent - timedelta(days=1):
        return False
    return (gone - sent).total_seconds() / 86400 <= days + CADENCE_SLACK_DAYS


def _decided(sent: datetime, days: int, crawls: list[datetime]) -> bool:
    return bool(crawls) and crawls[-1] >= sent + timedelta(days=days - CADENCE_SLACK_DAYS)


def takedown_cohorts(s: Session, request_month: str, as_of: str) -> list[dict[str, Any]]:
    """Per site, the requests filed for ``request_month`` as known at the end of ``as_of``.

    Ads an analyst rejected are left out. Each row: ``requested`` (``confirmed`` of them); per window W in WINDOWS ``decided_W``, ``removed_W`` (removals seen
    so far) and the baseline's ``baseline_W`` (age-weighted removal rate, None without baseline
    ads); ``baseline_ads``; ``intervals`` (crawl intervals from the request to the crawl that
    found the ad gone -> ads).
    """
    return takedown_history(s, (request_month,), as_of)[request_month]


def takedown_history(s: Session, request_months: tuple[str, ...], as_of: str) -> dict[str, list[dict[str, Any]]]:
    """``takedown_cohorts`` of several request months at once (the report shows three): their
    baselines are read in one pass over the snapshot instead of one per month."""
    for month in request_months:
        check_month(month)
    as_of = resolve(s, check_month(as_of), as_of)
    crawls = _crawl_times(s, as_of)
    requested, confirmed = _requested(s, request_months, as_of)
    names = dict(s.execute(select(Site.id, Site.name)).all())
    first_sent = {key: min(sent for sent, _, _ in items) for key, items in requested.items()}
    baselines = _baselines(s, {(site_id, sent) for (_, site_id), sent in first_sent.items()}, as_of)
    out: dict[str, list[dict[str, Any]]] = {month: [] for month in request_months}
    for month, site_id in sorted(requested, key=lambda key: (key[0], names[key[1]])):
        site_crawls = crawls.get(site_id, [])
        sent = first_sent[(month, site_id)]
        row = _cohort_row(requested[(month, site_id)], site_crawls, baselines.get((site_id, sent), []), sent)
        out[month].append({"site": names[site_id], "requested": row.pop("requested"),
                           "confirmed": confirmed[(month, site_id)], **row})
    return out


def _requested(s: Session, request_months: tuple[str, ...], as_of: str) -> tuple[dict[tuple[str, int], list], Counter]:
    """(request month, site id) -> (sent, removed at, posting month) of each requested ad not
    rejected, with how many of them analysts confirmed."""
    ml = MonthListing
    requested: dict[tuple[str, int], list[tuple[datetime, datetime | None, str]]] = defaultdict(list)
    confirmed: Counter = Counter()
    year, mon = extract("year", Listing.posted_at), extract("month", Listing.posted_at)
    for month, site_id, sent, item_gone, listing_gone, seen_month, y, m, is_confirmed in s.execute(
        select(TakedownRequest.month, TakedownRequest.site_id, TakedownRequest.sent_at, TakedownItem.removed_at,
               ml.removed_at, Listing.first_seen_month, year, mon, Listing.id.in_(decided("confirmed")))
        .join(TakedownItem, TakedownItem.request_id == TakedownRequest.id)
        .join(Listing, Listing.id == TakedownItem.listing_id)
        .outerjoin(ml, and_(ml.listing_id == Listing.id, ml.month == as_of))
        .where(TakedownRequest.month.in_(request_months), Listing.id.not_in(decided("rejected")))
    ):
        requested[(month, site_id)].append((sent, item_gone or listing_gone, new_month(seen_month, y, m)))
        confirmed[(month, site_id)] += bool(is_confirmed)
    return requested, confirmed


def _cohort_row(items: list[tuple[datetime, datetime | None, str]], site_crawls: list[datetime],
                baseline_rows: list[tuple[str, datetime | None, int]], sent: datetime) -> dict[str, Any]:
    seen_until = site_crawls[-1] if site_crawls else None
    ages = Counter(age for _, _, age in items)
    baseline = _baseline(baseline_rows, sent, seen_until)
    row: dict[str, Any] = {"requested": len(items), "baseline_ads": sum(n for n, _ in baseline.values())}
    for days in WINDOWS:
        row[f"decided_{days}"] = all(_decided(t, days, site_crawls) for t, _, _ in items)
        row[f"removed_{days}"] = sum(_within(gone, t, days, seen_until) for t, gone, _ in items)
        row[f"baseline_removed_{days}"] = sum(gone[days] for _, gone in baseline.values())
        row[f"baseline_{days}"] = _weighted_rate(ages, {age: (n, gone[days]) for age, (n, gone) in baseline.items()})
    row["intervals"] = _intervals(items, site_crawls, seen_until)
    return row


def _baselines(s: Session, sent: set[tuple[int, datetime]],
               as_of: str) -> dict[tuple[int, datetime], list[tuple[str, datetime | None, int]]]:
    """(site id, request date) -> (posting month, removed at, ads) of the site's flagged ads never
    requested by the end of ``as_of`` and online at that date. One query for every pair: each ad
    is placed by the first request date it was already seen by (a CASE over the dates)."""
    if not sent:
        return {}
    ml = MonthListing
    requested = (exists().where(TakedownItem.listing_id == ml.listing_id, TakedownRequest.id == TakedownItem.request_id,
                                TakedownRequest.month <= as_of))
    year, mon = extract("year", ml.posted_at), extract("month", ml.posted_at)
    dates = sorted({when for _, when in sent})
    seen_by = case(*((ml.first_seen <= when, index) for index, when in enumerate(dates)), else_=len(dates))
    out: dict[tuple[int, datetime], list[tuple[str, datetime | None, int]]] = defaultdict(list)
    dates_of: dict[int, list[datetime]] = defaultdict(list)
    for site_id, when in sent:
        dates_of[site_id].append(when)
    for site_id, seen_month, y, m, gone, first, n in s.execute(
        select(ml.site_id, ml.first_seen_month, year, mon, ml.removed_at, seen_by, func.count())
        .where(standing(as_of), ml.site_id.in_(sorted(dates_of)), ml.first_seen <= dates[-1],
               or_(ml.removed_at.is_(None), ml.removed_at > dates[0]), ~requested)
        .group_by(ml.site_id, ml.first_seen_month, year, mon, ml.removed_at, seen_by)
    ):
        for when in dates_of[site_id]:
            if dates[first] <= when and (gone is None or gone > when):
                out[(site_id, when)].append((new_month(seen_month, y, m), gone, n))
    return out


def _baseline(rows: list[tuple[str, datetime | None, int]], sent: datetime,
              seen_until: datetime | None) -> dict[str, tuple[int, Counter]]:
    """posting month -> (baseline ads, of which removed within each window as seen by ``seen_until``)."""
    out: dict[str, tuple[int, Counter]] = {}
    for age, gone, n in rows:
        count, removed = out.get(age, (0, Counter()))
        for days in WINDOWS:
            removed[days] += n * _within(gone, sent, days, seen_until)
        out[age] = (count + n, removed)
    return out


def _weighted_rate(ages: Counter, baseline: dict[str, tuple[int, int]]) -> float | None:
    """The baseline's removal rate with each posting month weighted as in the cohort (direct
    standardisation); cohort ads of a month the baseline lacks use the nearest month it has."""
    if not baseline:
        return None
    known = sorted(baseline)
    total = 0.0
    for age, weight in ages.items():
        nearest = min(known, key=lambda k: (abs(_month_index(k) - _month_index(age)), k))
        n, gone = baseline[nearest]
        total += weight * gone / n
    return round(total / sum(ages.values()), 4)


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


def _intervals(items: list[tuple[datetime, datetime | None, str]], crawls: list[datetime],
               seen_until: datetime | None) -> dict[int, int]:
    """Crawl intervals from each request to the crawl that found its ad gone -> ads."""
    counts: Counter = Counter()
    for sent, gone, _ in items:
        if gone is None or seen_until is None or gone > seen_until or gone < sent:
            continue
        counts[bisect_right(crawls, gone) - bisect_right(crawls, sent)] += 1
    return dict(sorted(counts.items()))


def repeat_unremoved(s: Session, as_of: str) -> list[dict[str, Any]]:
    """Per site: ads requested two or more times (requests up to ``as_of``) still online at its end."""
    as_of = resolve(s, check_month(as_of), as_of)
    # An item's key is (request, listing): counting a listing's items counts distinct requests.
    repeated = (
        select(TakedownItem.listing_id, func.count().label("requests"))
        .join(TakedownRequest, TakedownRequest.id == TakedownItem.request_id)
        .where(TakedownRequest.month <= as_of)
        .group_by(TakedownItem.listing_id)
        .having(func.count() >= 2)
        .subquery()
    )
    rows = s.execute(
        select(Site.name, func.count(), func.max(repeated.c.requests))
        .join(MonthListing, and_(MonthListing.listing_id == repeated.c.listing_id, MonthListing.month == as_of))
        .join(Site, Site.id == MonthListing.site_id)
        .where(MonthListing.removed_at.is_(None), MonthListing.listing_id.not_in(decided("rejected")))
        .group_by(Site.name)
        .order_by(Site.name)
    )
    return [{"site": name, "listings": n, "most_requests": most} for name, n, most in rows]


def removals(s: Session, month: str, as_of: str | None = None) -> list[dict[str, Any]]:
    """Per site: flagged listings live at the start of ``month``, and those removed during it by kind."""
    as_of = resolve(s, check_month(month), as_of)
    live, removed = _month_removals(s, as_of) if month == as_of else _removals_then(s, month, as_of)
    names = dict(s.execute(select(Site.id, Site.name)).all())
    out = []
    for site_id in sorted(set(live) | set(removed), key=lambda i: names[i]):
        total = sum(removed[site_id].values()) if site_id in removed else 0
        at_start = live.get(site_id, 0)
        out.append({
            "site": names[site_id], "live_at_start": at_start, "removed": total,
            "by_kind": dict(sorted(removed.get(site_id, {}).items())),
            "removal_rate": (total / at_start) if at_start else None,
        })
    return out


def _month_removals(s: Session, as_of: str) -> tuple[Counter, dict[int, Counter]]:
    """The as-of month's own removals: the snapshot's counts, less the ads analysts rejected."""
    live: Counter = Counter()
    removed: dict[int, Counter] = defaultdict(Counter)
    for figure, a, b, n in s.execute(select(MonthFigure.figure, MonthFigure.a, MonthFigure.b, MonthFigure.n)
                                     .where(MonthFigure.month == as_of, MonthFigure.figure.in_(("live", "removed")))):
        if figure == "live":
            live[int(a)] += n
        else:
            removed[int(a)][b] += n
    for row in decided_rows(s, as_of):
        if row["decision"] != "rejected":
            continue
        if row["first_seen_month"] < as_of and (row["removed_month"] is None or row["removed_month"] >= as_of):
            live[row["site_id"]] -= 1
        if row["removed_month"] == as_of:
            removed[row["site_id"]][row["removal_kind"] or "unknown"] -= 1
    return +live, {site: +kinds for site, kinds in removed.items() if +kinds}


def _removals_then(s: Session, month: str, as_of: str) -> tuple[Counter, dict[int, Counter]]:
    live = Counter(dict(s.execute(
        select(MonthListing.site_id, func.count())
        .where(standing(as_of), MonthListing.first_seen_month < month, or_(MonthListing.removed_month.is_(None), MonthListing.removed_month >= month))
        .group_by(MonthListing.site_id)
    ).all()))
    removed: dict[int, Counter] = defaultdict(Counter)
    for site_id, kind, count in s.execute(
        select(MonthListing.site_id, MonthListing.removal_kind, func.count())
        .where(standing(as_of), MonthListing.removed_month == month).group_by(MonthListing.site_id, MonthListing.removal_kind)
    ):
        removed[site_id][kind or "unknown"] += count
    return live, removed


def takedown_outcomes(s: Session, month: str) -> list[dict[str, Any]]:
    """Per site, for the takedown requests filed for ``month``: how many listings were
    requested and how many were gone within 30 and 60 days of the request.

    A removal is only seen at the next crawl, so with monthly crawls a listing taken down
    a week after a request sent on 30 June is first seen gone on 31 July (31 days); the
    windows allow CADENCE_SLACK_DAYS for that."""
    check_month(month)
    rows = s.execute(
        select(TakedownRequest.site_id, TakedownRequest.sent_at, TakedownItem.removed_at, Listing.removed_at)
        .join(TakedownItem, TakedownItem.request_id == TakedownRequest.id)
        .join(Listing, Listing.id == TakedownItem.listing_id)
        .where(TakedownRequest.month == month)
    ).all()
    per_site: dict[int, Counter] = defaultdict(Counter)
    for site_id, sent_at, item_removed, listing_removed in rows:
        gone = item_removed or listing_removed
        counts = per_site[site_id]
        counts["requested"] += 1
        if gone is not None and gone >= sent_at - timedelta(days=1):
            days = (gone - sent_at).total_seconds() / 86400
            counts["removed_30d"] += days <= 30 + CADENCE_SLACK_DAYS
            counts["removed_60d"] += days <= 60 + CADENCE_SLACK_DAYS
            counts["removed"] += 1
    names = dict(s.execute(select(Site.id, Site.name)).all())
    return [
        {
            "site": names[site_id],
            "requested": c["requested"],
            "removed_30d": c["removed_30d"],
            "removed_60d": c["removed_60d"],
            "removed": c["removed"],
            "pending": c["requested"] - c["removed"],
        }
        for site_id, c in sorted(per_site.items(), key=lambda pair: names[pair[0]])
    ]
