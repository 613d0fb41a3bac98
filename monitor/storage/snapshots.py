"""A month as it stood at its end: the listings the report counts, with the state they had then.

Month M's report is computed from what was known at the end of M, so that a report
regenerated in December says what July's said in July. Later crawls move a listing on (a
removal, a reinstatement, a new title, price or posting date, a new verdict from a new lexicon),
and each such move is recorded in its observation's ``changes`` as ``[old, new]``; undoing
the moves dated after the end of M gives the listing as it was. Removal is read from the last
observation before the end of M (a removal is an observation with status "removed").

Replaying observations on millions of rows is slow, so the result is kept per month in
``month_listings`` and ``month_species`` (flagged and unread listings only): a cache. It is
written by ``ensure`` when a report (or the monthly job) first needs it, and written again
when an observation dated in the month arrived since; deleted, it is recomputed from the
observations with the same result. Dealers merged since the month are told apart again from
the recorded merges (``DealerMerge``); re-post links are today's when recomputed. Analysts'
decisions are applied when the report is read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, bindparam, delete, false, func, insert, literal, or_, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.months import parse_month, shift_month
from monitor.storage.models import (
    Contact,
    DealerMerge,
    Listing,
    ListingContact,
    ListingSpecies,
    Match,
    MonthFigure,
    MonthListing,
    MonthMatch,
    MonthSnapshot,
    MonthSpecies,
    Observation,
    SiteCrawl,
)

__all__ = ["MATCH_FIELDS", "SNAPSHOT_COLUMNS", "dealer_reversals", "delete_all", "ensure", "listing_states", "match_record",
           "matches_of", "month_end", "write"]

_CHUNK = 500
# Listing columns a snapshot row keeps (besides month and listing_id).
SNAPSHOT_COLUMNS = ("site_id", "first_seen", "first_seen_month", "posted_at", "removed_at", "removed_month",
                    "removal_kind", "unread", "flagged", "species", "score", "price_cny", "repost_of", "dealer_id")
# A match as an observation's ``changes["matches"]`` keeps it: a list in this order.
MATCH_FIELDS = ("term", "species", "kind", "field", "start", "end", "text", "trick")


def match_record(m: Any) -> list[Any]:
    """A matcher hit (a dict as the pipeline gives it) as stored: truncated as the matches table does."""
    return [str(m.get("term", ""))[:100], str(m.get("species", ""))[:30], str(m.get("kind", "") or "")[:30],
            str(m.get("field", "") or "")[:30], int(m.get("start", 0) or 0), int(m.get("end", 0) or 0),
            str(m.get("text", "") or "")[:200], str(m.get("trick", "") or "")[:30]]


def matches_of(conn: Any, listing_ids: Iterable[int]) -> dict[int, list[list[Any]]]:
    """listing id -> its stored matches as ``match_record`` lists, in the order they were written."""
    ids = sorted(set(listing_ids))
    out: dict[int, list[list[Any]]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        for row in conn.execute(
            select(Match.listing_id, Match.term, Match.species, Match.kind, Match.field, Match.start_offset,
                   Match.end_offset, Match.text, Match.trick)
            .where(Match.listing_id.in_(ids[start:start + _CHUNK])).order_by(Match.listing_id, Match.id)
        ):
            out[row[0]].append(list(row[1:]))
    return dict(out)


def month_end(month: str) -> datetime:
    """The first moment after ``month`` (naive wall clock, as observations are stored)."""
    year, mon = parse_month(shift_month(month, 1))
    return datetime(year, mon, 1)


def _month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def ensure(s: Session, month: str) -> None:
    """Make ``month``'s snapshot current: written if missing, rewritten if an observation dated
    up to its end arrived after it was written (a late or resumed crawl of the month)."""
    newest = s.execute(select(func.max(Observation.id))).scalar() or 0
    stored = s.get(MonthSnapshot, month)
    if stored is not None and stored.observation_id >= 0:
        if stored.observation_id == newest:
            return
        late = s.execute(select(func.count()).select_from(Observation).where(
            Observation.id > stored.observation_id, Observation.observed_at < month_end(month))).scalar_one()
        if not late:
            stored.observation_id = newest
            s.commit()
            return
    try:
        write(s, month, newest)
    except IntegrityError:  # another report wrote the same snapshot at the same moment
        s.rollback()


def write(s: Session, month: str, newest: int | None = None) -> None:
    """(Re)write ``month``'s snapshot from the listings and their observations, and commit."""
    end = month_end(month)
    if newest is None:
        newest = s.execute(select(func.max(Observation.id))).scalar() or 0
    for model in (MonthFigure, MonthMatch, MonthSpecies, MonthListing):
        s.execute(delete(model).where(model.month == month))
    s.execute(delete(MonthSnapshot).where(MonthSnapshot.month == month))
    # Listings nothing happened to after the month's end are copied as they stand now.
    columns = [getattr(Listing, name) for name in SNAPSHOT_COLUMNS]
    # Flagged ones, then unread ones (removed in the month first seen), each through the
    # flagged-site index rather than a scan of every listing's text.
    for wanted in (Listing.flagged == true(),
                   and_(Listing.flagged == false(), Listing.removed_month == Listing.first_seen_month,
                        Listing.unread == true())):
        s.execute(insert(MonthListing).from_select(
            ["month", "listing_id", *SNAPSHOT_COLUMNS],
            select(literal(month), Listing.id, *columns).where(wanted, Listing.first_seen_month <= month),
        ))
    s.execute(insert(MonthSpecies).from_select(  # species rows exist for flagged listings only
        ["month", "listing_id", "species", "site_id", "first_seen_month"],
        select(literal(month), ListingSpecies.listing_id, ListingSpecies.species, ListingSpecies.site_id,
               ListingSpecies.first_seen_month)
        .where(ListingSpecies.first_seen_month <= month),
    ))
    recent = shift_month(month, -1)  # the term table compares the month with the one before
    s.execute(insert(MonthMatch).from_select(
        ["month", "listing_id", "seq", "term", "species", "kind"],
        select(literal(month), Match.listing_id, Match.id, Match.term, Match.species, Match.kind)
        .join(MonthListing, (MonthListing.listing_id == Match.listing_id) & (MonthListing.month == month))
        .where(MonthListing.flagged == true(), MonthListing.first_seen_month >= recent),
    ))
    # Those that moved on are put back as they were.
    touched = sorted(set(s.scalars(  # no DISTINCT: SQLite would read the listing index whole for it
        select(Observation.listing_id).where(Observation.observed_at >= end,
                                             or_(Observation.changes.is_not(None), Observation.status == "removed"))
    )))
    for start in range(0, len(touched), _CHUNK):
        chunk = touched[start:start + _CHUNK]
        for model in (MonthMatch, MonthSpecies, MonthListing):
            s.execute(delete(model).where(model.month == month, model.listing_id.in_(chunk)))
        rows, species_rows, match_rows = [], [], []
        for listing_id, state in listing_states(s, chunk, month).items():
            if not (state["flagged"] or state["unread"]):
                continue
            rows.append({"month": month, "listing_id": listing_id, **{k: state[k] for k in SNAPSHOT_COLUMNS}})
            if state["flagged"]:
                species_rows.extend({"month": month, "listing_id": listing_id, "species": name,
                                     "site_id": state["site_id"], "first_seen_month": state["first_seen_month"]}
                                    for name in sorted({str(n)[:30] for n in state["species"] or []}))
                if state["first_seen_month"] >= recent:
                    match_rows.extend({"month": month, "listing_id": listing_id, "seq": seq, "term": m["term"],
                                       "species": m["species"], "kind": m["kind"]} for seq, m in enumerate(state["matches"]))
        if rows:
            s.execute(insert(MonthListing), rows)
        if species_rows:
            s.execute(insert(MonthSpecies), species_rows)
        if match_rows:
            s.execute(insert(MonthMatch), match_rows)
    _dealers_then(s, month)
    from monitor.storage.dealer_figures import write_dealer_figures  # both read snapshots: imported here
    from monitor.storage.newness import write_figures

    write_figures(s, month)
    write_dealer_figures(s, month)
    # Written while a crawl of the month runs, it is good for this report only: that crawl's
    # observations may commit later under lower ids (PostgreSQL), so the next report rewrites it.
    running = s.execute(select(func.count()).select_from(SiteCrawl).where(
        SiteCrawl.month <= month, SiteCrawl.status == "running")).scalar_one()
    s.add(MonthSnapshot(month=month, written_at=datetime.now(), observation_id=-1 if running else newest))
    s.commit()
    if s.get_bind().dialect.name in ("sqlite", "postgresql"):
        # The planner's row counts for these tables (a third of a second on a million listings):
        # without them SQLite reads a whole month where a range or a few rows would do.
        for table in ("month_listings", "month_species", "month_matches", "month_figures"):
            s.execute(text(f"ANALYZE {table}"))
        s.commit()


