"""Search across listings' titles and descriptions by overlapping character bigrams.

SQLite's trigram tokenizer cannot match a two-character query (象牙, 犀角) and PostgreSQL has
no Chinese full-text parser, so each listing's text is cut into runs of letters and digits
and every run into overlapping bigrams plus its last character (so a one-character query
finds a run ending in it). A query matches a listing holding all of the query's grams, read
newest first from the rarest gram's postings; the exact substring is then checked in Python.
The same plain table and B-tree serve SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, and_, delete, exists, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from monitor.config import Config
from monitor.exceptions import StorageError
from monitor.storage.db import Database
from monitor.storage.models import Listing, Observation, SearchGram, Site

log = logging.getLogger(__name__)
_RUN = re.compile(r"[^\W_]+")
INDEX_BATCH = 5_000
LISTING_MARK, OBSERVATION_MARK = "", " "
TEXT_FIELDS = ("title", "description")
MAX_QUERY_CHARS = 40
PAGE = 200


def runs(text: str) -> list[str]:
    """The runs of letters and digits in ``text``, case-folded."""
    return _RUN.findall(text.casefold())


def grams(text: str) -> set[str]:
    """Every overlapping bigram of every run, and each run's last character."""
    out: set[str] = set()
    for run in runs(text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
        out.add(run[-1])
    return out


def query_grams(query: str) -> list[str]:
    """The grams a listing must hold to contain ``query``'s runs; a one-character run is a prefix
    (looked up as a range), marked by a trailing ``*``."""
    out: list[str] = []
    for run in runs(query[:MAX_QUERY_CHARS]):
        if len(run) == 1:
            out.append(run + "*")
        else:
            out.extend(dict.fromkeys(run[i:i + 2] for i in range(len(run) - 1)))
    return list(dict.fromkeys(out))


def refresh_index(db: Database, batch: int = INDEX_BATCH, deadline: float | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Index the listings added since the last call, then re-read those whose title or
    description a crawl has changed since (their observations say so); returns how many
    listings were read.

    ``deadline`` (a ``time.monotonic()`` value) stops it between batches, each committed, so a
    request can bring the index forward without waiting for a whole crawl's worth; the next
    call goes on from there. ``progress`` gets (listings indexed, listings to index) after each
    batch. Two bookkeeping rows, whose grams no text produces, hold where each pass stopped:
    the empty gram the newest listing id indexed, the space the newest observation id read."""
    with db.engine.begin() as conn:
        last = _mark(conn, LISTING_MARK)
        newest = conn.execute(select(func.max(Listing.id))).scalar() or 0
        if last == 0:  # a new index reads today's texts: edits seen so far are in them
            _set_mark(conn, OBSERVATION_MARK, conn.execute(select(func.max(Observation.id))).scalar() or 0)
        total = (conn.execute(select(func.count()).where(Listing.id > last)).scalar() or 0) if progress else 0
    done = 0
    while last < newest and not _past(deadline):
        with db.engine.begin() as conn:
            rows = conn.execute(
                select(Listing.id, Listing.title, Listing.description)
                .where(Listing.id > last).order_by(Listing.id).limit(batch)
            ).all()
            if not rows:
                break
            index_rows(conn, rows)
            last = rows[-1][0]
            _set_mark(conn, LISTING_MARK, last)
            done += len(rows)
        if progress:
            progress(done, total)
    if last < newest:
        return done  # the edits wait for the new listings: their grams are written first
    return done + _reindex_edited(db, last, batch, deadline)


def refresh_after_crawl(config: Config) -> int:
    """Index what a crawl just stored, so search finds it without waiting for ``wtm serve``;
    a failure is logged and left to the next refresh (the crawl's results stand)."""
    db = Database.from_config(config)
    try:
        db.check_current()
        return refresh_index(db)
    except (SQLAlchemyError, StorageError) as exc:
        log.warning("search index not refreshed after the crawl (the next refresh catches up): %s", exc)
        return 0
    finally:
        db.dispose()


def index_behind(db: Database) -> bool:
    """Whether listings were stored since the index last caught up."""
    with db.engine.connect() as conn:
        newest = conn.execute(select(func.max(Listing.id))).scalar() or 0
        return _mark(conn, LISTING_MARK) < newest


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _reindex_edited(db: Database, indexed_up_to: int, batch: int, deadline: float | None = None) -> int:
    """Bring the grams of listings whose text changed since the observation mark up to date."""
    done = 0
    with db.engine.connect() as conn:
        top = conn.execute(select(func.max(Observation.id))).scalar() or 0
    while not _past(deadline):
        with db.engine.begin() as conn:
            seen = _mark(conn, OBSERVATION_MARK)
            if seen >= top:
                return done
            rows = conn.execute(
                select(Observation.id, Observation.listing_id, Observation.changes)
                .where(Observation.id > seen, Observation.id <= top, Observation.changes.is_not(None))
                .order_by(Observation.id).limit(batch)
            ).all()
            if not rows:
                _set_mark(conn, OBSERVATION_MARK, top)
                return done
            old: dict[int, set[str]] = {}
            for _, listing_id, changes in rows:
                if listing_id <= indexed_up_to and any(f in (changes or {}) for f in TEXT_FIELDS):
                    before = " ".join(str((changes[f] or [""])[0] or "") for f in TEXT_FIELDS if f in changes)
                    old.setdefault(listing_id, set()).update(grams(before))
            for listing_id, title, description in conn.execute(
                    select(Listing.id, Listing.title, Listing.description).where(Listing.id.in_(list(old)))):
                now = grams(f"{title or ''}\n{description or ''}")
                stale = sorted(old[listing_id] - now)
                if stale:
                    conn.execute(delete(SearchGram).where(SearchGram.listing_id == listing_id,
                                                          SearchGram.gram.in_(stale)))
                have = set(conn.scalars(select(SearchGram.gram).where(SearchGram.listing_id == listing_id,
                                                                      SearchGram.gram.in_(sorted(now)))))
                missing = [{"gram": g, "listing_id": listing_id} for g in sorted(now - have)]
                if missing:
                    conn.execute(insert(SearchGram), missing)
            done += len(old)
            _set_mark(conn, OBSERVATION_MARK, rows[-1][0])
    return done


def _mark(conn: Connection, mark: str) -> int:
    return conn.execute(select(func.max(SearchGram.listing_id)).where(SearchGram.gram == mark)).scalar() or 0


def _set_mark(conn: Connection, mark: str, value: int) -> None:
    conn.execute(delete(SearchGram).where(SearchGram.gram == mark))
    conn.execute(insert(SearchGram).values(gram=mark, listing_id=value))


def index_rows(conn: Connection, rows: Iterable[tuple[int, str | None, str | None]]) -> None:
    """Insert the grams of (listing id, title, description) rows not indexed before."""
    values = [{"gram": g, "listing_id": lid} for lid, title, description in rows
              for g in grams(f"{title or ''}\n{description or ''}")]
    if values:
        conn.execute(insert(SearchGram), values)


def search(db: Database, query: str, limit: int = 50, scan: int = 2_000) -> list[dict[str, Any]]:
    """Listings whose title or description contains ``query`` (each of its words, when it has
    several), newest first; at most ``scan`` candidates are checked, so the answer stays bounded."""
    wanted = query_grams(query)
    words = runs(query[:MAX_QUERY_CHARS])
    if not wanted:
        return []
    with db.engine.connect() as conn:
        first = _rarest(conn, wanted)
        base = aliased(SearchGram)
        stmt = select(base.listing_id).where(_gram_is(base, first))
        for gram in wanted:
            if gram == first:
                continue
            other = aliased(SearchGram)
            stmt = stmt.where(exists().where(other.listing_id == base.listing_id, _gram_is(other, gram)))
        if first.endswith("*"):
            stmt = stmt.distinct()  # a prefix spans grams: a listing may hold several
        stmt = stmt.order_by(base.listing_id.desc())
        out: list[dict[str, Any]] = []
        below = None
        for _ in range(0, scan, PAGE):
            page = stmt.where(base.listing_id < below) if below is not None else stmt
            ids = [lid for (lid,) in conn.execute(page.limit(PAGE))]
            if not ids:
                break
            out.extend(_verified(conn, ids, words, limit - len(out)))
            if len(out) >= limit or len(ids) < PAGE:
                break
            below = ids[-1]
    return out


def _verified(conn: Connection, ids: list[int], words: list[str], limit: int) -> list[dict[str, Any]]:
    """The listings among ``ids`` whose text holds every word (the grams do not say adjacency)."""
    found = conn.execute(
        select(Listing.id, Listing.title, Listing.description, Listing.flagged, Listing.first_seen_month,
               Listing.price_text, Listing.removed_at, Listing.dealer_id, Site.name)
        .join(Site, Site.id == Listing.site_id).where(Listing.id.in_(ids)).order_by(Listing.id.desc())
    ).all()
    out = []
    for row in found:
        text = f"{row.title or ''}\n{row.description or ''}".casefold()
        if all(word in text for word in words):
            out.append({"listing_id": row.id, "site": row.name, "title": row.title or "",
                        "description": row.description or "", "flagged": bool(row.flagged),
                        "month": row.first_seen_month, "price_text": row.price_text or "",
                        "removed": row.removed_at is not None, "dealer_id": row.dealer_id})
            if len(out) >= limit:
                break
    return out


def _gram_is(table: Any, gram: str) -> Any:
    if gram.endswith("*"):
        prefix = gram[:-1]
        return and_(table.gram >= prefix, table.gram < prefix + "\U0010ffff")
    return table.gram == gram


def _rarest(conn: Connection, wanted: list[str]) -> str:
    """The gram with the fewest postings (counted up to a cap, so a common gram costs little)."""
    cap = 20_000
    best, best_count = wanted[0], None
    for gram in wanted:
        sub = select(SearchGram.listing_id).where(_gram_is(SearchGram, gram)).limit(cap).subquery()
        count = conn.execute(select(func.count()).select_from(sub)).scalar() or 0
        if best_count is None or count < best_count:
            best, best_count = gram, count
    return best
