"""What the monitor knows about one dealer, and which dealers were the most active overall.

A dealer is a cluster of contacts and the listings that carry them (``monitor.storage.dealers``).
Its dossier gathers, for an enforcement officer: every contact (a mobile number written with a
digit missing is marked, since it may be one of the dealer's full numbers), every name used,
every site, every ad with its dates, prices, status and takedown requests, and a monthly
timeline. The report's dealer tables read ``most_active_dealers`` for the all-time ranking.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from monitor.exceptions import ConfigError
from monitor.months import shift_month
from monitor.storage.models import (
    Contact,
    Dealer,
    Listing,
    ListingContact,
    MonthListing as ML,
    MonthSpecies as MS,
    Observation,
    ReviewDecision,
    Site,
    TakedownItem,
    TakedownRequest,
)
from monitor.storage.dealer_figures import dealer_records, dealers_with_ads, most_ads
from monitor.storage.newness import decided_rows, new_in, resolve, standing
from monitor.storage.stats import dealers_contacts
from monitor.storage.timeutil import check_month

_CHUNK = 500


def looks_incomplete(kind: str, value: str) -> bool:
    """A mainland mobile number of 10 digits: written with a digit missing (the crawl stores it
    as found and links it to the full numbers it could be)."""
    return kind == "phone" and len(value) == 10 and value[:1] == "1" and value[1:2] in "3456789"


def _month(value: datetime | None) -> str:
    return value.strftime("%Y-%m") if value else ""


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def dealer_dossier(s: Session, dealer_id: int) -> dict[str, Any]:
    """Everything stored about ``dealer_id``: contacts, names, sites, ads, requests, timeline.

    Raises ``ConfigError`` naming the id when there is no such dealer (as a bad site name does)."""
    if s.get(Dealer, dealer_id) is None:
        raise ConfigError(f"no dealer #{dealer_id} in the database (see the report's dealer tables)")
    ads = s.execute(
        select(Listing, Site.name).join(Site, Site.id == Listing.site_id)
        .where(Listing.dealer_id == dealer_id).order_by(Listing.first_seen, Listing.id)
    ).all()
    ids = [listing.id for listing, _ in ads]
    requests = _requests(s, ids)
    decisions: dict[int, str] = {}
    for chunk in _chunks(ids):
        decisions.update(s.execute(select(ReviewDecision.listing_id, ReviewDecision.decision)
                                   .where(ReviewDecision.listing_id.in_(chunk), ReviewDecision.current.is_(True))).all())
    rows = [_ad(listing, site, requests.get(listing.id, []), decisions.get(listing.id, "")) for listing, site in ads]
    return {
        "dealer_id": dealer_id,
        "contacts": _contacts(s, dealer_id, ids),
        "names": _grouped(rows, "seller"),
        "sites": _grouped(rows, "site"),
        "ads": rows,
        "requests": sorted((dict(r, url=a["url"], site=a["site"], title=a["title"]) for a in rows for r in a["requests"]),
                           key=lambda r: (r["sent_at"], r["url"])),
        "timeline": _timeline(s, ids, rows),
    }


def _ad(listing: Listing, site: str, requests: list[dict[str, Any]], decision: str) -> dict[str, Any]:
    return {
        "listing_id": listing.id, "site": site, "external_id": listing.external_id, "url": listing.url,
        "title": listing.title or "", "seller": listing.seller or "", "species": list(listing.species or []),
        "flagged": bool(listing.flagged), "price_text": listing.price_text or "", "price_cny": listing.price_cny,
        "posted_at": listing.posted_at, "first_seen": listing.first_seen, "last_seen": listing.last_seen,
        "removed_at": listing.removed_at, "removal_kind": listing.removal_kind or "", "review": decision,
        "requests": requests,
    }


def _contacts(s: Session, dealer_id: int, ids: list[int]) -> list[dict[str, Any]]:
    ads: Counter = Counter()
    for chunk in _chunks(ids):
        ads.update(dict(s.execute(select(ListingContact.contact_id, func.count())
                                  .where(ListingContact.listing_id.in_(chunk)).group_by(ListingContact.contact_id)).all()))
    return [
        {"kind": c.kind, "value": c.value, "first_seen": c.first_seen, "ads": ads[c.id],
         "incomplete": looks_incomplete(c.kind, c.value)}
        for c in s.scalars(select(Contact).where(Contact.dealer_id == dealer_id).order_by(Contact.kind, Contact.value))
    ]


def _grouped(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per distinct value of ``key`` (a name used, a site): its ads, first and last seen."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row[key]:
            continue
        entry = out.setdefault(row[key], {key: row[key], "ads": 0, "first_seen": row["first_seen"],
                                          "last_seen": row["last_seen"]})
        entry["ads"] += 1
        entry["first_seen"] = min(entry["first_seen"], row["first_seen"])
        entry["last_seen"] = max(entry["last_seen"], row["last_seen"])
    return sorted(out.values(), key=lambda e: (-e["ads"], e[key]))


def _requests(s: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for lid, sent, month, removed_at, kind in s.execute(
            select(TakedownItem.listing_id, TakedownRequest.sent_at, TakedownRequest.month, TakedownItem.removed_at,
                   TakedownItem.removal_kind)
            .join(TakedownRequest, TakedownRequest.id == TakedownItem.request_id)
            .where(TakedownItem.listing_id.in_(chunk)).order_by(TakedownRequest.sent_at)
        ):
            out[lid].append({"sent_at": sent, "month": month, "removed_at": removed_at, "removal_kind": kind or ""})
    return out


def _timeline(s: Session, ids: list[int], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per month from the first sighting to the last: ads seen (observed live), new, removed."""
    seen: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(ids):
        for lid, observed in s.execute(select(Observation.listing_id, Observation.observed_at)
                                       .where(Observation.listing_id.in_(chunk), Observation.status == "live")):
            seen[_month(observed)].add(lid)
    new = Counter(_month(r["first_seen"]) for r in rows)
    removed = Counter(_month(r["removed_at"]) for r in rows if r["removed_at"])
    months = sorted(set(seen) | set(new) | set(removed))
    if not months:
        return []
    out, month = [], months[0]
    while month <= months[-1]:
        out.append({"month": month, "seen": len(seen.get(month, ())), "new": new[month], "removed": removed[month]})
        month = shift_month(month, 1)
    return out


