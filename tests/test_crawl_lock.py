"""One crawl of a site at a time, and a dead crawl never blocks the next one.

A second `wtm crawl` of a site is refused (exit 5) before it touches anything, so the first
finishes intact; a crawl killed with kill -9 is rerun at once and resumes. Real `wtm crawl`
processes against the sandbox on 127.0.0.1, real Scrapy, a real SQLite file in tmp_path; the
lock rules themselves are checked on SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from monitor.crawling import site_locks
from monitor.crawling.site_locks import SiteLocks
from monitor.crawling.sites import load_sites
from monitor.exceptions import CrawlLockedError
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import SiteCrawl, SiteLock
from monitor.storage.recorder import check_site_locks, ensure_site, owner_alive, process_owner

SITE = "huaxiacang"
KEYWORDS = ["象牙", "手串"]
MONTH = "2025-12"
SEED = 20120101


# -- helpers: real crawls in subprocesses ----------------------------------------------------


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def crawl_command(data: Path) -> list[str]:
    command = [sys.executable, "-m", "monitor", "--data-dir", str(data), "crawl", "--as-of", f"{MONTH}-31T20:00",
               "--site", SITE]
    for keyword in KEYWORDS:
        command += ["--keyword", keyword]
    return command


def crawl_env(server: SandboxServer, delay: float, **extra: str) -> dict[str, str]:
    """Polite and slow (one request at a time, ``delay`` seconds apart), or fast with delay 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
    env.update(WTM_SANDBOX_URL=server.url, WTM_DOWNLOAD_DELAY=str(delay), WTM_AUTOTHROTTLE="false",
               WTM_CONCURRENCY_PER_SITE="1" if delay else "4", **extra)
    return env


def query(db_path: Path, sql: str) -> list[tuple]:
    if not db_path.is_file():
        return []
    with sqlite3.connect(db_path, timeout=10) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the schema is still being created
            return []


def worker_of(runner_pid: int) -> int | None:
    """The pid of the crawl worker started by ``runner_pid``, if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        if ppid == runner_pid and b"monitor.crawling.worker" in cmdline:
            return int(entry.name)
    return None


def gone(pid: int) -> bool:
    """The process exited (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:].split()[0] in (b"Z", b"X")


def reachable_listings(world: Sandbox) -> set[tuple[str, str]]:
    truth = {(x["site"], x["external_id"]): x for x in world.truth(MONTH)}
    site = load_sites(names=[SITE])[SITE]
    return {
        (SITE, external_id)
        for keyword in KEYWORDS
        for external_id in world.search(SITE, site.site_keyword(keyword), MONTH)
        if truth.get((SITE, external_id), {}).get("state") == "live"
    }


# -- real crawls ----------------------------------------------------------------------------


