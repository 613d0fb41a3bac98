"""Query yields in the database (SQLite file and, when configured, PostgreSQL): written per site,
month, query and run, added to on a resumed run, read back per site and month; and which
flagged listings a crawl brought in new."""

from __future__ import annotations

from monitor.storage import CrawlRecorder, Database, YieldRecord, new_listing_ids, record_yields, site_yields
from storage_db import at, item


def test_yields_are_stored_per_site_month_and_query(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    written = record_yields(db, [
        YieldRecord("lutian", "2025-06", "象牙", "plain", requests=3, found=41, flagged_new=5, run_id=run),
        YieldRecord("lutian", "2025-06", "象 牙", "separator", requests=1, found=1, flagged_new=1, run_id=run),
        YieldRecord("tongcheng", "2025-06", "象牙", "plain", requests=2, found=20, flagged_new=0, run_id=run),
    ])
    assert written == 3
    stored = site_yields(db)
    assert sorted(stored) == ["lutian", "tongcheng"]
    lutian = {r.query: r for r in stored["lutian"]}
    assert lutian["象牙"] == YieldRecord("lutian", "2025-06", "象牙", "plain", 3, 41, 5)
    assert lutian["象 牙"].kind == "separator" and lutian["象 牙"].flagged_new == 1


def test_a_resumed_run_adds_to_its_rows_and_months_are_kept_apart(db: Database) -> None:
    june = db.start_run("monthly", at("2025-06"), "2025-06")
    july = db.start_run("monthly", at("2025-07"), "2025-07")
    record_yields(db, [YieldRecord("lutian", "2025-06", "犀角", "plain", 2, 10, 1, june)])
    record_yields(db, [YieldRecord("lutian", "2025-06", "犀角", "plain", 1, 3, 2, june)])  # the rest of the run
    record_yields(db, [YieldRecord("lutian", "2025-07", "犀角", "plain", 4, 12, 0, july)])
    rows = site_yields(db, ["lutian"])["lutian"]
    assert [(r.month, r.requests, r.found, r.flagged_new) for r in rows] == [("2025-06", 3, 13, 3), ("2025-07", 4, 12, 0)]
    # a plan for July reads June only; a plan for August reads both, unless told where to start
    assert [r.month for r in site_yields(db, ["lutian"], before="2025-07")["lutian"]] == ["2025-06"]
    assert [r.month for r in site_yields(db, ["lutian"], before="2025-08", since="2025-07")["lutian"]] == ["2025-07"]
    assert site_yields(db, ["gangpaihk"]) == {"gangpaihk": []}


def test_two_runs_of_one_month_are_summed_when_read(db: Database) -> None:
    first = db.start_run("monthly", at("2025-06"), "2025-06")
    rerun = db.start_run("site", at("2025-06", 29), "2025-06")
    record_yields(db, [YieldRecord("lutian", "2025-06", "犀角", "plain", 2, 10, 1, first),
                       YieldRecord("lutian", "2025-06", "犀角", "manual", 1, 10, 0, rerun)])
    (row,) = site_yields(db, ["lutian"])["lutian"]
    assert (row.requests, row.found, row.flagged_new) == (3, 20, 1)


def test_overlong_queries_are_cut_and_empty_ones_dropped(db: Database) -> None:
    run = db.start_run("monthly", at("2025-06"), "2025-06")
    assert record_yields(db, [YieldRecord("lutian", "2025-06", "象" * 500, "plain", 1, 0, 0, run),
                              YieldRecord("lutian", "2025-06", "", "plain", 1, 0, 0, run)]) == 1
    (row,) = site_yields(db)["lutian"]
    assert row.query == "象" * 200


def test_new_listings_are_those_first_seen_by_this_crawl(db: Database) -> None:
    june, july = at("2025-06"), at("2025-07")
    run = db.start_run("monthly", june, "2025-06")
    with CrawlRecorder(db, run_id=run, site="lutian", observed_at=june) as rec:
        rec.add(item("1", site="lutian"), flagged=True)
        rec.add(item("2", site="lutian"), flagged=True)
    run = db.start_run("monthly", july, "2025-07")
    with CrawlRecorder(db, run_id=run, site="lutian", observed_at=july) as rec:
        rec.add(item("2", site="lutian"), flagged=True)
        rec.add(item("3", site="lutian"), flagged=True)
    assert new_listing_ids(db, "lutian", ["1", "2", "3", "404"], since=july) == {"3"}
    assert new_listing_ids(db, "lutian", ["1", "2", "3"], since=june) == {"1", "2", "3"}
    assert new_listing_ids(db, "no-such-site", ["1"], since=june) == set()
    assert new_listing_ids(db, "lutian", [], since=june) == set()
