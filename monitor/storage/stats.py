"""The monthly report's questions, as query functions over a Session.

Months are "YYYY-MM" strings; "new flagged ads in M" are flagged listings posted in M (first
seen in M when the site gives no date), never the backlog a site's first month finds
(``monitor.storage.newness``). Every figure is as known at the end of an *as-of* month (the
report's month; ``newness.resolve``): it reads that month's snapshot
(``monitor.storage.snapshots``), so a report regenerated later gives the same figures, with
analysts' decisions as they stand now.
Every query groups on indexed month columns (``month_listings.first_seen_month``,
``month_species``) in portable SQL, and loads details only for the few rows shown, so
each stays well under two seconds on millions of rows (see benchmarks/storage.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true, union
from sqlalchemy.orm import Session

from monitor.crawlhealth import SiteHealth
from monitor.storage.models import (
    Contact,
    Evidence,
    Listing,
    ListingContact,
    Match,
    MonthListing,
    MonthMatch,
    MonthSpecies,
    ReviewDecision,
    Site,
    SiteCrawl,
)
from monitor.storage.cohorts import removals, repeat_unremoved, takedown_cohorts, takedown_history, takedown_outcomes
from monitor.storage.dealer_figures import dealer_records
from monitor.storage.newness import AS_OF_KEY, backlog, new_in, new_series, resolve
from monitor.storage.snapshots import dealer_reversals, listing_states, month_end
from monitor.storage.timeutil import check_month, previous_month

ML, MS = MonthListing, MonthSpecies

__all__ = [
    "backlog_found",
    "crawl_health",
    "dealer_count",
    "dealers_contacts",
    "decisions_after",
    "example_ads",
    "listing_contacts",
    "months_with_data",
    "monthly_totals",
    "monthly_trend",
    "new_flagged_by_site",
    "new_flagged_by_site_species",
    "new_flagged_by_species",
    "new_flagged_summary",
    "removals",
    "removed_unread",
    "repeat_unremoved",
    "review_counts",
    "sites_not_crawled",
    "takedown_cohorts",
    "takedown_history",
    "takedown_outcomes",
    "term_hits",
    "top_dealers",
]


def _species_join() -> Any:
    return and_(ML.listing_id == MS.listing_id, ML.month == MS.month)


def new_flagged_by_species(s: Session, month: str, confirmed: bool = False, as_of: str | None = None) -> dict[str, int]:
    as_of = resolve(s, check_month(month), as_of)
    rows = s.execute(
        select(MS.species, func.count()).join(ML, _species_join())
        .where(new_in(s, month, as_of, confirmed), MS.first_seen_month >= month).group_by(MS.species).order_by(MS.species)
    )
    return {species: count for species, count in rows}


def new_flagged_by_site(s: Session, month: str, confirmed: bool = False, as_of: str | None = None) -> dict[str, int]:
    """site -> flagged ads new in ``month``, rejected ones left out (``confirmed``: confirmed only)."""
    as_of = resolve(s, check_month(month), as_of)
    counts = s.execute(select(ML.site_id, func.count()).where(new_in(s, month, as_of, confirmed)).group_by(ML.site_id)).all()
    names = _site_names(s)
    return dict(sorted((names[site_id], count) for site_id, count in counts))


def new_flagged_by_site_species(s: Session, month: str, as_of: str | None = None) -> dict[tuple[str, str], int]:
    as_of = resolve(s, check_month(month), as_of)
    counts = s.execute(
        select(ML.site_id, MS.species, func.count()).join(ML, _species_join())
        .where(new_in(s, month, as_of), MS.first_seen_month >= month).group_by(ML.site_id, MS.species)
    ).all()
    names = _site_names(s)
    return dict(sorted(((names[site_id], species), count) for site_id, species, count in counts))


def new_flagged_summary(s: Session, month: str, as_of: str | None = None) -> dict[str, int]:
    """New flagged listings in ``month``, and how many are unique ads rather than re-posts
    (same text under a new id or on another site) of an ad seen before."""
    as_of = resolve(s, check_month(month), as_of)
    total, reposts = s.execute(select(func.count(), func.count(ML.repost_of)).where(new_in(s, month, as_of))).one()
    return {"listings": total, "unique_ads": total - reposts, "reposts": reposts}


def monthly_trend(s: Session, as_of: str | None = None) -> list[tuple[str, str, int]]:
    """(month, species, new flagged listings) for every month with new ads, oldest first."""
    as_of = resolve(s, None, as_of)
    return [(month, species, n) for (month, species), n in sorted(new_series(s, as_of, by_species=True).items())]


def monthly_totals(s: Session, confirmed: bool = False, as_of: str | None = None) -> dict[str, int]:
    """month -> new flagged listings new in it, each listing once (the species rows
    count a two-species listing twice); ``confirmed``: confirmed ones only."""
    as_of = resolve(s, None, as_of)
    return {month: n for (month, _), n in sorted(new_series(s, as_of, confirmed=confirmed).items())}


def backlog_found(s: Session, month: str, as_of: str | None = None) -> list[dict[str, Any]]:
    """Per site: flagged ads found in ``month`` but posted before the site was first monitored
    (counted apart, never as new), and the earliest month they were posted."""
    as_of = resolve(s, check_month(month), as_of)
    names = _site_names(s)
    rows = [{**{k: v for k, v in r.items() if k != "site_id"}, "site": names[r["site_id"]]} for r in backlog(s, month, as_of)]
    return sorted(rows, key=lambda r: r["site"])


def removed_unread(s: Session, month: str, as_of: str | None = None) -> list[dict[str, Any]]:
    """Per site: listings first seen in ``month`` already removed (stored from their results-page
    entry, ``Listing.unread``), and how many of those the matcher flags by what that entry showed.
    Counted apart: they are never new flagged ads, dealers' ads or trend figures."""
    as_of = resolve(s, check_month(month), as_of)
    counts: dict[int, Counter] = defaultdict(Counter)
    for site_id, species in s.execute(
        select(ML.site_id, ML.species).where(ML.month == as_of, ML.first_seen_month == month, ML.unread == true())
    ):
        counts[site_id]["listings"] += 1
        counts[site_id]["flagged_by_title"] += bool(species)
    names = _site_names(s)
    return [{"site": names[site_id], "listings": c["listings"], "flagged_by_title": c["flagged_by_title"]}
            for site_id, c in sorted(counts.items(), key=lambda pair: names[pair[0]])]


