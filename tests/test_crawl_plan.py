"""Each site crawled with its own query plan, against the simulated marketplaces (real HTTP,
Scrapy in its worker, the full pipeline into SQLite): the queries each site receives are its
plan's, in its script; every query's yield is stored; the next month's plan starts with the
queries that brought new flagged ads; keywords given by hand replace the plan; and
``wtm sites plan`` shows it all."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import Config, load_config
from monitor.crawling import run_crawl
from monitor.crawling.planner import SitePlan, plan_sites
from monitor.crawling.runner import open_database
from monitor.crawling.sites import load_sites
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer

SEED = 20120101
# A Big5 Traditional site, a GBK one and a UTF-8 JSON API: three ways of receiving a query.
SITES = ["lutian", "huaxiacang", "xianzhi"]
BUDGET = 90  # requests per site and month, the search plan's share included


@dataclass
class PlannedCrawl:
    config: Config
    months: list[str]
    plans: dict[str, dict[str, SitePlan]]  # month -> site -> the plan the crawl was given
    db_path: Path

    def rows(self, sql: str, *args: object) -> list[tuple]:
        db = sqlite3.connect(self.db_path)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()


def plans_now(config: Config, month: str) -> dict[str, SitePlan]:
    db = open_database(config)
    try:
        return plan_sites(config, load_sites(names=SITES), month, db=db)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> PlannedCrawl:
    world = Sandbox(seed=SEED)
    months = world.months[-2:]
    data = tmp_path_factory.mktemp("planned-crawl")
    plans: dict[str, dict[str, SitePlan]] = {}
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(overrides={"data_dir": str(data), "sandbox_url": server.url, "sites": SITES,
                                        "requests_per_site": BUDGET}, environ={})
        for month in months:
            server.set_month(month)
            plans[month] = plans_now(config, month)  # what run_crawl plans too: same lexicon, yields and month
            summary = run_crawl(config, as_of=month_end(month, config.tz), progress=False, polite=False)
            assert not summary.failed_sites, summary.sites
    return PlannedCrawl(config, months, plans, data / "wtm.sqlite3")


def test_each_site_is_searched_for_its_own_plan(planned: PlannedCrawl) -> None:
    for month in planned.months:
        for name in SITES:
            plan = planned.plans[month][name]
            stored = {q for (q,) in planned.rows("SELECT query FROM query_yields WHERE site = ? AND month = ?", name, month)}
            sent = {q.site_query for q in plan.queries}
            # the plan's head is sent; its tail may be left for next month when the site's budget runs out
            assert stored <= sent and plan.queries[0].site_query in stored, (month, name)
            assert plan.estimated_requests <= plan.budget < BUDGET and plan.requests == BUDGET
    first = planned.months[0]
    lutian, huaxiacang = planned.plans[first]["lutian"], planned.plans[first]["huaxiacang"]
    assert {q.site_query for q in lutian.queries} != {q.site_query for q in huaxiacang.queries}
    # the Traditional site receives Traditional queries (converted by the spider from what it is given)
    assert "象牙" in {q.site_query for q in lutian.queries}
    assert any(q.site_query != q.query for q in lutian.queries)
    assert all(q.site_query == q.query for q in huaxiacang.queries)


def test_every_query_yield_is_stored(planned: PlannedCrawl) -> None:
    rows = planned.rows("SELECT site, month, query, kind, requests, found, flagged_new, run_id FROM query_yields")
    assert rows
    kinds = {(site, month, q.site_query): q.kind
             for month, plans in planned.plans.items() for site, plan in plans.items() for q in plan.queries}
    for site, month, query, kind, requests, found, flagged_new, run_id in rows:
        assert requests >= 1 and found >= flagged_new >= 0 and run_id is not None
        assert kind == kinds[(site, month, query)]
    assert sum(r[5] for r in rows) > 0 and sum(r[6] for r in rows) > 0
    # a new flagged listing counts for one query at most (those found only by browsing, for none)
    for month in planned.months:
        for name in SITES:
            flagged = planned.rows(
                "SELECT COUNT(*) FROM listings l JOIN sites s ON s.id = l.site_id WHERE s.name = ? AND l.flagged "
                "AND l.first_seen_month = ?", name, month)[0][0]
            credited = planned.rows(
                "SELECT COALESCE(SUM(flagged_new), 0) FROM query_yields WHERE site = ? AND month = ?", name, month)[0][0]
            assert credited <= flagged, (month, name)


def test_next_months_plan_starts_with_what_yielded(planned: PlannedCrawl) -> None:
    first, second = planned.months
    for name in SITES:
        yielded = {q for (q,) in planned.rows(
            "SELECT query FROM query_yields WHERE site = ? AND month = ? AND flagged_new > 0", name, first)}
        if not yielded:
            continue
        plan = planned.plans[second][name]
        kept = [q for q in plan.queries if q.site_query in yielded]  # a query too long for the budget left out
        assert kept and all(q.reason.startswith("here: ") for q in kept), name
        last = max(plan.queries.index(q) for q in kept)
        # ahead of every query that found nothing new here and of those with no yield anywhere (a
        # query that brought ads on other sites may come between)
        behind = [q for q in plan.queries if q.reason.startswith("never run; prior")
                  or (q.last is not None and q.last.flagged_new == 0)]
        assert behind and all(plan.queries.index(q) > last for q in behind), name


def test_keywords_given_by_hand_replace_the_plan(tmp_path: Path) -> None:
    world = Sandbox(seed=SEED)
    month = world.months[-1]
    with SandboxServer(world, port=0, month=month) as server:
        config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url}, environ={})
        run_crawl(config, sites=["lutian"], keywords=["象牙", "鹤顶红"], as_of=month_end(month, config.tz),
                  progress=False, polite=False)
    db = sqlite3.connect(tmp_path / "wtm.sqlite3")
    rows = sorted(db.execute("SELECT site, query, kind FROM query_yields").fetchall())
    db.close()
    assert rows == [("lutian", "象牙", "manual"), ("lutian", "鶴頂紅", "manual")]


def test_sites_plan_shows_queries_yields_and_what_was_left_out(planned: PlannedCrawl) -> None:
    data = str(planned.config.data_path)
    month = planned.months[-1]
    result = CliRunner().invoke(cli, ["--data-dir", data, "sites", "plan", "lutian", "--month", month,
                                      "--budget", str(BUDGET)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    plan = planned.plans[month]["lutian"]
    assert lines[0].startswith(f"lutian {month}: {len(plan.queries)} queries, about {plan.estimated_requests} "
                               f"of {plan.budget} result pages")
    assert "search matches" in lines[0]
    assert lines[1] == (f"budget: {BUDGET} requests, {plan.budget} of them for searching; the other "
                        f"{BUDGET - plan.budget} kept for its last crawl's revisits, listing pages and browsing")
    shown = "\n".join(lines[2:len(plan.queries) + 2])
    for q in plan.queries:
        assert repr(q.site_query) in shown and q.kind in shown
    assert "here: " in shown  # last month's yields
    assert "left out:" in result.output and "big5 cannot encode" in result.output and "over budget" in result.output


def test_sites_plan_without_a_database_uses_the_prior_order(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "sites", "plan", "tongcheng", "--month", "2025-06",
                                      "--no-skipped"])
    assert result.exit_code == 0, result.output
    assert "no database yet, so no yields: prior order only" in result.output.splitlines()[0]
    assert "left out" not in result.output
    assert not (tmp_path / "wtm.sqlite3").exists()
    bad = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "sites", "plan", "nosuchsite"])
    assert bad.exit_code != 0


def test_demo_plans_smaller_than_a_real_crawl_and_says_so(tmp_path: Path) -> None:
    from monitor.demo import DEMO_REQUESTS_PER_SITE, demo_config

    config = load_config(overrides={"data_dir": str(tmp_path)}, environ={})
    assert demo_config(config, "http://127.0.0.1:1").requests_per_site == DEMO_REQUESTS_PER_SITE
    assert DEMO_REQUESTS_PER_SITE < config.requests_per_site
    small = load_config(overrides={"data_dir": str(tmp_path), "requests_per_site": 20}, environ={})
    assert demo_config(small, "http://127.0.0.1:1").requests_per_site == 20
