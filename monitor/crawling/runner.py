"""Run a crawl on this machine (the CLI, the monthly job, the scheduler and the demo call it
through ``monitor.crawljobs.crawl``, which sends the crawl to Scrapyd nodes instead when
``scrapyd_urls`` names any).

The crawl itself runs in a subprocess (``monitor.crawling.worker``) because Twisted's reactor
cannot be restarted inside a long-lived process. This side locks the sites, starts the database
run, hands the worker what it needs (sites, keywords, listings to revisit, observation time)
through the worker's stdin, shows progress, and returns each site's health. An interrupted crawl
of the same month resumes: the worker's per-site JOBDIRs and this run's id are kept under
``data_dir/state/jobs/<month>/``.

The worker lives no longer than this side: it stops gracefully when its stdin closes (this
process ended, however) or, on Linux, when the kernel signals its parent's death; SIGINT or
SIGTERM here stops it the same way and leaves the crawl resumable.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from monitor.config import Config
from monitor.crawlhealth import SiteHealth
from monitor.exceptions import CrawlError
from monitor.crawling.interrupts import Interrupts
from monitor.crawling.progress import ProgressCallback, ProgressDisplay, outcome_line
from monitor.crawling.settings import job_dir, state_dir
from monitor.crawling.site_locks import STOP_TIMEOUT, SiteLocks
from monitor.crawling.sites import SiteFileError, sites_for_config

logger = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    """What a crawl did, per site. ``sites`` maps a site name to its health."""

    run_id: int | None
    month: str
    started_at: datetime
    finished_at: datetime | None = None
    sites: dict[str, SiteHealth] = field(default_factory=dict)
    log_file: Path | None = None
    interrupted: bool = False
    # Measured by the worker: seconds from the first request to the last site's close, and the
    # crawl process's peak memory.
    crawl_seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None

    @property
    def failed_sites(self) -> list[str]:
        return sorted(name for name, health in self.sites.items() if not health.healthy)

    @property
    def ok(self) -> bool:
        return bool(self.sites) and not self.failed_sites and not self.interrupted

    @property
    def pages(self) -> int:
        return sum(h.pages for h in self.sites.values())

    @property
    def items(self) -> int:
        return sum(h.items for h in self.sites.values())


def default_keywords(config: Config) -> list[str]:
    """Every search keyword of the lexicon (Simplified; spiders convert per site)."""
    from monitor.matching import Lexicon

    lexicon = Lexicon.load(Path(config.keywords_dir) if config.keywords_dir else None)
    terms = [k.term for k in lexicon.search_keywords()]
    return list(dict.fromkeys(terms))


def _load_lexicon(config: Config) -> Any:
    from monitor.matching import Lexicon

    return Lexicon.load(Path(config.keywords_dir) if config.keywords_dir else None)


def _plans(config: Config, sites: dict[str, Any], month: str, db: Any, lexicon: Any) -> dict[str, Any]:
    """Each site's queries for the month and their kinds, for the worker."""
    from monitor.crawling.planner import plan_sites

    return {name: plan.to_job() for name, plan in plan_sites(config, sites, month, db=db, lexicon=lexicon).items()}


def open_database(config: Config) -> Any:
    """The configured database: a fresh SQLite file is created, any other must be current."""
    from monitor.storage import Database

    config.data_path.mkdir(parents=True, exist_ok=True)
    fresh_sqlite = config.db_url.startswith("sqlite") and not (config.data_path / "wtm.sqlite3").exists() \
        and not config.values.get("database_url")
    db = Database.from_config(config)
    if fresh_sqlite:
        db.upgrade()
    else:
        db.check_current()
    return db


