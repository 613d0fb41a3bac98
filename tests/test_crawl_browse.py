"""Browsing (issue 10): site files name category pages to walk (an antiques category, a forum
board, a newest-first list of every ad), each walk capped by ``max_pages`` and, with
``stop: known``, ended after the first page that lists only listings known before the crawl.
Against the simulated marketplaces over real HTTP, Scrapy in its worker, the full pipeline into
SQLite, checked against the sandbox's truth (``world.category``)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor.config import Config, load_config
from monitor.crawling import run_crawl
from monitor.crawling.sites import load_site_file, load_sites, shipped_sites_dir
from monitor.exceptions import SiteFileError
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer

SEED = 20120101
# A keyword no listing holds: the search finds nothing, so only the walks find listings.
NOTHING = "不存在的东西"
# HTML (UTF-8 and GBK), a Big5 Traditional site, a JSON API with cursors, JSON in a <script>,
# a Discuz! forum with relative links.
WALKED = ["tongcheng", "huaxiacang", "lutian", "xianzhi", "zhuanshou", "shoucangluntan"]
FEED = ("tongcheng", "ershou")  # 二手市场: every ad, newest first, newest 5 pages


@dataclass
class Served:
    world: Sandbox
    server: SandboxServer
    requests: list[str] = field(default_factory=list)  # origin-relative targets, in order

    def pages(self, site: str, key: str) -> list[int]:
        """Page numbers of category ``key`` requested since the log was last cleared."""
        app = self.server.apps[site]
        wanted = {app.category_page_url(key, n): n for n in range(1, 20)}
        return sorted({wanted[t] for t in self.requests if t in wanted})

    def crawl(self, config: Config, month: str, sites: list[str], keywords: list[str]) -> None:
        self.server.set_month(month)
        self.requests.clear()
        summary = run_crawl(config, sites=sites, keywords=keywords, as_of=month_end(month, config.tz),
                            progress=False, polite=False)
        assert summary.failed_sites == [], summary.sites


@pytest.fixture(scope="module")
def served() -> Served:
    world = Sandbox(seed=SEED)
    with SandboxServer(world, port=0, month=world.months[-2]) as server:
        record = Served(world, server)
        respond = server.respond

        def logged(method: str, target: str, body: bytes):  # type: ignore[no-untyped-def]
            record.requests.append(target)
            return respond(method, target, body)

        server.respond = logged  # type: ignore[method-assign]
        yield record


def config_for(served: Served, data: Path, sites_dir: Path | None = None) -> Config:
    overrides = {"data_dir": str(data), "sandbox_url": served.server.url}
    if sites_dir is not None:
        overrides["sites_dir"] = str(sites_dir)
    return load_config(overrides=overrides, environ={})


def walked_keys(served: Served, site: str) -> list[str]:
    """The sandbox category keys whose first page the shipped site file walks."""
    spec = load_sites(names=[site])[site]
    app = served.server.apps[site]
    prefix = urlsplit(served.server.url + f"/{site}/").path
    firsts = {prefix + u.replace("{page}", "1") for u in spec.category.urls}
    return [c.key for c in served.world.categories(site) if app.category_page_url(c.key, 1) in firsts]


def stored(data: Path, site: str, live_only: bool = False) -> set[str]:
    db = sqlite3.connect(data / "wtm.sqlite3")
    try:
        sql = "SELECT l.external_id FROM listings l JOIN sites s ON s.id = l.site_id WHERE s.name = ?"
        return {r[0] for r in db.execute(sql + (" AND l.removed_at IS NULL" if live_only else ""), (site,))}
    finally:
        db.close()


def scrapy_stats(config: Config, month: str) -> dict[str, int]:
    """The wtm/ counters of the month's last crawled spider, from the stats Scrapy logs at its end."""
    text = (config.data_path / "logs" / f"scrapy-{month}.log").read_text(encoding="utf-8")
    last = text.rsplit("Dumping Scrapy stats:", 1)[1].split("Spider closed", 1)[0]
    return {k: int(v) for k, v in re.findall(r"'(wtm/[^']+)': (-?\d+)", last)}


