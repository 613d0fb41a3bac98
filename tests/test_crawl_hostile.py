"""A hostile marketplace on 127.0.0.1 cannot make the crawler read a local file or reach
another host, and each of its tricks is named in crawl health.

Every trick is on one result page and its listings: ``javascript:``, ``file:`` and ``data:``
links (the ``javascript:`` one first, so a crash would drop the rest), links and redirects to
the cloud metadata address, to another host, to another local port, to integer and octal IP
forms and out of the site's path; a host name in the site's scope that resolves to loopback;
a 500 KB page dense with lexicon terms, a 1 GB gzip bomb and a slow drip; a megabyte of short
digit groups (once quadratic in contact extraction), terminal escapes and bidi controls in a
title, a date out of the calendar's range and a price of four hundred nines. Any request that
slipped through to a non-loopback host would go to a logging proxy on loopback (never to a
real metadata service); the other local port is a logging server too. A benign site served
beside it must crawl as fast with the hostile one as without it.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import threading
import time
import zlib
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl

SECRET = "db_password=hunter2"
AS_OF = datetime(2025, 6, 30, 12, 0)
GOOD_IDS = {"1", "2"}
BENIGN_LISTINGS = 30
DENSE = "出售象牙手镯老料犀角杯玳瑁手串虎骨酒穿山甲片盔犀鸟头骨" * 20_000  # ~600 KB of terms
DIGITS = "1 " * 500_000  # a megabyte of short digit groups
ESCAPES = "\x1b[2J\x1b[H\x1b]0;pwned\x07\u202e象牙手镯\x1b[31m"
TRICK_IDS = {"9", "10", "11"}  # pages whose tricks cost the listing nothing

HOSTILE_SITE = """\
name: hostile
title: 恶意测试站
platform: html
base_url: "{origin}/hostile/"
hosts: ["localhost:{port}"]
script: simplified
charset: utf-8
crawl: search
search:
  urls: ["search?kw={{keyword}}", "moved?kw={{keyword}}", "gone?kw={{keyword}}"]
  results: "ul.hits a::attr(href)"
  next_page: "a.next::attr(href)"
listing:
  id_from_url: "item/(\\\\d+)\\\\.html"
  fields:
    title: "h1::text"
    description: "div.memo::text"
    price: "span.price::text"
    posted: "span.date::text"
"""

API_SITE = """\
name: hostileapi
title: 恶意接口站
platform: json_api
base_url: "{origin}/hostileapi/"
script: simplified
charset: utf-8
crawl: search
search:
  url: "api/search?q={{keyword}}"
  items: "json:items"
  item_fields:
    url: "json:url"
    title: "json:title"
  follow: true
  next_page: "json:next"
listing:
  id_from_url: "item/(\\\\d+)\\\\.html"
  fetch: "api/item?id={{id}}"
  fields:
    title: "json:title"
    description: "json:description"
"""

BENIGN_SITE = """\
name: benign
title: 正常测试站
platform: html
base_url: "{origin}/benign/"
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
"""


class LoggingServer(ThreadingHTTPServer):
    """A loopback server that records every request line and Host header it receives."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def record(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.seen.append((handler.requestline, handler.headers.get("Host", "")))


class _Handler(BaseHTTPRequestHandler):
    server: LoggingServer

    def log_message(self, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)), **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class TrapHandler(_Handler):
    """Stands for everything that must never be reached: the proxy, another local service."""

    def answer(self) -> None:
        self.server.record(self)
        self.send(200, f"<h1>象牙 metadata {SECRET}</h1>".encode())

    do_GET = do_POST = do_HEAD = do_CONNECT = answer


def page(body: str) -> bytes:
    return f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>'.encode()


def listing(number: str, description: str = "老料象牙手镯，实物拍摄") -> bytes:
    return page(f'<h1>象牙手镯 {number} 号</h1><div class="memo">{description}</div><span class="price">¥1200</span>')