def dealer_count(s: Session, month: str, as_of: str | None = None) -> int:
    """How many dealers have new flagged ads in ``month`` (the table shows the top few)."""
    as_of = resolve(s, check_month(month), as_of)
    return s.execute(select(func.count(func.distinct(ML.dealer_id)))
                     .where(new_in(s, month, as_of), ML.dealer_id.is_not(None))).scalar_one()


def top_dealers(s: Session, month: str, limit: int | None = 20, as_of: str | None = None) -> list[dict[str, Any]]:
    """Dealers with the most new flagged listings in ``month`` (``limit`` None: every one), with
    their record as known at the end of the as-of month (ads and contacts seen by then)."""
    as_of = resolve(s, check_month(month), as_of)
    top = s.execute(
        select(ML.dealer_id, func.count().label("n")).where(new_in(s, month, as_of), ML.dealer_id.is_not(None))
        .group_by(ML.dealer_id).order_by(func.count().desc(), ML.dealer_id).limit(limit)
    ).all()
    if not top:
        return []
    ids = [dealer_id for dealer_id, _ in top]
    records = dealer_records(s, as_of, ids, _site_names(s))
    contacts = dealers_contacts(s, ids, as_of)
    confirmed = dict(s.execute(  # few: every dealer's are read
        select(ML.dealer_id, func.count()).where(new_in(s, month, as_of, confirmed=True)).group_by(ML.dealer_id)
    ).all())
    return [
        {"dealer_id": did, "new_ads": new, "confirmed_ads": confirmed.get(did, 0), "total_ads": records[did]["total_ads"],
         "contacts": contacts[did], **{k: v for k, v in records[did].items() if k != "total_ads"}}
        for did, new in top
    ]


def term_hits(s: Session, month: str, as_of: str | None = None) -> list[dict[str, Any]]:
    """Matches by (term, species, kind) on listings new this month and last month, as matched at
    the end of the as-of month (its snapshot keeps them for the month and the one before; an
    older month reads the matches as they stand)."""
    as_of = resolve(s, check_month(month), as_of)
    hits: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: {"this": 0, "last": 0})
    for which, when in (("this", month), ("last", previous_month(month))):
        kept = when >= previous_month(as_of)
        hit = MonthMatch if kept else Match
        joined = and_(ML.listing_id == hit.listing_id, *([ML.month == MonthMatch.month] if kept else []))
        for term, species, kind, count in s.execute(
            select(hit.term, hit.species, hit.kind, func.count())
            .join(ML, joined).where(new_in(s, when, as_of))
            .group_by(hit.term, hit.species, hit.kind)
        ):
            hits[(term, species, kind)][which] += count
    out = [
        {"term": term, "species": species, "kind": kind, "hits": c["this"], "hits_last_month": c["last"]}
        for (term, species, kind), c in hits.items()
    ]
    out.sort(key=lambda r: (-r["hits"], -r["hits_last_month"], r["species"], r["term"]))
    return out