# -- the shipped site files -----------------------------------------------------------------


def test_sites_with_categories_walk_them_and_the_others_still_search(served: Served) -> None:
    for name, site in load_sites().items():
        if not served.world.categories(name):
            assert site.crawl == "search" and site.category is None, name
            continue
        assert site.crawl == "both" and site.category is not None, name
        assert site.category.stop == "known" and site.category.max_pages, name
        keys = walked_keys(served, name)
        assert len(keys) == len(site.category.urls), (name, site.category.urls)  # every address is a category
        labels = {c.key: c for c in served.world.categories(name)}
        everything = [k for k, c in labels.items() if c.everything]
        assert set(everything) <= set(keys), name  # the newest-first feed of every ad, where there is one


@pytest.fixture(scope="module")
def walked(served: Served, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, list[str]]:
    data = tmp_path_factory.mktemp("walked")
    config = config_for(served, data)
    months = served.world.months[-2:]
    for month in months:
        served.crawl(config, month, WALKED, [NOTHING])
    return config, months


def test_a_walk_finds_every_listing_of_its_categories(served: Served, walked: tuple[Config, list[str]]) -> None:
    config, months = walked
    world = served.world
    for name in WALKED:
        keys = walked_keys(served, name)
        truth = {r["external_id"]: r for r in world.truth(months[-1]) if r["site"] == name}
        listed = {e for k in keys for e in world.category(name, k, months[-1])}
        live = {e for e in listed if truth[e]["state"] == "live"}
        have = stored(config.data_path, name)
        assert live and live <= have, (name, sorted(live - have))
        # the same pipelines as search results: matched and flagged
        db = sqlite3.connect(config.data_path / "wtm.sqlite3")
        flagged = {r[0] for r in db.execute(
            "SELECT l.external_id FROM listings l JOIN sites s ON s.id = l.site_id WHERE s.name = ? AND l.flagged",
            (name,))}
        db.close()
        illegal = {e for e in live if truth[e]["illegal"]}
        if illegal:
            assert flagged & illegal, name
    stats = scrapy_stats(config, months[-1])
    assert stats["wtm/pages/browse"] > 0 and stats["wtm/found/browse"] > 0
    assert "wtm/found/query" not in stats and "wtm/query/found/" + NOTHING not in stats


# -- the stop rule and max_pages on a newest-first feed ------------------------------------


def test_the_next_months_walk_stops_after_the_first_page_it_already_knew(
        served: Served, tmp_path: Path) -> None:
    site, key = FEED
    config = config_for(served, tmp_path)
    first, second = served.world.months[-2:]
    served.crawl(config, first, [site], [NOTHING])
    assert served.pages(site, key) == [1, 2, 3, 4, 5]  # nothing known yet: max_pages (the feed's own cap)
    assert scrapy_stats(config, first).get("wtm/browse/stopped_known", 0) == 0

    known = stored(tmp_path, site, live_only=True)
    feed = served.world.category(site, key, second)
    size = served.world.site(site).page_size
    pages = [feed[i:i + size] for i in range(0, len(feed), size)]
    stop = next(n for n, page in enumerate(pages, 1) if set(page) <= known)
    assert 1 < stop < len(pages)  # the month's new ads fill a page or more, not the whole feed

    served.crawl(config, second, [site], [NOTHING])
    assert served.pages(site, key) == list(range(1, stop + 1))
    stats = scrapy_stats(config, second)
    walks = len(load_sites(names=[site])[site].category.urls)
    assert stats["wtm/pages/browse"] == sum(len(served.pages(site, k)) for k in walked_keys(served, site))
    assert 1 <= stats["wtm/browse/stopped_known"] <= walks
    assert set(feed) - known <= stored(tmp_path, site)  # every new ad of the month found