class MarketHandler(_Handler):
    """The hostile site under /hostile/ and a benign one under /benign/."""

    secret_path = ""
    trap_port = 0
    bomb = b""

    def do_GET(self) -> None:
        self.server.record(self)
        path = self.path
        port = self.server.port
        if path == "/robots.txt":
            return self.send(302, headers={"Location": "http://169.254.169.254/robots.txt"})
        if path.startswith("/benign/search"):
            links = "".join(f'<li><a href="/benign/item/{n}.html">{n}</a></li>' for n in range(1, BENIGN_LISTINGS + 1))
            return self.send(200, page(f'<ul class="hits">{links}</ul>'))
        if path.startswith("/benign/item/"):
            return self.send(200, listing(path.rsplit("/", 1)[1].split(".")[0]))
        if path.startswith("/hostileapi/api/search"):
            return self.send_json(self.api_results())
        if path.startswith("/hostileapi/api/item"):
            number = path.rsplit("=", 1)[-1]
            return self.send_json({"title": f"象牙摆件 {number}", "description": "老料象牙"})
        if path.startswith("/hostile/search"):
            return self.send(200, page(self.results(port)))
        if path.startswith("/hostile/moved"):
            return self.send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if path.startswith("/hostile/many"):  # 20,000 results on one page
            links = "".join(f'<li><a href="/hostile/item/{n}.html">x</a></li>' for n in range(1000, 21000))
            return self.send(200, page(f'<ul class="hits">{links}</ul>'))
        if path.startswith("/hostile/drip"):
            return self.drip(500 if path.startswith("/hostile/drip500") else 200)
        if path.startswith("/hostile/escapes"):
            return self.send(200, page('<ul class="hits"><li><a href="/hostile/item/10.html">x</a></li></ul>'))
        if path.startswith("/hostile/gone"):
            return self.send(302, headers={"Location": f"file://{self.secret_path}"})
        number = path.rsplit("/", 1)[-1].split(".")[0]
        if number in GOOD_IDS:
            return self.send(200, listing(number))
        if number == "3":
            return self.send(302, headers={"Location": f"file://{self.secret_path}"})
        if number == "4":
            return self.send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if number == "5":
            return self.send(302, headers={"Location": f"http://127.0.0.1:{self.trap_port}/hostile/item/1.html"})
        if number == "6":
            return self.send(200, listing(number, DENSE))
        if number == "7":
            return self.send(200, self.bomb, {"Content-Encoding": "gzip"})
        if number == "8":
            return self.drip()
        if number == "9":
            return self.send(200, listing(number, DIGITS))
        if number == "10":
            return self.send(200, page(f'<h1>{ESCAPES}</h1><div class="memo">老料象牙手镯</div>'
                                       '<span class="date">999999999天前</span>'))
        if number == "11":
            return self.send(200, page('<h1>象牙手镯 11 号</h1><div class="memo">老料</div>'
                                       f'<span class="price">¥{"9" * 400}万</span>'
                                       '<span class="date">99999999999999999999小时前</span>'))
        self.send(404, b"not found")

    def send_json(self, data: Any) -> None:
        self.send(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json"})

    def api_results(self) -> dict[str, Any]:
        """Rows whose URLs point at a local file, the metadata address and another port; a
        cursor that is an absolute URL elsewhere."""
        rows = [
            {"url": "javascript:void(0)", "title": "象牙"},
            {"url": f"file://{self.secret_path}", "title": "象牙"},
            {"url": "http://169.254.169.254/latest/meta-data/item/97.html", "title": "象牙"},
            {"url": f"http://127.0.0.1:{self.trap_port}/hostileapi/item/98.html", "title": "象牙"},
            {"url": "/hostileapi/item/1.html", "title": "象牙"},
        ]
        return {"items": rows, "next": "http://169.254.169.254/latest/api/search?page=2"}

    def results(self, port: int) -> str:
        links = [
            "javascript:void(0)",
            "/hostile/item/1.html",
            f"file://{self.secret_path}",
            "data:text/html;charset=utf-8,<h1>象牙</h1>",
            "http://169.254.169.254/latest/meta-data/item/90.html",
            "http://evil.example/hostile/item/91.html",
            f"http://127.0.0.1:{self.trap_port}/hostile/item/92.html",
            f"http://2130706433:{port}/hostile/item/93.html",
            f"http://0177.0.0.1:{port}/hostile/item/94.html",
            f"http://localhost:{port}/hostile/item/95.html",
            "/hostile/../benign/item/96.html",
            "http://[::1",
            *(f"/hostile/item/{n}.html" for n in range(3, 12)),
            "/hostile/item/2.html",
        ]
        items = "".join(f'<li><a href="{link}">x</a></li>' for link in links)
        return f'<ul class="hits">{items}</ul><a class="next" href="http://169.254.169.254/page2">下一页</a>'

    def drip(self, status: int = 200) -> None:
        """Headers, then a byte every 0.2 s: a page that never finishes (bounded to 20 s)."""
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


def gzip_bomb(size: int = 1 << 30) -> bytes:
    """``size`` bytes of zeros, gzip-compressed to about a thousandth."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


def serve(server: LoggingServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hostile-crawl")
    secret = tmp / "secret.txt"
    secret.write_text(f"{SECRET}\n象牙 出售 老料\n", encoding="utf-8")
    proxy, trap = LoggingServer(TrapHandler), LoggingServer(TrapHandler)
    market = LoggingServer(MarketHandler)
    MarketHandler.secret_path = str(secret)
    MarketHandler.trap_port = trap.port
    MarketHandler.bomb = gzip_bomb()
    for server in (proxy, trap, market):
        serve(server)
    origin = f"http://127.0.0.1:{market.port}"
    sites = tmp / "sites"
    sites.mkdir()
    (sites / "hostile.yaml").write_text(HOSTILE_SITE.format(origin=origin, port=market.port), encoding="utf-8")
    (sites / "benign.yaml").write_text(BENIGN_SITE.format(origin=origin), encoding="utf-8")
    (sites / "hostileapi.yaml").write_text(API_SITE.format(origin=origin), encoding="utf-8")
    for name, search in (("hostilegone", "gone"), ("hostilemoved", "moved"), ("hostiledrip", "drip"),
                         ("hostileescapes", "escapes"), ("hostilemany", "many"), ("hostiledrip500", "drip500")):
        text = HOSTILE_SITE.format(origin=origin, port=market.port).replace("name: hostile", f"name: {name}")
        text = text.replace('urls: ["search?kw={keyword}", "moved?kw={keyword}", "gone?kw={keyword}"]',
                            f'url: "{search}?kw={{keyword}}"')
        (sites / f"{name}.yaml").write_text(text, encoding="utf-8")

    def crawl(name: str, names: list[str]) -> Any:
        config = load_config(overrides={
            "data_dir": str(tmp / name), "sites_dir": str(sites), "download_timeout": 2.0, "retry_times": 1,
        })
        return config, run_crawl(config, sites=names, keywords=["象牙"], as_of=AS_OF, progress=False, polite=False)

    with pytest.MonkeyPatch.context() as env:
        # Anything that got past the guard to a non-loopback host lands at the logging proxy.
        env.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
        env.setenv("https_proxy", f"http://127.0.0.1:{proxy.port}")
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        try:
            _, alone = crawl("alone", ["benign"])
            config, together = crawl("together", ["benign", "hostile", "hostileapi", "hostilemany"])
            yield {"config": config, "alone": alone, "together": together, "proxy": proxy, "trap": trap,
                   "market": market, "secret": secret}
        finally:
            for server in (proxy, trap, market):
                server.shutdown()
                server.server_close()


def test_no_request_reaches_another_host(hostile: dict[str, Any]) -> None:
    assert hostile["proxy"].seen == []
    assert hostile["trap"].seen == []
    market = hostile["market"]
    expected_host = f"127.0.0.1:{market.port}"
    assert {host for _, host in market.seen} == {expected_host}
    paths = [line.split()[1] for line, _ in market.seen]
    assert all(p == "/robots.txt" or p.startswith(("/hostile/", "/hostileapi/", "/benign/")) for p in paths), paths
    assert not [p for p in paths if re.search(r"/item/9\d\.html", p)], paths


def test_no_local_file_is_read(hostile: dict[str, Any]) -> None:
    data_dir = Path(hostile["config"].data_dir)
    needle = SECRET.encode()
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        assert needle not in raw, path
    db = sqlite3.connect(data_dir / "wtm.sqlite3")
    urls = [row[0] for row in db.execute("select url from listings")]
    assert all(u.startswith(f"http://127.0.0.1:{hostile['market'].port}/") for u in urls), urls


def test_good_links_after_a_javascript_link_are_kept(hostile: dict[str, Any]) -> None:
    db = sqlite3.connect(Path(hostile["config"].data_dir) / "wtm.sqlite3")
    ids = {row[0] for row in db.execute(
        "select l.external_id from listings l join sites s on s.id = l.site_id where s.name = 'hostile'")}
    assert GOOD_IDS <= ids
    assert "6" in ids, "the dense page was not read"
    assert TRICK_IDS <= ids, "a page's trick cost its listing"
    assert ids <= GOOD_IDS | {"6"} | TRICK_IDS, ids


def test_tricks_in_fields_are_stored_harmless(hostile: dict[str, Any]) -> None:
    """Control characters are not stored; a date or a price out of range is unknown, not fatal."""
    db = sqlite3.connect(Path(hostile["config"].data_dir) / "wtm.sqlite3")
    rows = {row[0]: row[1:] for row in db.execute(
        "select l.external_id, l.title, l.posted_at, l.price_amount, l.price_cny from listings l "
        "join sites s on s.id = l.site_id where s.name = 'hostile' and l.external_id in ('10', '11')")}
    title, posted, _, _ = rows["10"]
    assert title == "[2J[H]0;pwned象牙手镯[31m" and posted is None
    _, posted, amount, cny = rows["11"]
    assert posted is None and amount is None and cny is None
    text = db.execute("select group_concat(title || coalesce(description, ''), '') from listings").fetchone()[0]
    assert not any(ch in text for ch in "\x1b\x07\u202e")


def test_each_fault_is_named_in_health(hostile: dict[str, Any]) -> None:
    health = hostile["together"].sites["hostile"]
    errors = health["errors"]
    assert errors.get("refused_scheme", 0) >= 4, errors  # javascript:, file:, data:, [::1, redirects to file:
    assert errors.get("offsite", 0) >= 8, errors
    assert errors.get("blocked_address", 0) >= 1, errors  # localhost is in scope but resolves to loopback
    assert errors.get("too_large", 0) >= 1, errors  # the gzip bomb
    assert errors.get("truncated", 0) >= 1, errors  # the dense page's description
    assert any("Timeout" in kind for kind in errors), errors  # the slow drip
    assert not health["healthy"]
    assert any("could not be read" in p for p in health["problems"]), health["problems"]
    assert hostile["together"].sites["benign"]["healthy"], hostile["together"].sites["benign"]


def test_hostile_site_neither_slows_the_others_nor_grows_memory(hostile: dict[str, Any]) -> None:
    alone = hostile["alone"].sites["benign"]
    together = hostile["together"].sites["benign"]
    assert together["items"] == alone["items"] == BENIGN_LISTINGS
    assert together["duration_s"] <= max(3 * alone["duration_s"], alone["duration_s"] + 3.0), (alone, together)
    assert hostile["together"].peak_rss_mb is not None and hostile["together"].peak_rss_mb < 600


def test_the_report_names_the_faults(hostile: dict[str, Any]) -> None:
    from monitor.reports import render_report
    from monitor.reports.labels import FAULT_NAMES

    for lang in ("zh", "en"):
        text = render_report(hostile["config"], "2025-06", lang=lang).read_text(encoding="utf-8")
        for kind in ("offsite", "refused_scheme", "blocked_address", "too_large"):
            assert FAULT_NAMES[lang][kind] in text, (lang, kind)


def test_sites_check_keeps_to_the_scope_too(hostile: dict[str, Any]) -> None:
    from monitor.crawling.check import check_site

    config = hostile["config"]
    first = check_site(config, "hostile", "象牙")
    assert first.listing is not None and "refused (refused_scheme)" in first.listing.error  # javascript: first
    gone = check_site(config, "hostilegone", "象牙")
    assert SECRET not in repr(gone) and "hunter2" not in repr(gone)  # urllib refuses file: redirects itself
    moved = check_site(config, "hostilemoved", "象牙")
    assert "refused" in moved.search.error and "offsite" in moved.search.error
    start = time.monotonic()
    drip = check_site(config, "hostiledrip", "象牙")  # a byte every 0.2 s, each read under the timeout
    assert time.monotonic() - start < 8 and "download_timeout" in drip.search.error, drip.search.error
    start = time.monotonic()
    drip = check_site(config, "hostiledrip500", "象牙")  # an error page, dripping
    assert time.monotonic() - start < 8 and "download_timeout" in drip.search.error, drip.search.error
    assert hostile["proxy"].seen == [] and hostile["trap"].seen == []


def test_api_rows_and_cursors_keep_to_the_site(hostile: dict[str, Any]) -> None:
    """A row whose URL lies outside the site is neither fetched nor stored (its URL would
    be a link in the report), and a cursor that points elsewhere is not followed."""
    db = sqlite3.connect(Path(hostile["config"].data_dir) / "wtm.sqlite3")
    ids = {row[0] for row in db.execute(
        "select l.external_id from listings l join sites s on s.id = l.site_id where s.name = 'hostileapi'")}
    assert ids == {"1"}, ids
    errors = hostile["together"].sites["hostileapi"]["errors"]
    assert errors.get("refused_scheme", 0) >= 2 and errors.get("offsite", 0) >= 3, errors


def test_sites_check_prints_no_terminal_escapes(hostile: dict[str, Any], tmp_path: Path) -> None:
    """An escape sequence in a listing's title (clear screen, retitle the window, reverse the
    text) would reach the analyst's terminal as the check prints what it read."""
    from click.testing import CliRunner

    from monitor.cli import cli

    config = hostile["config"]
    (tmp_path / "wtm.toml").write_text(f'data_dir = "{config.data_dir}"\nsites_dir = "{config.sites_dir}"\n',
                                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "wtm.toml"), "sites", "check", "hostileescapes",
                                       "--keyword", "象牙"], color=False)
    assert "象牙手镯" in result.output, result.output
    assert not any(ch in result.output for ch in "\x1b\x07\u202e"), ascii(result.output)


def test_a_page_of_endless_results_is_cut(hostile: dict[str, Any]) -> None:
    """20,000 links on one result page: the first 500 are read, the cut is named in health."""
    from monitor.spiders.base import MAX_RESULTS_PER_PAGE

    errors = hostile["together"].sites["hostilemany"]["errors"]
    assert errors.get("results_capped") == 1, errors
    paths = [line.split()[1] for line, _ in hostile["market"].seen]
    asked = {p for p in paths if p.startswith("/hostile/item/") and int(p.split("/")[-1].split(".")[0]) >= 1000}
    assert 0 < len(asked) <= MAX_RESULTS_PER_PAGE
