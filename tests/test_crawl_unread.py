"""Nothing seen is dropped (issue 10): a listing already gone when the crawl first sees it (the
search still lists it, its page answers 404 or redirects home) is stored with what its results
page showed and counted apart in the report, never as a new flagged ad. Real HTTP against the
sandbox's two stale-index sites (a link-only HTML list whose pages answer 404, and a JSON API
whose pages redirect home), real Scrapy, the full pipeline into SQLite, checked against the truth.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.crawling import run_crawl
from monitor.months import month_end
from monitor.reports.context import build_context
from monitor.reports.render import render_html
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database

SEED = 20120101
SITES = ("linlitie", "huishouwa")  # SITES.md: stale_index; removal http_404 and redirect_home


@pytest.fixture(scope="module")
def served() -> tuple[Sandbox, SandboxServer, str]:
    world = Sandbox(seed=SEED)
    month = world.months[-2]
    with SandboxServer(world, port=0, month=month) as server:
        yield world, server, month


def gone_queries(world: Sandbox, site: str, month: str) -> list[str]:
    """A query for each listing removed this month: the first word of its title."""
    titles = [x["title"] for x in world.truth(month) if x["site"] == site and x["state"] == "removed"]
    return sorted({title.split()[0] for title in titles if title.split()})


def crawl(config: Config, month: str, site: str, keywords: list[str]) -> dict:
    summary = run_crawl(config, sites=[site], keywords=keywords, as_of=month_end(month, config.tz),
                        progress=False, polite=False)
    return summary.sites[site]


@pytest.mark.parametrize("site", SITES)
def test_listings_gone_before_the_first_visit_are_stored_and_reported_apart(
        served: tuple[Sandbox, SandboxServer, str], tmp_path: Path, site: str) -> None:
    world, server, month = served
    config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url}, environ={})
    keywords = gone_queries(world, site, month)
    truth = {x["external_id"]: x for x in world.truth(month) if x["site"] == site}
    listed = {i for kw in keywords for i in world.search(site, world_keyword(site, kw), month)}
    gone = {i for i in listed if truth[i]["state"] == "removed"}
    assert len(gone) >= 5, "the sandbox month should list several removed ads"

    health = crawl(config, month, site, keywords)
    assert health.healthy, health.problems
    assert health.removed_unread == len(gone) and health.removed == 0

    with sqlite3.connect(tmp_path / "wtm.sqlite3") as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT external_id, title, url, removal_kind, removed_month, first_seen_month, flagged, unread "
            "FROM listings WHERE unread = 1")}
    assert set(rows) == gone
    for external_id, (title, url, kind, removed_month, first_month, flagged, _) in rows.items():
        assert title == truth[external_id]["title"], external_id  # what its results page showed
        assert url.endswith(truth[external_id]["url"])
        assert kind == truth[external_id]["removal_kind"] and removed_month == first_month == month
        assert flagged == 0  # never a live ad, whatever its title says

    db = Database(config.db_url)
    try:
        context = build_context(db, month, "en")
        points = context["key_points"]
        assert points["removed_unread"] == len(gone)
        read_flagged = sum(1 for i in listed - gone if _flagged(tmp_path, i))
        assert points["total"] == read_flagged  # the headline counts only ads the crawl read
        assert points["removed_unread_flagged"] == _title_flagged(tmp_path)
        assert "Removed before it could be read" in render_html(context)
    finally:
        db.dispose()

    # The same month again: every known listing is still there, and the crawl is healthy.
    again = crawl(config, month, site, keywords)
    assert again.healthy, again.problems
    assert again.removed == 0 and again.items == health.items
    with sqlite3.connect(tmp_path / "wtm.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM listings WHERE unread = 1").fetchone()[0] == len(gone)


def world_keyword(site: str, keyword: str) -> str:
    from monitor.crawling.sites import load_sites

    return load_sites(names=[site])[site].site_keyword(keyword)


def _flagged(data: Path, external_id: str) -> bool:
    with sqlite3.connect(data / "wtm.sqlite3") as conn:
        row = conn.execute("SELECT flagged FROM listings WHERE external_id = ?", (external_id,)).fetchone()
    return bool(row and row[0])


def _title_flagged(data: Path) -> int:
    with sqlite3.connect(data / "wtm.sqlite3") as conn:
        return conn.execute("SELECT COUNT(*) FROM listings WHERE unread = 1 AND species != '[]'").fetchone()[0]