def most_active_dealers(s: Session, month: str, limit: int | None = 20, as_of: str | None = None) -> list[dict[str, Any]]:
    """Dealers with the most flagged ads first seen by the end of ``month`` (rejected ads left
    out; ``limit`` None: every one), in the shape of ``stats.top_dealers``'s rows and, like it,
    read from the as-of month's snapshot (``monitor.storage.newness.resolve``): a report
    regenerated later says the same. The report's own month is counted from the snapshot's
    dealer figures (``monitor.storage.dealer_figures``), an earlier one from its listings."""
    as_of = resolve(s, check_month(month), as_of)
    if month == as_of:
        top = most_ads(s, as_of, limit)
        ids = [did for did, _ in top]
        records = dealer_records(s, as_of, ids, dict(s.execute(select(Site.id, Site.name)).all()))
        confirmed = Counter(row["dealer_id"] for row in decided_rows(s, as_of) if row["decision"] == "confirmed")
    else:
        top, records, confirmed = _counted_by(s, month, as_of, limit)
    if not top:
        return []
    ids = [did for did, _ in top]
    new = dict(s.execute(select(ML.dealer_id, func.count()).where(new_in(s, month, as_of), ML.dealer_id.is_not(None))
                         .group_by(ML.dealer_id)).all())
    contacts = {did: [{**c, "incomplete": looks_incomplete(c["kind"], c["value"])} for c in found]
                for did, found in dealers_contacts(s, ids, as_of).items()}
    return [
        {"dealer_id": did, "new_ads": new.get(did, 0), "confirmed_ads": confirmed.get(did, 0), "total_ads": total,
         "contacts": contacts[did], **{k: v for k, v in records[did].items() if k != "total_ads"}}
        for did, total in top
    ]


def _counted_by(s: Session, month: str, as_of: str,
                limit: int | None) -> tuple[list[tuple[int, int]], dict[int, dict[str, Any]], Counter]:
    """The ranking, records and confirmed counts of ads first seen by ``month``, read from
    ``as_of``'s snapshot listings (the dealer figures count every month up to ``as_of``)."""
    counted = and_(standing(as_of), ML.first_seen_month <= month)
    top = [(did, n) for did, n in s.execute(
        select(ML.dealer_id, func.count().label("n")).where(counted, ML.dealer_id.is_not(None))
        .group_by(ML.dealer_id).order_by(func.count().desc(), ML.dealer_id).limit(limit)
    )]
    ids = [did for did, _ in top]
    mine = and_(counted, ML.dealer_id.in_(ids) if limit is not None else ML.dealer_id.is_not(None))
    sites: dict[int, set[str]] = defaultdict(set)
    months: dict[int, set[str]] = defaultdict(set)
    for did, site, first in s.execute(select(ML.dealer_id, Site.name, ML.first_seen_month)
                                      .join(Site, Site.id == ML.site_id).where(mine).distinct()):
        sites[did].add(site)
        months[did].add(first)
    species: dict[int, Counter] = defaultdict(Counter)
    for did, key, count in s.execute(
        select(ML.dealer_id, MS.species, func.count())
        .join(MS, and_(MS.listing_id == ML.listing_id, MS.month == ML.month)).where(mine)
        .group_by(ML.dealer_id, MS.species)
    ):
        species[did][key] = count
    records = {did: {"total_ads": n, "ads_by_species": dict(sorted(species[did].items())), "sites": sorted(sites[did]),
                     "months_active": sorted(months[did])} for did, n in top}
    confirmed = Counter(dict(s.execute(select(ML.dealer_id, func.count())  # few: every dealer's are read
                                       .where(standing(as_of, confirmed=True), ML.first_seen_month <= month)
                                       .group_by(ML.dealer_id)).all()))
    return top, records, confirmed


def dealer_total(s: Session, month: str, as_of: str | None = None) -> int:
    """How many dealers ``most_active_dealers`` ranks: those with a flagged ad first seen by the
    end of ``month`` that no analyst rejected."""
    as_of = resolve(s, check_month(month), as_of)
    if month == as_of:
        return dealers_with_ads(s, as_of)
    return s.execute(select(func.count(func.distinct(ML.dealer_id)))
                     .where(standing(as_of), ML.first_seen_month <= month, ML.dealer_id.is_not(None))).scalar_one()
