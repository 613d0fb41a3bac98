"""The takedown package (every site, zh and en) and the review sheet with its unflagged sample,
written to real SQLite and read back with openpyxl."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from monitor.cli import cli, main
from monitor.reports.packages import write_takedown_package
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import Listing, ReviewDecision
from monitor.storage.review import export_review, import_review, record_decision, unflagged_sample
from monitor.storage.takedowns import record_takedown_sent
from storage_db import at, item

FORMULA = '=HYPERLINK("http://evil.example","点我")'
CODE = {"term": "白塑料", "species": "ivory", "kind": "code_word", "field": "title", "start": 2, "end": 5,
        "text": "白塑料", "trick": "code_word"}
WEAK = {"term": "ivory", "species": "ivory", "kind": "name", "field": "description", "start": 0, "end": 5,
        "text": "ivory", "trick": ""}
TIGER = {"term": "虎骨", "species": "tiger", "kind": "name", "field": "title", "start": 0, "end": 2,
         "text": "虎骨", "trick": ""}


def crawl(db: Database, month: str, site: str, flagged: dict[str, dict], unflagged: tuple[str, ...] = (),
          removed: tuple[str, ...] = (), day: int = 28) -> None:
    run = db.start_run("monthly", at(month, day), month)
    with CrawlRecorder(db, run_id=run, site=site, observed_at=at(month, day)) as rec:
        for eid, spec in flagged.items():
            rec.add(item(eid, site=site, title=spec.get("title", "出售白塑料手镯"),
                         description=spec.get("description", "ivory 老料，私聊"), price_text="1,200元",
                         price_cny=1200.0, seller=spec.get("seller", "老王"),
                         contact_text=spec.get("contact", "微信 wanglao88")),
                    matches=spec.get("matches", [CODE, WEAK]), lexicon_version="v1", flagged=True,
                    species=spec.get("species", ["ivory"]), score=0.9, evidence=f"<html>{eid}</html>".encode())
        for eid in unflagged:
            rec.add(item(eid, site=site, title=f"象牙白 油漆 {eid}", description="墙面漆"), flagged=False)
        for eid in removed:
            rec.mark_removed(eid, "http_404")


def sheets(path: Path) -> dict[str, list[dict]]:
    book = load_workbook(path)
    out = {}
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        out[sheet.title] = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    return out


def two_sites(db: Database) -> None:
    crawl(db, "2025-06", "alpha", {"a1": {}, "a2": {"title": FORMULA, "matches": []}, "a3": {}})
    crawl(db, "2025-06", "beta", {"b1": {"title": "虎骨酒 老货", "matches": [TIGER], "species": ["tiger"],
                                         "contact": "电话 13912345678", "seller": "阿虎"}})


def listing_id(db: Database, external_id: str) -> int:
    with db.session() as s:
        return s.execute(select(Listing.id).where(Listing.external_id == external_id)).scalar_one()


def test_takedown_package_covers_every_site_in_both_languages(db: Database, tmp_path: Path) -> None:
    two_sites(db)
    record_takedown_sent(db, "alpha", "2025-06", sent_at=datetime(2025, 7, 1))
    crawl(db, "2025-07", "alpha", {"a4": {}})
    record_decision(db, listing_id(db, "a3"), "rejected", "ana")
    titles = {"alpha": "阿尔法二手", "beta": "Beta Market"}

    files, counts = write_takedown_package(db, "2025-07", tmp_path / "zh", site_titles=titles)
    assert counts == {"alpha": 3, "beta": 1} and [f.name for f in files] == ["takedown-2025-07.xlsx"]
    book = sheets(files[0])
    assert list(book) == ["alpha", "beta"]
    alpha = {r["平台广告编号"]: r for r in book["alpha"]}
    assert sorted(alpha) == ["a1", "a2", "a4"]  # the rejected a3 is left out
    a1 = alpha["a1"]
    assert a1["平台"] == "阿尔法二手" and a1["描述"] == "ivory 老料，私聊" and a1["标价"] == "1,200元"
    assert a1["价格（人民币元）"] == 1200 and a1["卖家名称"] == "老王" and a1["联系方式"] == "微信 wanglao88"
    assert "白塑料：象牙的暗语" in a1["命中词及释义"] and "ivory：象牙的物种名" in a1["命中词及释义"]
    assert a1["法律依据"].startswith("象牙：《濒危野生动植物种国际贸易公约》附录I")
    assert a1["此前下架请求日期"] == "2025-07-01" and alpha["a4"]["此前下架请求日期"] is None
    assert len(a1["证据 SHA-256"]) == 64 and a1["证据文件"].startswith(a1["证据 SHA-256"][:16])
    assert a1["首次发现"] == "2025-06-28" and a1["最近发现"] == "2025-06-28"
    assert book["beta"][0]["联系方式"] == "手机 13912345678" and "国发〔1993〕39号" in book["beta"][0]["法律依据"]

    raw = load_workbook(files[0])["alpha"]
    header = [c.value for c in raw[1]]
    title_cell = raw.cell(row=3, column=header.index("标题") + 1)
    assert title_cell.value == FORMULA and title_cell.data_type == "s"
    link = raw.cell(row=2, column=header.index("广告链接") + 1)
    assert link.hyperlink.target == link.value == "http://127.0.0.1/alpha/item/a1.html"
    assert raw.freeze_panes == "A2" and raw.auto_filter.ref == f"A1:R{raw.max_row}"
    assert raw.column_dimensions["D"].width == 18  # "ivory 老料，私聊": 6 + 5 wide characters, + 2

    files, counts = write_takedown_package(db, "2025-07", tmp_path / "en", lang="en", site="beta")
    assert [f.name for f in files] == ["takedown-beta-2025-07.xlsx", "takedown-beta-2025-07.csv"]
    beta = sheets(files[0])["beta"][0]
    assert beta["Site"] == "beta" and beta["Contacts"] == "Mobile 13912345678"
    assert beta["Matched terms (gloss)"] == "虎骨: species name for tiger"
    assert beta["Legal basis"].startswith("Tiger: CITES Appendix I")
    with files[1].open(encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["Listing URL"].endswith("/beta/item/b1.html")
    en = sheets(write_takedown_package(db, "2025-07", tmp_path / "en2", lang="en")[0][0])
    glosses = {r["Listing ID on site"]: r["Matched terms (gloss)"] for r in en["alpha"]}
    assert glosses["a1"] == "白塑料: code word for ivory; ivory: species name for ivory (English; also a colour, needs context)"
    assert not any(":" in str(v) and str(v).startswith(("wechat:", "phone:")) for r in en["alpha"] for v in r.values())


def wtm(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """``wtm`` as the shell runs it: its exit code (library errors mapped) and its stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err


