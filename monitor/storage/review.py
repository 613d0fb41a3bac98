"""Analysts' review round-trip: export a month's flagged listings, import their decisions.

An import is all or nothing: every row is checked against the database first, and one
bad row (unknown listing, site or id that do not match, a decision that is not
``confirmed``/``rejected``) rejects the whole file with messages naming the rows.
Decisions are never overwritten: a new one is added and marked current.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, cast, false, func, literal, select, true, update

from monitor.exceptions import InputFileError
from monitor.spreadsheets import read_table, write_xlsx
from monitor.storage.db import Database
from monitor.storage.models import Listing, ReviewDecision, Site
from monitor.storage.timeutil import check_month, naive

DECISIONS = ("confirmed", "rejected")
REVIEW_COLUMNS = ("listing_id", "site", "external_id", "url", "title", "species", "score", "first_seen",
                  "decision", "reviewer", "note")
REQUIRED_COLUMNS = ("listing_id", "site", "external_id", "decision")
MAX_REPORTED_ERRORS = 20


def review_rows(db: Database, month: str) -> list[dict[str, Any]]:
    """The month's new flagged listings with their current decision, if any."""
    check_month(month)
    with db.session() as s:
        rows = s.execute(
            select(Listing, Site.name)
            .join(Site, Site.id == Listing.site_id)
            .where(Listing.first_seen_month == month, Listing.flagged == true())
            .order_by(Site.name, Listing.id)
        ).all()
        current = {
            d.listing_id: d for d in s.scalars(
                select(ReviewDecision).where(
                    ReviewDecision.current == true(),
                    ReviewDecision.listing_id.in_(select(Listing.id).where(Listing.first_seen_month == month)),
                )
            )
        }
    out = []
    for listing, site in rows:
        decision = current.get(listing.id)
        out.append({
            "listing_id": listing.id, "site": site, "external_id": listing.external_id, "url": listing.url,
            "title": listing.title, "species": ", ".join(listing.species or []), "score": round(listing.score, 3),
            "first_seen": listing.first_seen.date().isoformat(),
            "decision": decision.decision if decision else "", "reviewer": decision.reviewer if decision else "",
            "note": decision.note if decision else "",
        })
    return out


def export_review(db: Database, month: str, out: Path) -> tuple[Path, int]:
    rows = review_rows(db, month)
    table = [[row[column] for column in REVIEW_COLUMNS] for row in rows]
    path = write_xlsx(Path(out), REVIEW_COLUMNS, table, title=f"review {month}", choices={"decision": DECISIONS})
    return path, len(rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def import_review(
    db: Database,
    path: Path,
    reviewer: str = "",
    decided_at: datetime | None = None,
) -> dict[str, int]:
    """Apply the decisions in an exported review file; see the module docstring.

    Rows with an empty decision are skipped. ``reviewer``, when given, is recorded for
    every changed decision; otherwise the file's reviewer column is.
    Returns counts: rows, recorded, unchanged, blank.
    """
    path = Path(path)
    header, rows = read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputFileError(f"{path}: missing column(s) {', '.join(missing)}; expected the columns of `wtm review export`")
    when = naive(decided_at or datetime.now())
    errors: list[str] = []
    wanted: list[tuple[int, int, str, str, str]] = []
    seen: dict[int, int] = {}
    parsed: list[tuple[int, int | None, dict[str, Any]]] = []
    for number, row in rows:
        raw_id = _text(row.get("listing_id"))
        try:
            listing_id: int | None = int(raw_id)
        except ValueError:
            errors.append(f"row {number}: listing_id {raw_id!r} is not a number")
            listing_id = None
        parsed.append((number, listing_id, row))
    ids = sorted({lid for _, lid, _ in parsed if lid is not None})
    with db.session() as s:
        known: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), 500):
            for lid, external_id, site in s.execute(
                select(Listing.id, Listing.external_id, Site.name)
                .join(Site, Site.id == Listing.site_id)
                .where(Listing.id.in_(ids[start:start + 500]))
            ):
                known[lid] = (external_id, site)
        for number, listing_id, row in parsed:
            if listing_id is None:
                continue
            decision = _text(row.get("decision")).lower()
            if listing_id not in known:
                errors.append(f"row {number}: listing {listing_id} is not in the database")
                continue
            external_id, site = known[listing_id]
            if _text(row.get("site")) != site or _text(row.get("external_id")) != external_id:
                errors.append(
                    f"row {number}: listing {listing_id} is {site}/{external_id} in the database, "
                    f"but the file says {_text(row.get('site'))}/{_text(row.get('external_id'))}"
                )
                continue
            if listing_id in seen:
                errors.append(f"row {number}: listing {listing_id} appears again (first on row {seen[listing_id]})")
                continue
            seen[listing_id] = number
            if decision and decision not in DECISIONS:
                errors.append(f"row {number}: decision {decision!r} is not one of {', '.join(DECISIONS)} (or empty)")
                continue
            wanted.append((number, listing_id, decision, reviewer or _text(row.get("reviewer")),
                           _text(row.get("note"))))
        if errors:
            shown = errors[:MAX_REPORTED_ERRORS]
            more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
            raise InputFileError(
                f"{path}: {len(errors)} bad row(s), nothing imported:\n  " + "\n  ".join(shown) + more
            )
        current = {
            d.listing_id: d for d in s.scalars(
                select(ReviewDecision).where(ReviewDecision.current == true(), ReviewDecision.listing_id.in_(list(seen)))
            )
        } if seen else {}
        counts = {"rows": len(rows), "recorded": 0, "unchanged": 0, "blank": 0}
        for _, listing_id, decision, who, note in wanted:
            if not decision:
                counts["blank"] += 1
                continue
            previous = current.get(listing_id)
            if previous is not None and previous.decision == decision and previous.note == note:
                counts["unchanged"] += 1
                continue
            if previous is not None:
                s.execute(update(ReviewDecision).where(ReviewDecision.id == previous.id).values(current=False))
            s.add(ReviewDecision(listing_id=listing_id, decision=decision, reviewer=who[:100], note=note,
                                 decided_at=when, current=True))
            counts["recorded"] += 1
    return counts


