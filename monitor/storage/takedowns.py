"""Takedown requests: what to report to a platform, recording that it was sent, outcomes.

A month's takedown list for a site is its flagged listings still live at the end of the
month and not rejected by an analyst. Outcomes are filled in by later crawls
(``CrawlRecorder.mark_removed`` stamps the request's items) and read by
``stats.takedown_outcomes`` and ``monitor.storage.cohorts``.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from sqlalchemy import and_, insert, or_, select, true
from sqlalchemy.orm import Session

from monitor.exceptions import ConfigError, StorageError
from monitor.spreadsheets import write_csv, write_xlsx
from monitor.storage.db import Database
from monitor.storage.models import (
    Contact,
    Evidence,
    Listing,
    ListingContact,
    Match,
    ReviewDecision,
    Site,
    TakedownItem,
    TakedownRequest,
)
from monitor.storage.timeutil import check_month, naive

TAKEDOWN_COLUMNS = ("url", "title", "species", "first_seen", "evidence_sha256", "site", "external_id", "listing_id")


def safe_file_part(text: str) -> str:
    """``text`` reduced to characters safe in a file name on every system."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return cleaned[:60] or "site"


def _site_id(s: Session, site: str) -> int:
    site_id = s.execute(select(Site.id).where(Site.name == site)).scalar()
    if site_id is None:
        known = ", ".join(s.execute(select(Site.name).order_by(Site.name)).scalars().all()[:40]) or "none yet"
        raise ConfigError(f"no site named {site!r} in the database (known: {known})")
    return site_id


def _candidates(s: Session, month: str, site_id: int | None) -> list[tuple[Listing, str]]:
    check_month(month)
    rejected = (
        select(ReviewDecision.listing_id)
        .where(ReviewDecision.current == true(), ReviewDecision.decision == "rejected")
    )
    query = (
        select(Listing, Site.name)
        .join(Site, Site.id == Listing.site_id)
        .where(
            Listing.flagged == true(),
            Listing.first_seen_month <= month,
            or_(Listing.removed_month.is_(None), Listing.removed_month > month),
            Listing.id.not_in(rejected),
        )
        .order_by(Site.name, Listing.first_seen, Listing.id)
    )
    if site_id is not None:
        query = query.where(Listing.site_id == site_id)
    return [(listing, name) for listing, name in s.execute(query).all()]


def takedown_candidates(s: Session, site: str, month: str) -> list[dict[str, Any]]:
    """Flagged listings of ``site`` seen by ``month``, not removed by then, not rejected on review."""
    check_month(month)
    site_id = _site_id(s, site)
    return [
        {
            "url": listing.url, "title": listing.title, "species": ", ".join(listing.species or []),
            "first_seen": listing.first_seen.date().isoformat(), "evidence_sha256": listing.evidence_sha256 or "",
            "site": site, "external_id": listing.external_id, "listing_id": listing.id,
        }
        for listing, _ in _candidates(s, month, site_id)
    ]


def package_rows(s: Session, month: str, site: str | None = None) -> list[dict[str, Any]]:
    """Every site's (or ``site``'s) takedown list for ``month`` with what a platform needs to act:
    text, prices, seller and contacts, the matched terms, the request dates of earlier months and
    the evidence file; in site order. Codes stay codes: the reports package names them."""
    check_month(month)
    found = _candidates(s, month, _site_id(s, site) if site else None)
    ids = [listing.id for listing, _ in found]
    contacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    matches: dict[int, list[dict[str, str]]] = defaultdict(list)
    earlier: dict[int, list[datetime]] = defaultdict(list)
    files: dict[tuple[int, str], str] = {}
    for chunk in _chunks(ids):
        for lid, kind, value in s.execute(
            select(ListingContact.listing_id, Contact.kind, Contact.value)
            .join(Contact, Contact.id == ListingContact.contact_id)
            .where(ListingContact.listing_id.in_(chunk)).order_by(Contact.kind, Contact.value)
        ):
            contacts[lid].append((kind, value))
        for m in s.scalars(select(Match).where(Match.listing_id.in_(chunk))
                           .order_by(Match.listing_id, Match.field, Match.start_offset)):
            matches[m.listing_id].append({"term": m.term, "text": m.text, "species": m.species, "kind": m.kind,
                                          "field": m.field})
        for lid, sent in s.execute(
            select(TakedownItem.listing_id, TakedownRequest.sent_at)
            .join(TakedownRequest, TakedownRequest.id == TakedownItem.request_id)
            .where(TakedownItem.listing_id.in_(chunk), TakedownRequest.month < month)
            .order_by(TakedownRequest.sent_at)
        ):
            earlier[lid].append(sent)
        for lid, sha, path in s.execute(
            select(Evidence.listing_id, Evidence.sha256, Evidence.path).where(Evidence.listing_id.in_(chunk))
        ):
            files[(lid, sha)] = PurePosixPath(path.replace("\\", "/")).name
    return [
        {
            "site": name, "listing_id": listing.id, "external_id": listing.external_id, "url": listing.url,
            "title": listing.title or "", "description": listing.description or "",
            "price_text": listing.price_text or "", "price_cny": listing.price_cny, "seller": listing.seller or "",
            "contacts": contacts[listing.id], "species": list(listing.species or []),
            "matches": sorted(matches[listing.id], key=lambda m: m["field"] != "title"),  # title first, stable
            "earlier_requests": earlier[listing.id], "evidence_sha256": listing.evidence_sha256 or "",
            "evidence_file": files.get((listing.id, listing.evidence_sha256 or ""), ""),
            "first_seen": listing.first_seen, "last_seen": listing.last_seen,
        }
        for listing, name in found
    ]


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def export_takedown(db: Database, site: str, month: str, out_dir: Path) -> tuple[Path, Path, int]:
    """Write the site's takedown list for ``month`` as CSV and XLSX; returns both paths and the count.

    File names come from the sanitised site name and month only.
    """
    check_month(month)
    with db.session() as s:
        rows = takedown_candidates(s, site, month)
    stem = f"takedown-{safe_file_part(site)}-{month}"
    table = [[row[column] for column in TAKEDOWN_COLUMNS] for row in rows]
    csv_path = write_csv(Path(out_dir) / f"{stem}.csv", TAKEDOWN_COLUMNS, table)
    xlsx_path = write_xlsx(Path(out_dir) / f"{stem}.xlsx", TAKEDOWN_COLUMNS, table, title=f"takedown {month}")
    return csv_path, xlsx_path, len(rows)


