"""Takedown export/sent/outcome and the review round-trip, through the library and `wtm`."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from monitor.cli import cli
from monitor.exceptions import InputFileError
from monitor.storage import CrawlRecorder, Database, stats
from monitor.storage.models import Listing, ReviewDecision, TakedownItem
from monitor.storage.review import decision_history, export_review, import_review
from monitor.storage.takedowns import export_takedown, record_demo_takedowns, record_takedown_sent
from storage_db import at, item, ivory

HOSTILE_SITE = "../evil site;rm -rf"
FORMULA_TITLE = '=HYPERLINK("http://evil.example","象牙")'



def crawl(db: Database, month: str, site: str, flagged: list[str], unflagged: list[str] = (), removed: list[str] = (),
          day: int = 28) -> None:
    run = db.start_run("monthly", at(month, day), month)
    with CrawlRecorder(db, run_id=run, site=site, observed_at=at(month, day)) as rec:
        for eid in flagged:
            title = FORMULA_TITLE if eid == "formula" else f"象牙手镯 {eid}"
            rec.add(item(eid, site=site, title=title), matches=[ivory()], lexicon_version="v1", flagged=True,
                    species=["ivory"], score=0.9, evidence=f"<html>{eid}</html>".encode())
        for eid in unflagged:
            rec.add(item(eid, site=site, title="象牙白 油漆"), flagged=False)
        for eid in removed:
            rec.mark_removed(eid, "http_404")


def test_takedown_export_sent_and_outcome(db: Database, tmp_path: Path) -> None:
    crawl(db, "2025-06", HOSTILE_SITE, ["1", "2", "formula"], unflagged=["9"])
    csv_path, xlsx_path, n = export_takedown(db, HOSTILE_SITE, "2025-06", tmp_path / "out")
    assert n == 3
    assert csv_path.name == "takedown-evil_site_rm_-rf-2025-06.csv" and csv_path.parent == tmp_path / "out"
    assert xlsx_path.name == "takedown-evil_site_rm_-rf-2025-06.xlsx"
    with csv_path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["title"] for r in rows] == ["象牙手镯 1", "象牙手镯 2", "'" + FORMULA_TITLE]
    assert rows[0]["url"].endswith("/item/1.html") and rows[0]["species"] == "ivory"
    assert rows[0]["first_seen"] == "2025-06-28" and len(rows[0]["evidence_sha256"]) == 64
    sheet = load_workbook(xlsx_path).active
    assert [c.value for c in sheet[1]][:5] == ["url", "title", "species", "first_seen", "evidence_sha256"]
    assert sheet.cell(row=4, column=2).value == FORMULA_TITLE and sheet.cell(row=4, column=2).data_type == "s"

    request_id, urls = record_takedown_sent(db, HOSTILE_SITE, "2025-06", sent_at=datetime(2025, 7, 1),
                                            platform_contact="abuse@example.org")
    assert len(urls) == 3
    with pytest.raises(Exception, match="nothing to report"):
        record_takedown_sent(db, HOSTILE_SITE, "2025-06")
    crawl(db, "2025-07", HOSTILE_SITE, [], removed=["1"], day=20)
    crawl(db, "2025-08", HOSTILE_SITE, [], removed=["2"], day=25)
    with db.session() as s:
        items = s.execute(select(TakedownItem.removal_kind).where(TakedownItem.request_id == request_id)).scalars().all()
        assert sorted(k or "" for k in items) == ["", "http_404", "http_404"]
        assert stats.takedown_outcomes(s, "2025-06") == [{
            "site": HOSTILE_SITE, "requested": 3, "removed_30d": 1, "removed_60d": 2, "removed": 2, "pending": 1}]
    # Removed listings are no longer on the next takedown list.
    assert export_takedown(db, HOSTILE_SITE, "2025-08", tmp_path / "out")[2] == 1


def test_demo_takedowns_cover_every_site(db: Database) -> None:
    crawl(db, "2025-06", "alpha", ["1", "2"])
    crawl(db, "2025-06", "beta", ["3"], unflagged=["4"])
    crawl(db, "2025-06", "gamma", [], unflagged=["5"])
    urls = record_demo_takedowns(db, "2025-06", sent_at=at("2025-06", 30))
    assert sorted(u.rsplit("/", 3)[1] + "/" + u.rsplit("/", 1)[1] for u in urls) == [
        "alpha/1.html", "alpha/2.html", "beta/3.html"]


def fill(path: Path, decisions: dict[int, tuple[str, str]], edit=None) -> Path:
    book = load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        listing_id = row[header.index("listing_id")].value
        if listing_id in decisions:
            row[header.index("decision")].value, row[header.index("note")].value = decisions[listing_id]
    if edit:
        edit(sheet, header)
    book.save(path)
    return path


def current_decisions(db: Database) -> dict[int, str]:
    with db.session() as s:
        return dict(s.execute(select(ReviewDecision.listing_id, ReviewDecision.decision).where(ReviewDecision.current.is_(True))).all())


def test_review_round_trip_keeps_history(db: Database, tmp_path: Path) -> None:
    crawl(db, "2025-06", "alpha", ["1", "2", "3"], unflagged=["4"])
    path, n = export_review(db, "2025-06", tmp_path / "review.xlsx")
    assert n == 3
    with db.session() as s:
        ids = s.execute(select(Listing.id).where(Listing.flagged.is_(True)).order_by(Listing.id)).scalars().all()
    fill(path, {ids[0]: ("confirmed", "carved tusk"), ids[1]: ("Rejected", "bone, not ivory")})
    counts = import_review(db, path, reviewer="ana", decided_at=datetime(2025, 7, 2))
    assert counts == {"rows": 4, "recorded": 2, "unchanged": 0, "blank": 2}  # 3 flags + 1 sample row
    assert current_decisions(db) == {ids[0]: "confirmed", ids[1]: "rejected"}
    assert import_review(db, path, reviewer="ana")["unchanged"] == 2
    path2, _ = export_review(db, "2025-06", tmp_path / "review2.xlsx")
    fill(path2, {ids[1]: ("confirmed", "lab test: ivory")})
    import_review(db, path2, reviewer="ben")
    history = decision_history(db, ids[1])
    assert [(h["decision"], h["reviewer"], h["current"]) for h in history] == [
        ("rejected", "ana", False), ("confirmed", "ben", True)]
    with db.session() as s:
        assert stats.review_counts(s, "2025-06") == {"ivory": {"confirmed": 2, "rejected": 0, "candidate": 1}}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda sheet, header: sheet.cell(row=3, column=header.index("decision") + 1, value="maybe"),
         r"row 3: decision 'maybe'"),
        (lambda sheet, header: sheet.cell(row=4, column=header.index("listing_id") + 1, value=99999),
         r"row 4: listing 99999 is not in the database"),
        (lambda sheet, header: sheet.cell(row=2, column=header.index("external_id") + 1, value="other"),
         r"row 2: listing \d+ is alpha/1 in the database, but the file says alpha/other"),
        (lambda sheet, header: sheet.cell(row=3, column=header.index("listing_id") + 1, value="abc"),
         r"row 3: listing_id 'abc' is not a number"),
        (lambda sheet, header: [sheet.cell(row=4, column=i + 1, value=sheet.cell(row=2, column=i + 1).value)
                                for i in range(len(header))],
         r"row 4: listing \d+ appears again \(first on row 2\)"),
        (lambda sheet, header: sheet.delete_cols(header.index("site") + 1), r"missing column\(s\) site"),
    ],
)
def test_review_import_rejects_a_bad_file_without_partial_change(db: Database, tmp_path: Path, edit, message) -> None:
    crawl(db, "2025-06", "alpha", ["1", "2", "3"])
    path, _ = export_review(db, "2025-06", tmp_path / "review.xlsx")
    with db.session() as s:
        ids = s.execute(select(Listing.id).order_by(Listing.id)).scalars().all()
    fill(path, {i: ("confirmed", "") for i in ids}, edit=edit)
    with pytest.raises(InputFileError, match=message) as info:
        import_review(db, path)
    assert "nothing imported" in str(info.value) or "missing column" in str(info.value)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReviewDecision)) == 0


def test_review_import_of_a_non_spreadsheet(db: Database, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.xlsx"
    bogus.write_text("not a spreadsheet")
    with pytest.raises(InputFileError, match="notes.xlsx"):
        import_review(db, bogus)
    with pytest.raises(InputFileError, match="not found"):
        import_review(db, tmp_path / "missing.xlsx")


def test_cli_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    result = runner.invoke(cli, [*base, "takedown", "export", "--site", "alpha", "--month", "2025-06"])
    assert isinstance(result.exception, Exception) and "wtm db upgrade" in str(result.exception)
    result = runner.invoke(cli, [*base, "db", "upgrade"])
    head = Database(f"sqlite:///{data / 'wtm.sqlite3'}").head_revision()
    assert result.exit_code == 0 and f"-> {head}" in result.output
    result = runner.invoke(cli, [*base, "db", "status"])
    assert result.exit_code == 0 and "up to date" in result.output
    db = Database(f"sqlite:///{data / 'wtm.sqlite3'}", evidence_dir=data / "evidence")
    crawl(db, "2025-06", "alpha", ["1", "2"])
    result = runner.invoke(cli, [*base, "takedown", "export", "--site", "alpha", "--month", "2025-06"])
    assert result.exit_code == 0, result.output
    assert (data / "takedowns" / "takedown-alpha-2025-06.csv").is_file()
    assert (data / "takedowns" / "takedown-alpha-2025-06.xlsx").is_file()
    result = runner.invoke(cli, [*base, "takedown", "sent", "--site", "alpha", "--month", "2025-06", "--date",
                                 "2025-07-01", "--platform-contact", "abuse@example.org"])
    assert result.exit_code == 0 and "2 listings of alpha" in result.output
    result = runner.invoke(cli, [*base, "takedown", "export", "--site", "alpha", "--month", "2025-6"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    out = tmp_path / "r.xlsx"
    result = runner.invoke(cli, [*base, "review", "export", "--month", "2025-06", "--out", str(out)])
    assert result.exit_code == 0 and "2 listings to review" in result.output
    result = runner.invoke(cli, [*base, "review", "import", str(out), "--reviewer", "ana"])
    assert result.exit_code == 0 and "0 decisions recorded" in result.output
    result = runner.invoke(cli, [*base, "db", "downgrade", "base", "--yes"])
    assert result.exit_code == 0
    result = runner.invoke(cli, [*base, "db", "status"])
    assert "pending: 0001" in result.output