def dealer_reversals(s: Session, month: str) -> dict[int, int]:
    """contact id -> the dealer it belonged to at the end of ``month``, for the contacts whose
    dealer has merged with another since (``DealerMerge``, undone newest first)."""
    merges = s.execute(
        select(DealerMerge.old_id, DealerMerge.new_id, DealerMerge.contact_ids)
        .where(DealerMerge.merged_at >= month_end(month)).order_by(DealerMerge.merged_at.desc(), DealerMerge.id.desc())
    ).all()
    if not merges:
        return {}
    ids = sorted({int(c) for _, _, moved in merges for c in moved or []})
    dealer: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        dealer.update(s.execute(select(Contact.id, Contact.dealer_id).where(Contact.id.in_(ids[start:start + _CHUNK]))).all())
    for old, new, moved in merges:
        for contact_id in moved or []:
            if dealer.get(int(contact_id)) == new:
                dealer[int(contact_id)] = old
    return dealer


def _dealers_then(s: Session, month: str) -> None:
    """Give the snapshot's ads the dealers they had at the month's end where dealers merged since."""
    then = dealer_reversals(s, month)
    contacts = sorted(then)
    dealer_of: dict[int, int] = {}
    for start in range(0, len(contacts), _CHUNK):
        for listing_id, contact_id in s.execute(
            select(ListingContact.listing_id, ListingContact.contact_id)
            .where(ListingContact.contact_id.in_(contacts[start:start + _CHUNK]))
        ):
            dealer_of[listing_id] = min(then[contact_id], dealer_of.get(listing_id, then[contact_id]))
    if dealer_of:
        table = MonthListing.__table__
        s.connection().execute(
            update(table).where(table.c.month == month, table.c.listing_id == bindparam("lid")).values(dealer_id=bindparam("did")),
            [{"lid": lid, "did": did} for lid, did in dealer_of.items()])


