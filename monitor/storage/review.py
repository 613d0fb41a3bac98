"""Analysts' review round-trip: export a month's flagged listings, import their decisions.

An import is all or nothing: every row is checked against the database first, and one
bad row (unknown listing, site or id that do not match, a decision that is not
``confirmed``/``rejected``) rejects the whole file with messages naming the rows.
Decisions are never overwritten: a new one is added and marked current.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import BigInteger, cast, false, func, literal, select, true, update
from sqlalchemy.orm import Session

from monitor.exceptions import InputFileError
from monitor.spreadsheets import Sheet, read_sheets, write_workbook
from monitor.storage.db import Database
from monitor.storage.models import Listing, Match, ReviewDecision, Site
from monitor.storage.timeutil import check_month, naive

DECISIONS = ("confirmed", "rejected")
# A sample row (an ad the matcher did not flag) is judged "missed" (it is wildlife trade) or not;
# stored as the workbench stores a sample verdict: confirmed / rejected on the unflagged listing.
SAMPLE_DECISIONS = {"missed": "confirmed", "not_missed": "rejected", "confirmed": "confirmed", "rejected": "rejected"}
SAMPLE_SHEET = "sample"
# Read back by name, so the order is the reader's: the ad, then the matcher's view, then the verdict.
REVIEW_COLUMNS = ("listing_id", "site", "site_title", "external_id", "url", "title", "description", "price_text",
                  "price_cny", "contacts", "dealer_id", "species", "matched_terms", "score", "first_seen",
                  "decision", "reviewer", "note")
REQUIRED_COLUMNS = ("listing_id", "site", "external_id", "decision")
MAX_REPORTED_ERRORS = 20
OPEN_MARK, CLOSE_MARK = "【", "】"


def marked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each matched span in 【】 brackets (a spreadsheet cell has no inline
    highlight); overlapping or out-of-range spans are merged or dropped."""
    out, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        out += [text[at:start], OPEN_MARK, text[start:end], CLOSE_MARK]
        at = end
    return "".join(out) + text[at:]


def _rows(s: Session, listing_ids: list[int], site_titles: Mapping[str, str],
          contact_names: Mapping[str, str]) -> list[dict[str, Any]]:
    from monitor.storage.stats import listing_contacts

    found: dict[int, tuple[Listing, str]] = {}
    spans: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    terms: dict[int, dict[str, None]] = defaultdict(dict)
    current: dict[int, ReviewDecision] = {}
    for start in range(0, len(listing_ids), 500):
        chunk = listing_ids[start:start + 500]
        found.update((listing.id, (listing, site)) for listing, site in s.execute(
            select(Listing, Site.name).join(Site, Site.id == Listing.site_id).where(Listing.id.in_(chunk))))
        for lid, field, begin, end, term in s.execute(
            select(Match.listing_id, Match.field, Match.start_offset, Match.end_offset, Match.term)
            .where(Match.listing_id.in_(chunk)).order_by(Match.listing_id, Match.field != "title", Match.start_offset)
        ):
            spans[(lid, field)].append((begin, end))
            terms[lid][term] = None
        current.update((d.listing_id, d) for d in s.scalars(
            select(ReviewDecision).where(ReviewDecision.current == true(), ReviewDecision.listing_id.in_(chunk))))
    contacts = listing_contacts(s, listing_ids)
    out = []
    for lid in listing_ids:
        listing, site = found[lid]
        decision = current.get(lid)
        out.append({
            "listing_id": lid, "site": site, "external_id": listing.external_id, "url": listing.url,
            "title": marked(listing.title or "", spans[(lid, "title")]),
            "species": ", ".join(listing.species or []), "score": round(listing.score, 3),
            "first_seen": listing.first_seen.date().isoformat(),
            "decision": decision.decision if decision else "", "reviewer": decision.reviewer if decision else "",
            "note": decision.note if decision else "", "site_title": site_titles.get(site, site),
            "description": marked(listing.description or "", spans[(lid, "description")]),
            "price_text": listing.price_text or "",
            "price_cny": round(listing.price_cny, 2) if listing.price_cny is not None else None,
            "contacts": ", ".join(f"{contact_names.get(c['kind'], c['kind'])} {c['value']}" for c in contacts[lid]),
            "dealer_id": listing.dealer_id, "matched_terms": ", ".join(terms[lid]),
        })
    return out