def example_ads(s: Session, month: str, limit: int = 30, as_of: str | None = None) -> list[dict[str, Any]]:
    """The month's highest-scoring new flagged listings, with matches for highlighting, each as
    it stood at the end of the as-of month (text, price, last seen, removal, evidence)."""
    as_of = resolve(s, check_month(month), as_of)
    rows = s.execute(
        select(ML.listing_id, Site.name).join(Site, Site.id == ML.site_id)
        .where(new_in(s, month, as_of)).order_by(ML.score.desc(), ML.listing_id).limit(limit)
    ).all()
    ids = [listing_id for listing_id, _ in rows]
    states = listing_states(s, ids, as_of)
    matches = {i: sorted(states[i]["matches"], key=lambda m: (m["field"], m["start"])) for i in ids}
    decisions: dict[int, str] = {}
    evidence: dict[int, str] = {}
    contacts = listing_contacts(s, ids, before=month_end(as_of))
    if ids:
        decisions = dict(s.execute(
            select(ReviewDecision.listing_id, ReviewDecision.decision)
            .where(ReviewDecision.listing_id.in_(ids), ReviewDecision.current == true())
        ).all())
        for listing_id, sha in s.execute(
            select(Evidence.listing_id, Evidence.sha256)
            .where(Evidence.listing_id.in_(ids), Evidence.fetched_at < month_end(as_of)).order_by(Evidence.fetched_at, Evidence.id)
        ):
            evidence[listing_id] = sha
    keys = ("external_id", "url", "title", "description", "price_text", "price_cny", "location", "seller", "posted_at",
            "first_seen", "last_seen", "removed_at", "removal_kind", "score", "dealer_id", "repost_of")
    return [
        {
            "id": listing_id, "site": site, **{k: states[listing_id][k] for k in keys},
            "species": list(states[listing_id]["species"] or []), "evidence_sha256": evidence.get(listing_id),
            "review": decisions.get(listing_id, "candidate"), "matches": matches[listing_id],
            "contacts": contacts.get(listing_id, []),
        }
        for listing_id, site in rows
    ]


def dealers_contacts(s: Session, dealer_ids: list[int], as_of: str) -> dict[int, list[dict[str, str]]]:
    """dealer id -> its contacts as ``{"kind", "value"}`` at the end of ``as_of`` (first seen by
    then; a contact whose dealer merged with another since goes back to the dealer it had)."""
    then = dealer_reversals(s, as_of)
    wanted = set(dealer_ids)
    moved = sorted(c for c, d in then.items() if d in wanted)
    found: list[tuple[str, str, int]] = []
    for start in range(0, max(len(dealer_ids), len(moved)), 500):  # an export asks for every dealer
        for contact_id, did, kind, value in s.execute(
            select(Contact.id, Contact.dealer_id, Contact.kind, Contact.value)
            .where(or_(Contact.dealer_id.in_(dealer_ids[start:start + 500]), Contact.id.in_(moved[start:start + 500])),
                   Contact.first_seen < month_end(as_of))
        ):
            found.append((kind, value, then.get(contact_id, did)))
    out: dict[int, list[dict[str, str]]] = {did: [] for did in dealer_ids}
    for kind, value, did in sorted(set(found)):
        if did in wanted:
            out[did].append({"kind": kind, "value": value})
    return out


def listing_contacts(s: Session, listing_ids: list[int], before: datetime | None = None) -> dict[int, list[dict[str, str]]]:
    """listing id -> its contacts as ``{"kind", "value"}`` (for the few listings shown);
    ``before``: only contacts first seen before then."""
    ids = list(listing_ids)
    out: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    seen = Contact.first_seen < before if before is not None else true()
    for start in range(0, len(ids), 500):
        for listing_id, kind, value in s.execute(
            select(ListingContact.listing_id, Contact.kind, Contact.value)
            .join(Contact, Contact.id == ListingContact.contact_id)
            .where(ListingContact.listing_id.in_(ids[start:start + 500]), seen)
            .order_by(ListingContact.listing_id, Contact.kind, Contact.value)
        ):
            out[listing_id].append({"kind": kind, "value": value})
    return out


def crawl_health(s: Session, month: str) -> list[dict[str, Any]]:
    """Per site, the health figures of its latest crawl in ``month`` (a ``SiteHealth`` as JSON,
    flattened), plus ``site``, ``last_run``, ``status`` and the stored ``health`` JSON."""
    check_month(month)
    latest = (
        select(SiteCrawl.site_id, func.max(SiteCrawl.id).label("crawl_id"))
        .where(SiteCrawl.month == month, SiteCrawl.status != "refused")
        .group_by(SiteCrawl.site_id)
        .subquery()
    )
    rows = s.execute(
        select(SiteCrawl, Site.name).join(latest, latest.c.crawl_id == SiteCrawl.id).join(Site, Site.id == SiteCrawl.site_id)
        .order_by(Site.name)
    ).all()
    out = []
    for crawl, name in rows:
        health = dict(crawl.health or {})
        entry: dict[str, Any] = {**SiteHealth.from_json(health).to_json(), "items": health.get("items", crawl.items)}
        entry.update({
            "site": name, "last_run": crawl.finished_at or crawl.started_at, "status": crawl.status,
            "run_id": crawl.run_id, "new_listings": crawl.new_listings, "removed_listings": crawl.removed_listings,
            "health": health,
        })
        if crawl.status != "finished":
            entry["healthy"] = False
            entry["problems"] = entry["problems"] or [f"crawl {crawl.status}"]
        out.append(entry)
    return out


