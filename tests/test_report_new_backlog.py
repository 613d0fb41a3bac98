"""New versus backlog on a small history with known answers: an ad is new in the month it was
posted; what a site's first monitored month finds from before is the backlog, counted apart; a
month no crawl covered is marked in the trend and no change is computed against it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from monitor.items import ListingItem
from monitor.reports import build_context, render_html
from monitor.storage import CrawlRecorder, Database, stats

# (site, id, posted or None, species) recorded by the crawl of each month; 2025-02 was not crawled.
CRAWLS = {
    "2025-01": [("alpha", "old1", datetime(2024, 11, 3), ["ivory"]), ("alpha", "old2", datetime(2024, 12, 30), ["ivory"]),
                ("alpha", "jan", datetime(2025, 1, 5), ["ivory"]), ("alpha", "nodate", None, ["tiger"])],
    "2025-03": [("alpha", "mar", datetime(2025, 3, 2), ["ivory"]),
                ("alpha", "late", datetime(2025, 1, 28), ["pangolin"]),   # posted in Jan, missed until March
                ("alpha", "febpost", datetime(2025, 2, 14), ["ivory"]),  # posted in the uncovered month
                ("beta", "bold", datetime(2025, 2, 10), ["tiger"]),      # beta's first month is March
                ("beta", "bnew", datetime(2025, 3, 9), ["tiger"]),
                ("beta", "skew", datetime(2025, 4, 9), ["tiger"])],     # a date later than its sighting
}


def _record(db: Database) -> None:
    for month, ads in CRAWLS.items():
        observed = datetime(int(month[:4]), int(month[5:]), 25, 23, 0)
        run_id = db.start_run(kind="monthly", started_at=observed, month=month)
        for site in sorted({a[0] for a in ads}):
            rec = CrawlRecorder(db, run_id=run_id, site=site, observed_at=observed)
            for ad_site, external_id, posted, species in ads:
                if ad_site != site:
                    continue
                title = f"{external_id} 象牙手镯"
                item = ListingItem(site=site, external_id=external_id, url=f"http://127.0.0.1:9/{site}/{external_id}",
                                   title=title, description="", posted_at=posted, fetched_at=observed)
                matches = [{"term": "象牙", "species": sp, "kind": "term", "field": "title", "start": 0, "end": 2,
                            "text": "象牙", "trick": ""} for sp in species]
                rec.add(item, matches, lexicon_version="test", flagged=True, species=species, score=1.0,
                        evidence=b"<html></html>")
            rec.finish({"pages": 1, "items": len(ads), "errors": {}, "finish_reason": "finished", "healthy": True})
        db.finish_run(run_id, observed)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    folder: Path = tmp_path_factory.mktemp("new-backlog")
    database = Database(f"sqlite:///{folder / 'wtm.sqlite3'}", evidence_dir=folder / "evidence")
    database.upgrade()
    _record(database)
    yield database
    database.dispose()


def test_new_is_the_posting_month_and_backlog_is_apart(db: Database) -> None:
    with db.session() as s:
        assert stats.monthly_totals(s) == {"2025-01": 3, "2025-02": 1, "2025-03": 3}
        assert stats.backlog_found(s, "2025-01") == [{"site": "alpha", "listings": 2, "posted_from": "2024-11"}]
        assert stats.backlog_found(s, "2025-03") == [{"site": "beta", "listings": 1, "posted_from": "2025-02"}]
        assert stats.new_flagged_by_site(s, "2025-01") == {"alpha": 3}
        assert stats.new_flagged_by_site(s, "2025-03") == {"alpha": 1, "beta": 2}
        assert stats.new_flagged_by_species(s, "2025-01") == {"ivory": 1, "pangolin": 1, "tiger": 1}
        assert {e["external_id"] for e in stats.example_ads(s, "2025-02")} == {"febpost"}
        assert stats.monthly_trend(s) == [("2025-01", "ivory", 1), ("2025-01", "pangolin", 1), ("2025-01", "tiger", 1),
                                          ("2025-02", "ivory", 1), ("2025-03", "ivory", 1), ("2025-03", "tiger", 2)]


def test_trend_marks_months_without_data_and_computes_no_change_against_them(db: Database) -> None:
    context = build_context(db, "2025-03", "en", now=datetime(2025, 4, 1))
    trend, key = context["trend"], context["key_points"]
    assert trend["months"] == ["2025-01", "2025-02", "2025-03"]
    assert trend["has_data"] == [True, False, True] and trend["no_data"] == ["2025-02"]
    assert trend["total"] == [3, None, 3] and trend["change"] == [None, None, None]
    assert key["total"] == 3 and key["previous"] is None and key["change_previous"] is None
    assert key["backlog"] == 1 and key["backlog_sites"][0]["site"] == "beta"
    page = render_html(context)
    assert "Months without data (no change computed): 2025-02" in page
    assert "Backlog (posted before monitoring began" in page
    first = build_context(db, "2025-01", "zh", now=datetime(2025, 4, 1))
    # As known at the end of January: "late" (posted in January) was found only in March.
    assert first["key_points"]["total"] == 2 and first["key_points"]["backlog"] == 2
    assert first["key_points"]["previous"] is None
