"""The workbench over what a real crawl stored: two sandbox sites crawled over HTTP on 127.0.0.1
(旧藏阁, GBK pages behind a header that claims UTF-8; 競標網, Big5 listing pages), the first
month by ``wtm crawl``, the second by the crawl runner while the workbench is serving.

Evidence must come back in the charset the crawl read it in, so the page's Chinese title is
readable; and what either crawl stored must be findable by search without restarting serve.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import cli
from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database
from monitor.storage.models import Evidence, Listing, SearchGram, Site
from monitor.storage.search import LISTING_MARK, search
from monitor.workbench import create_app
from monitor.workbench.security import EVIDENCE_CSP
from workbench_fixtures import Served, call

SITES = {"jiucangge": "gb18030", "jingbiaotw": "big5"}  # site -> the charset label served
KEYWORDS = ["象牙", "猛犸象牙", "手串", "穿山甲", "老料", "犀角", "玳瑁"]


@dataclass
class Crawled:
    data: Path
    db: Database
    months: list[str]
    server: SandboxServer
    config_file: Path


def month_end(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), 28, 20, 0)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    world = Sandbox()
    months = world.months[-2:]
    data = tmp_path_factory.mktemp("workbench-crawl")
    with SandboxServer(world, port=0, month=months[0]) as server:
        config_file = data / "wtm.toml"
        config_file.write_text(f'sandbox_url = "{server.url}"\ndownload_delay = 0\n', encoding="utf-8")
        args = ["--config", str(config_file), "--data-dir", str(data), "--quiet", "crawl",
                *(a for site in SITES for a in ("--site", site)), *(a for k in KEYWORDS for a in ("--keyword", k)),
                "--as-of", month_end(months[0]).isoformat()]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        db = Database.from_config(load_config(config_file, overrides={"data_dir": str(data)}))
        yield Crawled(data, db, months, server, config_file)
        db.dispose()


def test_wtm_crawl_leaves_the_search_index_up_to_date(crawled: Crawled) -> None:
    with crawled.db.session() as s:
        newest = s.scalar(select(Listing.id).order_by(Listing.id.desc()).limit(1))
        mark = s.scalar(select(SearchGram.listing_id).where(SearchGram.gram == LISTING_MARK))
        title, listing_id = s.execute(select(Listing.title, Listing.id).order_by(Listing.id.desc()).limit(1)).one()
    assert newest and mark == newest
    assert listing_id in {r["listing_id"] for r in search(crawled.db, title)}


def test_evidence_of_a_real_crawl_is_served_in_the_charset_it_was_read_in(crawled: Crawled) -> None:
    with crawled.db.session() as s:
        rows = s.execute(select(Site.name, Listing.title, Evidence.sha256, Evidence.content_type, Evidence.charset)
                         .join(Listing, Listing.id == Evidence.listing_id).join(Site, Site.id == Listing.site_id)).all()
    assert {r.name for r in rows} == set(SITES)
    # What the crawl read the pages in (jiucangge's header says UTF-8: the GBK its pages are in
    # was found by the charset repair), as Python names them.
    assert {(r.name, r.content_type, r.charset) for r in rows} == {
        ("jiucangge", "text/html", "gbk"), ("jingbiaotw", "text/html", "big5hkscs")}
    # No site charsets given to the app: only what the evidence rows say is known.
    with Served(create_app(crawled.db)) as served:
        for row in rows:
            status, headers, body = call(f"{served.base}/evidence/{row.sha256}")
            assert status == 200
            assert headers["content-type"] == f"text/html; charset={SITES[row.name]}"
            assert headers["content-security-policy"] == EVIDENCE_CSP
            assert headers["x-content-type-options"] == "nosniff"
            text = body.decode(SITES[row.name])
            assert row.title and row.title in text and "\ufffd" not in text, row.name


def test_a_crawl_while_serving_is_found_by_search_without_a_restart(crawled: Crawled) -> None:
    month = crawled.months[1]
    with Served(create_app(crawled.db)) as served:
        assert call(f"{served.base}/search?q=" + urllib.parse.quote("象牙"))[0] == 200
        crawled.server.set_month(month)
        config = load_config(crawled.config_file, overrides={"data_dir": str(crawled.data)})
        summary = run_crawl(config, sites=list(SITES), keywords=KEYWORDS, as_of=month_end(month).replace(tzinfo=config.tz),
                            progress=False, polite=False)
        assert not summary.failed_sites
        with crawled.db.session() as s:
            mark = s.scalar(select(SearchGram.listing_id).where(SearchGram.gram == LISTING_MARK))
            new = s.execute(select(Listing.id, Listing.title).where(Listing.id > mark).order_by(Listing.id)).all()
        assert new, "the second month stored no new listing"
        for listing_id, title in (new[0], new[-1]):
            status, _, body = call(f"{served.base}/search?q=" + urllib.parse.quote(title))
            assert status == 200
            links = lxml.html.fromstring(body.decode("utf-8")).xpath("//ol[@class='results']//a/@href")
            assert f"/listing/{listing_id}" in links, (title, links[:5])
            assert "still catching up" not in body.decode("utf-8")