def review_rows(db: Database, month: str, site_titles: Mapping[str, str] | None = None,
                contact_names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The month's new flagged listings with their full text (matched terms in 【】), price,
    contacts, dealer and current decision, if any. ``contact_names`` names contact kinds
    (the reports' labels; the codes when not given), ``site_titles`` the sites."""
    check_month(month)
    with db.session() as s:
        ids = list(s.execute(
            select(Listing.id).join(Site, Site.id == Listing.site_id)
            .where(Listing.first_seen_month == month, Listing.flagged == true())
            .order_by(Site.name, Listing.id)
        ).scalars())
        return _rows(s, ids, site_titles or {}, contact_names or {})


def sample_rows(db: Database, month: str, site_titles: Mapping[str, str] | None = None,
                contact_names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The month's random sample of unflagged listings (``unflagged_sample``), as review rows;
    a current "confirmed" reads back as "missed" and "rejected" as "not_missed"."""
    ids = unflagged_sample(db, month)
    with db.session() as s:
        rows = _rows(s, ids, site_titles or {}, contact_names or {})
    shown = {"confirmed": "missed", "rejected": "not_missed"}
    for row in rows:
        row["decision"] = shown.get(row["decision"], row["decision"])
    return rows


def export_review(db: Database, month: str, out: Path, site_titles: Mapping[str, str] | None = None,
                  contact_names: Mapping[str, str] | None = None) -> tuple[Path, int]:
    """The month's review workbook: the new flags (decide confirmed / rejected) and, on the
    ``sample`` sheet, the unflagged sample (decide missed / not_missed); returns the path and
    the number of flags."""
    rows = review_rows(db, month, site_titles, contact_names)
    sample = sample_rows(db, month, site_titles, contact_names)
    sheets = [
        Sheet(f"review {month}", REVIEW_COLUMNS, [[row[c] for c in REVIEW_COLUMNS] for row in rows],
              choices={"decision": DECISIONS}, links=["url"], widths=WIDTHS),
        Sheet(SAMPLE_SHEET, REVIEW_COLUMNS, [[row[c] for c in REVIEW_COLUMNS] for row in sample],
              choices={"decision": ("missed", "not_missed")}, links=["url"], widths=WIDTHS),
    ]
    return write_workbook(Path(out), sheets), len(rows)


WIDTHS = {"title": 40, "description": 80, "url": 40, "note": 30, "contacts": 30}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _review_tables(path: Path) -> list[tuple[str, Mapping[str, str], list[tuple[int, dict[str, Any]]]]]:
    """(row prefix, allowed decision -> stored decision, rows) of the file's flags sheet (its
    first) and, if present, its sample sheet; a file of older versions has the first alone."""
    sheets = read_sheets(path)
    tables = []
    for index, (title, header, rows) in enumerate(sheets):
        sample = index > 0 and title == SAMPLE_SHEET
        if index > 0 and not sample:
            continue
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            where = f" sheet {title!r}:" if sample else ""
            raise InputFileError(f"{path}:{where} missing column(s) {', '.join(missing)}; "
                                 f"expected the columns of `wtm review export`")
        allowed = SAMPLE_DECISIONS if sample else {d: d for d in DECISIONS}
        tables.append((f"sheet {SAMPLE_SHEET} row" if sample else "row", allowed, rows))
    return tables


def _known(s: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    known: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        for lid, external_id, site in s.execute(
            select(Listing.id, Listing.external_id, Site.name)
            .join(Site, Site.id == Listing.site_id)
            .where(Listing.id.in_(ids[start:start + 500]))
        ):
            known[lid] = (external_id, site)
    return known


def _check_rows(tables: list, known: dict[int, tuple[str, str]], reviewer: str,
                errors: list[str]) -> list[tuple[int, str, str, str]]:
    """The (listing id, stored decision or "", reviewer, note) the rows ask for; faults go to ``errors``."""
    wanted: list[tuple[int, str, str, str]] = []
    seen: dict[int, str] = {}
    for prefix, allowed, rows in tables:
        for number, row in rows:
            where = f"{prefix} {number}"
            raw_id = _text(row.get("listing_id"))
            try:
                listing_id = int(raw_id)
            except ValueError:
                errors.append(f"{where}: listing_id {raw_id!r} is not a number")
                continue
            if listing_id not in known:
                errors.append(f"{where}: listing {listing_id} is not in the database")
                continue
            external_id, site = known[listing_id]
            if _text(row.get("site")) != site or _text(row.get("external_id")) != external_id:
                errors.append(f"{where}: listing {listing_id} is {site}/{external_id} in the database, "
                              f"but the file says {_text(row.get('site'))}/{_text(row.get('external_id'))}")
                continue
            if listing_id in seen:
                errors.append(f"{where}: listing {listing_id} appears again (first on {seen[listing_id]})")
                continue
            seen[listing_id] = where
            decision = _text(row.get("decision")).lower().replace(" ", "_")
            if decision and decision not in allowed:
                shown = _text(row.get("decision")).lower()
                errors.append(f"{where}: decision {shown!r} is not one of {', '.join(allowed)} (or empty)")
                continue
            wanted.append((listing_id, allowed.get(decision, ""), reviewer or _text(row.get("reviewer")),
                           _text(row.get("note"))))
    return wanted


def import_review(
    db: Database,
    path: Path,
    reviewer: str = "",
    decided_at: datetime | None = None,
) -> dict[str, int]:
    """Apply the decisions in an exported review file; see the module docstring.

    Rows with an empty decision are skipped. ``reviewer``, when given, is recorded for
    every changed decision; otherwise the file's reviewer column is. The sample sheet's
    "missed" / "not_missed" are stored as the workbench stores them (confirmed / rejected).
    Returns counts: rows, recorded, unchanged, blank.
    """
    path = Path(path)
    tables = _review_tables(path)
    when = naive(decided_at or datetime.now())
    errors: list[str] = []
    ids: set[int] = set()
    for _, _, rows in tables:
        ids.update(int(_text(r.get("listing_id"))) for _, r in rows if _text(r.get("listing_id")).isdigit())
    with db.session() as s:
        wanted = _check_rows(tables, _known(s, sorted(ids)), reviewer, errors)
        if errors:
            shown = errors[:MAX_REPORTED_ERRORS]
            more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
            raise InputFileError(
                f"{path}: {len(errors)} bad row(s), nothing imported:\n  " + "\n  ".join(shown) + more
            )
        listed = [listing_id for listing_id, *_ in wanted]
        current = {
            d.listing_id: d for d in s.scalars(
                select(ReviewDecision).where(ReviewDecision.current == true(), ReviewDecision.listing_id.in_(listed))
            )
        } if listed else {}
        counts = {"rows": sum(len(rows) for _, _, rows in tables), "recorded": 0, "unchanged": 0, "blank": 0}
        for listing_id, decision, who, note in wanted:
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
