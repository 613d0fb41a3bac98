"""Sites that misbehave: garbage, 500s and a login wall are reported unhealthy (exit status 3)
while the other sites finish; a 429 with Retry-After is waited out and retried."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor.cli import EXIT_SITES_FAILED, main
from monitor.sandbox import Sandbox, SandboxServer

from loopback import SITE_FILE as LOOPBACK_SITE
from loopback import QuietHandler, serving, write_sites

SITE_FILE = LOOPBACK_SITE.replace('    title: "h1::text"\n', '    title: "h1::text"\n    price: "span.price::text"\n')
GOOD_PAGE = '<html><body><h1>象牙手镯 {i}</h1><span class="price">¥{i}00</span></body></html>'


class FaultyHandler(QuietHandler):
    throttled_at: dict[str, list[float]] = {}

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        site = self.site()
        if path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nDisallow:\n")
        if site == "garbage":
            return self.reply(200, random.Random(path).randbytes(3000))
        if site == "broken":
            return self.reply(500, b"<html><body>Internal Server Error</body></html>")
        search = '<html><body><a class="hit" href="item/1">1</a><a class="hit" href="item/2">2</a></body></html>'
        if site == "walled":
            if path.endswith("/search"):
                return self.reply(200, search.encode())
            if "/login" in path:
                return self.reply(200, "<html><body><form>请登录后查看</form></body></html>".encode())
            return self.reply(302, b"", {"Location": f"/walled/login?next={path}"})
        if site == "throttled":
            seen = self.throttled_at.setdefault(self.path, [])
            seen.append(time.monotonic())
            if len(seen) == 1:
                return self.reply(429, b"slow down", {"Retry-After": "1"})
            if path.endswith("/search"):
                return self.reply(200, search.encode())
            return self.reply(200, GOOD_PAGE.format(i=path.rsplit("/", 1)[-1]).encode())
        return self.reply(404, b"no such site")


@pytest.fixture
def faulty_sites(tmp_path: Path):
    FaultyHandler.throttled_at = {}
    with serving(FaultyHandler) as (_, origin):
        yield write_sites(tmp_path / "sites", origin, ("garbage", "broken", "walled", "throttled"), SITE_FILE)


def test_bad_sites_unhealthy_while_the_rest_finish(
    faulty_sites: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = Sandbox(seed=20120101)
    data = tmp_path / "data"
    with SandboxServer(world, port=0, month=world.months[-1]) as sandbox:
        for name, value in {"SANDBOX_URL": sandbox.url, "SITES_DIR": str(faulty_sites), "DOWNLOAD_DELAY": "0",
                            "AUTOTHROTTLE": "false", "RETRY_TIMES": "2", "CONCURRENCY_PER_SITE": "4"}.items():
            monkeypatch.setenv(f"WTM_{name}", value)
        sites = ["garbage", "broken", "walled", "throttled", "huaxiacang", "lutian", "xianzhi"]
        argv = ["--data-dir", str(data), "crawl", "--keyword", "象牙", "--keyword", "手串", "--as-of", "2025-12-31T20:00"]
        for site in sites:
            argv += ["--site", site]
        with pytest.raises(SystemExit) as exit_status:
            main(argv)
    out, err = capsys.readouterr()
    assert exit_status.value.code == EXIT_SITES_FAILED, out + err
    for name in ("garbage", "broken", "walled"):
        assert f"{name}: UNHEALTHY" in err
    for name in ("throttled", "huaxiacang", "lutian", "xianzhi"):
        assert f"{name}: ok" in out

    db = sqlite3.connect(data / "wtm.sqlite3")
    health = {
        name: json.loads(text)
        for name, text in db.execute("SELECT s.name, c.health FROM site_crawls c JOIN sites s ON s.id = c.site_id")
    }
    assert set(health) == set(sites)
    assert health["broken"]["errors"].get("http_500", 0) > 0
    assert "no listings found" in health["broken"]["problems"]
    assert health["walled"]["errors"].get("login_wall", 0) > 0
    assert health["garbage"]["items"] == 0 and not health["garbage"]["healthy"]
    assert health["throttled"]["items"] == 2 and health["throttled"]["errors"].get("http_429", 0) >= 3
    for path, times in FaultyHandler.throttled_at.items():
        assert len(times) == 2 and times[1] - times[0] >= 0.9, (path, times)

    log = (data / "logs" / "crawl.log").read_text(encoding="utf-8").splitlines()
    assert len(log) == len(sites)
    assert sum("outcome=UNHEALTHY" in line for line in log) == 3


def test_sandbox_site_without_sandbox_url_fails_with_a_clear_message(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(tmp_path / "data"), "crawl", "--site", "huaxiacang", "--keyword", "象牙"])
    assert exit_info.value.code == EXIT_SITES_FAILED
    err = capsys.readouterr().err
    assert "huaxiacang" in err and "needs sandbox_url to be configured" in err