def decision_history(db: Database, listing_id: int) -> list[dict[str, Any]]:
    """Every decision on a listing, oldest first."""
    with db.session() as s:
        return [
            {"decision": d.decision, "reviewer": d.reviewer, "note": d.note, "decided_at": d.decided_at, "current": d.current}
            for d in s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id == listing_id).order_by(ReviewDecision.id))
        ]


def decided_listings(db: Database) -> list[dict[str, Any]]:
    """Every listing with a current analyst decision: its text, the decision and where it came
    from (what ``wtm model train`` learns from; the matcher itself never reads the database)."""
    with db.session() as s:
        rows = s.execute(
            select(Listing.id, Listing.title, Listing.description, Listing.species, Listing.first_seen_month,
                   Site.name, ReviewDecision.decision, ReviewDecision.decided_at)
            .join(Site, Site.id == Listing.site_id)
            .join(ReviewDecision, ReviewDecision.listing_id == Listing.id)
            .where(ReviewDecision.current == true())
            .order_by(Listing.id)
        ).all()
    return [
        {"listing_id": lid, "title": title or "", "description": description or "", "species": list(species or []),
         "month": month, "site": site, "decision": decision, "decided_at": decided_at}
        for lid, title, description, species, month, site, decision, decided_at in rows
    ]


def record_decision(
    db: Database, listing_id: int, decision: str, reviewer: str, note: str = "", decided_at: datetime | None = None
) -> None:
    """One decision made in the workbench, kept as ``import_review`` keeps a file's rows (the
    previous one stays, no longer current), so the spreadsheet round trip reads it back."""
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    with db.session() as s:
        if s.get(Listing, listing_id) is None:
            raise LookupError(f"listing {listing_id} is not in the database")
        s.execute(update(ReviewDecision).where(ReviewDecision.listing_id == listing_id, ReviewDecision.current == true())
                  .values(current=False))
        s.add(ReviewDecision(listing_id=listing_id, decision=decision, reviewer=reviewer[:100], note=note,
                             decided_at=naive(decided_at or datetime.now()), current=True))


def undo_decision(db: Database, listing_id: int) -> str:
    """Withdraw a listing's current decision: the one before it (if any) is current again.
    The withdrawn row stays in the history; returns the decision now current ("" for none)."""
    with db.session() as s:
        rows = list(s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id == listing_id)
                              .order_by(ReviewDecision.id.desc())))
        current = next((d for d in rows if d.current), None)
        if current is None:
            return ""
        current.current = False
        earlier = next((d for d in rows if d.id < current.id), None)
        if earlier is not None:
            earlier.current = True
        return earlier.decision if earlier is not None else ""


SAMPLE_PER_SITE = 5


def unflagged_sample(db: Database, month: str, per_site: int = SAMPLE_PER_SITE) -> list[int]:
    """A month's random sample of listings the matcher did not flag, ``per_site`` from each site
    (stratified), for analysts to judge so misses can be estimated (issue 12, item 5).

    The draw is a fixed hash of the listing id, so the sample stays the same however often it is
    read and whatever has been decided since; ids in site order."""
    check_month(month)
    draw = (cast(Listing.id, BigInteger) * literal(2654435761, BigInteger)) % literal(4294967291, BigInteger)
    rank = func.row_number().over(partition_by=Listing.site_id, order_by=(draw, Listing.id)).label("rank")
    # Ranked on the month index alone (no table reads); unread ones are dropped afterwards.
    drawn = (select(Listing.id, Listing.site_id, rank)
             .where(Listing.first_seen_month == month, Listing.flagged == false()).subquery())
    with db.session() as s:
        rows = s.execute(select(drawn.c.id, drawn.c.site_id, Listing.unread)
                         .join(Listing, Listing.id == drawn.c.id).where(drawn.c.rank <= 4 * per_site)
                         .order_by(drawn.c.site_id, drawn.c.rank)).all()
    taken: dict[int, int] = {}
    out = []
    for listing_id, site_id, unread in rows:
        if not unread and taken.get(site_id, 0) < per_site:
            taken[site_id] = taken.get(site_id, 0) + 1
            out.append(listing_id)
    return out
