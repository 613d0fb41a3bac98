"""CrawlRecorder and Database on real SQLite files and, when configured, a real PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from monitor.exceptions import CrawlLockedError, SchemaOutdatedError, StorageError
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import (
    Evidence,
    Listing,
    ListingSpecies,
    Match,
    Observation,
    SiteCrawl,
    SiteLock,
)
from storage_db import at, item, ivory



def count(db: Database, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def listing(db: Database, external_id: str, site: str = "huaxia") -> Listing:
    with db.session() as s:
        from monitor.storage.models import Site

        return s.scalars(select(Listing).join(Site).where(Site.name == site, Listing.external_id == external_id)).one()


def test_batches_are_written_as_they_fill(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    rec = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"), batch_size=3)
    for n in range(7):
        rec.add(item(str(n)))
        assert count(db, Listing) == (n + 1) // 3 * 3
    rec.finish({"pages": 3, "items": 7, "healthy": True})
    assert count(db, Listing) == 7
    assert rec.stats == {"items": 7, "new": 7, "removed": 0, "unread": 0, "batches": 3}
    with db.session() as s:
        crawl = s.scalars(select(SiteCrawl)).one()
        assert (crawl.status, crawl.items, crawl.new_listings, crawl.health["pages"]) == ("finished", 7, 7, 3)
        assert s.scalar(select(func.count()).select_from(SiteLock)) == 0


def test_upsert_keeps_first_seen_and_records_changes(db: Database) -> None:
    june, july = at("2025-06"), at("2025-07")
    run = db.start_run("monthly", june, "2025-06")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=june) as rec:
        rec.add(item("1", title="象牙手镯", price_text="¥800", price_cny=800.0), matches=[ivory()],
                lexicon_version="v1", flagged=True, species=["ivory"], score=0.9)
        rec.add(item("1", title="象牙手镯", price_text="¥800", price_cny=800.0), matches=[ivory()],
                lexicon_version="v1", flagged=True, species=["ivory"], score=0.9)
    run2 = db.start_run("monthly", july, "2025-07")
    with CrawlRecorder(db, run_id=run2, site="huaxia", observed_at=july) as rec:
        rec.add(item("1", title="象牙手镯", price_text="¥650", price_cny=650.0), matches=[ivory()],
                lexicon_version="v1", flagged=True, species=["ivory"], score=0.9)
    row = listing(db, "1")
    assert (row.first_seen, row.first_seen_month, row.last_seen) == (june, "2025-06", july)
    assert (row.price_text, row.price_cny) == ("¥650", 650.0)
    assert count(db, Listing) == 1
    with db.session() as s:
        observations = s.scalars(select(Observation).order_by(Observation.id)).all()
    assert [o.changes for o in observations] == [None, {"price_text": ["¥800", "¥650"], "price_cny": [800.0, 650.0]}]
    assert count(db, Match) == 1 and count(db, ListingSpecies) == 1


def test_new_lexicon_version_replaces_matches(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06")) as rec:
        rec.add(item("1", title="牙雕 象牙"), matches=[ivory("牙雕"), ivory("象牙", start=3)],
                lexicon_version="v1", flagged=True, species=["ivory"], score=0.8)
    run = db.start_run("monthly", at("2025-07"), "2025-07")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-07")) as rec:
        rec.add(item("1", title="牙雕 象牙"), matches=[], lexicon_version="v2", flagged=False, species=[], score=0.1)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Match)) == 0
        assert s.scalar(select(func.count()).select_from(ListingSpecies)) == 0
    row = listing(db, "1")
    assert (row.flagged, row.lexicon_version) == (False, "v2")


def test_removal_and_revisit_list(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06")) as rec:
        for n in range(3):
            rec.add(item(str(n)), flagged=True, species=["ivory"])
    assert db.listings_to_revisit("huaxia") == [(str(n), f"http://127.0.0.1/huaxia/item/{n}.html") for n in range(3)]
    run = db.start_run("site", at("2025-07", 3), "2025-07")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-07", 3)) as rec:
        rec.mark_removed("1", "http_404")
        rec.add(item("2", status="removed", removal_kind="deleted_page"))
        rec.mark_removed("no-such-id", "http_404")
    assert db.listings_to_revisit("huaxia") == [("0", "http://127.0.0.1/huaxia/item/0.html")]
    gone = listing(db, "1")
    assert (gone.removed_at, gone.removed_month, gone.removal_kind) == (at("2025-07", 3), "2025-07", "http_404")
    assert listing(db, "2").removal_kind == "deleted_page"
    # Seen live again later: reinstated.
    run = db.start_run("monthly", at("2025-08"), "2025-08")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-08")) as rec:
        rec.add(item("1"), flagged=True, species=["ivory"])
    assert listing(db, "1").removed_at is None
    assert db.listings_to_revisit("huaxia", flagged_only=True) == [
        ("0", "http://127.0.0.1/huaxia/item/0.html"), ("1", "http://127.0.0.1/huaxia/item/1.html")]


def test_second_crawl_of_a_site_is_refused(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    first = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"))
    with pytest.raises(CrawlLockedError, match="huaxia"):
        CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"))
    other_site = CrawlRecorder(db, run_id=run, site="taobao_sim", observed_at=at("2025-06"))
    other_site.finish({})
    first.finish({})
    CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06")).finish({})


def test_stale_lock_is_taken_over(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    abandoned = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"))
    with db.session() as s:
        s.execute(update(SiteLock).values(heartbeat_at=datetime.now() - timedelta(hours=2)))
    taker = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"))
    abandoned.add(item("1"))
    with pytest.raises(CrawlLockedError, match="lost its lock"):
        abandoned.flush()
    taker.add(item("2"))
    taker.finish({})
    assert [row.external_id for row in [listing(db, "2")]] == ["2"]
    assert count(db, Listing) == 1


def test_exception_mid_batch_leaves_no_partial_batch(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    rec = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06"), batch_size=4)
    for n in range(4):
        rec.add(item(f"ok{n}"))
    assert count(db, Listing) == 4
    rec.add(item("a"))
    rec.add(item("b"))
    rec.add(item("c"), matches=[{"term": "象牙", "species": "ivory", "start": "not a number"}],
            flagged=True, species=["ivory"])
    with pytest.raises(ValueError):
        rec.add(item("d"))  # fills the batch; the flush fails after listings were inserted
    rec.abort("test")
    assert count(db, Listing) == 4
    assert count(db, Observation) == 4
    with db.session() as s:
        assert s.scalar(select(SiteCrawl.status)) == "failed"
        assert s.scalar(select(func.count()).select_from(SiteLock)) == 0
    with pytest.raises(StorageError, match="already finished"):
        rec.add(item("e"))


def test_killed_process_keeps_committed_batches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    Database(url).upgrade()
    script = textwrap.dedent(f"""
        import os
        from datetime import datetime
        from monitor.items import ListingItem
        from monitor.storage import CrawlRecorder, Database
        db = Database({url!r})
        run = db.start_run("monthly", datetime(2025, 6, 30), "2025-06")
        rec = CrawlRecorder(db, run_id=run, site="huaxia", observed_at=datetime(2025, 6, 30), batch_size=2)
        for n in range(5):
            rec.add(ListingItem(site="huaxia", external_id=str(n), url=f"http://127.0.0.1/{{n}}"))
        os._exit(9)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 9, result.stderr
    db = Database(url)
    assert count(db, Listing) == 4
    with db.session() as s:
        lock = s.scalars(select(SiteLock)).one()
        s.execute(update(SiteLock).values(heartbeat_at=lock.heartbeat_at - timedelta(hours=1)))
    run = db.start_run("site", datetime(2025, 7, 1), "2025-06")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=datetime(2025, 7, 1)) as rec:
        rec.add(item("4"))
    assert count(db, Listing) == 5


