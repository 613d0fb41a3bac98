"""The crawl against the whole simulated network: real HTTP on 127.0.0.1, real Scrapy in its
worker subprocess, the full pipeline into a real SQLite file, checked against the sandbox's
truth. One shared crawl of two consecutive months (with a reduced keyword set, to keep the
suite fast) serves every assertion here.
"""

from __future__ import annotations

import calendar
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.crawling import CrawlSummary, run_crawl
from monitor.crawling.sites import SiteConfig, load_sites
from monitor.sandbox import Sandbox, SandboxServer

SEED = 20120101
# Chosen so every one of the 30 sites has listings to find in both months (≈900 a month).
KEYWORDS = ["象牙", "手串", "犀角", "玳瑁", "穿山甲", "包邮", "转让", "成色"]
FIELDS = ("price", "date", "contact", "location")
# A number printed with a digit missing cannot be recovered by anyone, so it is not counted.
UNRECOVERABLE_VARIANTS = {"missing_digit"}


@dataclass
class MonthCrawl:
    month: str
    summary: CrawlSummary
    truth: dict[tuple[str, str], dict[str, Any]]


@dataclass
class SandboxCrawl:
    world: Sandbox
    config: Config
    sites: dict[str, SiteConfig]
    origin: str
    months: list[MonthCrawl]
    db_path: Path

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path)


def month_end(month: str, tz) -> datetime:
    """The simulated month's last evening, as the demo records it."""
    year, mon = int(month[:4]), int(month[5:7])
    return datetime(year, mon, calendar.monthrange(year, mon)[1], 20, 0, tzinfo=tz)


@pytest.fixture(scope="session")
def sandbox_crawl(tmp_path_factory: pytest.TempPathFactory) -> SandboxCrawl:
    world = Sandbox(seed=SEED)
    months = world.months[-2:]
    data = tmp_path_factory.mktemp("sandbox-crawl")
    crawled: list[MonthCrawl] = []
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(overrides={"data_dir": str(data), "sandbox_url": server.url})
        for month in months:
            server.set_month(month)
            summary = run_crawl(config, keywords=KEYWORDS, as_of=month_end(month, config.tz), progress=False, polite=False)
            truth = {(x["site"], x["external_id"]): x for x in world.truth(month)}
            crawled.append(MonthCrawl(month, summary, truth))
        origin = server.url
    return SandboxCrawl(world, config, load_sites(), origin, crawled, data / "wtm.sqlite3")


def reachable(crawl: SandboxCrawl, month: MonthCrawl) -> set[tuple[str, str]]:
    """Live listings a search for one of the keywords finds, in each site's own script."""
    found = set()
    for name, site in crawl.sites.items():
        for keyword in KEYWORDS:
            for external_id in crawl.world.search(name, site.site_keyword(keyword), month.month):
                listing = month.truth.get((name, external_id))
                if listing is not None and listing["state"] == "live":
                    found.add((name, external_id))
    return found


def stored(crawl: SandboxCrawl) -> dict[tuple[str, str], dict[str, Any]]:
    db = crawl.db()
    rows = db.execute(
        "SELECT s.name, l.external_id, l.url, l.title, l.price_cny, date(l.posted_at), l.location, "
        "l.removed_at, l.removal_kind, l.removed_month, l.id FROM listings l JOIN sites s ON s.id = l.site_id"
    ).fetchall()
    contacts: dict[int, set[str]] = defaultdict(set)
    for listing_id, value in db.execute(
        "SELECT lc.listing_id, c.value FROM listing_contacts lc JOIN contacts c ON c.id = lc.contact_id"
    ):
        contacts[listing_id].add(value.lower())
    keys = ("url", "title", "price_cny", "posted_date", "location", "removed_at", "removal_kind", "removed_month")
    return {(r[0], r[1]): {**dict(zip(keys, r[2:10])), "contacts": contacts[r[10]]} for r in rows}


def field_right(field: str, truth: dict[str, Any], row: dict[str, Any]) -> bool | None:
    """Is the stored field what the page showed? None when the field cannot be judged."""
    if field == "price":
        want, have = truth["price_cny"], row["price_cny"]
        return (want is None and have is None) or (want is not None and have is not None and abs(want - have) < 0.01)
    if field == "date":
        return truth["posted_date"] == row["posted_date"]
    if field == "location":
        return truth["location"] == row["location"]
    wanted = {c["value"].lower() for c in truth["contacts"] if c["variant"] not in UNRECOVERABLE_VARIANTS}
    if not wanted:
        return None
    return wanted <= row["contacts"]


def charset_group(site: SiteConfig) -> str:
    return {"gbk": "GBK", "big5": "Big5"}.get(site.charset, "UTF-8") + (" Traditional" if site.script == "traditional" else "")