def test_max_pages_caps_a_walk_and_a_listing_both_find_is_credited_to_its_query(
        served: Served, tmp_path: Path) -> None:
    site, key = FEED
    sites_dir = tmp_path / "sites"
    sites_dir.mkdir()
    text = (shipped_sites_dir() / f"{site}.yaml").read_text(encoding="utf-8")
    assert "  max_pages: 5\n" in text
    (sites_dir / f"{site}.yaml").write_text(text.replace("  max_pages: 5\n", "  max_pages: 2\n"), encoding="utf-8")
    config = config_for(served, tmp_path / "data", sites_dir)
    month = served.world.months[-1]
    # 老料 ("old material", a code word) finds four ads there that month; the walks reach three of them
    served.crawl(config, month, [site], ["老料"])
    assert served.pages(site, key) == [1, 2]
    size = served.world.site(site).page_size
    assert set(served.world.category(site, key, month)[:2 * size]) <= stored(tmp_path / "data", site)

    stats = scrapy_stats(config, month)
    searched = set(served.world.search(site, "老料", month))
    assert stats["wtm/found/both"] >= 1 and stats["wtm/found/browse"] >= 1
    assert stats["wtm/found/query"] + stats["wtm/found/both"] == len(searched)
    # the query's yield counts the flagged ads it reaches, though the walk reached some of them too
    db = sqlite3.connect(tmp_path / "data" / "wtm.sqlite3")
    flagged = {r[0] for r in db.execute("SELECT external_id FROM listings WHERE flagged")}
    credited = db.execute("SELECT flagged_new FROM query_yields WHERE query = '老料'").fetchone()[0]
    db.close()
    assert flagged - searched  # browsing found flagged ads the query did not
    assert credited == len(flagged & searched) > 0


# -- validation ----------------------------------------------------------------------------

GOOD = """\
name: shelf
platform: html
base_url: "{sandbox}/shelf/"
script: simplified
charset: utf-8
crawl: both
search:
  url: "s?q={keyword}"
  results: "a.hit::attr(href)"
  next_page: "a.next::attr(href)"
category:
  urls: ["list/antiques.html", "list/newest.html"]
  results: "a.hit::attr(href)"
  next_page: "a.next::attr(href)"
  max_pages: 5
  stop: known
listing:
  id_from_url: "item/(\\\\d+)"
  fields:
    title: "h1::text"
"""


def test_a_good_walk_loads(tmp_path: Path) -> None:
    path = tmp_path / "shelf.yaml"
    path.write_text(GOOD, encoding="utf-8")
    site = load_site_file(path)
    assert site.category.stop == "known" and site.category.max_pages == 5
    assert site.category_urls("http://127.0.0.1:9") == ["http://127.0.0.1:9/shelf/list/antiques.html",
                                                        "http://127.0.0.1:9/shelf/list/newest.html"]
    path.write_text(GOOD.replace("  stop: known\n", ""), encoding="utf-8")
    assert load_site_file(path).category.stop is None


@pytest.mark.parametrize(
    "change, field",
    [
        (("stop: known", "stop: older"), "category.stop"),
        (("stop: known", "stop: 3"), "category.stop"),
        (("  max_pages: 5\n", ""), "category.max_pages"),  # stop: known needs it: a first crawl knows nothing
        (("max_pages: 5", "max_pages: 0"), "category.max_pages"),
        (("max_pages: 5", "max_pages: many"), "category.max_pages"),
        (('urls: ["list/antiques.html", "list/newest.html"]', 'urls: ["list?q={keyword}"]'), "category.urls"),
        (('  next_page: "a.next::attr(href)"\n  max_pages', '  next_page: "a.next::attr(href)"\n  stops: known\n  max_pages'),
         "category.stops"),
        (('  next_page: "a.next::attr(href)"\ncategory', '  next_page: "a.next::attr(href)"\n  stop: known\ncategory'),
         "search.stop"),
        (("crawl: both", "crawl: browse"), "crawl"),
    ],
)
def test_a_bad_walk_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    assert change[0] in GOOD
    path = tmp_path / "shelf.yaml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(SiteFileError) as error:
        load_site_file(path)
    assert str(error.value).startswith(f"{path}: {field}:"), str(error.value)