def test_evidence_is_stored_by_hash(db: Database, tmp_path: Path) -> None:
    body = "<html><title>象牙</title></html>".encode("gbk")
    digest = hashlib.sha256(body).hexdigest()
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    with CrawlRecorder(db, run_id=run, site="../../etc", observed_at=at("2025-06")) as rec:
        rec.add(item("../../passwd", site="../../etc", fetched_at=at("2025-06", 27)), evidence=body)
        rec.add(item("2", site="../../etc"), evidence=body)
    path = tmp_path / "evidence" / digest[:2] / f"{digest}.html.gz"
    assert gzip.decompress(path.read_bytes()) == body
    assert sorted(p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file()) == [f"{digest}.html.gz"]
    with db.session() as s:
        rows = s.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [(r.sha256, r.path, r.size) for r in rows] == [(digest, f"{digest[:2]}/{digest}.html.gz", len(body))] * 2
    assert rows[0].fetched_at == at("2025-06", 27)
    assert listing(db, "../../passwd", site="../../etc").evidence_sha256 == digest


def test_recorder_refuses_an_outdated_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with pytest.raises(SchemaOutdatedError, match="wtm db upgrade"):
        db.check_current()
    db.upgrade()
    db.check_current()
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    db.downgrade("base")
    stale = Database(db.url)
    with pytest.raises(SchemaOutdatedError, match=r"empty \(no schema\).*run `wtm db upgrade`"):
        CrawlRecorder(stale, run_id=run, site="huaxia")


def test_database_ahead_of_the_code_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    db.upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutdatedError, match="newer than this version"):
        Database(db.url).check_current()


def test_unknown_run_is_an_error(db: Database) -> None:
    with pytest.raises(StorageError, match="start_run"):
        CrawlRecorder(db, run_id=12345, site="huaxia")


def test_bad_url_names_itself() -> None:
    with pytest.raises(StorageError, match="nonsense"):
        Database("nonsense")


def test_aware_times_keep_their_wall_clock_and_month(db: Database) -> None:
    from zoneinfo import ZoneInfo

    end_of_june = datetime(2025, 6, 30, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    run = db.start_run("monthly", end_of_june, None)
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=end_of_june) as rec:
        rec.add(item("1", posted_at=datetime(2025, 6, 29, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))))
    row = listing(db, "1")
    assert (row.first_seen, row.first_seen_month) == (datetime(2025, 6, 30, 23, 0), "2025-06")
    assert row.posted_at == datetime(2025, 6, 29, 8, 0)
    with db.session() as s:
        from monitor.storage.models import CrawlRun

        assert s.scalar(select(CrawlRun.month)) == "2025-06"


def test_overlong_values_are_stored_safely(db: Database) -> None:
    long_id = "x" * 500
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-06")) as rec:
        rec.add(item(long_id), matches=[{**ivory(), "species": "s" * 80, "kind": "k" * 80, "trick": "t" * 80}],
                lexicon_version="v" * 100, flagged=True, species=["s" * 80])
    ((stored, _),) = db.listings_to_revisit("huaxia")
    assert len(stored) <= 200 and stored.startswith("x" * 150)
    run = db.start_run("site", at("2025-07"), "2025-07")
    with CrawlRecorder(db, run_id=run, site="huaxia", observed_at=at("2025-07")) as rec:
        rec.mark_removed(long_id, "http_404")
    assert db.listings_to_revisit("huaxia") == []
