"""Interrupting a crawl (Ctrl-C on `wtm crawl`) and running it again resumes it: the same
database run, no listing lost, nothing stored twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.sites import load_sites
from monitor.sandbox import Sandbox, SandboxServer

SITES = ["huaxiacang", "lutian", "xianzhi"]  # GBK, Big5 Traditional, JSON API
KEYWORDS = ["象牙", "手串", "犀角", "玳瑁", "包邮", "转让", "成色"]
MONTH = "2025-12"


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_interrupted_crawl_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    world = Sandbox(seed=20120101)
    data = tmp_path / "data"
    scrapy_log = data / "logs" / f"scrapy-{MONTH}.log"
    jobs = data / "state" / "jobs" / MONTH
    with SandboxServer(world, port=0, month=MONTH) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
        # Slow and polite, so the crawl is still running when it is interrupted.
        env.update(WTM_SANDBOX_URL=server.url, WTM_DOWNLOAD_DELAY="0.25", WTM_AUTOTHROTTLE="false",
                   WTM_CONCURRENCY_PER_SITE="1")
        command = [sys.executable, "-m", "monitor", "--data-dir", str(data), "crawl", "--as-of", f"{MONTH}-31T20:00"]
        for site in SITES:
            command += ["--site", site]
        for keyword in KEYWORDS:
            command += ["--keyword", keyword]
        first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            opened = wait_for(lambda: scrapy_log.is_file() and scrapy_log.read_text("utf-8", "replace").count("Spider opened") == 3, 60)
            assert opened, "the crawl did not start"
            time.sleep(4)
            assert first.poll() is None, "the crawl finished before it could be interrupted"
            first.send_signal(signal.SIGINT)
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 130
        assert "Closing spider (shutdown)" in scrapy_log.read_text("utf-8", "replace")
        assert all((jobs / f"{site}.run.json").is_file() and (jobs / site).is_dir() for site in SITES)

        db = sqlite3.connect(data / "wtm.sqlite3")
        stored_first = db.execute("SELECT COUNT(*) FROM listings").fetchone()[0]

        config = load_config(overrides={"data_dir": str(data), "sandbox_url": server.url})
        as_of = datetime(2025, 12, 31, 20, 0, tzinfo=config.tz)
        summary = run_crawl(config, sites=SITES, keywords=KEYWORDS, as_of=as_of, progress=False, polite=False)

    assert summary.failed_sites == [], summary.sites
    assert not jobs.exists() or not any(jobs.iterdir())
    runs = db.execute("SELECT id, finished_at IS NOT NULL FROM crawl_runs").fetchall()
    assert len(runs) == 1 and runs[0][1] == 1, runs
    assert summary.run_id == runs[0][0]

    truth = {(x["site"], x["external_id"]): x for x in world.truth(MONTH)}
    sites = load_sites(names=SITES)
    reachable = {
        (name, external_id)
        for name in SITES for keyword in KEYWORDS
        for external_id in world.search(name, sites[name].site_keyword(keyword), MONTH)
        if truth.get((name, external_id), {}).get("state") == "live"
    }
    stored = set(db.execute("SELECT s.name, l.external_id FROM listings l JOIN sites s ON s.id = l.site_id").fetchall())
    assert 0 < stored_first < len(reachable), (stored_first, len(reachable))
    assert reachable <= stored, sorted(reachable - stored)[:10]
    duplicates = db.execute(
        "SELECT COUNT(*) FROM (SELECT o.listing_id FROM observations o JOIN site_crawls c ON c.id = o.site_crawl_id "
        "GROUP BY o.listing_id, c.run_id HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert duplicates == 0
    observations = db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert observations == len(stored)