def test_second_crawl_is_refused_at_once_and_the_first_finishes_intact(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_path = data / "wtm.sqlite3"
    jobs = data / "state" / "jobs" / MONTH
    elsewhere = tmp_path / "elsewhere"  # another data folder (as from another machine), same database
    with SandboxServer(Sandbox(seed=SEED), port=0, month=MONTH) as server:
        env = crawl_env(server, delay=0.3)
        first = subprocess.Popen(crawl_command(data), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            assert wait_for(lambda: query(db_path, "SELECT owner FROM site_locks"), 60), "the crawl did not start"
            run_file = (jobs / f"{SITE}.run.json").read_bytes()
            state = sorted(p.name for p in (jobs / SITE).iterdir())
            started = time.monotonic()
            same = subprocess.Popen(crawl_command(data), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            other = subprocess.Popen(crawl_command(elsewhere), cwd=tmp_path, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env={**env, "WTM_DATABASE_URL": f"sqlite:///{db_path}"})
            same_err = same.communicate(timeout=60)[1].decode()
            other_err = other.communicate(timeout=60)[1].decode()
            refused_in = time.monotonic() - started
            assert first.poll() is None, "the first crawl ended before the second was refused: slow it down"
            # Nothing of the running crawl was touched.
            assert (jobs / f"{SITE}.run.json").read_bytes() == run_file
            assert set(state) <= {p.name for p in (jobs / SITE).iterdir()}
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()

    assert same.returncode == 5, same_err
    assert "CrawlLockedError" in same_err and "being crawled by process" in same_err, same_err
    assert other.returncode == 5, other_err
    assert "CrawlLockedError" in other_err, other_err
    assert refused_in < 30
    assert not (elsewhere / "state" / "jobs").exists()

    assert first.returncode == 0, err.decode()
    runs = query(db_path, "SELECT id, finished_at IS NOT NULL FROM crawl_runs")
    assert runs == [(1, 1)], runs
    assert query(db_path, "SELECT status FROM site_crawls") == [("finished",)]
    assert query(db_path, "SELECT COUNT(*) FROM listings")[0][0] > 0
    assert query(db_path, "SELECT COUNT(*) FROM site_locks") == [(0,)]
    assert not jobs.exists() or not any(jobs.iterdir())


def test_rerun_after_kill_9_starts_at_once_and_resumes_without_loss(tmp_path: Path) -> None:
    """kill -9 of `wtm crawl`: its worker stops gracefully (saving its state) and the rerun,
    started at once, waits for it rather than being refused, then resumes the same run."""
    world = Sandbox(seed=SEED)
    data = tmp_path / "data"
    db_path = data / "wtm.sqlite3"
    with SandboxServer(world, port=0, month=MONTH) as server:
        first = subprocess.Popen(crawl_command(data), env=crawl_env(server, delay=0.2), cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda: worker_of(first.pid) is not None, 60), "no worker started"
            worker = worker_of(first.pid)
            assert wait_for(lambda: server.requests >= 8, 60), "the crawl did not start"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        started = time.monotonic()
        rerun = subprocess.run(crawl_command(data), env=crawl_env(server, delay=0), cwd=tmp_path,
                               capture_output=True, timeout=180)
        took = time.monotonic() - started

    err = rerun.stderr.decode()
    assert rerun.returncode == 0, err
    assert took < 60, err
    assert "resuming interrupted crawl run 1" in err, err
    assert worker is not None and gone(worker)
    assert query(db_path, "SELECT id, finished_at IS NOT NULL FROM crawl_runs") == [(1, 1)]
    stored = set(query(db_path, "SELECT s.name, l.external_id FROM listings l JOIN sites s ON s.id = l.site_id"))
    reachable = reachable_listings(world)
    assert reachable <= stored, sorted(reachable - stored)[:10]
    duplicates = query(db_path, "SELECT COUNT(*) FROM (SELECT o.listing_id FROM observations o JOIN site_crawls c "
                                "ON c.id = o.site_crawl_id GROUP BY o.listing_id, c.run_id HAVING COUNT(*) > 1)")
    assert duplicates == [(0,)]
    assert query(db_path, "SELECT COUNT(*) FROM observations") == [(len(stored),)]
    assert query(db_path, "SELECT COUNT(*) FROM site_locks") == [(0,)]


def test_lock_of_a_crawl_killed_outright_is_taken_over_at_once(tmp_path: Path) -> None:
    """kill -9 of both `wtm crawl` and its worker leaves the database's lock row behind: the
    rerun sees that its holder died on this machine and takes it over, with no 10-minute wait."""
    data = tmp_path / "data"
    db_path = data / "wtm.sqlite3"
    with SandboxServer(Sandbox(seed=SEED), port=0, month=MONTH) as server:
        first = subprocess.Popen(crawl_command(data), env=crawl_env(server, delay=0.3), cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            held = "SELECT owner FROM site_locks WHERE site_crawl_id IS NOT NULL"  # its site crawl recorded too
            assert wait_for(lambda: query(db_path, held), 60), "the crawl did not start"
            worker = worker_of(first.pid)
            assert worker is not None
            os.kill(worker, signal.SIGKILL)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        assert wait_for(lambda: gone(worker), 10)
        assert query(db_path, "SELECT COUNT(*) FROM site_locks") == [(1,)]
        started = time.monotonic()
        rerun = subprocess.run(crawl_command(data), env=crawl_env(server, delay=0), cwd=tmp_path,
                               capture_output=True, timeout=120)
        took = time.monotonic() - started

    err = rerun.stderr.decode()
    assert rerun.returncode == 0, err
    assert took < 60, err
    assert "resuming interrupted crawl run 1" in err, err
    scrapy_log = (data / "logs" / f"scrapy-{MONTH}.log").read_text("utf-8", "replace")
    assert "took over the lock held by" in scrapy_log and "(its process is gone)" in scrapy_log
    assert query(db_path, "SELECT id, finished_at IS NOT NULL FROM crawl_runs") == [(1, 1)]
    assert query(db_path, "SELECT status FROM site_crawls ORDER BY id") == [("failed",), ("finished",)]
    assert query(db_path, "SELECT COUNT(*) FROM site_locks") == [(0,)]


# -- the rules, without Scrapy --------------------------------------------------------------


def dead_process_owner() -> str:
    """The lock owner a process that has since exited wrote."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    owner = process_owner(child.pid)
    child.communicate()
    return owner


def hold_lock(db: Database, site: str, owner: str, heartbeat: datetime, site_crawl_id: int | None = None) -> None:
    site_id = ensure_site(db, site)
    with db.engine.begin() as conn:
        conn.execute(insert(SiteLock).values(site_id=site_id, owner=owner, site_crawl_id=site_crawl_id,
                                             acquired_at=heartbeat, heartbeat_at=heartbeat))


def test_owner_names_a_process_by_host_pid_and_start_time() -> None:
    me = process_owner()
    host, pid, start, _tag = me.split(":")
    assert pid == str(os.getpid()) and start
    assert owner_alive(me) is True
    assert owner_alive(dead_process_owner()) is False
    ticks, boot, namespace = start.split("@")
    assert owner_alive(f"{host}:{pid}:1@{boot}@{namespace}:x") is False  # pid reused by another process
    assert owner_alive(f"{host}:{pid}:{ticks}@0ther000@{namespace}:x") is False  # this machine restarted since
    assert owner_alive(f"{host}:{pid}:{ticks}@{boot}@1:x") is None  # another container with this host name
    assert owner_alive(f"elsewhere.example:{pid}:{start}:x") is None  # another machine: only the heartbeat tells
    assert owner_alive(f"{host}:{pid}:0c1d2e3f") is None  # an owner written before owners named processes


def test_lock_rows_stand_while_their_holder_may_run(db: Database) -> None:
    now = datetime.now()
    hold_lock(db, "live", process_owner(), now)
    hold_lock(db, "remote", "elsewhere.example:4242:123@abcdef12:x", now)
    hold_lock(db, "remote_stale", "elsewhere.example:4242:123@abcdef12:x", now - timedelta(minutes=11))
    hold_lock(db, "dead", dead_process_owner(), now)
    for site in ("live", "remote"):
        with pytest.raises(CrawlLockedError, match=site):
            check_site_locks(db, [site])
        run = db.start_run("site", now, MONTH)
        with pytest.raises(CrawlLockedError, match=site):
            CrawlRecorder(db, run_id=run, site=site)
    check_site_locks(db, ["remote_stale", "dead", "never_crawled"])


def test_lock_of_a_dead_holder_is_taken_over_at_once_and_its_crawl_marked_failed(db: Database) -> None:
    now = datetime.now()
    run = db.start_run("site", now, MONTH)
    site_id = ensure_site(db, "dead")
    with db.engine.begin() as conn:
        abandoned = conn.execute(insert(SiteCrawl).values(run_id=run, site_id=site_id, month=MONTH, started_at=now,
                                                          status="running").returning(SiteCrawl.id)).scalar_one()
    hold_lock(db, "dead", dead_process_owner(), now, abandoned)
    with CrawlRecorder(db, run_id=run, site="dead") as recorder:
        with db.engine.begin() as conn:
            assert conn.execute(select(SiteLock.owner)).scalar_one() == recorder.owner
    with db.engine.begin() as conn:
        crawls = conn.execute(select(SiteCrawl.id, SiteCrawl.status, SiteCrawl.health).order_by(SiteCrawl.id)).all()
        assert conn.execute(select(SiteLock)).first() is None
    assert [(c.id, c.status) for c in crawls] == [(abandoned, "failed"), (crawls[1].id, "finished")]
    assert crawls[0].health["problems"] == ["abandoned: its process is gone"]


def test_site_lock_refuses_a_second_crawl_on_this_machine_at_once(tmp_path: Path) -> None:
    with SiteLocks(tmp_path, ["a", "b"]):
        started = time.monotonic()
        with pytest.raises(CrawlLockedError, match=f"'b' is being crawled by process {os.getpid()}"):
            with SiteLocks(tmp_path, ["b", "c"]):
                pass
        assert time.monotonic() - started < 1
        with SiteLocks(tmp_path, ["c"]):  # the refused crawl kept no lock
            pass
    with SiteLocks(tmp_path, ["a", "b"]):  # released
        pass


def killed_crawl_with_worker(folder: Path, worker_seconds: float) -> int:
    """A crawl process that takes the site lock of "x", starts a worker sharing it, and dies
    (kill -9 style); returns the worker's pid."""
    script = textwrap.dedent(f"""
        import os, subprocess, sys
        from pathlib import Path
        from monitor.crawling.site_locks import SiteLocks
        locks = SiteLocks(Path({str(folder)!r}), ["x"]).__enter__()
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep({worker_seconds})"],
                                  pass_fds=locks.fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        locks.note_worker(worker.pid)
        print(worker.pid, flush=True)
        os._exit(9)
    """)
    crawl = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert crawl.returncode == 9, crawl.stderr
    return int(crawl.stdout)


def test_site_lock_of_a_killed_crawl_waits_for_its_worker(tmp_path: Path) -> None:
    worker = killed_crawl_with_worker(tmp_path, 2.0)
    assert not gone(worker)
    started = time.monotonic()
    with SiteLocks(tmp_path, ["x"]):
        waited = time.monotonic() - started
        assert wait_for(lambda: gone(worker), 5)  # its descriptors close just before it is gone
    assert 0.5 < waited < 10


def test_site_lock_gives_up_on_a_worker_that_does_not_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_locks, "ORPHAN_WAIT", 0.5)
    worker = killed_crawl_with_worker(tmp_path, 30.0)
    try:
        with pytest.raises(CrawlLockedError, match=f"worker \\(pid {worker}\\) of a killed crawl"):
            with SiteLocks(tmp_path, ["x"]):
                pass
    finally:
        os.kill(worker, signal.SIGKILL)


def test_crawls_of_different_sites_in_one_month_keep_their_own_runs(tmp_path: Path) -> None:
    """Each site records the run it belongs to, so an interrupted crawl of one site resumes its
    own run even after another site's crawl started a run in the same month."""
    from datetime import datetime

    from monitor.config import load_config
    from monitor.crawling.runner import _open_run
    from monitor.crawling.settings import job_dir
    from monitor.storage import Database

    config = load_config(overrides={"data_dir": str(tmp_path / "data")})
    db = Database(f"sqlite:///{tmp_path / 'wtm.sqlite3'}")
    db.upgrade()
    try:
        as_of = datetime(2025, 6, 30, 12, 0)
        first = _open_run(config, db, ["alpha"], MONTH, "site", as_of)
        job_dir(config, MONTH, "alpha").mkdir(parents=True)  # alpha was interrupted
        second = _open_run(config, db, ["beta"], MONTH, "site", as_of)
        assert second != first
        assert _open_run(config, db, ["alpha"], MONTH, "site", as_of) == first
        assert _open_run(config, db, ["beta"], MONTH, "site", as_of) not in (first, second)  # beta finished: fresh
    finally:
        db.dispose()


def test_a_queue_left_by_a_killed_crawl_is_discarded_and_a_cleanly_stopped_one_kept(tmp_path: Path) -> None:
    """kill -9 can cut Scrapy's disk queue mid-record; resuming it failed at the first request
    (struct.error in queuelib), so such a site is crawled afresh instead."""
    from queuelib import LifoDiskQueue

    from monitor.crawling.settings import discard_killed_queue

    killed = tmp_path / "killed"
    (killed / "requests.queue").mkdir(parents=True)
    (killed / "requests.queue" / "0").write_bytes(b"\x00\x00")  # cut inside the queue's size field
    with pytest.raises(Exception):
        LifoDiskQueue(str(killed / "requests.queue" / "0"))  # what Scrapy would have read
    assert discard_killed_queue(killed) is True
    assert not killed.exists()

    stopped = tmp_path / "stopped"
    queue = stopped / "requests.queue"
    queue.mkdir(parents=True)
    kept = LifoDiskQueue(str(queue / "0"))
    kept.push(b"a request")
    kept.close()
    time.sleep(0.01)
    (queue / "active.json").write_text("[0]", "utf-8")  # written last, on a clean stop
    assert discard_killed_queue(stopped) is False
    assert (queue / "0").exists()

    os.utime(queue / "0", (time.time() + 5, time.time() + 5))  # written to after the clean stop
    assert discard_killed_queue(stopped) is True
    assert discard_killed_queue(tmp_path / "never-started") is False
