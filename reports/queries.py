"""Read queries only the report needs, beside ``monitor.storage.stats``.

Kept to three small questions the stats module does not answer: each flagged listing
counted once per month (the species rows count a two-species listing twice), the contacts
of the example ads (for the 电话 column), and which known sites have no crawl in a month
(a coverage gap the report must state). Read-only, over an open session.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.storage.models import Contact, Listing, ListingContact, Site, SiteCrawl


def monthly_totals(s: Session) -> dict[str, int]:
    """month -> new flagged listings first seen in it, each listing once."""
    rows = s.execute(
        select(Listing.first_seen_month, func.count())
        .where(Listing.flagged.is_(True))
        .group_by(Listing.first_seen_month)
    )
    return {month: count for month, count in rows}


def listing_contacts(s: Session, listing_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """listing id -> its contacts as ``{"kind", "value"}``, for the few listings shown."""
    ids = list(listing_ids)
    out: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = s.execute(
        select(ListingContact.listing_id, Contact.kind, Contact.value)
        .join(Contact, Contact.id == ListingContact.contact_id)
        .where(ListingContact.listing_id.in_(ids))
        .order_by(ListingContact.listing_id, Contact.kind, Contact.value)
    )
    for listing_id, kind, value in rows:
        out[listing_id].append({"kind": kind, "value": value})
    return out


def sites_not_crawled(s: Session, month: str) -> list[dict[str, Any]]:
    """Sites crawled before ``month`` that have no finished-or-failed crawl recorded in it."""
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
