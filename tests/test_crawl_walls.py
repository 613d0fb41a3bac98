"""Walls (issue 10): captcha and ban pages are told from result pages, the site is backed off and
still completed, or given up after repeated walls; a search robots.txt disallows is reported, not
crawled. Real HTTP on 127.0.0.1 (the sandbox's captcha wall, and a small server for the rest),
real Scrapy, the full pipeline into SQLite."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.sites import shipped_sites_dir
from monitor.crawling.walls import wall_kind
from monitor.months import month_end
from monitor.reports.context import build_context
from monitor.reports.labels import FAULT_NAMES
from monitor.reports.render import render_html
from monitor.sandbox import Sandbox, SandboxServer
from monitor.sandbox.sites import CAPTCHA_SEARCHES
from monitor.storage import Database

from loopback import QuietHandler, serving, write_sites

SEED = 20120101
FAST = {"WTM_WALL_PAUSE": 0.2, "WTM_WALL_DELAY": 0.05, "WTM_MAX_WALLS": 2}


def page(body: str, status: int = 200, url: str = "http://127.0.0.1/s/search?q=x", **meta: object) -> TextResponse:
    request = Request(url, meta=dict(meta))
    return HtmlResponse(url, status=status, body=body.encode("utf-8"), encoding="utf-8", request=request)


def test_walls_are_told_from_pages() -> None:
    captcha = '<html><head><title>安全验证</title></head><body>访问过于频繁，请拖动滑块完成验证</body></html>'
    assert wall_kind(page(captcha)) == "captcha"
    assert wall_kind(page('{"code": 40301, "msg": "訪問過於頻繁，請完成驗證碼"}')) == "captcha"
    assert wall_kind(page("<html><body>您的IP已被封禁</body></html>", 403)) == "banned"
    assert wall_kind(page("too many requests: banned for 10 minutes", 429)) == "banned"
    # A plain rate limit is a retry's business, not a wall; nor is a results page with a login form.
    assert wall_kind(page("请求过于频繁，请稍后再试", 429)) == ""
    results = "<html><head><title>搜索 象牙</title></head><body><form>验证码 <input name=code></form>" + \
        "<ul>" + "<li><a href='/item/1'>象牙手镯</a></li>" * 400 + "</ul></body></html>"
    assert wall_kind(page(results)) == ""
    moved = HtmlResponse("http://127.0.0.1/s/search?q=x", status=302, headers={"Location": "/security-check?from=x"},
                         body=b"", request=Request("http://127.0.0.1/s/search?q=x"))
    assert wall_kind(moved) == "captcha"
    followed = page(captcha.replace("安全验证", "verify"), url="http://127.0.0.1/verify/slider")
    assert wall_kind(followed, Request(followed.url, meta={"redirect_urls": ["http://127.0.0.1/s/search?q=x"]})) == "captcha"


def test_the_sandbox_captcha_wall_is_backed_off_and_the_site_completed(tmp_path: Path) -> None:
    world = Sandbox(seed=SEED)
    month = world.months[-2]
    site = "wenwanba"  # SITES.md: captcha wall past CAPTCHA_SEARCHES searches in CAPTCHA_WINDOW_S
    keywords = list("的出元售转让新全品正老手机车包装用原价二成色") + ["象牙", "手串", "老料", "文玩", "核桃", "菩提"]
    assert len(keywords) > CAPTCHA_SEARCHES
    with SandboxServer(world, port=0, month=month) as server:
        config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url}, environ={})
        summary = run_crawl(config, sites=[site], keywords=keywords, as_of=month_end(month, config.tz),
                            progress=False, polite=False)
    health = summary.sites[site]
    assert health.errors.get("captcha", 0) >= 1, health.errors  # the wall stood: the crawl met it
    assert health.healthy, health.problems
    listed = {i for k in keywords for i in world.search(site, k, month)}
    with sqlite3.connect(tmp_path / "wtm.sqlite3") as db:
        stored = {r[0] for r in db.execute("SELECT external_id FROM listings")}
    assert listed and listed <= stored, sorted(listed - stored)  # every search answered in the end
    database = Database(config.db_url)
    try:
        context = build_context(database, month, "zh")
    finally:
        database.dispose()
    row = next(h for h in context["health"] if h["site"] == site)
    assert row["errors"].get("captcha", 0) >= 1 and row["healthy"]
    assert f"{FAULT_NAMES['zh']['captcha']} {row['errors']['captcha']}" in render_html(context)


RESULTS = '<html><body><a class="hit" href="item/1">1</a><a class="hit" href="item/2">2</a></body></html>'
CAPTCHA = "<html><head><title>安全验证</title></head><body>访问过于频繁，请完成滑块验证</body></html>"


class WalledHandler(QuietHandler):
    seen: dict[str, int] = {}

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        site = self.site()
        if path == "/robots.txt":
            return self.reply(200, "User-agent: *\nDisallow:\n")
        if path.startswith("/verify/"):
            return self.reply(200, CAPTCHA)
        if site == "banned":  # every page, always: no backing off helps
            return self.reply(403, "<html><body>您的IP已被封禁</body></html>")
        if path.endswith("/search"):
            times = self.seen[self.path] = self.seen.get(self.path, 0) + 1
            if times == 1:  # the first search goes to a slider captcha
                return self.reply(302, "", {"Location": f"/verify/slider?from={path}"})
            return self.reply(200, RESULTS)
        return self.reply(200, f"<html><body><h1>象牙手镯 {path.rsplit('/', 1)[-1]}</h1></body></html>")


def test_a_verify_redirect_is_waited_out_and_a_lasting_ban_given_up(tmp_path: Path) -> None:
    WalledHandler.seen = {}
    with serving(WalledHandler) as (_, origin):
        folder = write_sites(tmp_path / "sites", origin, ("bazaar", "banned"))
        config = load_config(overrides={"data_dir": str(tmp_path / "data"), "sites_dir": str(folder)}, environ={})
        summary = run_crawl(config, sites=["bazaar", "banned"], keywords=["象牙"], progress=False, polite=False,
                            settings_overrides=FAST)
    verify, banned = summary.sites["bazaar"], summary.sites["banned"]
    assert verify.healthy and verify.items == 2 and verify.errors.get("captcha") == 1, (verify.problems, verify.errors)
    assert not banned.healthy and banned.items == 0
    assert banned.errors.get("banned") == FAST["WTM_MAX_WALLS"] + 1
    assert "gave up on the site after 3 walls (captcha or ban pages)" in banned.problems


def test_a_search_robots_txt_disallows_is_reported_not_crawled(tmp_path: Path) -> None:
    world = Sandbox(seed=SEED)
    month = world.months[-2]
    folder = tmp_path / "sites"
    shutil.copytree(shipped_sites_dir(), folder)
    site = folder / "tongcheng.yaml"
    text = site.read_text(encoding="utf-8")
    # SITES.md: robots.txt disallows /tongcheng/user/; a site file that searches there.
    site.write_text(text.replace('url: "search/?', 'url: "user/search/?', 1), encoding="utf-8")
    assert "user/search/?" in site.read_text(encoding="utf-8")
    with SandboxServer(world, port=0, month=month) as server:
        asked: list[str] = []
        respond = server.respond

        def logged(method: str, target: str, body: bytes):  # type: ignore[no-untyped-def]
            asked.append(target)
            return respond(method, target, body)

        server.respond = logged  # type: ignore[method-assign]
        config = load_config(overrides={"data_dir": str(tmp_path / "data"), "sandbox_url": server.url,
                                        "sites_dir": str(folder)}, environ={})
        summary = run_crawl(config, sites=["tongcheng"], keywords=["象牙", "手镯"], as_of=month_end(month, config.tz),
                            progress=False, polite=False)
    health = summary.sites["tongcheng"]
    assert health.errors.get("robots_search") == 2, health.errors
    assert not any(t.startswith("/tongcheng/user/") for t in asked)
    assert FAULT_NAMES["en"]["robots_search"] and FAULT_NAMES["zh"]["captcha"] and FAULT_NAMES["en"]["banned"]
