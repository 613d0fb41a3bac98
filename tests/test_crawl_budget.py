"""requests_per_site is every request of a site's monthly crawl: the planner gives searching what
the site's last crawl spent elsewhere leaves over, and the crawl stops searching, then browsing,
when the site reaches its budget (real Scrapy against the simulated marketplaces)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.planner import FIRST_CRAWL_OTHER, MIN_SEARCH_SHARE, plan_sites, search_budget, walk_pages
from monitor.crawling.runner import open_database
from monitor.crawling.sites import load_sites
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage.yields import other_requests

SEED = 20120101


def test_searching_gets_what_the_last_crawl_left_over() -> None:
    sites = load_sites(names=["huishouwa", "lutian"])
    searched_only, walked = sites["huishouwa"], sites["lutian"]
    assert walk_pages(searched_only) == 0 and walk_pages(walked) == 4 * 5  # four categories, five pages each

    first = round(280 * FIRST_CRAWL_OTHER)
    assert search_budget(searched_only, 280, None)[0] == 280 - first
    assert search_budget(walked, 280, None)[0] == 280 - first - 20
    assert search_budget(walked, 280, None)[1] == (f"a first crawl: {FIRST_CRAWL_OTHER:.0%} of the budget for listing "
                                                   "pages, 20 for browsing")
    assert search_budget(walked, 280, 100) == (180, "its last crawl's revisits, listing pages and browsing")
    assert search_budget(walked, 280, 0)[0] == 280
    # a site whose revisits alone take the budget still searches: its crawl runs over, visibly
    assert search_budget(walked, 280, 1000)[0] == round(280 * MIN_SEARCH_SHARE)


def _health_pages(db_path: Path, site: str, month: str) -> int:
    import json

    db = sqlite3.connect(db_path)
    try:
        (health,) = db.execute("SELECT sc.health FROM site_crawls sc JOIN sites s ON s.id = sc.site_id "
                               "WHERE s.name = ? AND sc.month = ?", (site, month)).fetchone()
    finally:
        db.close()
    return int(json.loads(health)["pages"])


def _search_pages(db_path: Path, site: str, month: str) -> int:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT COALESCE(SUM(requests), 0) FROM query_yields WHERE site = ? AND month = ?",
                          (site, month)).fetchone()[0]
    finally:
        db.close()


def test_a_crawl_keeps_to_its_budget_and_the_next_plan_learns_from_it(tmp_path: Path) -> None:
    """huishouwa (search only) and lutian (search, then four category walks) on a small budget:
    lutian runs into it (the listing pages it found are still all read), huishouwa's few queries
    do not; both stay healthy, and next month's plan leaves room for what this crawl spent
    besides searching."""
    budget = 30
    world = Sandbox(seed=SEED)
    first, second = world.months[-2:]
    names = ["huishouwa", "lutian"]
    with SandboxServer(world, port=0, month=first) as server:
        config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url, "sites": names,
                                        "requests_per_site": budget}, environ={})
        db = open_database(config)
        try:
            planned = plan_sites(config, load_sites(names=names), first, db=db)
        finally:
            db.dispose()
        summary = run_crawl(config, as_of=month_end(first, config.tz), progress=False, polite=False)
    assert not summary.failed_sites, summary.sites
    db_path = tmp_path / "wtm.sqlite3"
    log = (tmp_path / "logs" / f"scrapy-{first}.log").read_text("utf-8")
    sites = load_sites(names=names)
    for name in names:
        searched = _search_pages(db_path, name, first)
        assert 0 < searched <= min(planned[name].estimated_requests, budget - walk_pages(sites[name])), name
    # lutian ran into its budget; the listing pages it had found were all read all the same
    assert f"lutian reached its budget of {budget} requests (requests_per_site)" in log
    assert "huishouwa reached its budget" not in log
    assert summary.sites["lutian"]["pages"] > budget

    db = open_database(config)
    try:
        left = other_requests(db, names, before=second)
        again = plan_sites(config, sites, second, db=db)
    finally:
        db.dispose()
    for name in names:
        other = _health_pages(db_path, name, first) - _search_pages(db_path, name, first)
        assert left[name] == other
        assert again[name].budget == search_budget(sites[name], budget, other)[0]
    assert other_requests(db := open_database(config), names, before=first) == {}
    db.dispose()
