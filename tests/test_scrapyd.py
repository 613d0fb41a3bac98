"""A crawl spread over two real Scrapyd nodes on loopback writes the same database as a local
crawl, and survives one node being killed mid-run.

Real Scrapyd processes (from the node venv `make scrapyd-node` builds: Scrapyd 1.6 needs
setuptools<81), the sandbox over HTTP, and PostgreSQL (WTM_TEST_POSTGRES_URL; skipped without
it). Each test gets fresh databases of its own on that server.
"""


from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from monitor.config import load_config
from monitor.crawljobs import crawl
from monitor.exceptions import ConfigError, CrawlError, CrawlLockedError
from monitor.nodes import coordinator
from monitor.nodes.coordinator import coordinator_lock, run_on_nodes
from monitor.nodes.deploy import deploy, deploy_to
from monitor.nodes.egg import build_egg
from monitor.nodes.scrapyd import ScrapydNode
from monitor.sandbox import SandboxServer
from monitor.storage import Database
from scrapyd_fixtures import (CHECKOUT, MONTHS, POSTGRES, SCRAPYD, SITES, Node, as_of as _as_of, config_for,  # noqa: F401
                              databases, local_crawl, node_env, sandbox, snapshot, stored_once, two_nodes)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL: set WTM_TEST_POSTGRES_URL"),
    pytest.mark.skipif(not SCRAPYD.exists(), reason="needs the Scrapyd node venv: make scrapyd-node"),
]



def test_two_nodes_store_what_a_local_crawl_stores(tmp_path: Path, databases: Any, sandbox: SandboxServer,
                                                   two_nodes: tuple[str, list[Node]]) -> None:
    url, nodes = two_nodes
    config = config_for(url, tmp_path / "coordinator-data", sandbox, nodes)
    assert [d.uploaded for d in deploy(config)] == [True, True]
    assert [d.uploaded for d in deploy(config)] == [False, False]  # same version: nothing to do
    where: dict[str, set[str]] = {}
    for month in MONTHS:
        sandbox.set_month(month)
        events: list[dict] = []
        summary = crawl(config, sites=SITES, as_of=_as_of(config, month), progress=False, on_event=events.append)
        assert summary.ok, summary.sites
        stored_once(url, summary.run_id)
        for event in events:
            if event["event"] == "site_start":
                where.setdefault(event["node"], set()).add(event["site"])
    assert len(where) == 2, where  # both nodes worked
    for node in nodes:  # the database URL never travels in a job
        listed = httpx.get(f"{node.url}/listjobs.json", params={"project": "wtm"}, timeout=5).text
        assert "postgresql" not in listed and "wtm_nodes_" not in listed
    expected = snapshot(local_crawl(databases, tmp_path, sandbox, MONTHS))
    got = snapshot(url)
    assert got["listings"] == expected["listings"]
    assert got["matches"] == expected["matches"]
    assert any(row[4] for row in got["listings"]), "the second month found removals"


