"""Writing one batch of a site's crawl: listings, observations, matches, contacts,
dealers, re-post links, evidence and removals, all inside the caller's transaction.

Core ``executemany`` statements keep this fast (see benchmarks/storage.py); the caller
(``CrawlRecorder``) owns the transaction, the lock and the retries.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from monitor.contacts import extract_contacts, normalize_contact
from monitor.items import ListingItem
from monitor.storage.dealers import assign_dealers
from monitor.storage.fingerprint import MIN_TITLE, NEAR_BITS, bands, distance, listing_text, normalise_text, simhash
from monitor.storage.snapshots import match_record, matches_of
from monitor.storage.models import (
    Contact,
    Evidence,
    Listing,
    ListingContact,
    ListingSpecies,
    Match,
    Observation,
    TakedownItem,
)
from monitor.storage.timeutil import naive

log = logging.getLogger(__name__)

_TRACKED = ("url", "title", "description", "price_text", "price_cny", "price_amount", "price_currency",
            "location", "seller", "posted_at")
_TEXT_FIELDS = ("title", "description")
_CHUNK = 500


@dataclass
class PendingListing:
    item: ListingItem
    matches: list[dict] | None
    lexicon_version: str
    flagged: bool
    species: list[str]
    score: float
    evidence: bytes | None
    offer: dict[str, Any] | None = None  # the matcher's form, quantity and intent of a flag


def _offer_columns(add: PendingListing) -> dict[str, Any]:
    """What a flag offers, as stored: None on a listing that is not flagged (or gone unread)."""
    offer = add.offer if add.flagged and not add.item.unread else None
    if not offer:
        return {"offer_form": None, "offer_quantity": None, "intent": None}
    quantity = offer.get("quantity")
    if isinstance(quantity, dict):
        quantity = {"amount": quantity.get("amount"), "unit": str(quantity.get("unit") or "")[:10],
                    "text": str(quantity.get("text") or "")[:100]}
    else:
        quantity = None
    return {"offer_form": str(offer["form"])[:30] if offer.get("form") else None, "offer_quantity": quantity,
            "intent": str(offer["intent"])[:10] if offer.get("intent") else None}


@dataclass
class Batch:
    adds: dict[str, PendingListing] = field(default_factory=dict)
    removals: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.adds) + len(self.removals)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class BatchWriter:
    """Writes batches for one site's crawl observed at ``observed_at`` (month ``month``)."""

    site: str
    site_id: int
    site_crawl_id: int
    observed_at: datetime
    month: str
    evidence_dir: Path | None

    def write(self, conn: Connection, batch: Batch) -> tuple[int, int, int]:
        """(new listings, listings removed, listings stored as removed before they could be read)."""
        at = self.observed_at
        existing: dict[str, Any] = {}
        ids = list(batch.adds)
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(Listing.__table__).where(Listing.site_id == self.site_id, Listing.external_id.in_(chunk))
            ).mappings()
            for row in rows:
                existing[row["external_id"]] = row

        new_rows: list[dict] = []
        updates: list[dict] = []
        rematch: dict[str, PendingListing] = {}
        refingerprint: dict[str, int] = {}
        observations: dict[str, dict] = {}
        unread = 0
        for external_id, add in list(batch.adds.items()):
            item = add.item
            fields = _item_fields(item)
            old = existing.get(external_id)
            if item.unread:
                if old is not None:  # known already: an ordinary removal, its stored text kept
                    del batch.adds[external_id]
                    batch.removals.setdefault(external_id, item.removal_kind or "removed")
                    continue
                new_rows.append(self._unread_row(external_id, add, fields))
                rematch[external_id] = add
                observations[external_id] = {"status": "removed", "price_cny": fields["price_cny"],
                                             "changes": {"removal_kind": [None, item.removal_kind]}}
                unread += 1
                continue
            if old is None:
                fp = simhash(listing_text(item.title, item.description)) if add.flagged else None
                row = {
                    "site_id": self.site_id, "external_id": external_id, **fields,
                    "first_seen": at, "first_seen_month": self.month, "last_seen": at,
                    "removed_at": None, "removed_month": None, "removal_kind": None, "unread": False,
                    "flagged": add.flagged, "species": add.species, "score": add.score,
                    "lexicon_version": add.lexicon_version, **_fp_columns(fp, add.flagged), **_offer_columns(add),
                }
                new_rows.append(row)
                rematch[external_id] = add
                observations[external_id] = {"status": "live", "price_cny": fields["price_cny"], "changes": None}
                continue
            changes: dict[str, list] = {}
            values = {name: old[name] for name in _TRACKED}
            for name in _TRACKED:
                value = fields[name]
                if value in (None, ""):
                    continue
                if value != old[name]:
                    changes[name] = [_jsonable(old[name]), _jsonable(value)]
                    values[name] = value
            verdict_changed = (add.flagged != old["flagged"] or add.species != list(old["species"] or [])
                               or add.lexicon_version != old["lexicon_version"])
            if verdict_changed:
                # With the species and score it had, so a past month's report shows its flags then.
                changes["flagged"] = [old["flagged"], add.flagged]
                changes["species"] = [list(old["species"] or []), add.species]
                changes["score"] = [old["score"], add.score]
            if old["removed_at"] is not None:
                changes["reinstated"] = [_jsonable(old["removed_at"]), None]
            # Read at last: it becomes an ordinary listing (species rows, fingerprint, dealer).
            verdict_changed = verdict_changed or old["unread"]
            text_changed = any(name in changes for name in _TEXT_FIELDS)
            fp = old["fingerprint"]
            if add.flagged and (text_changed or fp is None):
                fp = simhash(listing_text(values["title"], values["description"]))
            elif text_changed:
                fp = None
            if add.flagged and (verdict_changed or any(name in changes for name in _TEXT_FIELDS)):
                refingerprint[external_id] = old["id"]
            updates.append({
                "row_id": old["id"], **values, "last_seen": max(at, old["last_seen"]),
                "flagged": add.flagged, "species": add.species, "score": add.score,
                "lexicon_version": add.lexicon_version, **_fp_columns(fp, add.flagged), **_offer_columns(add),
                "removed_at": None, "removed_month": None, "removal_kind": None, "unread": False,
            })
            if verdict_changed or any(name in changes for name in _TEXT_FIELDS):
                rematch[external_id] = add
            observations[external_id] = {"status": "live", "price_cny": values["price_cny"], "changes": changes or None}

        listing_ids: dict[str, int] = {eid: row["id"] for eid, row in existing.items()}
        if new_rows:
            result = conn.execute(
                insert(Listing).returning(Listing.id, Listing.external_id, sort_by_parameter_order=True), new_rows
            )
            for row_id, external_id in result:
                listing_ids[external_id] = row_id
        if updates:
            columns = {name: bindparam(name) for name in updates[0] if name != "row_id"}
            conn.execute(update(Listing).where(Listing.id == bindparam("row_id")).values(**columns), updates)

        _note_rematches(conn, rematch, existing, observations)
        if observations:
            conn.execute(insert(Observation), [
                {"listing_id": listing_ids[eid], "site_crawl_id": self.site_crawl_id, "observed_at": at, **obs}
                for eid, obs in observations.items()
            ])
        self._write_matches(conn, rematch, listing_ids)
        self._write_contacts(conn, batch, listing_ids)
        self._link_reposts(conn, [listing_ids[r["external_id"]] for r in new_rows if r["flagged"]]
                           + list(refingerprint.values()))
        self._write_evidence(conn, batch, listing_ids)
        removed = self._write_removals(conn, batch.removals)
        return len(new_rows) - unread, removed, unread

    def _unread_row(self, external_id: str, add: PendingListing, fields: dict[str, Any]) -> dict[str, Any]:
        """A listing gone before its first visit: what its results page showed, removed at once,
        never ``flagged`` (the title's verdict is kept in ``species`` and ``score``)."""
        at = self.observed_at
        return {
            "site_id": self.site_id, "external_id": external_id, **fields,
            "first_seen": at, "first_seen_month": self.month, "last_seen": at,
            "removed_at": at, "removed_month": self.month, "removal_kind": (add.item.removal_kind or "removed")[:30],
            "unread": True, "flagged": False, "species": add.species if add.flagged else [], "score": add.score,
            "lexicon_version": add.lexicon_version, **_fp_columns(None, False), **_offer_columns(add),
        }

    def _write_matches(self, conn: Connection, rematch: dict[str, PendingListing], listing_ids: dict[str, int]) -> None:
        if not rematch:
            return
        ids = [listing_ids[eid] for eid in rematch]
        with_matches = [listing_ids[eid] for eid, add in rematch.items() if add.matches is not None]
        for chunk in _chunks(with_matches):
            conn.execute(delete(Match).where(Match.listing_id.in_(chunk)))
        for chunk in _chunks(ids):
            conn.execute(delete(ListingSpecies).where(ListingSpecies.listing_id.in_(chunk)))
        match_rows: list[dict] = []
        species_rows: list[dict] = []
        for eid, add in rematch.items():
            lid = listing_ids[eid]
            for m in add.matches or []:
                match_rows.append({
                    "listing_id": lid, "species": str(m.get("species", ""))[:30], "term": str(m.get("term", ""))[:100],
                    "kind": str(m.get("kind", "") or "")[:30], "field": str(m.get("field", "") or "")[:30],
                    "start_offset": int(m.get("start", 0) or 0), "end_offset": int(m.get("end", 0) or 0),
                    "text": str(m.get("text", "") or "")[:200], "trick": str(m.get("trick", "") or "")[:30],
                    "score": float(m.get("score", add.score) or 0.0), "lexicon_version": add.lexicon_version[:64],
                })
            if add.flagged and not add.item.unread:
                first_month = self.month
                for species in sorted({str(name)[:30] for name in add.species}):
                    species_rows.append({"listing_id": lid, "species": species, "site_id": self.site_id,
                                         "first_seen_month": first_month})
        if match_rows:
            conn.execute(insert(Match), match_rows)
        if species_rows:
            months = dict(conn.execute(
                select(Listing.id, Listing.first_seen_month).where(Listing.id.in_({r["listing_id"] for r in species_rows}))
            ).all())
            for row in species_rows:
                row["first_seen_month"] = months[row["listing_id"]]
            conn.execute(insert(ListingSpecies), species_rows)

    def _write_contacts(self, conn: Connection, batch: Batch, listing_ids: dict[str, int]) -> None:
        wanted: dict[int, dict[tuple[str, str], str]] = {}
        for eid, add in batch.adds.items():
            if add.item.unread:
                continue  # a dealer is made of ads read, not of titles of ads already gone
            found = _contacts_of(add.item)
            if found:
                wanted[listing_ids[eid]] = found
        if not wanted:
            return
        keys = sorted({key for found in wanted.values() for key in found})
        contact_ids = _contact_ids(conn, keys)
        missing = [key for key in keys if key not in contact_ids]
        new_phones: dict[int, str] = {}
        if missing:
            # A crawl of another site may add the same contact at the same moment: skip
            # duplicates instead of failing (both SQLite and PostgreSQL support this).
            conn.execute(_insert_skipping_duplicates(conn, Contact),
                         [{"kind": k, "value": v, "first_seen": self.observed_at} for k, v in missing])
            added = _contact_ids(conn, missing)
            contact_ids.update(added)
            new_phones = {cid: value for (kind, value), cid in added.items() if kind == "phone"}
        linked: set[tuple[int, int]] = set()
        lids = sorted(wanted)
        for chunk in _chunks(lids):
            linked.update(conn.execute(
                select(ListingContact.listing_id, ListingContact.contact_id).where(ListingContact.listing_id.in_(chunk))
            ).all())
        rows = []
        per_listing: dict[int, set[int]] = {}
        for lid, found in wanted.items():
            for key, raw in found.items():
                cid = contact_ids[key]
                per_listing.setdefault(lid, set()).add(cid)
                if (lid, cid) not in linked:
                    rows.append({"listing_id": lid, "contact_id": cid, "raw": raw[:200]})
        if rows:
            conn.execute(insert(ListingContact), rows)
        assign_dealers(conn, per_listing, new_phones, self.observed_at)

    def _link_reposts(self, conn: Connection, listing_ids: list[int]) -> None:
        """Point flagged listings at the earliest earlier flagged listing they re-post: one
        whose fingerprint is within NEAR_BITS bits (found through the band indexes), or one
        by the same dealer under the same title (a re-post often keeps only part of the text)."""
        if not listing_ids:
            return
        mine: dict[int, tuple[int, int | None, str]] = {}
        for chunk in _chunks(listing_ids):
            for lid, fp, dealer, title in conn.execute(
                select(Listing.id, Listing.fingerprint, Listing.dealer_id, Listing.title)
                .where(Listing.id.in_(chunk), Listing.fingerprint.is_not(None))
            ):
                mine[lid] = (fp, dealer, title)
        if not mine:
            return
        origins: dict[int, int] = {}

        def offer(lid: int, other: int, root: int | None) -> None:
            if other < lid:
                origin = root or other
                if origin < origins.get(lid, origin + 1):
                    origins[lid] = origin

        columns = (Listing.fp_band0, Listing.fp_band1, Listing.fp_band2, Listing.fp_band3)
        for position, column in enumerate(columns):
            wanted: dict[int, list[int]] = {}
            for lid, (fp, _, _) in mine.items():
                wanted.setdefault(bands(fp)[position], []).append(lid)
            for chunk in _chunks(sorted(wanted)):
                for other, ofp, root, band in conn.execute(
                    select(Listing.id, Listing.fingerprint, Listing.repost_of, column).where(column.in_(chunk))
                ):
                    for lid in wanted[band]:
                        if distance(mine[lid][0], ofp) <= NEAR_BITS:
                            offer(lid, other, root)

        by_dealer: dict[int, list[int]] = {}
        for lid, (_, dealer, _) in mine.items():
            if dealer is not None and lid not in origins:
                by_dealer.setdefault(dealer, []).append(lid)
        for chunk in _chunks(sorted(by_dealer)):
            for other, dealer, title, root in conn.execute(
                select(Listing.id, Listing.dealer_id, Listing.title, Listing.repost_of)
                .where(Listing.dealer_id.in_(chunk), Listing.fingerprint.is_not(None))
            ):
                key = normalise_text(title or "")
                if len(key) < MIN_TITLE:
                    continue
                for lid in by_dealer[dealer]:
                    if normalise_text(mine[lid][2] or "") == key:
                        offer(lid, other, root)

        links = [{"row_id": lid, "origin": origin} for lid, origin in origins.items()]
        if links:
            conn.execute(update(Listing).where(Listing.id == bindparam("row_id")).values(repost_of=bindparam("origin")), links)

    def _write_evidence(self, conn: Connection, batch: Batch, listing_ids: dict[str, int]) -> None:
        saved = [(eid, add) for eid, add in batch.adds.items() if add.evidence]
        if not saved:
            return
        if self.evidence_dir is None:
            log.warning("site %s: no evidence folder configured; %d pages not kept", self.site, len(saved))
            return
        rows, latest = [], []
        known: set[tuple[int, str]] = set()
        hashes = {}
        for eid, add in saved:
            body = add.evidence or b""
            digest = hashlib.sha256(body).hexdigest()
            hashes[eid] = digest
            path = write_evidence_file(self.evidence_dir, digest, body)
            lid = listing_ids[eid]
            if (lid, digest) in known:
                continue
            known.add((lid, digest))
            rows.append({"listing_id": lid, "sha256": digest, "path": path, "url": add.item.url,
                         "fetched_at": naive(add.item.fetched_at or self.observed_at), "size": len(body),
                         "content_type": (add.item.raw_content_type or "")[:100],
                         "charset": (add.item.raw_encoding or "")[:40]})
            latest.append({"row_id": lid, "digest": digest})
        lids = sorted({r["listing_id"] for r in rows})
        have: set[tuple[int, str]] = set()
        for chunk in _chunks(lids):
            have.update(conn.execute(select(Evidence.listing_id, Evidence.sha256).where(Evidence.listing_id.in_(chunk))).all())
        rows = [r for r in rows if (r["listing_id"], r["sha256"]) not in have]
        if rows:
            conn.execute(insert(Evidence), rows)
        conn.execute(update(Listing).where(Listing.id == bindparam("row_id")).values(evidence_sha256=bindparam("digest")), latest)

    def _write_removals(self, conn: Connection, removals: dict[str, str]) -> int:
        if not removals:
            return 0
        at = self.observed_at
        found: dict[str, int] = {}
        for chunk in _chunks(list(removals)):
            found.update(conn.execute(
                select(Listing.external_id, Listing.id).where(
                    Listing.site_id == self.site_id, Listing.external_id.in_(chunk), Listing.removed_at.is_(None))
            ).all())
        if not found:
            return 0
        rows = [{"row_id": lid, "kind": removals[eid][:30]} for eid, lid in found.items()]
        conn.execute(
            update(Listing).where(Listing.id == bindparam("row_id"))
            .values(removed_at=at, removed_month=self.month, removal_kind=bindparam("kind")), rows)
        conn.execute(insert(Observation), [
            {"listing_id": lid, "site_crawl_id": self.site_crawl_id, "observed_at": at, "status": "removed",
             "price_cny": None, "changes": {"removal_kind": [None, removals[eid]]}}
            for eid, lid in found.items()
        ])
        conn.execute(
            update(TakedownItem)
            .where(TakedownItem.listing_id == bindparam("row_id"), TakedownItem.removed_at.is_(None))
            .values(removed_at=at, removal_kind=bindparam("kind")), rows)
        return len(found)


