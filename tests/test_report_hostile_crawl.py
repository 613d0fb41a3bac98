"""A crawled listing full of markup, script and template syntax stays text in the report.

A one-listing marketplace on 127.0.0.1 shows a title, description, seller and price that,
once the page is parsed, read as ``<script>``, ``<img onerror>``, ``javascript:`` links and
``{{ 7*7 }}``. Real Scrapy crawls it through the real pipelines (so the matcher's own
offsets drive the highlighting); then the HTML report, and the XLSX export, must show all
of it as text and run none of it.
"""

from __future__ import annotations

import html
from datetime import datetime

import lxml.html
import pytest
from openpyxl import load_workbook

from monitor.config import load_config
from monitor.reports import render_report

import report_fixtures as fx
from loopback import QuietHandler, serving, write_sites

TITLE = '<script>alert("t")</script>象牙手镯 {{ 7*7 }} <img src=x onerror=alert(1)>'
DESCRIPTION = '老料象牙 <a href="javascript:alert(2)">点我</a> 看 javascript:alert(3) {{ 7*7 }}'
SELLER = '<b onmouseover="alert(6)">王{{ 7*7 }}</b>'
PRICE = "=cmd|' /C calc'!A0 ¥1200"
SITE_FILE = """\
name: hostile
title: 恶意测试站
platform: html
base_url: "{origin}/"
script: simplified
charset: utf-8
crawl: search
search:
  url: "search?kw={{keyword}}"
  results: "ul.hits a::attr(href)"
listing:
  id_from_url: "item/(\\\\d+)\\\\.html"
  fields:
    title: "h1::text"
    description: "div.memo::text"
    price: "span.price::text"
    location: "span.place::text"
    seller: "span.seller::text"
    contact: "span.tel::text"
    posted: "span.time::text"
"""


class HostileHandler(QuietHandler):
    def answer(self, body: str) -> None:
        self.reply(200, f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>')

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self.answer("")
        if self.path.startswith("/search"):
            return self.answer('<ul class="hits"><li><a href="/item/1.html">x</a></li></ul>')
        if self.path == "/item/1.html":
            return self.answer(
                f"<h1>{html.escape(TITLE)}</h1><div class=\"memo\">{html.escape(DESCRIPTION)}</div>"
                f"<span class=\"price\">{html.escape(PRICE)}</span><span class=\"place\">{{{{ 7*7 }}}}</span>"
                f"<span class=\"seller\">{html.escape(SELLER)}</span><span class=\"tel\">电话 13912345678</span>"
                f"<span class=\"time\">2025-06-20</span>"
            )
        self.send_error(404)


@pytest.fixture(scope="module")
def crawled_config(tmp_path_factory: pytest.TempPathFactory):
    from monitor.crawling import run_crawl

    tmp_path = tmp_path_factory.mktemp("hostile")
    with serving(HostileHandler) as (_, origin):
        sites = write_sites(tmp_path / "sites", origin, ["hostile"], SITE_FILE)
        config = load_config(overrides={"data_dir": str(tmp_path / "data"), "sites_dir": str(sites)})
        summary = run_crawl(config, sites=["hostile"], keywords=["象牙"], as_of=datetime(2025, 6, 30, 12, 0),
                            progress=False, polite=False)
        assert summary.failed_sites == [], summary.sites
        yield config


def test_crawled_hostile_listing_is_only_text(crawled_config) -> None:
    page = render_report(crawled_config, "2025-06")
    tree = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    fx.assert_page_is_inert(tree)
    rows = tree.xpath('//tr[@class="ad"]')
    assert len(rows) == 1, "the crawled listing was not flagged and shown"
    text = rows[0].text_content()
    for needle in (TITLE, DESCRIPTION, SELLER, "{{ 7*7 }}"):
        assert needle in text
    cells = rows[0].xpath("./td[not(@class='link')]")
    assert all("49" not in c.text_content() for c in cells)
    assert "象牙" in [m.text for m in rows[0].xpath(".//mark")]
    assert rows[0].xpath('.//a[@class="url"]/@href')[0].startswith("http://127.0.0.1:")


def test_crawled_hostile_listing_is_text_in_the_spreadsheet(crawled_config) -> None:
    book = load_workbook(render_report(crawled_config, "2025-06", fmt="xlsx"))
    sheet = book["examples"]
    header = [c.value for c in sheet[1]]
    price = sheet.cell(row=2, column=header.index("price_text") + 1)
    assert price.value.startswith("=cmd") and price.data_type == "s"
    assert sheet.cell(row=2, column=header.index("title") + 1).value == TITLE
