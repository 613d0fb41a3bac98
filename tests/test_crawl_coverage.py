"""Coverage in crawl health (issue 10): per site, queries run and pages browsed, listings found only
by browsing or by a single query, requests per flagged ad, checked against the sandbox's own
search and stated in plain words in the report's crawl section. Real crawls over HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.months import month_end
from monitor.reports.context import build_context
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database

SEED = 20120101
NOTHING = "不存在的东西"  # finds nothing: only the walks find listings


@pytest.fixture(scope="module")
def served() -> tuple[Sandbox, SandboxServer, str]:
    world = Sandbox(seed=SEED)
    month = world.months[-2]
    with SandboxServer(world, port=0, month=month) as server:
        yield world, server, month


def test_search_only_coverage_matches_the_sites_search(served: tuple[Sandbox, SandboxServer, str], tmp_path: Path) -> None:
    world, server, month = served
    site, keywords = "linlitie", ["转让", "出", "老", "的", "犀角"]  # search only, substring, 20 a page, no cap
    config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url}, environ={})
    health = run_crawl(config, sites=[site], keywords=keywords, as_of=month_end(month, config.tz),
                       progress=False, polite=False).sites[site]
    results = {k: world.search(site, k, month) for k in keywords}
    by_listing: dict[str, int] = {}
    for ids in results.values():
        for i in set(ids):
            by_listing[i] = by_listing.get(i, 0) + 1
    reach = health.reach
    assert (reach.queries, reach.browse_pages, reach.only_browse) == (len(keywords), 0, 0)
    assert reach.query_pages == sum(max(1, -(-len(ids) // 20)) for ids in results.values())
    assert reach.found == reach.only_query == len(by_listing)
    assert reach.single_query == sum(1 for n in by_listing.values() if n == 1)
    with sqlite3.connect(tmp_path / "wtm.sqlite3") as db:
        flagged = db.execute("SELECT COUNT(*) FROM listings WHERE flagged AND NOT unread").fetchone()[0]
    assert reach.flagged == flagged > 0
    assert reach.requests >= reach.query_pages + health.items
    assert reach.requests_per_flagged == round(reach.requests / flagged, 1)

    database = Database(config.db_url)
    try:
        row = next(h for h in build_context(database, month, "en")["health"] if h["site"] == site)
        zh = next(h for h in build_context(database, month, "zh")["health"] if h["site"] == site)
    finally:
        database.dispose()
    assert row["reach_text"] == (
        f"searched {len(keywords)} queries and browsed 0 pages; 0 listings were found only by browsing, "
        f"{reach.single_query} by a single query; {reach.requests_per_flagged:,.1f} requests per flagged ad.")
    assert zh["reach_text"].startswith(f"搜索了 {len(keywords)} 个查询词，浏览了 0 个分类页")


def test_listings_only_walks_find_are_counted_as_found_only_by_browsing(
        served: tuple[Sandbox, SandboxServer, str], tmp_path: Path) -> None:
    world, server, month = served
    config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url}, environ={})
    health = run_crawl(config, sites=["tongcheng"], keywords=[NOTHING], as_of=month_end(month, config.tz),
                       progress=False, polite=False).sites["tongcheng"]
    reach = health.reach
    assert reach.queries == 1 and reach.query_pages == 1 and reach.browse_pages > 0
    assert reach.found == reach.only_browse > 0 and reach.only_query == reach.single_query == 0