def _note_rematches(conn: Connection, rematch: dict[str, PendingListing], existing: dict[str, Any],
                    observations: dict[str, dict]) -> None:
    """A known listing matched anew keeps the matches it had in its observation's changes
    (``[old, new]``), so a past month's report shows the terms it was flagged for then."""
    ids = {existing[eid]["id"]: eid for eid, add in rematch.items() if eid in existing and add.matches is not None}
    if not ids:
        return
    old = matches_of(conn, ids)
    for lid, eid in ids.items():
        new = [match_record(m) for m in rematch[eid].matches or []]
        if old.get(lid, []) != new:
            observations[eid]["changes"] = {**(observations[eid]["changes"] or {}), "matches": [old.get(lid, []), new]}


def _contact_ids(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        for kind in {k for k, _ in chunk}:
            values = [v for k, v in chunk if k == kind]
            for cid, value in conn.execute(
                select(Contact.id, Contact.value).where(Contact.kind == kind, Contact.value.in_(values))
            ):
                found[(kind, value)] = cid
    return found


def _insert_skipping_duplicates(conn: Connection, model: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING where the database has it (the recorder's retry
    covers a race elsewhere)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return insert(model)
    return dialect_insert(model).on_conflict_do_nothing()


def write_evidence_file(folder: Path, digest: str, body: bytes) -> str:
    """Store ``body`` gzip-compressed at ``<digest[:2]>/<digest>.html.gz``; returns that relative path."""
    relative = f"{digest[:2]}/{digest}.html.gz"
    target = folder / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".tmp{os.getpid()}")
        temporary.write_bytes(gzip.compress(body, mtime=0))
        os.replace(temporary, target)
    return relative


def _item_fields(item: ListingItem) -> dict[str, Any]:
    return {
        "url": item.url or "", "title": item.title or "", "description": item.description or "",
        "price_text": (item.price_text or "")[:200], "price_cny": item.price_cny, "price_amount": item.price_amount,
        "price_currency": (item.price_currency or "")[:10], "location": (item.location or "")[:200],
        "seller": (item.seller or "")[:200], "posted_at": naive(item.posted_at) if item.posted_at else None,
    }


def _fp_columns(fp: int | None, flagged: bool) -> dict[str, Any]:
    """Fingerprint and bands, for flagged listings only: re-posts are linked among the ads
    the report counts, which keeps the band indexes small and the crawl fast."""
    if fp is None or not flagged:
        return {"fingerprint": fp, "fp_band0": None, "fp_band1": None, "fp_band2": None, "fp_band3": None}
    b = bands(fp)
    return {"fingerprint": fp, "fp_band0": b[0], "fp_band1": b[1], "fp_band2": b[2], "fp_band3": b[3]}


def _contacts_of(item: ListingItem) -> dict[tuple[str, str], str]:
    """(kind, value) -> raw text, from the pipeline's contacts or else the listing's text."""
    found: dict[tuple[str, str], str] = {}
    for pair in item.contacts or []:
        kind, raw = pair[0], pair[1]
        try:
            value = normalize_contact(kind, raw)
        except ValueError:
            continue
        if value:
            found.setdefault((kind, value[:100]), raw)
    if not found:
        text = "\n".join(part for part in (item.contact_text, item.title, item.description) if part)
        for contact in extract_contacts(text):
            found.setdefault((contact.kind, contact.value[:100]), contact.raw)
    return found


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
