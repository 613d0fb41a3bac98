"""What each workbench page reads from the database: small queries over the indexed columns,
bounded by a page size so a page costs the same at 1,000,000 listings as at 100."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import desc, exists, func, select, true
from sqlalchemy.orm import Session

from monitor.crawlhealth import SiteHealth
from monitor.storage.models import (
    Contact,
    Dealer,
    Evidence,
    Listing,
    ListingSpecies,
    Match,
    Observation,
    ReviewDecision,
    Site,
    SiteCrawl,
    TakedownItem,
    TakedownRequest,
)
from monitor.storage.stats import listing_contacts

PAGE = 50
SHA256 = re.compile(r"[0-9a-f]{64}")


def queue(s: Session, site: str = "", species: str = "", dealer: int | None = None,
          reviewed: bool = False, limit: int = PAGE) -> list[dict[str, Any]]:
    """Flagged listings, newest month first: unreviewed ones (or, with ``reviewed``, the ones
    decided), filtered by site, species and dealer."""
    decided = exists().where(ReviewDecision.listing_id == Listing.id, ReviewDecision.current == true())
    query = (select(Listing, Site.name).join(Site, Site.id == Listing.site_id)
             .where(Listing.flagged == true(), decided if reviewed else ~decided))
    if site:
        query = query.where(Site.name == site)
    if species:
        query = query.where(exists().where(ListingSpecies.listing_id == Listing.id, ListingSpecies.species == species))
    if dealer is not None:
        query = query.where(Listing.dealer_id == dealer)
    rows: list[Any] = []
    # Month by month, newest first: each step reads one month's flags through the month index
    # instead of sorting every flag in the database.
    month = s.execute(select(func.max(Listing.first_seen_month))).scalar()
    while month is not None and len(rows) < limit:
        rows += s.execute(query.where(Listing.first_seen_month == month).order_by(desc(Listing.id))
                          .limit(limit - len(rows))).all()
        month = s.execute(select(func.max(Listing.first_seen_month)).where(Listing.first_seen_month < month)).scalar()
    return _cards(s, rows)


def _cards(s: Session, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [listing.id for listing, _ in rows]
    contacts = listing_contacts(s, ids)
    matches: dict[int, list[Match]] = {i: [] for i in ids}
    decisions: dict[int, ReviewDecision] = {}
    if ids:
        for match in s.scalars(select(Match).where(Match.listing_id.in_(ids)).order_by(Match.listing_id, Match.id)):
            matches[match.listing_id].append(match)
        for decision in s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id.in_(ids),
                                                               ReviewDecision.current == true())):
            decisions[decision.listing_id] = decision
    return [{"listing": listing, "site": site, "contacts": contacts[listing.id], "matches": matches[listing.id],
             "decision": decisions.get(listing.id)} for listing, site in rows]


def site_names(s: Session) -> list[str]:
    return list(s.scalars(select(Site.name).order_by(Site.name)))


def listing_page(s: Session, listing_id: int) -> dict[str, Any] | None:
    row = s.execute(select(Listing, Site.name).join(Site, Site.id == Listing.site_id)
                    .where(Listing.id == listing_id)).first()
    if row is None:
        return None
    card = _cards(s, [row])[0]
    card["evidence"] = list(s.scalars(select(Evidence).where(Evidence.listing_id == listing_id)
                                      .order_by(Evidence.fetched_at.desc(), Evidence.id.desc())))
    card["observations"] = list(s.scalars(select(Observation).where(Observation.listing_id == listing_id)
                                          .order_by(Observation.observed_at, Observation.id).limit(200)))
    card["takedowns"] = s.execute(
        select(TakedownRequest.sent_at, TakedownRequest.platform_contact, TakedownItem.removed_at,
               TakedownItem.removal_kind)
        .join(TakedownItem, TakedownItem.request_id == TakedownRequest.id)
        .where(TakedownItem.listing_id == listing_id).order_by(TakedownRequest.sent_at)
    ).all()
    card["decisions"] = list(s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id == listing_id)
                                       .order_by(ReviewDecision.id)))
    return card


def evidence_row(s: Session, sha256: str) -> tuple[Evidence, str] | None:
    """The stored evidence with this hash (any listing's: the file is the same) and its site."""
    if not SHA256.fullmatch(sha256):
        return None
    return s.execute(select(Evidence, Site.name).join(Listing, Listing.id == Evidence.listing_id)
                     .join(Site, Site.id == Listing.site_id).where(Evidence.sha256 == sha256).limit(1)).first()


def dealer_page(s: Session, dealer_id: int, limit: int = 500) -> dict[str, Any] | None:
    ads = s.execute(
        select(Listing, Site.name).join(Site, Site.id == Listing.site_id)
        .where(Listing.dealer_id == dealer_id).order_by(desc(Listing.first_seen), desc(Listing.id)).limit(limit)
    ).all()
    contacts = s.execute(select(Contact.kind, Contact.value, Contact.first_seen).where(Contact.dealer_id == dealer_id)
                         .order_by(Contact.kind, Contact.value)).all()
    if not ads and not contacts:
        return None
    total = s.execute(select(func.count()).where(Listing.dealer_id == dealer_id)).scalar() or 0
    months = Counter(listing.first_seen_month for listing, _ in ads)
    flagged = Counter(listing.first_seen_month for listing, _ in ads if listing.flagged)
    return {
        "id": dealer_id, "ads": ads, "total": total, "contacts": contacts,
        "names": sorted({listing.seller for listing, _ in ads if listing.seller}),
        "sites": sorted(Counter(site for _, site in ads).items()),
        "timeline": [{"month": m, "ads": months[m], "flagged": flagged[m]} for m in sorted(months)],
    }


def dealer_exists(s: Session, dealer_id: int) -> bool:
    return s.execute(select(Dealer.id).where(Dealer.id == dealer_id)).first() is not None


def site_runs(s: Session, per_site: int = 24) -> list[dict[str, Any]]:
    """Per site, its latest crawls (newest first) with their health verdict and figures."""
    out = []
    for site_id, name in s.execute(select(Site.id, Site.name).order_by(Site.name)):
        crawls = s.scalars(select(SiteCrawl).where(SiteCrawl.site_id == site_id)
                           .order_by(SiteCrawl.started_at.desc(), SiteCrawl.id.desc()).limit(per_site)).all()
        rows = []
        for crawl in crawls:
            health = SiteHealth.from_json(crawl.health)
            rows.append({"crawl": crawl, "health": health,
                         "healthy": health.healthy and crawl.status == "finished",
                         "errors": sum(health.errors.values())})
        out.append({"site": name, "crawls": rows})
    return out



def newest_month(s: Session) -> str | None:
    return s.execute(select(func.max(Listing.first_seen_month))).scalar()


def sample_cards(s: Session, ids: list[int], site: str = "", limit: int = PAGE) -> list[dict[str, Any]]:
    """The first ``limit`` undecided listings among ``ids`` (the unflagged sample), as queue
    cards; deciding them brings on the next."""
    if not ids:
        return []
    decided = exists().where(ReviewDecision.listing_id == Listing.id, ReviewDecision.current == true())
    query = select(Listing, Site.name).join(Site, Site.id == Listing.site_id).where(Listing.id.in_(ids), ~decided)
    if site:
        query = query.where(Site.name == site)
    return _cards(s, s.execute(query.order_by(Site.name, Listing.id).limit(limit)).all())


def newest_listing(s: Session) -> int | None:
    return s.execute(select(func.max(Listing.id))).scalar()