def listing_states(s: Session, listing_ids: Iterable[int], month: str) -> dict[int, dict[str, Any]]:
    """listing id -> every Listing column as it stood at the end of ``month``, plus ``last_seen``
    then and ``matches`` (dicts with MATCH_FIELDS); listings first seen later are left out."""
    end = month_end(month)
    ids = sorted(set(listing_ids))
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        history: dict[int, list[Any]] = defaultdict(list)
        for row in s.execute(
            select(Observation.listing_id, Observation.observed_at, Observation.status, Observation.changes)
            .where(Observation.listing_id.in_(chunk)).order_by(Observation.listing_id, Observation.observed_at, Observation.id)
        ):
            history[row.listing_id].append(row)
        matches = matches_of(s, chunk)
        for row in s.execute(select(Listing.__table__).where(Listing.id.in_(chunk))).mappings():
            if row["first_seen_month"] > month:
                continue
            state = _as_of({**row, "matches": matches.get(row["id"], [])}, history.get(row["id"], []), end)
            state["matches"] = [dict(zip(MATCH_FIELDS, m)) for m in state["matches"]]
            out[row["id"]] = state
    return out


def _as_of(state: dict[str, Any], observations: list[Any], end: datetime) -> dict[str, Any]:
    """``state`` (a listing as it stands) taken back to ``end`` through its observations."""
    before = [o for o in observations if o.observed_at < end]
    for later in reversed([o for o in observations if o.observed_at >= end]):
        for name, change in (later.changes or {}).items():
            if name in state and name not in ("removal_kind", "unread") and isinstance(change, list) and len(change) == 2:
                state[name] = _parse_time(change[0]) if name == "posted_at" else change[0]
    live = [o for o in before if o.status != "removed"]
    state["last_seen"] = live[-1].observed_at if live else state["first_seen"]
    last = before[-1] if before else None
    if last is not None and last.status == "removed":
        kind = ((last.changes or {}).get("removal_kind") or [None, None])[-1]
        state.update(removed_at=last.observed_at, removed_month=_month_of(last.observed_at),
                     removal_kind=(kind or state.get("removal_kind") or "removed")[:30])
    elif last is not None:
        state.update(removed_at=None, removed_month=None, removal_kind=None)
    if before and before[0].status == "removed" and not live:
        state.update(unread=True, flagged=False)  # gone before its first visit, not read by then
    elif live:
        state["unread"] = False
    return state


def _parse_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def delete_all(s: Session) -> None:
    """Drop every stored snapshot (they are recomputed on demand); commits."""
    for model in (MonthFigure, MonthMatch, MonthSpecies, MonthListing, MonthSnapshot):
        s.execute(delete(model))
    s.commit()
