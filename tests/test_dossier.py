"""The dealer dossier (library and `wtm dealers dossier`) and the report's all-time dealer table,
on a real SQLite file, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from monitor.cli import main
from monitor.exceptions import ConfigError
from monitor.reports import build_context, write_dossier
from monitor.storage import CrawlRecorder, Database
from monitor.storage.dossier import dealer_dossier, dealer_total, looks_incomplete, most_active_dealers
from monitor.storage.models import Listing
from monitor.storage.review import record_decision
from monitor.storage.takedowns import record_takedown_sent
from storage_db import at, item, ivory

FORMULA = "=1+2 象牙"


def crawl(db: Database, month: str, site: str, ads: dict[str, tuple[str, str]], removed: tuple[str, ...] = (),
          day: int = 28) -> None:
    run = db.start_run("monthly", at(month, day), month)
    with CrawlRecorder(db, run_id=run, site=site, observed_at=at(month, day)) as rec:
        for eid, (seller, contact) in ads.items():
            rec.add(item(eid, site=site, title=f"象牙手镯 {eid}", seller=seller, contact_text=contact,
                         price_text="800元", price_cny=800.0),
                    matches=[ivory()], lexicon_version="v1", flagged=True, species=["ivory"], score=0.9)
        for eid in removed:
            rec.mark_removed(eid, "http_404")


def build(db: Database) -> int:
    crawl(db, "2025-06", "alpha", {"a1": ("老王", "微信 wanglao88 电话 13912345678"), "a2": (FORMULA, "微信 wanglao88")})
    crawl(db, "2025-06", "beta", {"b1": ("老王", "电话 1391234567")})  # a digit missing
    crawl(db, "2025-06", "gamma", {"g1": ("别人", "微信 someone99")})
    record_takedown_sent(db, "alpha", "2025-06", sent_at=datetime(2025, 7, 1))
    crawl(db, "2025-07", "alpha", {"a3": ("老王", "微信 wanglao88")}, removed=("a1",), day=20)
    crawl(db, "2025-08", "alpha", {"a2": (FORMULA, "微信 wanglao88"), "a3": ("老王", "微信 wanglao88")})
    with db.session() as s:
        dealers = dict(s.execute(select(Listing.external_id, Listing.dealer_id)).all())
    assert dealers["a1"] == dealers["a2"] == dealers["a3"] == dealers["b1"] != dealers["g1"]
    return dealers["a1"]


def test_dossier_content_and_timeline(db: Database, tmp_path: Path) -> None:
    dealer = build(db)
    with db.session() as s:
        dossier = dealer_dossier(s, dealer)
    assert [(c["kind"], c["value"], c["incomplete"], c["ads"]) for c in dossier["contacts"]] == [
        ("phone", "1391234567", True, 1), ("phone", "13912345678", False, 1), ("wechat", "wanglao88", False, 3)]
    assert [(n["seller"], n["ads"]) for n in dossier["names"]] == [("老王", 3), (FORMULA, 1)]
    assert [(e["site"], e["ads"]) for e in dossier["sites"]] == [("alpha", 3), ("beta", 1)]
    assert [t for t in dossier["timeline"]] == [
        {"month": "2025-06", "seen": 3, "new": 3, "removed": 0},
        {"month": "2025-07", "seen": 1, "new": 1, "removed": 1},
        {"month": "2025-08", "seen": 2, "new": 0, "removed": 0}]

    out = tmp_path / "dossier.xlsx"
    write_dossier(db, dealer, out, "zh", site_titles={"alpha": "阿尔法二手"})
    book = load_workbook(out)
    assert book.sheetnames == ["联系方式", "使用名称", "平台", "广告", "下架请求", "月度时间线"]
    rows = {name: [[c.value for c in r] for r in book[name].iter_rows()] for name in book.sheetnames}
    assert rows["联系方式"][0] == ["类型", "号码/账号", "疑似缺位", "广告数", "首次发现"]
    assert rows["联系方式"][1][:3] == ["手机", "1391234567", "†"] and rows["联系方式"][3][:3] == ["微信", "wanglao88", None]
    ads = {r[-1]: r for r in rows["广告"][1:]}
    header = rows["广告"][0]
    a1 = next(r for r in ads.values() if r[header.index("广告链接")].endswith("/a1.html"))
    assert a1[header.index("平台")] == "阿尔法二手" and a1[header.index("价格（人民币元）")] == 800
    assert a1[header.index("状态")] == "已下架：页面不存在(404)，2025-07-20 12:00"
    assert a1[header.index("下架请求")] == "2025-07-01" and a1[header.index("审核结论")] == "待审核"
    assert rows["下架请求"][1][-1] == "已下架：页面不存在(404)，2025-07-20 12:00"
    assert rows["下架请求"][2][-1] == "仍在线"
    assert rows["月度时间线"][1:] == [["2025-06", 3, 3, 0], ["2025-07", 1, 1, 1], ["2025-08", 2, 0, 0]]
    names = book["使用名称"]
    assert names.cell(row=3, column=1).value == FORMULA and names.cell(row=3, column=1).data_type == "s"
    assert book["广告"].freeze_panes == "A2" and book["广告"].auto_filter.ref

    buffer = io.BytesIO()
    write_dossier(db, dealer, buffer, "en")
    english = load_workbook(io.BytesIO(buffer.getvalue()))
    assert english.sheetnames == ["Contacts", "Names used", "Sites", "Ads", "Takedown requests", "Timeline"]
    statuses = {r[0].value for r in english["Ads"].iter_cols(min_col=10, max_col=10)}
    assert "removed: page not found (404), 2025-07-20 12:00" in {c.value for c in english["Ads"]["J"]}, statuses
    with pytest.raises(ConfigError, match="no dealer #9999"):
        write_dossier(db, 9999, tmp_path / "none.xlsx")
    assert not (tmp_path / "none.xlsx").exists()


def test_most_active_dealers_as_of_the_month(db: Database) -> None:
    dealer = build(db)
    with db.session() as s:
        june = most_active_dealers(s, "2025-06")
        july = most_active_dealers(s, "2025-07")
    assert [(d["dealer_id"], d["total_ads"]) for d in june][0] == (dealer, 3)  # a3 (July) not counted yet
    assert (july[0]["dealer_id"], july[0]["total_ads"], july[0]["sites"]) == (dealer, 4, ["alpha", "beta"])
    assert {"kind": "phone", "value": "1391234567", "incomplete": True} in july[0]["contacts"]
    with db.session() as s:
        a3 = s.execute(select(Listing.id).where(Listing.external_id == "a3")).scalar_one()
    record_decision(db, a3, "rejected", "ana")
    with db.session() as s:
        assert most_active_dealers(s, "2025-07")[0]["total_ads"] == 3  # a rejection corrects a fact
    assert looks_incomplete("phone", "1391234567") and not looks_incomplete("phone", "0912345678")


def test_report_shows_all_time_dealers_with_incomplete_contacts_marked(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wtm.sqlite3'}")
    db.upgrade()
    dealer = build(db)
    for lang, note in (("zh", "号码疑似缺位"), ("en", "looks incomplete")):
        context = build_context(db, "2025-08", lang)
        assert context["dealers"] == []  # nothing new in August
        top = context["dealers_all_time"][0]
        assert top["dealer_id"] == dealer and top["ads"] == 4
        assert any(c.endswith("1391234567†") for c in top["contacts"])
        assert note in context["dealers_note"]


def wtm(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_cli_dossier_and_bad_ids(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    base = ["--data-dir", str(data)]
    code, _, err = wtm([*base, "dealers", "dossier", "1"], capsys)
    assert code == 4 and "wtm db upgrade" in err
    assert wtm([*base, "db", "upgrade"], capsys)[0] == 0
    dealer = build(Database(f"sqlite:///{data / 'wtm.sqlite3'}"))
    code, out, _ = wtm([*base, "dealers", "dossier", str(dealer), "--lang", "en"], capsys)
    assert code == 0 and f"dealer #{dealer}:" in out
    assert load_workbook(data / "dossiers" / f"dealer-{dealer}.xlsx").sheetnames[0] == "Contacts"
    code, _, err = wtm([*base, "dealers", "dossier", "424242", "--out", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "no dealer #424242 in the database" in err and not (tmp_path / "x.xlsx").exists()
    code, _, err = wtm([*base, "dealers", "dossier", "abc"], capsys)
    assert code == 2 and "'abc' is not a valid integer" in err
    code, _, err = wtm([*base, "dealers", "dossier", "0"], capsys)
    assert code == 2 and "DEALER_ID" in err


def test_all_time_ranking_from_snapshot_figures_after_rejections(db: Database) -> None:
    """The report month's ranking is read from the snapshot's dealer counts and corrected for
    rejected ads: a dealer pushed down by rejections gives way, ties go to the lower id."""
    ads = {f"d{d}-{i}": (f"卖家{d}", f"微信 dealer{d}x{d}{d}") for d, n in ((1, 5), (2, 3), (3, 3), (4, 2)) for i in range(n)}
    crawl(db, "2025-06", "alpha", ads)
    with db.session() as s:
        ids = dict(s.execute(select(Listing.external_id, Listing.id)).all())
        dealer = dict(s.execute(select(Listing.external_id, Listing.dealer_id)).all())
        assert [(r["dealer_id"], r["total_ads"]) for r in most_active_dealers(s, "2025-06", limit=2)] == [
            (dealer["d1-0"], 5), (min(dealer["d2-0"], dealer["d3-0"]), 3)]
    for i in range(4):  # dealer 1 falls to one ad, below 2, 3 and 4
        record_decision(db, ids[f"d1-{i}"], "rejected", "ana")
    record_decision(db, ids["d4-0"], "confirmed", "ana")
    with db.session() as s:
        rows = most_active_dealers(s, "2025-06", limit=3)
    low, high = sorted((dealer["d2-0"], dealer["d3-0"]))
    assert [(r["dealer_id"], r["total_ads"]) for r in rows] == [(low, 3), (high, 3), (dealer["d4-0"], 2)]
    assert rows[2]["confirmed_ads"] == 1 and rows[2]["sites"] == ["alpha"] and rows[2]["ads_by_species"] == {"ivory": 2}
    with db.session() as s:
        (last,) = [r for r in most_active_dealers(s, "2025-06", limit=4) if r["dealer_id"] == dealer["d1-0"]]
        assert dealer_total(s, "2025-06") == 4
    assert (last["total_ads"], last["ads_by_species"], last["months_active"]) == (1, {"ivory": 1}, ["2025-06"])
    record_decision(db, ids["d1-4"], "rejected", "ana")  # dealer 1 has no ad left
    with db.session() as s:
        assert dealer_total(s, "2025-06") == 3 == len(most_active_dealers(s, "2025-06", limit=None))