def test_killed_node_loses_nothing_and_stores_nothing_twice(tmp_path: Path, databases: Any, sandbox: SandboxServer,
                                                            two_nodes: tuple[str, list[Node]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url, nodes = two_nodes
    monkeypatch.setattr(coordinator, "NODE_TIMEOUT", 3.0)
    config = config_for(url, tmp_path / "coordinator-data", sandbox, nodes)
    result: dict[str, Any] = {}
    events: list[dict] = []

    def coordinate() -> None:
        try:
            result["summary"] = run_on_nodes(config, SITES, as_of=_as_of(config, MONTHS[0]), progress=False,
                                             on_event=events.append)
        except BaseException as exc:  # surfaced below
            result["error"] = exc

    thread = threading.Thread(target=coordinate)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not nodes[1].running():
        time.sleep(0.2)
    killed = [job["spider"] for job in nodes[1].running()]
    assert killed, "node 2 was running no job to kill"
    engine = create_engine(url)
    held = text("SELECT count(*) FROM site_locks l JOIN sites s ON s.id = l.site_id WHERE s.name = :s")
    with engine.connect() as conn:  # kill it mid-site: once its job holds the lock and stores
        while time.monotonic() < deadline and not conn.execute(held, {"s": killed[0]}).scalar():
            time.sleep(0.1)
            conn.rollback()
    engine.dispose()
    nodes[1].kill()
    thread.join(600)
    assert "error" not in result, result.get("error")
    summary = result["summary"]
    assert summary.ok, {name: health.problems for name, health in summary.sites.items() if not health.healthy}
    stored_once(url, summary.run_id)
    moved = {e["site"] for e in events if e["event"] == "site_moved"}
    assert set(killed) <= moved
    engine = create_engine(url)
    with engine.connect() as conn:
        abandoned = conn.execute(text("SELECT count(*) FROM site_crawls WHERE status = 'failed'")).scalar()
    engine.dispose()
    assert abandoned >= 1  # the killed job's record, released at once rather than after the heartbeat window
    assert snapshot(url) == snapshot(local_crawl(databases, tmp_path, sandbox, MONTHS[:1]))


def test_second_coordinator_is_refused_and_sqlite_is_refused(tmp_path: Path, databases: Any,
                                                              sandbox: SandboxServer) -> None:
    url = databases()
    db = Database(url)
    try:
        with coordinator_lock(db):
            with pytest.raises(CrawlLockedError, match="another coordinator"):
                with coordinator_lock(Database(url)):
                    pass
    finally:
        db.dispose()
    config = load_config(overrides={"data_dir": str(tmp_path), "scrapyd_urls": "http://127.0.0.1:9"})
    with pytest.raises(ConfigError, match="PostgreSQL"):
        crawl(config, sites=SITES)


def test_node_with_another_wtm_refuses_the_egg(tmp_path: Path, databases: Any, sandbox: SandboxServer) -> None:
    node = Node(tmp_path / "node", node_env(databases(), tmp_path / "data", sandbox), auth="crawler:s3cretpw")
    with_login = node.url.replace("http://", "http://crawler:s3cretpw@")
    try:
        with pytest.raises(CrawlError, match="refused our credentials") as refused:
            deploy_to(ScrapydNode(node.url), build_egg())
        with pytest.raises(CrawlError, match="this node runs wtm 0.1.0 but the coordinator runs wtm 0.0.9") as other:
            deploy_to(ScrapydNode(with_login), build_egg("0.0.9"))
        assert "s3cretpw" not in str(refused.value) + str(other.value)
        assert deploy_to(ScrapydNode(with_login), build_egg()).spiders == 31
        env = {**node_env(databases(), tmp_path / "data", sandbox), "WTM_SCRAPYD_URLS": with_login}
        shown = subprocess.run([sys.executable, "-m", "monitor", "deploy"], env=env, capture_output=True, text=True,
                               timeout=120)
        assert shown.returncode == 0, shown.stderr
        assert f"{node.url.replace('http://', 'http://crawler:***@')}: {build_egg().version} already there; " \
               "0 jobs running, 0 pending" in shown.stdout
        assert "s3cretpw" not in shown.stdout + shown.stderr
        # A site the coordinator knows but the node does not: Scrapyd refuses the job, the site fails.
        extra = tmp_path / "extra-sites"
        extra.mkdir()
        source = (CHECKOUT / "spiders" / "sites" / "huaxiacang.yaml").read_text(encoding="utf-8")
        (extra / "onlyhere.yaml").write_text(source.replace("name: huaxiacang", "name: onlyhere"), encoding="utf-8")
        config = load_config(overrides={"database_url": env["WTM_DATABASE_URL"], "data_dir": str(tmp_path / "c"),
                                        "sites_dir": str(extra), "scrapyd_urls": with_login})
        (extra / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
        summary = run_on_nodes(config, ["onlyhere", "broken"], progress=False)
        assert summary.failed_sites == ["broken", "onlyhere"]
        assert "broken.yaml" in "; ".join(summary.sites["broken"].problems)
        assert "spider 'onlyhere' not found" in "; ".join(summary.sites["onlyhere"].problems)
    finally:
        node.kill()


def test_cli_refuses_sqlite_with_nodes_and_masks_node_passwords(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
    env["WTM_SCRAPYD_URLS"] = "http://crawler:s3cretpw@127.0.0.1:9"
    crawl = subprocess.run([sys.executable, "-m", "monitor", "--data-dir", str(tmp_path), "crawl", "--all"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert crawl.returncode == 2 and "PostgreSQL" in crawl.stderr
    shown = subprocess.run([sys.executable, "-m", "monitor", "config", "show"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert "127.0.0.1:9" in shown.stdout and "s3cretpw" not in shown.stdout + shown.stderr
    bad = subprocess.run([sys.executable, "-m", "monitor", "config", "show"], capture_output=True, text=True,
                         env={**env, "WTM_SCRAPYD_URLS": "ftp://crawler:s3cretpw@host"}, timeout=120)
    assert bad.returncode == 2 and "scrapyd_urls" in bad.stderr and "s3cretpw" not in bad.stderr


def test_a_killed_job_is_a_failed_site_and_its_lock_is_released_at_once(tmp_path: Path, databases: Any,
                                                                        sandbox: SandboxServer) -> None:
    url = databases()
    node = Node(tmp_path / "node", node_env(url, tmp_path / "data", sandbox))
    config = config_for(url, tmp_path / "coordinator-data", sandbox, [node])
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(summary=run_on_nodes(config, ["huaxiacang"], progress=False)))
    try:
        thread.start()
        engine = create_engine(url)
        deadline = time.monotonic() + 120
        with engine.connect() as conn:
            while time.monotonic() < deadline and not conn.execute(text("SELECT count(*) FROM site_locks")).scalar():
                time.sleep(0.1)
                conn.rollback()
        os.kill(node.running()[0]["pid"], signal.SIGKILL)  # the job's process, not Scrapyd
        thread.join(120)
        with engine.connect() as conn:
            locks = conn.execute(text("SELECT count(*) FROM site_locks")).scalar()
            status = conn.execute(text("SELECT status FROM site_crawls")).scalars().all()
        engine.dispose()
    finally:
        node.kill()
    summary = result["summary"]
    assert summary.failed_sites == ["huaxiacang"]
    assert "ended without finishing the site" in "; ".join(summary.sites["huaxiacang"].problems)
    assert locks == 0 and status == ["failed"]  # released when Scrapyd said the job ended, not 10 minutes later