def record_takedown_sent(
    db: Database,
    site: str,
    month: str,
    sent_at: datetime | None = None,
    platform_contact: str = "",
    hold_out: float = 0.0,
) -> tuple[int, list[str]]:
    """Record that the site's takedown list for ``month`` went to the platform.

    Returns the request id and the reported URLs. Listings already in a request for the
    same month are not reported twice. ``hold_out`` (0..1) leaves that share of the site's
    flagged ads out of every request, chosen by a hash of site and id (see ``held_out``).
    """
    check_month(month)
    sent = naive(sent_at or datetime.now())
    with db.session() as s:
        rows = takedown_candidates(s, site, month)
        site_id = _site_id(s, site)
        already = set(s.execute(
            select(TakedownItem.listing_id)
            .join(TakedownRequest, TakedownRequest.id == TakedownItem.request_id)
            .where(and_(TakedownRequest.site_id == site_id, TakedownRequest.month == month))
        ).scalars())
        rows = [row for row in rows if row["listing_id"] not in already and not held_out(site, row["external_id"], hold_out)]
        if not rows:
            raise StorageError(f"site {site!r}, {month}: nothing to report (no flagged live listings not already reported)")
        request_id = s.execute(
            insert(TakedownRequest).values(site_id=site_id, month=month, sent_at=sent,
                                           platform_contact=platform_contact[:200], created_at=datetime.now())
            .returning(TakedownRequest.id)
        ).scalar_one()
        s.execute(insert(TakedownItem), [{"request_id": request_id, "listing_id": row["listing_id"]} for row in rows])
    return request_id, [row["url"] for row in rows]


def held_out(site: str, external_id: str, share: float) -> bool:
    """Whether an ad is in the never-requested control group that ``share`` of ads form.

    A hash of site and id, not a random draw, so the same ads stay out month after month and
    the takedown baseline (``monitor.storage.cohorts``) compares with ads never requested.
    """
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{site}\x1f{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def record_demo_takedowns(db: Database, month: str, sent_at: datetime | None = None, hold_out: float = 0.0) -> list[str]:
    """File the month's takedown request for every site with something to report; the URLs.

    ``hold_out`` leaves a stable share of flagged ads unrequested, the baseline the report
    compares the requested ads with."""
    with db.session() as s:
        sites = s.execute(
            select(Site.name).where(Site.id.in_(
                select(Listing.site_id).where(Listing.flagged == true(), Listing.first_seen_month <= month,
                                              or_(Listing.removed_month.is_(None), Listing.removed_month > month))
            )).order_by(Site.name)
        ).scalars().all()
    urls: list[str] = []
    for site in sites:
        try:
            urls += record_takedown_sent(db, site, month, sent_at=sent_at, platform_contact="demo", hold_out=hold_out)[1]
        except StorageError:
            continue
    return urls


def takedown_history(s: Session, site: str | None = None) -> list[dict[str, Any]]:
    """Every request with its counts of reported and removed listings, newest first."""
    query = select(TakedownRequest, Site.name).join(Site, Site.id == TakedownRequest.site_id)
    if site:
        query = query.where(Site.name == site)
    out = []
    for request, name in s.execute(query.order_by(TakedownRequest.sent_at.desc(), TakedownRequest.id.desc())):
        items = s.execute(select(TakedownItem.removed_at).where(TakedownItem.request_id == request.id)).scalars().all()
        out.append({"id": request.id, "site": name, "month": request.month, "sent_at": request.sent_at,
                    "platform_contact": request.platform_contact, "requested": len(items),
                    "removed": sum(1 for r in items if r is not None)})
    return out
