"""The crawl worker never outlives `wtm crawl`, and no job file (nor password) reaches the disk.

SIGTERM to `wtm crawl` stops the crawl gracefully (resumable) and exits non-zero; kill -9 of
`wtm crawl` stops its worker too (parent-death signal and the end of its stdin). Real processes
against the sandbox on 127.0.0.1; the database is PostgreSQL, reached with a password, when
WTM_TEST_POSTGRES_URL names a server (else SQLite in tmp_path).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database
from monitor.storage.models import CrawlRun, SiteLock
from storage_db import POSTGRES_URL, postgres_schema_url
from test_crawl_lock import MONTH, SEED, SITE, crawl_command, crawl_env, gone, wait_for, worker_of

SECRET = "s3cret-Pa55word"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """PostgreSQL with a password in the URL (the test server ignores it), else SQLite."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'data' / 'wtm.sqlite3'}"
        return
    from sqlalchemy.engine import make_url

    for url in postgres_schema_url():
        with_password = make_url(url).set(password=SECRET).render_as_string(hide_password=False)
        db = Database(with_password)
        db.upgrade()
        db.dispose()
        yield with_password


def start_crawl(tmp_path: Path, server: SandboxServer, database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    """`wtm crawl` of one site, slow enough to be stopped midway; returns it and its worker's pid."""
    data = tmp_path / "data"
    (tmp_path / "tmp").mkdir()
    env = crawl_env(server, delay=0.15, TMPDIR=str(tmp_path / "tmp"))
    if database_url.startswith("postgresql"):
        env["WTM_DATABASE_URL"] = database_url
    crawl = subprocess.Popen(crawl_command(data), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: worker_of(crawl.pid) is not None, 60), "no worker started"
        worker = worker_of(crawl.pid)
        assert worker is not None
        assert wait_for(lambda: server.requests >= 3, 60), "the crawl did not start"
    except BaseException:
        crawl.kill()
        raise
    return crawl, worker


def no_job_file(tmp_path: Path) -> None:
    """Nothing in the temporary folder holds the job (it would name the data folder)."""
    data = str(tmp_path / "data").encode()
    for path in (tmp_path / "tmp").rglob("*"):
        assert not path.name.startswith("wtm-crawl-") and path.name != "job.json", path
        if path.is_file():
            assert data not in path.read_bytes(), path


def no_password_on_disk(tmp_path: Path) -> None:
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def crawl_state(tmp_path: Path, database_url: str) -> tuple[int, int, bool]:
    """(runs left open, lock rows, whether the site's resume state is kept)."""
    db = Database(database_url)
    try:
        with db.session() as s:
            open_runs = s.scalar(select(func.count()).select_from(CrawlRun).where(CrawlRun.finished_at.is_(None)))
            locks = s.scalar(select(func.count()).select_from(SiteLock))
    finally:
        db.dispose()
    jobs = tmp_path / "data" / "state" / "jobs" / MONTH
    return open_runs, locks, (jobs / f"{SITE}.run.json").is_file() and (jobs / SITE).is_dir()


def test_sigterm_stops_the_crawl_gracefully_leaving_no_worker_and_no_job_file(tmp_path: Path, database_url: str) -> None:
    with SandboxServer(Sandbox(seed=SEED), port=0, month=MONTH) as server:
        crawl, worker = start_crawl(tmp_path, server, database_url)
        try:
            no_job_file(tmp_path)
            crawl.send_signal(signal.SIGTERM)
            _, err = crawl.communicate(timeout=60)
        finally:
            if crawl.poll() is None:
                crawl.kill()
    assert crawl.returncode == 130, err.decode()
    assert wait_for(lambda: gone(worker), 5), "the worker outlived the crawl"
    log = (tmp_path / "data" / "logs" / f"scrapy-{MONTH}.log").read_text("utf-8", "replace")
    assert "the crawl runner stopped (end of stdin): stopping the crawl gracefully" in log
    assert "Closing spider (shutdown)" in log
    assert crawl_state(tmp_path, database_url) == (1, 0, True)  # resumable, lock released
    no_job_file(tmp_path)
    no_password_on_disk(tmp_path)


def test_kill_9_of_the_crawl_stops_its_worker(tmp_path: Path, database_url: str) -> None:
    with SandboxServer(Sandbox(seed=SEED), port=0, month=MONTH) as server:
        crawl, worker = start_crawl(tmp_path, server, database_url)
        try:
            crawl.send_signal(signal.SIGKILL)
            crawl.wait(timeout=10)
            started = time.monotonic()
            assert wait_for(lambda: gone(worker), 30), "the worker outlived the crawl"
            stopped_in = time.monotonic() - started
        finally:
            if crawl.poll() is None:
                crawl.kill()
    assert stopped_in < 15
    log = (tmp_path / "data" / "logs" / f"scrapy-{MONTH}.log").read_text("utf-8", "replace")
    assert "stopping the crawl gracefully" in log and "Closing spider (shutdown)" in log
    assert crawl_state(tmp_path, database_url) == (1, 0, True)  # resumable, lock released
    no_job_file(tmp_path)
    no_password_on_disk(tmp_path)


def test_worker_whose_runner_is_already_gone_does_not_start() -> None:
    """The parent-death signal is asked for after the worker started: a runner that died
    in between is noticed (its parent pid is not the one it was given)."""
    worker = subprocess.run([sys.executable, "-m", "monitor.crawling.worker", "--parent", "1"],
                            input=b"", capture_output=True, timeout=60)
    assert worker.returncode == 1
    assert b"exited before its worker started" in worker.stderr


def test_worker_stuck_after_a_stop_request_ends_itself() -> None:
    """The backstop for a worker whose runner is gone: a stop it cannot carry out (its main
    thread busy) ends the process after STOP_GRACE seconds."""
    script = ("from monitor.crawling import worker\n"
              "worker.STOP_GRACE = 1\n"
              "worker.Stopper().request('test')\n"
              "while True:\n"
              "    pass\n")
    started = time.monotonic()
    stuck = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert stuck.returncode == -signal.SIGALRM, stuck.stderr
    assert time.monotonic() - started < 30
