"""A marketplace the project has never seen, added by following the README's "Adding a site" alone.

The site below has its own markup, is encoded in GBK, and pages through its results with its
own ``start=`` offsets and a 下页 link. The test takes the site file exactly as the guide prints
it (only the address changes to this test's server), checks it with ``wtm sites check`` and
crawls it for real: Scrapy over HTTP, the full pipeline, a SQLite file.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl

GUIDE = Path(__file__).resolve().parent.parent / "README.md"
DATE_HEADER = "Mon, 30 Jun 2025 04:00:00 GMT"  # the site's "today": 2025-06-30 (Asia/Shanghai)
PER_PAGE = 10

# id -> (title, price text, location, seller, phone, posted text); expected parse beside it.
LISTINGS = {
    100 + i: {
        "title": f"老象牙雕件 第{i}件" if i % 3 else f"和田玉手镯 第{i}件",
        "price": ["2.8万", "￥1,680", "面议", "350元", "1.2万元"][i % 5],
        "cny": [28000.0, 1680.0, None, 350.0, 12000.0][i % 5],
        "location": ["福建 厦门", "广东 广州", "北京"][i % 3],
        "seller": f"玉友{i}",
        "phone": f"138 0013 {8000 + i}",
        "phone_norm": f"1380013{8000 + i}",
        "posted": ["昨天", "3天前", "2025-06-05", "06-11", "刚刚"][i % 5],
        "date": ["2025-06-29", "2025-06-27", "2025-06-05", "2025-06-11", "2025-06-30"][i % 5],
    }
    for i in range(1, 24)
}
REMOVED: set[int] = set()


class YushiwangHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, html: str) -> None:
        body = html.encode("gbk")
        self.send_response(status)
        self.send_header("Content-Type", "text/html")  # no charset: the page's <meta> says gb2312
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", DATE_HEADER)
        self.end_headers()
        self.wfile.write(body)

    def page(self, body: str) -> str:
        return f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>{body}</body></html>'

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/robots.txt":
            return self.answer(200, "User-agent: *\nDisallow: /member/\n")
        if parts.path == "/cgi/find.asp":
            query = parse_qs(parts.query, encoding="gbk")
            keyword, start = query.get("kw", [""])[0], int(query.get("start", ["0"])[0])
            hits = [i for i, x in LISTINGS.items() if keyword and keyword in x["title"]]
            rows = "".join(
                f'<tr><td class="subject"><a href="/goods_{i}.html">{LISTINGS[i]["title"]}</a></td>'
                f'<td class="jg">{LISTINGS[i]["price"]}</td></tr>'
                for i in hits[start:start + PER_PAGE]
            )
            pager = '<div id="pg"><a href="/">首页</a> '
            if start + PER_PAGE < len(hits):
                pager += f'<a href="/cgi/find.asp?kw={quote(keyword.encode("gbk"))}&start={start + PER_PAGE}">下页&gt;&gt;</a>'
            return self.answer(200, self.page(f'<table class="hits">{rows}</table>{pager}</div>'))
        found = re.fullmatch(r"/goods_(\d+)\.html", parts.path)
        if found and int(found.group(1)) in LISTINGS:
            i = int(found.group(1))
            if i in REMOVED:
                return self.answer(404, self.page("<p>没有这个商品</p>"))
            x = LISTINGS[i]
            return self.answer(200, self.page(
                f'<div class="box"><h3>{x["title"]}</h3><ul>'
                f'<li class="jia">价格：<em>{x["price"]}</em></li><li>所在地：{x["location"]}</li>'
                f'<li class="shop">卖家：<a href="/member/{i}">{x["seller"]}</a></li>'
                f'<li class="tel">电话 {x["phone"]}</li><li class="time">{x["posted"]}</li></ul>'
                f'<div class="memo"><p>包老保真，</p><p>喜欢的联系。</p></div></div>'
            ))
        return self.answer(404, self.page("<p>404</p>"))


@pytest.fixture
def yushiwang(tmp_path: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), YushiwangHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    text = GUIDE.read_text(encoding="utf-8")
    site_file = re.search(r"```yaml\n(name: yushiwang\n.*?)```", text, re.S)
    assert site_file, "the guide's complete example file is missing"
    sites = tmp_path / "my-sites"
    sites.mkdir()
    (sites / "yushiwang.yaml").write_text(
        site_file.group(1).replace("http://www.yushiwang.example/", origin + "/"), encoding="utf-8"
    )
    config = load_config(overrides={"data_dir": str(tmp_path / "data"), "sites_dir": str(sites)})
    REMOVED.clear()
    yield config
    server.shutdown()
    server.server_close()


def test_guide_site_is_checked_and_crawled(
    yushiwang, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.cli import main

    monkeypatch.setenv("WTM_SITES_DIR", yushiwang.sites_dir)
    with pytest.raises(SystemExit) as exit_status:
        main(["--data-dir", yushiwang.data_dir, "sites", "check", "yushiwang", "--keyword", "象牙"])
    shown, errors = capsys.readouterr()
    assert exit_status.value.code == 0, shown + errors
    assert "老象牙雕件" in shown and "NOTHING" not in shown

    as_of = __import__("datetime").datetime(2025, 6, 30, 12, 0)
    summary = run_crawl(yushiwang, sites=["yushiwang"], keywords=["象牙", "手镯"], as_of=as_of,
                        progress=False, polite=False)
    health = summary.sites["yushiwang"]
    assert summary.failed_sites == [], health
    assert health["items"] == len(LISTINGS)
    assert health["coverage"] == {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}

    db = sqlite3.connect(yushiwang.data_path / "wtm.sqlite3")
    rows = {
        int(r[0]): r[1:]
        for r in db.execute("SELECT external_id, title, price_cny, location, seller, date(posted_at) FROM listings")
    }
    assert set(rows) == set(LISTINGS)
    for i, x in LISTINGS.items():
        assert rows[i] == (x["title"], x["cny"], x["location"], x["seller"], x["date"]), i
    phones = {
        int(r[0]): r[1]
        for r in db.execute(
            "SELECT l.external_id, c.value FROM listings l JOIN listing_contacts lc ON lc.listing_id = l.id "
            "JOIN contacts c ON c.id = lc.contact_id WHERE c.kind = 'phone'"
        )
    }
    assert phones == {i: x["phone_norm"] for i, x in LISTINGS.items()}
    flagged = {int(r[0]) for r in db.execute("SELECT external_id FROM listings WHERE flagged")}
    assert flagged == {i for i, x in LISTINGS.items() if "象牙" in x["title"]}

    # Next month two listings are gone: the revisit sees it though search no longer lists them.
    REMOVED.update({101, 102})
    summary = run_crawl(yushiwang, sites=["yushiwang"], keywords=["象牙", "手镯"],
                        as_of=as_of.replace(month=7, day=31), progress=False, polite=False)
    assert summary.failed_sites == []
    removed = dict(db.execute("SELECT external_id, removal_kind FROM listings WHERE removed_at IS NOT NULL").fetchall())
    assert removed == {"101": "http_404", "102": "http_404"}
    log = (yushiwang.data_path / "logs" / "crawl.log").read_text(encoding="utf-8")
    assert log.count("site=yushiwang outcome=ok") == 2


def test_category_crawl_walks_fixed_pages_without_keywords(yushiwang) -> None:
    """`crawl: category` follows the listed pages (and their next links) instead of searching."""
    guide_file = Path(yushiwang.sites_dir) / "yushiwang.yaml"
    text = guide_file.read_text(encoding="utf-8").replace("name: yushiwang", "name: yushiwang-shelf")
    text = text.replace("crawl: search", "crawl: category\ncategory:\n  urls: [\"cgi/find.asp?kw=%CA%D6%EF%ED&start=0\"]"
                        "\n  results: \"table.hits td.subject a::attr(href)\"\n  next_page: \"xpath://div[@id='pg']/a[contains(text(), '下页')]/@href\"")
    (Path(yushiwang.sites_dir) / "yushiwang-shelf.yaml").write_text(text, encoding="utf-8")
    summary = run_crawl(yushiwang, sites=["yushiwang-shelf"], keywords=["不会被搜索"], progress=False, polite=False,
                        as_of=__import__("datetime").datetime(2025, 6, 30, 12, 0))
    assert summary.failed_sites == [], summary.sites
    bracelets = [i for i, x in LISTINGS.items() if "手镯" in x["title"]]
    assert summary.sites["yushiwang-shelf"]["items"] == len(bracelets)