def run_crawl(
    config: Config,
    sites: list[str] | None = None,
    keywords: list[str] | None = None,
    as_of: datetime | None = None,
    progress: bool = True,
    *,
    on_event: ProgressCallback | None = None,
    pipelines: bool = True,
    polite: bool = True,
    keep_state: bool | None = None,
    run_kind: str | None = None,
    settings_overrides: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl ``sites`` (default: the configured ones, else all) for ``keywords`` (default: each
    site's own query plan, ``monitor.crawling.planner``, from the lexicon and the stored yields,
    within ``requests_per_site``), observing at ``as_of`` (default: now).

    ``progress`` shows a rich progress display when stderr is a terminal and plain log lines
    otherwise; ``on_event`` receives the worker's raw events instead. ``pipelines=False`` and
    ``polite=False`` exist for benchmarks and tests; ``keep_state`` (default: with the pipelines)
    keeps Scrapy's JOBDIR so a killed crawl resumes. One site's failure never stops the others;
    it shows up in ``CrawlSummary.failed_sites``.

    Steps: 1. lock the sites (``SiteLocks`` on this machine, then the database's lock rows), so
    a crawl refused with CrawlLockedError has touched nothing; 2. resume this month's
    interrupted run or start one; 3. run the worker, fed the job through its stdin, until it
    ends or SIGINT/SIGTERM stops it gracefully (KeyboardInterrupt, the crawl left resumable);
    4. close the run unless a site is left to resume.
    """
    # Stored times are wall-clock times in the configured zone (see monitor.storage.timeutil).
    as_of = as_of or datetime.now(config.tz)
    month = as_of.strftime("%Y-%m")
    errors: list[SiteFileError] = []
    chosen = sites_for_config(config, sites, errors)
    names = sorted(chosen) + [Path(str(e).split(":", 1)[0]).stem for e in errors]
    if not names:
        raise CrawlError("no site definitions to crawl")
    words = list(keywords) if keywords else []
    lexicon = None if words else _load_lexicon(config)  # a bad lexicon stops the crawl before it touches anything
    kind = run_kind or ("monthly" if not sites else "site")
    started = datetime.now(timezone.utc)

    with SiteLocks(state_dir(config) / "locks", names) as locks, Interrupts() as interrupts:
        db = open_database(config) if pipelines else None
        try:
            if db is not None:
                from monitor.storage.recorder import check_site_locks

                check_site_locks(db, names)  # a crawl from another machine or data folder
            run_id = _open_run(config, db, names, month, kind, as_of)
            revisit = {name: [list(pair) for pair in db.listings_to_revisit(name)] for name in chosen} if db else {}
            plans = {} if words else _plans(config, chosen, month, db, lexicon)
        except BaseException:
            _dispose(db)
            raise

        logs = config.data_path / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_file = logs / f"scrapy-{month}.log"
        summary = CrawlSummary(run_id=run_id, month=month, started_at=started, log_file=log_file)
        job = {
            "config": dict(config.values), "sites": names, "keywords": words, "as_of": as_of.isoformat(),
            "run_id": run_id, "job": month if (pipelines if keep_state is None else keep_state) else "",
            "pipelines": pipelines, "polite": polite, "revisit": revisit, "plans": plans,
            "settings_overrides": settings_overrides or {},
        }
        display = ProgressDisplay(names, progress, on_event)
        returncode: int | None = None
        try:
            returncode = _supervise(job, summary, display, log_file, locks, interrupts)
        finally:
            interrupts.defer = True  # closing the run is not cut short by a signal
            summary.finished_at = datetime.now(timezone.utc)
            _finish(config, db, summary, names, month)
    if returncode not in (0, None) and not summary.sites:
        raise CrawlError(f"the crawl worker exited with status {returncode}; see {log_file}")
    for name in names:
        if name not in summary.sites:
            summary.sites[name] = SiteHealth.failed(f"no outcome reported; see {log_file}", finish_reason="unknown")
    return summary


def _open_run(config: Config, db: Any, names: list[str], month: str, kind: str, as_of: datetime) -> int | None:
    """This month's interrupted run of these sites (its JOBDIRs kept), else a new run with no
    stale JOBDIR left; called with the sites locked. Each site records its run in its own file,
    so crawls of different sites in the same month never overwrite each other's."""
    if db is None:
        return None
    interrupted = {_recorded_run(config, month, n) for n in names if job_dir(config, month, n).exists()}
    if len(interrupted) == 1 and None not in interrupted:
        run_id = interrupted.pop()
        logger.info("resuming interrupted crawl run %s of %s", run_id, month)
    else:
        for name in names:  # stale state of a finished job must not filter this one
            _remove_tree(job_dir(config, month, name))
        run_id = db.start_run(kind=kind, started_at=as_of, month=month)
    for name in names:
        path = _run_file(config, month, name)
        if _recorded_run(config, month, name) != run_id:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"run_id": run_id, "kind": kind}), encoding="utf-8")
    return run_id


def _run_file(config: Config, month: str, site: str) -> Path:
    return state_dir(config) / "jobs" / month / f"{site}.run.json"