def review_counts(s: Session, month: str, as_of: str | None = None) -> dict[str, dict[str, int]]:
    """species -> counts of the month's new flagged listings by current review decision (the
    rejected ones too, which every other figure leaves out)."""
    as_of = resolve(s, check_month(month), as_of)
    rows = s.execute(
        select(MS.species, ReviewDecision.decision, func.count()).select_from(MS).join(ML, _species_join())
        .outerjoin(ReviewDecision, and_(ReviewDecision.listing_id == MS.listing_id, ReviewDecision.current == true()))
        .where(new_in(s, month, as_of, rejected_too=True), MS.first_seen_month >= month)
        .group_by(MS.species, ReviewDecision.decision)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for species, decision, count in rows:
        counts = out.setdefault(species, {"confirmed": 0, "rejected": 0, "candidate": 0})
        key = decision if decision in ("confirmed", "rejected") else "candidate"
        counts[key] += count
    return dict(sorted(out.items()))


def decisions_after(s: Session, month: str, as_of: str | None = None) -> dict[str, int]:
    """Analysts' current decisions dated after the end of the as-of month on the ads it knows
    flagged (the report applies them, so its figures differ from a report written then):
    ``{"decisions", "confirmed", "rejected"}``."""
    as_of = resolve(s, check_month(month), as_of)
    known = exists().where(ML.month == as_of, ML.listing_id == ReviewDecision.listing_id, ML.flagged == true())
    counts = dict(s.execute(
        select(ReviewDecision.decision, func.count())
        .where(ReviewDecision.current == true(), ReviewDecision.decided_at >= month_end(as_of), known)
        .group_by(ReviewDecision.decision)
    ).all())
    return {"decisions": sum(counts.values()), "confirmed": counts.get("confirmed", 0), "rejected": counts.get("rejected", 0)}


def months_with_data(s: Session, as_of: str | None = None) -> list[str]:
    """Months with listings first seen or crawls run, oldest first; with ``as_of`` (or a report's
    session), those known at its end (flagged listings from its snapshot)."""
    as_of = as_of or s.info.get(AS_OF_KEY)
    if as_of is not None:
        as_of = resolve(s, check_month(as_of), as_of)
        query = union(
            select(_distinct_seen_months(as_of).c.month),
            select(SiteCrawl.month.label("month")).where(SiteCrawl.month <= as_of).distinct(),
        )
    else:
        query = union(
            select(Listing.first_seen_month.label("month")).distinct(),
            select(SiteCrawl.month.label("month")).distinct(),
        )
    return sorted(m for (m,) in s.execute(query) if m)


def _distinct_seen_months(as_of: str) -> Any:
    """The snapshot's first-seen months, read as a skip scan of its month index (one index seek per
    month, where SELECT DISTINCT reads every flagged ad's entry): a recursive CTE, portable SQL."""
    def next_after(month: Any) -> Any:
        return select(func.min(ML.first_seen_month)).where(ML.month == as_of, ML.first_seen_month > month).scalar_subquery()

    seen = select(func.min(ML.first_seen_month).label("month")).where(ML.month == as_of).cte("seen_months", recursive=True)
    seen = seen.union_all(select(next_after(seen.c.month)).where(seen.c.month.is_not(None)))
    return select(seen.c.month).where(seen.c.month.is_not(None)).subquery()


def sites_not_crawled(s: Session, month: str) -> list[dict[str, Any]]:
    """Sites crawled before ``month`` with no crawl (finished or failed) in it: a coverage gap."""
    check_month(month)
    crawled_before = select(SiteCrawl.site_id).where(SiteCrawl.month < month).distinct()
    crawled_now = select(SiteCrawl.site_id).where(SiteCrawl.month == month, SiteCrawl.status != "refused")
    rows = s.execute(
        select(Site.name, func.max(SiteCrawl.month))
        .join(SiteCrawl, SiteCrawl.site_id == Site.id)
        .where(Site.id.in_(crawled_before), Site.id.not_in(crawled_now), SiteCrawl.month < month)
        .group_by(Site.name)
        .order_by(Site.name)
    )
    return [{"site": name, "last_crawled_month": last} for name, last in rows]


def _site_names(s: Session) -> dict[int, str]:
    return dict(s.execute(select(Site.id, Site.name)).all())
