"""The miss rate: analysts' verdicts on the month's random sample of unflagged listings, weighted
by site, with Wilson's 95 % interval, on a hand-built database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import cli
from monitor.storage import CrawlRecorder, Database
from monitor.storage.misses import estimate, estimates, wilson
from monitor.storage.models import Listing, Site
from monitor.storage.review import record_decision, unflagged_sample

from storage_db import at, item, ivory

MONTH = "2025-06"


def crawl(db: Database, month: str, site: str, unflagged: int, flagged: int = 0) -> None:
    rec = CrawlRecorder(db, run_id=db.start_run("monthly", at(month), month), site=site, observed_at=at(month))
    for n in range(unflagged):
        rec.add(item(f"{month}-u{n}", site=site, title=f"旧书 {n}"))
    for n in range(flagged):
        rec.add(item(f"{month}-f{n}", site=site, title="象牙手镯"), matches=[ivory()], lexicon_version="v1",
                flagged=True, species=["ivory"], score=0.9)
    rec.finish({"pages": 1, "items": unflagged + flagged, "healthy": True})


def sample_of(db: Database, month: str, site: str) -> list[int]:
    ids = unflagged_sample(db, month)
    with db.session() as s:
        return [lid for lid in ids if s.scalar(select(Site.name).join(Listing).where(Listing.id == lid)) == site]


def judge(db: Database, ids: list[int], missed: int) -> None:
    for n, listing_id in enumerate(ids):
        record_decision(db, listing_id, "confirmed" if n < missed else "rejected", "ana")


def test_wilson_interval_matches_the_published_values() -> None:
    # 1 of 5 and 0 of 5: the Wilson intervals tabulated by Newcombe (1998) and in every textbook.
    assert wilson(0.2, 5) == pytest.approx((0.0362, 0.6245), abs=5e-5)
    assert wilson(0.0, 5) == pytest.approx((0.0, 0.4345), abs=5e-5)


def test_one_site_one_miss_in_five_gives_the_plain_wilson_interval(db: Database) -> None:
    crawl(db, MONTH, "alpha", unflagged=20, flagged=3)
    with db.session() as s:
        before = estimate(s, MONTH)
    assert (before.unflagged, before.drawn, before.reviewed, before.estimated) == (20, 5, 0, False)
    assert before.missed_ads is None
    sample = sample_of(db, MONTH, "alpha")
    judge(db, sample, missed=1)
    with db.session() as s:
        found = estimate(s, MONTH)
    assert (found.unflagged, found.drawn, found.reviewed, found.missed) == (20, 5, 5, 1)
    assert found.rate == pytest.approx(0.2)
    assert (found.low, found.high) == pytest.approx((0.0362, 0.6245), abs=5e-5)
    assert found.missed_ads == (4, 0, 13)


def test_sites_are_weighted_by_their_unflagged_listings_and_only_the_sample_counts(db: Database) -> None:
    crawl(db, MONTH, "alpha", unflagged=20)
    crawl(db, MONTH, "beta", unflagged=60, flagged=2)
    judge(db, sample_of(db, MONTH, "alpha"), missed=1)
    beta = sample_of(db, MONTH, "beta")
    judge(db, beta, missed=0)
    # An unflagged listing confirmed outside the sample (found by a search) is no random draw.
    with db.session() as s:
        outside = s.scalars(select(Listing.id).join(Site).where(Site.name == "beta", Listing.flagged.is_(False),
                                                                 Listing.id.not_in(beta))).first()
    record_decision(db, outside, "confirmed", "ana")
    with db.session() as s:
        found = estimate(s, MONTH)
    assert (found.unflagged, found.reviewed, found.missed) == (80, 10, 1)
    # alpha: 1/5 at weight 20/80; beta: 0/5 at weight 60/80 (unweighted it would read 1/10).
    assert found.rate == pytest.approx(0.05)
    # The design effect would credit more than 10 draws: capped at the 10 reviewed.
    assert (found.low, found.high) == pytest.approx(wilson(0.05, 10))
    assert (found.low, found.high) == pytest.approx((0.0052, 0.3445), abs=5e-5)
    assert found.missed_ads == (4, 0, 28)
    assert [(st.site, st.unflagged, st.drawn, st.reviewed, st.missed) for st in found.strata] == [
        ("alpha", 20, 5, 5, 1), ("beta", 60, 5, 5, 0)]


def test_every_month_is_listed_and_a_month_without_reviews_is_not_estimated(db: Database) -> None:
    crawl(db, "2025-05", "alpha", unflagged=8)
    crawl(db, MONTH, "alpha", unflagged=8)
    judge(db, sample_of(db, MONTH, "alpha"), missed=0)
    with db.session() as s:
        found = estimates(s)
    assert [(e.month, e.reviewed, e.estimated) for e in found] == [("2025-05", 0, False), (MONTH, 5, True)]
    assert found[1].rate == 0.0 and found[1].low == 0.0
    assert found[1].high == pytest.approx(wilson(0.0, 5)[1])


def test_model_eval_states_each_months_miss_rate(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wtm.sqlite3'}")
    db.upgrade()
    crawl(db, "2025-05", "alpha", unflagged=8)
    crawl(db, MONTH, "alpha", unflagged=20, flagged=2)
    judge(db, sample_of(db, MONTH, "alpha"), missed=1)
    db.dispose()
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "model", "eval", "--sandbox", "0",
                                      "--blind-set", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("misses ("))
    assert lines[at + 1] == "  2025-05: not yet estimated: no sample reviewed (5 drawn of 8 unflagged)"
    assert lines[at + 2] == ("  2025-06: miss rate 0.200 (95 % interval 0.036-0.624), 1 missed of 5 sampled listings "
                             "reviewed (5 drawn); estimated missed ads 4 (95 % interval 0-13) of 20 unflagged")


def test_the_report_states_the_estimate_or_that_none_is_made_yet(db: Database) -> None:
    from monitor.reports import build_context, render_html
    from monitor.reports.exports import tables

    crawl(db, MONTH, "alpha", unflagged=20, flagged=2)
    context = build_context(db, MONTH, "en")
    assert context["misses"]["line"] == "Missed ads not yet estimated: no sample reviewed (5 unflagged listings drawn this month)."
    judge(db, sample_of(db, MONTH, "alpha"), missed=1)
    context = build_context(db, MONTH, "en")
    assert context["misses"]["line"] == "Estimated missed ads: 4 (95 % interval 0–13) from 1 of 5 sampled listings reviewed"
    assert context["misses"]["rate_line"] == "miss rate 20.0% (95 % interval 3.6%–62.4%) of 20 unflagged listings this month"
    assert context["misses"]["line"] in render_html(context)
    assert tables(context)["misses"] == [{"month": MONTH, "unflagged": 20, "drawn": 5, "reviewed": 5, "missed": 1,
                                          "rate": pytest.approx(0.2), "low": pytest.approx(0.0362, abs=5e-5),
                                          "high": pytest.approx(0.6245, abs=5e-5), "missed_ads": 4,
                                          "missed_ads_low": 0, "missed_ads_high": 13}]
    zh = build_context(db, MONTH, "zh")["misses"]["line"]
    assert zh == "估计本月漏报涉嫌违法广告 4 条（95% 区间 0–13 条），依据分析员审核的 5 条随机抽样未标记商品中的 1 条"