def _recorded_run(config: Config, month: str, site: str) -> int | None:
    try:
        return int(json.loads(_run_file(config, month, site).read_text(encoding="utf-8"))["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _supervise(job: dict[str, Any], summary: CrawlSummary, display: "ProgressDisplay", log_file: Path,
               locks: "SiteLocks", interrupts: "Interrupts") -> int | None:
    """Run the worker to its end, gathering its events into ``summary``; returns its exit status.

    The worker inherits the site locks (so they stay held until it too has exited), gets the
    job through its stdin (nothing with a password is written to disk) and stops gracefully
    when that closes. If anything interrupts this (SIGINT, SIGTERM, an error), the worker is
    stopped that way and waited for, and the crawl counts as interrupted (resumable).
    """
    with open(log_file, "ab") as log, display:
        worker = subprocess.Popen(
            [sys.executable, "-u", "-m", "monitor.crawling.worker", "--parent", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, pass_fds=locks.fds,
        )
        try:
            interrupts.worker = worker
            locks.note_worker(worker.pid)
            _send_job(worker, job)
            _follow(worker, summary, display)
            return worker.wait()
        except BaseException as exc:
            summary.interrupted = True
            logger.warning("%s: stopping the crawl gracefully; the same crawl run again resumes it",
                           exc if isinstance(exc, KeyboardInterrupt) and str(exc) else type(exc).__name__)
            _stop(worker, summary, display)
            raise
        finally:
            interrupts.worker = None
            _close_quietly(worker.stdin)


def _send_job(worker: subprocess.Popen[bytes], job: dict[str, Any]) -> None:
    """The job as one JSON line on the worker's stdin, which then stays open: its closing is
    the worker's signal to stop."""
    assert worker.stdin is not None
    try:
        worker.stdin.write(json.dumps(job, ensure_ascii=False).encode("utf-8") + b"\n")
        worker.stdin.flush()
    except BrokenPipeError:
        pass  # the worker died at start: its exit status and log tell why


def _follow(worker: subprocess.Popen[bytes], summary: CrawlSummary, display: "ProgressDisplay") -> None:
    """Read the worker's events until it closes its stdout."""
    assert worker.stdout is not None
    for line in worker.stdout:
        event = _parse_event(line)
        if event is None:
            continue
        if event.get("event") == "site_done":
            summary.sites[event["site"]] = SiteHealth.from_json(event["health"])
        elif event.get("event") == "done":
            summary.crawl_seconds = event.get("crawl_s")
            summary.peak_rss_mb = event.get("peak_rss_mb")
            summary.cpu_seconds = event.get("cpu_s")
            for name, health in (event.get("sites") or {}).items():
                summary.sites.setdefault(name, SiteHealth.from_json(health))
        display.update(event)


def _finish(config: Config, db: Any, summary: CrawlSummary, names: Iterable[str], month: str) -> None:
    """Log one line per site, close the database run when no site is left to resume."""
    unfinished = [n for n in names if job_dir(config, month, n).exists()]
    for name in names:
        if name not in unfinished and _recorded_run(config, month, name) == summary.run_id:
            _run_file(config, month, name).unlink(missing_ok=True)
    if db is not None and summary.run_id is not None and not unfinished and not summary.interrupted:
        db.finish_run(summary.run_id, summary.finished_at)
    lines = []
    stamp = (summary.finished_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    for name in sorted(summary.sites):
        lines.append(outcome_line(name, summary.sites[name], stamp, summary.month))
    if lines:
        try:
            with open(config.data_path / "logs" / "crawl.log", "a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        except OSError as exc:  # a full disk: the outcome still reaches the terminal below
            logger.warning("could not append to %s: %s", config.data_path / "logs" / "crawl.log", exc)
        for line in lines:
            logger.info("%s", line)
    _dispose(db)


def _dispose(db: Any) -> None:
    if db is not None and hasattr(db, "dispose"):
        db.dispose()


def _parse_event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _stop(worker: subprocess.Popen[bytes], summary: CrawlSummary, display: "ProgressDisplay") -> None:
    """Ask the worker to stop gracefully (its stdin closes; Scrapy saves its JOBDIR state) and
    wait for it, still reading its events (the interrupted sites' health), at most STOP_TIMEOUT
    seconds before killing it. A second SIGINT/SIGTERM kills it at once (see ``Interrupts``)."""
    if worker.stdin is not None:
        _close_quietly(worker.stdin)
    timer = threading.Timer(STOP_TIMEOUT, _kill_quietly, args=(worker,))
    timer.daemon = True
    timer.start()
    try:
        _follow(worker, summary, display)
        worker.wait()
    finally:
        timer.cancel()


def _kill_quietly(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        logger.warning("the crawl worker (pid %s) did not stop in time; killing it", worker.pid)
        try:
            worker.kill()
        except OSError:
            pass


def _close_quietly(stream: Any) -> None:
    try:
        stream.close()
    except OSError:
        pass


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


