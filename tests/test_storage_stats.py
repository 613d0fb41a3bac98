"""The report's query functions on a small history with known answers."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from monitor.exceptions import ConfigError
from monitor.storage import CrawlRecorder, Database, stats
from monitor.storage.models import Listing, ReviewDecision
from monitor.storage.takedowns import record_takedown_sent
from storage_db import at, database_urls, item, open_db

MAY, JUNE = "2025-05", "2025-06"
HEALTH = {"pages": 4, "items": 3, "errors": {"http_500": 1}, "finish_reason": "finished", "duration_s": 2.0,
          "coverage": {"price": 1.0, "date": 0.5, "contact": 1.0, "location": 0.0}, "healthy": True, "problems": []}


def hit(term: str, species: str) -> dict:
    return {"term": term, "species": species, "kind": "term", "field": "title", "start": 0, "end": len(term),
            "text": term, "trick": ""}


def add(rec: CrawlRecorder, external_id: str, species: list[str], terms: list[str], score: float = 0.9, **fields) -> None:
    matches = [hit(t, s) for t, s in zip(terms, species)]
    rec.add(item(external_id, site=rec.site, **fields), matches=matches, lexicon_version="v1",
            flagged=bool(species), species=species, score=score)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in database_urls(request, tmp_path):
        database = open_db(url, tmp_path)
        build_history(database)
        yield database
        database.dispose()


def build_history(db: Database) -> None:
    run = db.start_run("monthly", at(MAY), MAY)
    with CrawlRecorder(db, run_id=run, site="alpha", observed_at=at(MAY)) as rec:
        add(rec, "a1", ["ivory"], ["象牙"], contact_text="电话 13812345678")
        add(rec, "a2", ["tiger"], ["虎骨"], score=0.7)
        add(rec, "a3", [], [], title="象牙白 油漆")
        rec.finish(HEALTH)
    with CrawlRecorder(db, run_id=run, site="beta", observed_at=at(MAY)) as rec:
        add(rec, "b1", ["ivory", "pangolin"], ["象牙", "穿山甲"], contact_text="手机 138-1234-5678")
    db.finish_run(run, at(MAY))
    record_takedown_sent(db, "alpha", MAY, sent_at=datetime(2025, 5, 30))

    run = db.start_run("monthly", at(JUNE), JUNE)
    with CrawlRecorder(db, run_id=run, site="alpha", observed_at=at(JUNE)) as rec:
        add(rec, "a4", ["ivory"], ["象牙"], score=0.95, contact_text="微信 13812345678")
        rec.mark_removed("a2", "http_404")
        rec.finish(HEALTH)
    with CrawlRecorder(db, run_id=run, site="beta", observed_at=at(JUNE)) as rec:
        add(rec, "b2", ["rhino_horn"], ["犀角"], score=0.8)
        rec.mark_removed("b1", "deleted_page")
        rec.finish({**HEALTH, "healthy": False, "problems": ["no dates found"]})
    db.finish_run(run, at(JUNE))
    with db.session() as s:
        a4 = s.scalar(select(Listing.id).where(Listing.external_id == "a4"))
        s.add(ReviewDecision(listing_id=a4, decision="confirmed", reviewer="ana", decided_at=at(JUNE), current=True))


def test_new_flagged_counts(db: Database) -> None:
    with db.session() as s:
        assert stats.new_flagged_by_species(s, MAY) == {"ivory": 2, "pangolin": 1, "tiger": 1}
        assert stats.new_flagged_by_species(s, JUNE) == {"ivory": 1, "rhino_horn": 1}
        assert stats.new_flagged_by_site(s, MAY) == {"alpha": 2, "beta": 1}
        assert stats.new_flagged_by_site_species(s, MAY) == {
            ("alpha", "ivory"): 1, ("alpha", "tiger"): 1, ("beta", "ivory"): 1, ("beta", "pangolin"): 1}
        assert stats.new_flagged_by_species(s, "2024-01") == {}
        assert stats.monthly_trend(s) == [
            (MAY, "ivory", 2), (MAY, "pangolin", 1), (MAY, "tiger", 1), (JUNE, "ivory", 1), (JUNE, "rhino_horn", 1)]
        assert stats.months_with_data(s) == [MAY, JUNE]
        assert stats.monthly_totals(s) == {MAY: 3, JUNE: 2}


def test_removals(db: Database) -> None:
    with db.session() as s:
        assert stats.removals(s, JUNE) == [
            {"site": "alpha", "live_at_start": 2, "removed": 1, "by_kind": {"http_404": 1}, "removal_rate": 0.5},
            {"site": "beta", "live_at_start": 1, "removed": 1, "by_kind": {"deleted_page": 1}, "removal_rate": 1.0},
        ]
        assert stats.removals(s, MAY) == []


def test_takedown_outcomes(db: Database) -> None:
    with db.session() as s:
        assert stats.takedown_outcomes(s, MAY) == [
            {"site": "alpha", "requested": 2, "removed_30d": 1, "removed_60d": 1, "removed": 1, "pending": 1}]


def test_top_dealers(db: Database) -> None:
    with db.session() as s:
        (dealer,) = stats.top_dealers(s, JUNE)
        assert dealer["new_ads"] == 1 and dealer["total_ads"] == 3
        assert dealer["sites"] == ["alpha", "beta"]
        assert dealer["months_active"] == [MAY, JUNE]
        assert dealer["ads_by_species"] == {"ivory": 3, "pangolin": 1}
        assert {"kind": "phone", "value": "13812345678"} in dealer["contacts"]
        assert {"kind": "wechat", "value": "13812345678"} in dealer["contacts"]
        assert [d["total_ads"] for d in stats.top_dealers(s, MAY, limit=1)] == [3]


def test_term_hits(db: Database) -> None:
    with db.session() as s:
        rows = {r["term"]: r for r in stats.term_hits(s, JUNE)}
    assert rows["象牙"] == {"term": "象牙", "species": "ivory", "kind": "term", "hits": 1, "hits_last_month": 2}
    assert rows["犀角"]["hits"] == 1 and rows["虎骨"]["hits_last_month"] == 1


def test_example_ads(db: Database) -> None:
    with db.session() as s:
        ads = stats.example_ads(s, JUNE)
        assert [a["external_id"] for a in ads] == ["a4", "b2"]
        assert ads[0]["matches"] == [hit("象牙", "ivory")]
        assert ads[0]["review"] == "confirmed" and ads[1]["review"] == "candidate"
        assert ads[0]["site"] == "alpha" and ads[0]["species"] == ["ivory"]
        assert ads[0]["contacts"] == [{"kind": "phone", "value": "13812345678"},
                                      {"kind": "wechat", "value": "13812345678"}]
        assert ads[1]["contacts"] == []
        assert len(stats.example_ads(s, JUNE, limit=1)) == 1


def test_crawl_health(db: Database) -> None:
    with db.session() as s:
        rows = stats.crawl_health(s, JUNE)
    assert [r["site"] for r in rows] == ["alpha", "beta"]
    assert rows[0]["healthy"] is True and rows[0]["coverage"]["date"] == 0.5 and rows[0]["pages"] == 4
    assert rows[1]["problems"] == ["no dates found"]
    assert rows[0]["last_run"] == at(JUNE) and rows[0]["status"] == "finished"


def test_sites_not_crawled(db: Database) -> None:
    run = db.start_run("site", at("2025-07"), "2025-07")
    with CrawlRecorder(db, run_id=run, site="alpha", observed_at=at("2025-07")) as rec:
        rec.finish(HEALTH)
    with db.session() as s:
        assert stats.sites_not_crawled(s, "2025-07") == [{"site": "beta", "last_crawled_month": JUNE}]
        assert stats.sites_not_crawled(s, JUNE) == []


def test_review_counts(db: Database) -> None:
    with db.session() as s:
        assert stats.review_counts(s, JUNE) == {
            "ivory": {"confirmed": 1, "rejected": 0, "candidate": 0},
            "rhino_horn": {"confirmed": 0, "rejected": 0, "candidate": 1},
        }


def test_bad_month_is_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(ConfigError, match="2025-13"):
        stats.new_flagged_by_species(s, "2025-13")


def test_takedown_windows_allow_for_monthly_crawls(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    db.upgrade()
    run = db.start_run("monthly", datetime(2025, 6, 30, 23), "2025-06")
    with CrawlRecorder(db, run_id=run, site="alpha", observed_at=datetime(2025, 6, 30, 23)) as rec:
        for n in range(3):
            add(rec, f"t{n}", ["ivory"], ["象牙"])
    record_takedown_sent(db, "alpha", "2025-06", sent_at=datetime(2025, 6, 30, 23, 30))
    for month, end, gone in (("2025-07", datetime(2025, 7, 31, 23), "t0"), ("2025-08", datetime(2025, 8, 31, 23), "t1"),
                             ("2025-09", datetime(2025, 9, 30, 23), "t2")):
        run = db.start_run("monthly", end, month)
        with CrawlRecorder(db, run_id=run, site="alpha", observed_at=end) as rec:
            rec.mark_removed(gone, "http_404")
    with db.session() as s:
        (row,) = stats.takedown_outcomes(s, "2025-06")
    assert (row["requested"], row["removed_30d"], row["removed_60d"], row["removed"]) == (3, 1, 2, 3)
