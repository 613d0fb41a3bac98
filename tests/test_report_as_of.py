"""A month is reported as it was: month M's figures are those known at the end of M, so a report
regenerated later (even with every stored snapshot deleted) says the same.

The first tests record a small history through the recorder, with what happens after July
known: a removal in September, a takedown request at the end of July whose ad goes in August,
a re-match in October that unflags one ad and flags another posted in July, a price change.
The last crawls the sandbox from July to December with real Scrapy and compares July's whole
report context, written in July, with July regenerated in December.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.items import ListingItem
from monitor.reports import build_context
from monitor.storage import CrawlRecorder, Database, snapshots, stats
from monitor.storage.models import MonthListing, ReviewDecision
from monitor.storage.takedowns import record_takedown_sent
from storage_db import database_urls, open_db

MONTHS = ["2025-07", "2025-08", "2025-09", "2025-10"]
NOW = datetime(2026, 1, 5, 9, 0)
AUGUST = datetime(2025, 8, 3)


def _item(external_id: str, month: str, title: str | None = None, price: str = "¥1200",
          posted: datetime | None = None) -> ListingItem:
    seen = datetime(int(month[:4]), int(month[5:]), 20, 10, 0)
    return ListingItem(site="alpha", external_id=external_id, url=f"http://127.0.0.1:9/alpha/{external_id}.html",
                       title=title or f"{external_id} 象牙手镯 老料", description="包真", price_text=price,
                       price_cny=float(price.strip("¥")), posted_at=posted or datetime(2025, 7, 2), fetched_at=seen,
                       contacts=[("wechat", f"dealer{external_id}")])


def _add(rec: CrawlRecorder, item: ListingItem, flagged: bool, species: list[str]) -> None:
    matches = [{"term": "象牙", "species": sp, "kind": "term", "field": "title", "start": 0, "end": 2,
                "text": "象牙", "trick": ""} for sp in species]
    rec.add(item, matches, lexicon_version="v2" if item.fetched_at.month >= 10 else "v1", flagged=flagged,
            species=species, score=1.0 if flagged else 0.0, evidence=f"<html>{item.title}</html>".encode())


def _record(db: Database, months: list[str] = MONTHS) -> None:
    """July: gone, taken, rematched, price, quiet flagged; plain (unflagged). August: taken is
    removed; back is new; ghost is found already gone. September: gone and back are removed.
    October: the lexicon changes: rematched is unflagged, plain is flagged; price's price
    changes; back is online again; ghost is read at last. In August an ad carries the contacts
    of quiet and price: their two dealers merge."""
    for month in months:
        observed = datetime(int(month[:4]), int(month[5:]), 25, 23, 0)
        run_id = db.start_run(kind="monthly", started_at=observed, month=month)
        with CrawlRecorder(db, run_id=run_id, site="alpha", observed_at=observed) as rec:
            live = {"gone", "taken", "rematched", "price", "quiet", "plain"}
            live -= {"taken"} if month >= "2025-08" else set()
            live -= {"gone"} if month >= "2025-09" else set()
            for external_id in sorted(live):
                relisted = month >= "2025-10"
                flagged = external_id != "plain" if not relisted else external_id not in ("rematched",)
                price = "¥900" if external_id == "price" and relisted else "¥1200"
                _add(rec, _item(external_id, month, price=price), flagged, ["ivory"] if flagged else [])
            if month in ("2025-08", "2025-10"):
                _add(rec, _item("back", month, posted=AUGUST), True, ["ivory"])
            if month == "2025-08":
                rec.mark_removed("taken", "deleted_page")
                bridge = _item("bridge", month, posted=AUGUST)
                bridge.contacts = [("wechat", "dealerquiet"), ("wechat", "dealerprice")]
                _add(rec, bridge, True, ["ivory"])
                ghost = _item("ghost", month, posted=AUGUST)
                ghost.status, ghost.removal_kind, ghost.unread = "removed", "http_404", True
                _add(rec, ghost, True, ["ivory"])
            if month == "2025-09":
                rec.mark_removed("gone", "http_404")
                rec.mark_removed("back", "deleted_page")
            if month == "2025-10":
                _add(rec, _item("ghost", month, posted=AUGUST), True, ["ivory"])
        db.finish_run(run_id, observed)
        if month == "2025-07":
            record_takedown_sent(db, "alpha", month, sent_at=datetime(2025, 7, 31, 12, 0), platform_contact="test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    for url in database_urls(request, tmp_path):
        database = open_db(url, tmp_path)
        _record(database)
        yield database
        database.dispose()


def test_july_as_known_in_july(db: Database) -> None:
    with db.session() as s:
        examples = {e["external_id"]: e for e in stats.example_ads(s, "2025-07", as_of="2025-07")}
        # Flagged then: "rematched" (unflagged since), not "plain" (flagged since, posted in July).
        assert set(examples) == {"gone", "taken", "rematched", "price", "quiet"}
        assert examples["gone"]["removed_at"] is None and examples["gone"]["removal_kind"] is None
        assert examples["gone"]["last_seen"] == datetime(2025, 7, 25, 23, 0)
        assert examples["price"]["price_cny"] == 1200.0 and examples["price"]["price_text"] == "¥1200"
        # Its matches were replaced in October: July shows the terms it was flagged for then.
        assert [m["term"] for m in examples["rematched"]["matches"]] == ["象牙"]
        assert examples["rematched"]["species"] == ["ivory"]
        assert [(r["term"], r["hits"]) for r in stats.term_hits(s, "2025-07", as_of="2025-07")] == [("象牙", 5)]
        assert stats.new_flagged_by_species(s, "2025-07", as_of="2025-07") == {"ivory": 5}
        assert [r["removed"] for r in stats.removals(s, "2025-09", as_of="2025-07")] == [0]
        (cohort,) = stats.takedown_cohorts(s, "2025-07", "2025-07")
        assert cohort["requested"] == 5 and cohort["removed_30"] == 0 and cohort["removed_60"] == 0
        assert not cohort["decided_30"] and not cohort["decided_60"]
        # The same questions as known now.
        now = {e["external_id"]: e for e in stats.example_ads(s, "2025-07", as_of="2025-10")}
        assert set(now) == {"gone", "taken", "price", "quiet", "plain"}
        assert now["gone"]["removal_kind"] == "http_404" and now["price"]["price_cny"] == 900.0
        assert {r["site"]: r["removed"] for r in stats.removals(s, "2025-09", as_of="2025-10")} == {"alpha": 1}
        (later,) = stats.takedown_cohorts(s, "2025-07", "2025-10")
        assert later["decided_30"] and later["removed_30"] == 1


def test_removals_reinstatements_and_unread_ads_as_they_were(db: Database) -> None:
    with db.session() as s:
        september = stats.removals(s, "2025-09", as_of="2025-09")
        assert [(r["removed"], r["by_kind"]) for r in september] == [(2, {"deleted_page": 1, "http_404": 1})]
        assert [r["removed"] for r in stats.removals(s, "2025-09", as_of="2025-10")] == [1]  # back is online again
        back = {e["external_id"]: e for e in stats.example_ads(s, "2025-08", as_of="2025-09")}["back"]
        assert back["removed_at"] == datetime(2025, 9, 25, 23, 0) and back["removal_kind"] == "deleted_page"
        back = {e["external_id"]: e for e in stats.example_ads(s, "2025-08", as_of="2025-10")}["back"]
        assert back["removed_at"] is None and back["last_seen"] == datetime(2025, 10, 25, 23, 0)
        assert stats.removed_unread(s, "2025-08", as_of="2025-08") == [{"site": "alpha", "listings": 1, "flagged_by_title": 1}]
        assert stats.removed_unread(s, "2025-08", as_of="2025-10") == []
        assert "ghost" not in {e["external_id"] for e in stats.example_ads(s, "2025-08", as_of="2025-09")}
        assert "ghost" in {e["external_id"] for e in stats.example_ads(s, "2025-08", as_of="2025-10")}


def test_july_report_is_pending_and_online_and_counts_what_was_flagged(db: Database) -> None:
    context = build_context(db, "2025-07", "en", now=NOW)
    key = context["key_points"]
    assert key["total"] == 5 and key["removed_this_month"] == 0
    assert key["takedown_requested"] == 5 and key["takedown_pending"] and key["takedown_removed_60"] == 0
    assert context["trend"]["total"] == [5]
    assert key["decisions_after"] == {"decisions": 0, "confirmed": 0, "rejected": 0}
    assert "0 analysts' decisions made after it" in key["as_of_note"]


def test_snapshot_is_a_cache(db: Database) -> None:
    first = build_context(db, "2025-07", "zh", now=NOW)
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(MonthListing).where(MonthListing.month == "2025-07")).scalar_one() == 5
        snapshots.delete_all(s)
        assert s.execute(select(func.count()).select_from(MonthListing)).scalar_one() == 0
    assert build_context(db, "2025-07", "zh", now=NOW) == first


def test_july_written_in_july_is_july_regenerated_in_october_without_snapshots(tmp_path: Path) -> None:
    database = open_db(f"sqlite:///{tmp_path / 'wtm.sqlite3'}", tmp_path)
    _record(database, MONTHS[:1])
    written = build_context(database, "2025-07", "en", now=NOW)
    with database.session() as s:
        july_dealers = {d["dealer_id"] for d in stats.top_dealers(s, "2025-07")}
    _record(database, MONTHS[1:])
    with database.session() as s:
        snapshots.delete_all(s)
        merged = {d["dealer_id"] for d in stats.top_dealers(s, "2025-07", as_of="2025-10")}
        assert len(merged) == len(july_dealers) - 1, "quiet's and price's dealers merged in August"
    again = build_context(database, "2025-07", "en", now=datetime(2026, 2, 1))
    assert _figures(again) == _figures(written)  # the all-time dealers' contacts included
    assert {d["dealer_id"] for d in again["dealers"]} == july_dealers
    database.dispose()


def test_a_late_crawl_of_the_month_rewrites_its_snapshot(db: Database) -> None:
    assert build_context(db, "2025-07", "en", now=NOW)["key_points"]["total"] == 5
    observed = datetime(2025, 7, 30, 12, 0)  # a catch-up crawl filed under July, run in November
    run_id = db.start_run(kind="rerun", started_at=observed, month="2025-07")
    with CrawlRecorder(db, run_id=run_id, site="alpha", observed_at=observed) as rec:
        _add(rec, _item("caught", "2025-07"), True, ["ivory"])
    db.finish_run(run_id, observed)
    assert build_context(db, "2025-07", "en", now=NOW)["key_points"]["total"] == 6


def test_decisions_after_the_month_are_applied_and_counted(db: Database) -> None:
    with db.session() as s:
        listing_id = s.execute(select(MonthListing.listing_id).where(MonthListing.month == "2025-07")).scalars().first()
        if listing_id is None:
            build_context(db, "2025-07", "en", now=NOW)
            listing_id = s.execute(select(MonthListing.listing_id).where(MonthListing.month == "2025-07")).scalars().first()
        s.add(ReviewDecision(listing_id=listing_id, decision="rejected", reviewer="t", note="", decided_at=datetime(2025, 11, 2)))
        s.commit()
    context = build_context(db, "2025-07", "en", now=NOW)
    assert context["key_points"]["total"] == 4
    assert context["key_points"]["decisions_after"] == {"decisions": 1, "confirmed": 0, "rejected": 1}


def _figures(context: dict) -> dict:
    return {**context, "meta": {k: v for k, v in context["meta"].items() if k != "generated_at"}}


@pytest.mark.slow
def test_july_regenerated_in_december_is_the_same(tmp_path: Path) -> None:
    from monitor.config import load_config
    from monitor.crawling import run_crawl
    from monitor.months import month_end
    from monitor.sandbox import Sandbox, SandboxServer
    from monitor.storage.takedowns import record_demo_takedowns

    sites = ["guwanjie", "xianzhi", "maoyitong"]
    world = Sandbox(seed=20120101)
    months = world.months[-6:]
    folder = tmp_path / "data"
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(None, {"data_dir": str(folder), "sandbox_url": server.url, "sites": sites,
                                    "download_delay": 0.0, "autothrottle": False, "concurrency_per_site": 4})
        db = Database(config.db_url)
        db.upgrade()
        written = None
        for month in months:
            server.set_month(month)
            as_of = month_end(month, config.tz)
            summary = run_crawl(config, as_of=as_of, progress=False, polite=False)
            assert not summary.failed_sites, summary.failed_sites
            urls = record_demo_takedowns(db, month, sent_at=as_of, hold_out=0.5)
            world.request_takedown([url[len(server.url):] for url in urls], month)
            if month == months[0]:
                written = build_context(db, month, "zh", now=NOW)  # as the monthly job does, at July's end
        db.dispose()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(folder / "wtm.sqlite3", copy)
    again = Database(f"sqlite:///{copy}")
    with again.session() as s:
        snapshots.delete_all(s)
        # What happened after July would change July's figures if it leaked into them: July's
        # takedown windows have closed since, and some of July's ads have gone.
        cohorts = stats.takedown_cohorts(s, months[0], months[-1])
        gone = [e for e in stats.example_ads(s, months[0], as_of=months[-1]) if e["removed_at"] is not None]
    # How many ads three sites' first crawl finds varies with the order pages are fetched in.
    assert written["key_points"]["total"] >= 3 and written["key_points"]["takedown_pending"]
    assert cohorts and all(c["decided_60"] for c in cohorts) and gone
    regenerated = build_context(again, months[0], "zh", now=datetime(2026, 2, 1))
    assert regenerated["meta"]["generated_at"] != written["meta"]["generated_at"]
    assert _figures(regenerated) == _figures(written)
    again.dispose()
