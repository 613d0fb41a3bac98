"""A marketplace whose search is a UTF-8 JSON API and whose listing pages are Big5 HTML with the
listing as JSON in a <script> (競標網, the sandbox's 31st site), crawled from the site file the
README's "Adding a site" prints, and nothing else: real Scrapy over HTTP on 127.0.0.1, the full
pipeline, a SQLite file, two months, every field checked against the sandbox's truth. Also:
``wtm sites check`` reads it with the crawl's readers, a mistyped reader or charset is named
with file, line and field, and ``scrapy crawl`` is handed the planner's queries.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.crawling import CrawlSummary, run_crawl
from monitor.crawling.sites import load_site_file, load_sites
from monitor.exceptions import SiteFileError
from monitor.sandbox import Sandbox, SandboxServer

SITE = "jingbiaotw"
GUIDE = Path(__file__).resolve().parent.parent / "README.md"
# Found on this site in both months: TW and HK sellers, ads and ordinary goods.
KEYWORDS = ["象牙", "猛犸象牙", "手串", "穿山甲", "老料", "成色", "紫砂", "沙发", "电脑", "花梨", "民国", "和田玉",
            "羽绒服", "婴儿", "龙井"]
UNRECOVERABLE_VARIANTS = {"missing_digit"}


@dataclass
class Crawled:
    world: Sandbox
    config: Config
    months: list[str]
    summaries: list[CrawlSummary]
    truths: list[dict[str, dict[str, Any]]]
    rows: list[dict[str, dict[str, Any]]]  # the site's stored listings after each month's crawl
    db_path: Path


def guide_site_file() -> str:
    found = re.search(r"```yaml\n(# 競標網.*?name: jingbiaotw\n.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert found, "README's 'Adding a site' lacks the complete jingbiaotw example"
    return found.group(1)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    world = Sandbox()
    months = world.months[-2:]
    data = tmp_path_factory.mktemp("json-site")
    sites = data / "sites"
    sites.mkdir()
    (sites / f"{SITE}.yaml").write_text(guide_site_file(), encoding="utf-8")
    summaries, truths, rows = [], [], []
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(overrides={"data_dir": str(data), "sandbox_url": server.url, "sites_dir": str(sites)})
        for month in months:
            server.set_month(month)
            end = datetime(int(month[:4]), int(month[5:]), 28, 20, 0, tzinfo=config.tz)
            summaries.append(run_crawl(config, sites=[SITE], keywords=KEYWORDS, as_of=end, progress=False, polite=False))
            truths.append({x["external_id"]: x for x in world.truth(month) if x["site"] == SITE})
            rows.append(stored(data / "wtm.sqlite3"))
    return Crawled(world, config, months, summaries, truths, rows, data / "wtm.sqlite3")


def stored(path: Path) -> dict[str, dict[str, Any]]:
    db = sqlite3.connect(path)
    contacts: dict[int, set[str]] = defaultdict(set)
    for listing_id, value in db.execute(
        "SELECT lc.listing_id, c.value FROM listing_contacts lc JOIN contacts c ON c.id = lc.contact_id"
    ):
        contacts[listing_id].add(value.lower())
    keys = ("title", "description", "price_text", "price_amount", "price_currency", "price_cny", "seller", "location",
            "posted_at", "removal_kind")
    rows = db.execute(f"SELECT l.external_id, l.id, {', '.join('l.' + k for k in keys)} FROM listings l "
                      "JOIN sites s ON s.id = l.site_id WHERE s.name = ?", (SITE,)).fetchall()
    return {r[0]: {**dict(zip(keys, r[2:])), "contacts": contacts[r[1]]} for r in rows}


def test_the_shipped_site_file_is_the_guides_example() -> None:
    shipped = load_sites()[SITE]
    assert (shipped.source_file.read_text(encoding="utf-8")) == guide_site_file()
    assert shipped.search.reader.kind == "json_api" and shipped.search.reader.charset == "utf-8"
    assert shipped.listing_reader.kind == "embedded_json" and shipped.listing_reader.charset == "big5"


def test_first_crawl_reads_every_field_of_tw_and_hk_listings(crawled: Crawled) -> None:
    summary, truth = crawled.summaries[0], crawled.truths[0]
    assert summary.failed_sites == [], summary.sites
    reachable = {i for k in KEYWORDS
                 for i in crawled.world.search(SITE, load_sites()[SITE].site_keyword(k), crawled.months[0])}
    rows = crawled.rows[0]
    live = {i for i in reachable if truth[i]["state"] == "live"}
    assert len(live) >= 40 and live <= set(rows)
    currencies = {rows[i]["price_currency"] for i in live}
    assert currencies == {"TWD", "HKD"}
    for i in live:
        row, want = rows[i], truth[i]
        assert row["title"] == want["title"] and row["description"] == want["description"], i
        assert (row["seller"], row["location"]) == (want["seller"], want["location"]), i
        assert row["price_currency"] == want["currency"], i
        assert row["price_amount"] == want["price_amount"] and row["price_cny"] == want["price_cny"], i
        assert row["price_text"] == want["price_text"], i  # as printed, not the API's JSON object
        assert row["posted_at"][:16] == f"{want['posted_date']} {want['posted_time']}", i
        phones = {c["value"].lower() for c in want["contacts"]
                  if c["where"] == "field" and c["variant"] not in UNRECOVERABLE_VARIANTS}
        assert phones <= row["contacts"], i
    # Characters Big5 cannot hold reach the page as &#NNNNN; (in its JSON too) and are read back.
    wide = [i for i in live if any(ch in truth[i]["title"] + truth[i]["description"] for ch in "獁埗説")]
    assert wide and all(rows[i]["description"] == truth[i]["description"] for i in wide)


def test_second_crawl_rereads_known_listings_with_the_listing_reader_and_is_healthy(crawled: Crawled) -> None:
    summary, truth = crawled.summaries[1], crawled.truths[1]
    health = summary.sites[SITE]
    assert summary.failed_sites == [], health
    assert health["errors"].get("unreadable_page", 0) == 0, health
    rows = crawled.rows[1]
    first = crawled.truths[0]
    known = {i for i, row in rows.items() if i in first}
    gone = {i for i in known if i not in truth or truth[i]["state"] == "removed"}
    assert gone, "the sandbox removes some listings between the two months"
    assert all(rows[i]["removal_kind"] == "deleted_page" for i in gone)
    still = {i for i in known - gone}
    assert still and all(rows[i]["removal_kind"] is None for i in still)
    # Prices edited in the second month are read from the listing page again.
    for i in still:
        assert rows[i]["price_amount"] == truth[i]["price_amount"], i


def test_sites_check_reads_the_json_api_and_the_big5_listing(crawled: Crawled, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.cli import main

    with SandboxServer(crawled.world, port=0, month=crawled.months[1]) as server:
        monkeypatch.setenv("WTM_SITES_DIR", crawled.config.sites_dir)
        monkeypatch.setenv("WTM_SANDBOX_URL", server.url)
        with pytest.raises(SystemExit) as exit_status:
            main(["--data-dir", crawled.config.data_dir, "sites", "check", SITE, "--keyword", "象牙"])
    shown, errors = capsys.readouterr()
    assert exit_status.value.code == 0, shown + errors
    assert "象牙" in shown and "Cannot use css" not in shown + errors
    assert re.search(r"\d+(\.\d+)? (TWD|HKD) = [\d.]+ CNY", shown), shown


BAD = [
    ("  reader: json_api\n", "  reader: jsonapi\n", "search.reader", "must be one of html, json_api, embedded_json"),
    ("  charset: big5 ", "  charset: big-five ", "listing.charset", "unknown encoding 'big-five'"),
    ("charset: utf-8 ", "charset: utf8x ", "charset", "unknown encoding 'utf8x'"),
    ("  embedded_json: \"script#item-data::text\"\n", "", "listing.embedded_json", "is required for reader embedded_json"),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), BAD, ids=[b[2] + ":" + b[3][:12] for b in BAD])
def test_a_mistyped_reader_or_charset_names_file_line_and_field(tmp_path: Path, old: str, new: str, field: str,
                                                                message: str) -> None:
    text = guide_site_file()
    assert old in text
    bad = text.replace(old, new, 1)
    path = tmp_path / f"{SITE}.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(SiteFileError) as error:
        load_site_file(path)
    shown = str(error.value)
    key = field.rpartition(".")[2] + ":"
    lines = bad.splitlines()
    section = field.partition(".")[0] if "." in field else ""
    start = lines.index(f"{section}:") if section else 0
    found = [n for n, text_line in enumerate(lines[start:], start + 1)
             if text_line.strip().startswith(key) and text_line.startswith(" ") == bool(section)]
    line = found[0] if found else start + 1  # a missing key: the line of its section
    assert shown.startswith(f"{path}: {field}: ") and message in shown and shown.endswith(f"(line {line})"), shown


def test_scrapy_crawl_is_handed_the_planners_queries(tmp_path: Path) -> None:
    from scrapy.settings import Settings

    from monitor.crawling.planner import plan_sites
    from monitor.crawling.runner import default_keywords
    from monitor.crawling.settings import crawl_settings
    from monitor.crawling.spiderloader import SiteSpiderLoader

    config = load_config(overrides={"data_dir": str(tmp_path)})
    settings = Settings(crawl_settings(config))
    settings.set("WTM_AS_OF", "2025-06-30T12:00:00+08:00")
    spider = SiteSpiderLoader.from_settings(settings).load(SITE)
    planned = plan_sites(config, {SITE: load_sites()[SITE]}, "2025-06")[SITE].keywords
    assert list(spider.default_keywords) == planned
    assert len(planned) > 20 and set(planned) != set(default_keywords(config))


@pytest.mark.parametrize(("text", "default", "amount", "currency", "cny"), [
    ('{"amount": 1200, "currency": "HKD", "display": "HK$1,200"}', "TWD", 1200.0, "HKD", 1104.0),
    ('{"amount": 19230, "currency": "twd"}', "CNY", 19230.0, "TWD", 4230.6),
    ('{"amount": null, "currency": "TWD", "display": "面議"}', "CNY", None, "TWD", None),
    ('{"value": "NT$ 3,000"}', "CNY", 3000.0, "TWD", 660.0),  # a printed amount: its mark names the currency
    ('{"price": 88}', "HKD", 88.0, "HKD", 80.96),  # no currency named: the site file's
    ("{not json} 1,200元", "CNY", 1200.0, "CNY", 1200.0),  # not an object: read as printed text
])
def test_a_price_object_carries_its_own_currency(text: str, default: str, amount: float | None, currency: str,
                                                 cny: float | None) -> None:
    from monitor.crawling.parsers import parse_price

    price = parse_price(text, default)
    assert (price.amount, price.currency, price.cny) == (amount, currency, cny)


@pytest.mark.parametrize(("text", "shown"), [
    ('{"amount": 1200, "currency": "HKD", "display": "HK$1,200"}', "HK$1,200"),
    ('{"amount": 19230, "currency": "twd"}', "19230 TWD"),
    ('{"amount": null, "currency": "TWD", "display": "面議"}', "面議"),
    ('{"currency": "TWD"}', ""),
    ("NT$ 3,000", "NT$ 3,000"),
    ("{not json} 1,200元", "{not json} 1,200元"),
])
def test_a_price_object_is_stored_as_printed(text: str, shown: str) -> None:
    from monitor.crawling.parsers import price_display

    assert price_display(text) == shown


def test_a_page_whose_header_lies_is_repaired_in_its_own_sections_charset() -> None:
    """jingbiaotw's charset is UTF-8 (its search API's) but its listing pages are Big5: a listing
    page whose header says UTF-8 is re-decoded as Big5, not as the site's UTF-8 or a fallback."""
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from monitor.crawling.middlewares import CharsetRepairMiddleware
    from monitor.spiders.registry import spider_class

    crawler = get_crawler(spider_class(load_sites()[SITE]))
    crawler.spider = crawler._create_spider(sandbox_url="http://127.0.0.1:9")
    page = '<html><body><h1 class="jb-title">猛&#29505;象牙手串 帶證書</h1><p>聯絡電話</p></body></html>'
    url = "http://127.0.0.1:9/jingbiaotw/item/1"
    for meta, charset in (({}, "big5"), ({"rule": "search"}, "utf-8")):
        body = page.encode(charset)
        # as the downloader hands it over: not yet tied to its request (response.meta would raise)
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8" if charset == "big5"
                                                         else "text/html; charset=big5"})
        repaired = CharsetRepairMiddleware(crawler).process_response(Request(url, meta=meta), response)
        assert "帶證書" in repaired.text and "\ufffd" not in repaired.text, (meta, repaired.encoding)