def test_every_site_crawled_healthy_in_both_months(sandbox_crawl: SandboxCrawl) -> None:
    for month in sandbox_crawl.months:
        summary = month.summary
        assert set(summary.sites) == set(sandbox_crawl.sites), month.month
        problems = {n: h["problems"] for n, h in summary.sites.items() if not h["healthy"]}
        assert summary.failed_sites == [], (month.month, problems)
        for name, health in summary.sites.items():
            assert health["items"] > 0 and health["pages"] > 0, (month.month, name, health)
            assert health["finish_reason"] == "finished"
    log = (sandbox_crawl.config.data_path / "logs" / "crawl.log").read_text(encoding="utf-8")
    assert log.count("outcome=ok") == 2 * len(sandbox_crawl.sites)


def test_finds_98_percent_of_reachable_listings_in_every_encoding(sandbox_crawl: SandboxCrawl) -> None:
    month = sandbox_crawl.months[-1]  # the stored fields are the last crawl's
    want = reachable(sandbox_crawl, month)
    have = stored(sandbox_crawl)
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in want:
        group = by_group[charset_group(sandbox_crawl.sites[key[0]])]
        group[0] += 1
        group[1] += key in have
    assert len(want) > 500 and set(by_group) == {"UTF-8", "GBK", "Big5 Traditional", "UTF-8 Traditional"}
    missing = Counter(site for site, _ in want - set(have))
    total_found = sum(g[1] for g in by_group.values())
    assert total_found / len(want) >= 0.98, missing
    for group, (count, found) in by_group.items():
        assert found / count >= 0.98, (group, found, count, missing)


def test_fields_95_percent_right_in_every_encoding(sandbox_crawl: SandboxCrawl) -> None:
    month = sandbox_crawl.months[-1]
    have = stored(sandbox_crawl)
    judged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    wrong_examples: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for key in reachable(sandbox_crawl, month) & set(have):
        truth, row = month.truth[key], have[key]
        group = charset_group(sandbox_crawl.sites[key[0]])
        for field in FIELDS:
            verdict = field_right(field, truth, row)
            if verdict is None:
                continue
            judged[field, group][0] += 1
            judged[field, group][1] += verdict
            if not verdict and len(wrong_examples[field, group]) < 3:
                wrong_examples[field, group].append((key, truth.get(field if field != "date" else "posted_date"), row))
    for field in FIELDS:
        count = sum(judged[f, g][0] for f, g in judged if f == field)
        right = sum(judged[f, g][1] for f, g in judged if f == field)
        assert count and right / count >= 0.95, (field, right, count, dict(wrong_examples))
    for (field, group), (count, right) in judged.items():
        if field != "contact" or count >= 20:
            assert right / count >= 0.95, (field, group, right, count, wrong_examples[field, group])


def test_listing_urls_are_the_canonical_pages(sandbox_crawl: SandboxCrawl) -> None:
    month = sandbox_crawl.months[-1]
    have = stored(sandbox_crawl)
    for key in reachable(sandbox_crawl, month) & set(have):
        assert have[key]["url"] == sandbox_crawl.origin + month.truth[key]["url"], key


def test_removals_seen_next_month_with_their_kind(sandbox_crawl: SandboxCrawl) -> None:
    first, second = sandbox_crawl.months
    have = stored(sandbox_crawl)
    seen_in_first = {key for key, row in have.items() if key in first.truth}
    gone = {key for key in seen_in_first
            if second.truth.get(key, {}).get("state") == "removed" and second.truth[key]["removed_month"] == second.month}
    assert len(gone) >= 20
    kinds = Counter(second.truth[key]["removal_kind"] for key in gone)
    assert set(kinds) == {"http_404", "http_410", "deleted_page", "redirect_home"}
    detected = {key for key in gone if have[key]["removed_month"] == second.month}
    assert len(detected) / len(gone) >= 0.98, gone - detected
    for key in detected:
        assert have[key]["removal_kind"] == second.truth[key]["removal_kind"], key
    still_live = {key for key in seen_in_first if second.truth.get(key, {}).get("state") == "live"}
    wrongly_removed = {key for key in still_live if have[key]["removed_at"] is not None}
    assert not wrongly_removed


def test_every_listing_stored_once_and_observed_once_per_month(sandbox_crawl: SandboxCrawl) -> None:
    db = sandbox_crawl.db()
    assert db.execute(
        "SELECT COUNT(*) FROM (SELECT site_id, external_id FROM listings GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone() == (0,)
    assert db.execute(
        "SELECT COUNT(*) FROM (SELECT o.listing_id, sc.run_id FROM observations o "
        "JOIN site_crawls sc ON sc.id = o.site_crawl_id GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone() == (0,)
    runs = db.execute("SELECT month, finished_at IS NOT NULL FROM crawl_runs ORDER BY id").fetchall()
    assert runs == [(m.month, 1) for m in sandbox_crawl.months]


def test_flagged_listings_keep_their_page_as_evidence(sandbox_crawl: SandboxCrawl) -> None:
    db = sandbox_crawl.db()
    flagged, with_evidence = db.execute(
        "SELECT COUNT(*), COUNT(evidence_sha256) FROM listings WHERE flagged"
    ).fetchone()
    assert flagged > 50 and with_evidence == flagged
    files = list((sandbox_crawl.config.data_path / "evidence").rglob("*.html.gz"))
    assert len(files) >= flagged * 0.5
