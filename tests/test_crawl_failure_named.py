"""A site that failed is reported unhealthy, by name, and ``wtm crawl`` exits 3.

Three failures that used to end "ok" with exit 0: a server that went away after its search
page (every listing request refused), a site whose 429 retries ran out on 7 of its 31
listings, and a site never crawled before whose pages carry no dates or contacts although its
site file declares both. Each is crawled for real on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.health import assess

from loopback import QuietHandler, serving, write_sites

LISTINGS = 31
THROTTLED = {str(n) for n in range(1, 8)}  # 7 of 31 always answer 429
AS_OF = datetime(2025, 6, 30, 12, 0)

SITE_FILE = """\
name: {name}
platform: html
base_url: "{origin}/{name}/"
script: simplified
charset: utf-8
search:
  url: "search?kw={{keyword}}"
  results: "ul.hits a::attr(href)"
listing:
  id_from_url: "item/(\\\\d+)\\\\.html"
  fields:
    title: "h1::text"
    price: "span.price::text"
    posted: "span.time::text"
    contact: "span.tel::text"
"""


def _close(server: ThreadingHTTPServer) -> None:
    """Stop answering and close the socket, so later connections are refused."""
    server.shutdown()
    server.server_close()


class Handler(QuietHandler):
    def send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.reply(status, f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>', headers)

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self.send(404, "")
        site, _, rest = self.path.strip("/").partition("/")
        if rest.startswith("search"):
            links = "".join(f'<li><a href="/{site}/item/{n}.html">{n}</a></li>' for n in range(1, LISTINGS + 1))
            if site == "vanishing":  # the server goes away once its search page is out
                threading.Thread(target=_close, args=(self.server,), daemon=True).start()
            return self.send(200, f'<ul class="hits">{links}</ul>')
        number = rest.rsplit("/", 1)[-1].split(".")[0]
        if site == "throttled" and number in THROTTLED:
            return self.send(429, "请求过于频繁", {"Retry-After": "0"})
        extra = "" if site == "fieldless" else '<span class="time">2025-06-20</span><span class="tel">13912345678</span>'
        self.send(200, f'<h1>象牙手镯 {number}</h1><span class="price">¥800</span>{extra}')


@pytest.fixture()
def market(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path]]:
    with serving(Handler) as (server, origin):
        server.daemon_threads = True
        yield server, write_sites(tmp_path / "sites", origin, ("vanishing", "throttled", "fieldless"), SITE_FILE)


def crawl(tmp_path: Path, sites: Path, name: str) -> dict:
    config = load_config(overrides={"data_dir": str(tmp_path / "data"), "sites_dir": str(sites),
                                    "retry_times": 2, "download_timeout": 5.0})
    summary = run_crawl(config, sites=[name], keywords=["象牙"], as_of=AS_OF, progress=False, polite=False)
    return summary.sites[name]


def test_a_server_that_went_away_is_unhealthy(market, tmp_path: Path) -> None:
    _, sites = market
    health = crawl(tmp_path, sites, "vanishing")
    assert not health["healthy"]
    assert any(p.startswith("most requests failed") for p in health["problems"]), health["problems"]
    assert health["errors"].get("listings_unread") == LISTINGS, health["errors"]


def test_retries_exhausted_on_listings_is_unhealthy(market, tmp_path: Path) -> None:
    _, sites = market
    health = crawl(tmp_path, sites, "throttled")
    assert health["items"] == LISTINGS - len(THROTTLED)
    assert not health["healthy"]
    assert f"{len(THROTTLED)} of {LISTINGS} listings could not be read after retries" in health["problems"]
    assert health["errors"].get("retries_exhausted", 0) >= len(THROTTLED), health["errors"]
    assert health["errors"].get("http_429", 0) >= len(THROTTLED), health["errors"]


def test_a_first_crawl_missing_declared_fields_is_unhealthy(market, tmp_path: Path) -> None:
    _, sites = market
    health = crawl(tmp_path, sites, "fieldless")
    assert health["items"] == LISTINGS
    assert "date coverage only 0%" in health["problems"] and "contact coverage only 0%" in health["problems"]


def test_wtm_crawl_exits_3_and_names_the_fault(market, tmp_path: Path) -> None:
    _, sites = market
    result = subprocess.run(
        [str(Path(sys.executable).with_name("wtm")), "--data-dir", str(tmp_path / "cli"), "crawl", "--site", "throttled",
         "--keyword", "象牙", "--as-of", "2025-06-30"],
        capture_output=True, text=True, timeout=180, env={**_env(), "WTM_SITES_DIR": str(sites)},
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert "could not be read after retries" in result.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("WTM_")} | {"WTM_DOWNLOAD_DELAY": "0",
                                                                              "WTM_RETRY_TIMES": "1"}


@pytest.mark.parametrize(("stats", "problem"), [
    ({"downloader/request_count": 120, "downloader/exception_count": 97}, "most requests failed (97 of 120)"),
    ({"downloader/request_count": 40, "downloader/response_status_count/503": 30}, "most requests failed (30 of 40)"),
    ({"wtm/listings/unread": 7, "wtm/removed/http_404": 0}, "7 of 47 listings could not be read after retries"),
])
def test_failure_rules_are_numbers(stats: dict, problem: str) -> None:
    base = {"response_received_count": 50, "wtm/items/live": 40}
    for name in ("price", "date", "contact", "location"):
        base[f"wtm/field/{name}"] = 40
    health = assess({**base, **stats}, "finished", ["title", "price"], None, 1.0)
    assert problem in health["problems"]


def test_a_few_failures_are_not_a_failed_site() -> None:
    base = {"response_received_count": 50, "wtm/items/live": 100, "downloader/request_count": 100,
            "downloader/exception_count": 40, "wtm/listings/unread": 5}
    assert assess(base, "finished", ["title"], None, 1.0)["healthy"]
