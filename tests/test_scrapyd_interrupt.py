"""A coordinator stopped by Ctrl-C cancels its Scrapyd jobs and leaves its run to resume; the nodes'
errors are the monitor's own and exit as the CLI's other errors do.

Real Scrapyd nodes, the sandbox and PostgreSQL, as in test_scrapyd.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from monitor import exceptions
from monitor.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_SITES_FAILED, exit_code
from monitor.nodes import scrapyd
from monitor.sandbox import SandboxServer
from scrapyd_fixtures import (MONTHS, POSTGRES, SCRAPYD, SETTINGS, SITES, Node, databases, free_port,  # noqa: F401
                              local_crawl, node_env, sandbox, snapshot, two_nodes)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL: set WTM_TEST_POSTGRES_URL"),
    pytest.mark.skipif(not SCRAPYD.exists(), reason="needs the Scrapyd node venv: make scrapyd-node"),
]


def coordinator_env(db_url: str, data: Path, sandbox: SandboxServer, urls: list[str]) -> dict[str, str]:
    env = node_env(db_url, data, sandbox)
    env.update(WTM_SCRAPYD_URLS=",".join(urls), WTM_SITES=",".join(SITES))
    return env


def jobs_of(node: Node) -> dict[str, list]:
    return httpx.get(f"{node.url}/listjobs.json", params={"project": "wtm"}, timeout=5).json()


def test_ctrl_c_cancels_the_jobs_releases_the_locks_and_a_rerun_resumes(
        tmp_path: Path, databases: Any, sandbox: SandboxServer, two_nodes: tuple[str, list[Node]]) -> None:
    url, nodes = two_nodes
    env = coordinator_env(url, tmp_path / "coordinator-data", sandbox, [node.url for node in nodes])
    command = [sys.executable, "-m", "monitor", "crawl", "--all", "--as-of", f"{MONTHS[0]}-28T20:00"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 180
        with engine.connect() as conn:  # interrupt it once a job holds its site's lock, another waiting
            while time.monotonic() < deadline and first.poll() is None and not (
                    conn.execute(text("SELECT count(*) FROM site_locks")).scalar()
                    and any(jobs_of(node)["pending"] for node in nodes)):
                time.sleep(0.1)
                conn.rollback()
        assert first.poll() is None, first.communicate()
        pending = sum(len(jobs_of(node)["pending"]) for node in nodes)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=180)
        assert first.returncode == EXIT_INTERRUPTED, err
        assert "cancelled job" in err and "resumes run" in err
        assert pending >= 1, "no pending job was there to cancel"  # two nodes, one slot each, four sites
        for node in nodes:  # nothing runs on unwatched, nothing waits to
            listed = jobs_of(node)
            assert listed["running"] == [] and listed["pending"] == [], listed
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM site_locks")).scalar() == 0
            runs = conn.execute(text("SELECT id, finished_at FROM crawl_runs")).all()
        assert len(runs) == 1 and runs[0].finished_at is None  # interrupted: left open to resume

        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr
        assert f"resuming interrupted crawl run {runs[0].id}" in again.stderr
        with engine.connect() as conn:
            after = conn.execute(text("SELECT id, finished_at FROM crawl_runs")).all()
            good = conn.execute(text(
                "SELECT s.name, count(*) FROM site_crawls c JOIN sites s ON s.id = c.site_id "
                "WHERE c.status = 'finished' AND c.health->>'finish_reason' = 'finished' GROUP BY s.name")).all()
            locks = conn.execute(text("SELECT count(*) FROM site_locks")).scalar()
    finally:
        if first.poll() is None:
            first.kill()
        engine.dispose()
    assert len(after) == 1 and after[0].id == runs[0].id and after[0].finished_at is not None
    assert dict(good) == {site: 1 for site in SITES} and locks == 0
    assert snapshot(url) == snapshot(local_crawl(databases, tmp_path, sandbox, MONTHS[:1]))


def test_node_errors_are_crawl_errors_and_exit_as_the_cli_says(tmp_path: Path, databases: Any,
                                                               sandbox: SandboxServer) -> None:
    assert scrapyd.NodeUnreachable is exceptions.NodeUnreachable
    assert issubclass(exceptions.NodeUnreachable, exceptions.CrawlError)
    assert exit_code(exceptions.NodeUnreachable("gone")) == EXIT_SITES_FAILED
    dead = f"http://crawler:s3cretpw@127.0.0.1:{free_port()}"  # nothing listens there
    env = coordinator_env(databases(), tmp_path / "data", sandbox, [dead])
    for command, code, message in (
            (["deploy"], EXIT_SITES_FAILED, "NodeUnreachable: Scrapyd node http://crawler:***@127.0.0.1"),
            (["crawl", "--all"], EXIT_SITES_FAILED, "CrawlError: no Scrapyd node of scrapyd_urls answers")):
        done = subprocess.run([sys.executable, "-m", "monitor", *command], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == code and message in done.stderr, (command, done.returncode, done.stderr)
        assert "s3cretpw" not in done.stdout + done.stderr
    env = {k: v for k, v in env.items() if k != "WTM_SCRAPYD_URLS"}
    unset = subprocess.run([sys.executable, "-m", "monitor", "deploy"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert unset.returncode == EXIT_BAD_INPUT and "no Scrapyd node configured" in unset.stderr


def test_losing_the_database_mid_crawl_is_a_storage_error(tmp_path: Path, databases: Any, sandbox: SandboxServer,
                                                          two_nodes: tuple[str, list[Node]]) -> None:
    url, nodes = two_nodes
    env = coordinator_env(url, tmp_path / "coordinator-data", sandbox, [node.url for node in nodes])
    crawl = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--all"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 180
        with engine.connect() as conn:
            while time.monotonic() < deadline and crawl.poll() is None and \
                    not conn.execute(text("SELECT count(*) FROM site_locks")).scalar():
                time.sleep(0.1)
                conn.rollback()
        engine.dispose()
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
        out, err = crawl.communicate(timeout=180)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 1 and "StorageError: " in err, err  # the monitor's error, not a driver's traceback
    assert "Traceback" not in err