def test_takedown_cli_all_sites_then_sent_per_site(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    assert runner.invoke(cli, [*base, "db", "upgrade"]).exit_code == 0
    db = Database(f"sqlite:///{data / 'wtm.sqlite3'}", evidence_dir=data / "evidence")
    two_sites(db)
    result = runner.invoke(cli, [*base, "takedown", "export", "--month", "2025-06", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "4 listings for 2 sites, 2025-06" in result.output and "alpha: 3" in result.output
    book = sheets(data / "takedowns" / "takedown-2025-06.xlsx")
    assert "Listing URL" in book["alpha"][0]
    result = runner.invoke(cli, [*base, "takedown", "sent", "--site", "beta", "--month", "2025-06", "--date", "2025-07-01"])
    assert result.exit_code == 0 and "1 listings of beta reported for 2025-06" in result.output
    code, err = wtm([*base, "takedown", "export", "--month", "2025-06", "--site", "nowhere"], capsys)
    assert code == 2 and "no site named 'nowhere'" in err


def test_review_sheet_full_text_and_sample_round_trip(db: Database, tmp_path: Path) -> None:
    crawl(db, "2025-06", "alpha", {"a1": {}, "a2": {"title": FORMULA, "matches": []}},
          unflagged=tuple(f"u{i}" for i in range(8)))
    crawl(db, "2025-06", "beta", {}, unflagged=("v1", "v2"))
    path, count = export_review(db, "2025-06", tmp_path / "review.xlsx", site_titles={"alpha": "阿尔法二手"},
                                contact_names={"wechat": "微信"})
    assert count == 2
    book = sheets(path)
    assert list(book) == ["review 2025-06", "sample"]
    a1 = next(r for r in book["review 2025-06"] if r["external_id"] == "a1")
    assert a1["title"] == "出售【白塑料】手镯" and a1["description"] == "【ivory】 老料，私聊"
    assert a1["price_text"] == "1,200元" and a1["price_cny"] == 1200 and a1["contacts"] == "微信 wanglao88"
    assert a1["dealer_id"] is not None and a1["site_title"] == "阿尔法二手" and a1["species"] == "ivory"
    assert a1["score"] == 0.9 and a1["matched_terms"] == "白塑料, ivory"
    sample = book["sample"]
    assert len(sample) == 7 and sorted({r["site"] for r in sample}) == ["alpha", "beta"]  # 5 + 2, per site
    assert [r["listing_id"] for r in sample] == unflagged_sample(db, "2025-06")
    assert all(r["title"].startswith("象牙白 油漆") for r in sample)

    raw = load_workbook(path)
    for sheet in raw.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    flags, sampled = raw["review 2025-06"], raw["sample"]
    header = [c.value for c in flags[1]]
    decision = header.index("decision") + 1
    for row in range(2, flags.max_row + 1):
        flags.cell(row=row, column=decision, value="confirmed")
    sampled.cell(row=2, column=decision, value="missed")
    sampled.cell(row=3, column=decision, value="not missed")
    raw.save(path)
    counts = import_review(db, path, reviewer="ana", decided_at=datetime(2025, 7, 2))
    assert counts == {"rows": 9, "recorded": 4, "unchanged": 0, "blank": 5}
    with db.session() as s:
        stored = dict(s.execute(select(ReviewDecision.listing_id, ReviewDecision.decision)
                                .where(ReviewDecision.current.is_(True))).all())
    first, second = sample[0]["listing_id"], sample[1]["listing_id"]
    assert stored[first] == "confirmed" and stored[second] == "rejected"  # as the workbench stores them
    again = sheets(export_review(db, "2025-06", tmp_path / "again.xlsx")[0])["sample"]
    assert [r["decision"] for r in again[:3]] == ["missed", "not_missed", None]

    sampled.cell(row=4, column=decision, value="confirmed-ish")
    raw.save(path)
    try:
        import_review(db, path)
    except Exception as exc:
        assert "sheet sample row 4: decision 'confirmed-ish' is not one of missed, not_missed" in str(exc)
    else:
        raise AssertionError("a bad sample verdict was imported")


def test_review_import_of_an_older_one_sheet_file(db: Database, tmp_path: Path) -> None:
    from monitor.spreadsheets import write_xlsx

    crawl(db, "2025-06", "alpha", {"a1": {}, "a2": {}})
    old_columns = ("listing_id", "site", "external_id", "url", "title", "species", "score", "first_seen",
                   "decision", "reviewer", "note")
    ids = [listing_id(db, "a1"), listing_id(db, "a2")]
    rows = [[ids[0], "alpha", "a1", "", "", "ivory", 0.9, "2025-06-28", "rejected", "", "bone"],
            [ids[1], "alpha", "a2", "", "", "ivory", 0.9, "2025-06-28", "", "", ""]]
    path = write_xlsx(tmp_path / "old.xlsx", old_columns, rows, title="review 2025-06")
    assert import_review(db, path, reviewer="ana") == {"rows": 2, "recorded": 1, "unchanged": 0, "blank": 1}
    with db.session() as s:
        assert s.execute(select(ReviewDecision.decision).where(ReviewDecision.listing_id == ids[0])).scalar() == "rejected"
