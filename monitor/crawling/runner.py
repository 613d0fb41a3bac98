"""Run a crawl from Python (the CLI, the monthly job, the scheduler, the demo).

The crawl itself runs in a subprocess (``monitor.crawling.worker``) because Twisted's reactor
cannot be restarted inside a long-lived process. This side starts the database run, hands the
worker what it needs (sites, keywords, listings to revisit, observation time), shows progress,
and returns each site's health. An interrupted crawl of the same month resumes: the worker's
per-site JOBDIRs and this run's id are kept under ``data_dir/state/jobs/<month>/``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from monitor.config import Config
from monitor.exceptions import CrawlError
from monitor.crawling.settings import job_dir, state_dir
from monitor.crawling.sites import SiteFileError, sites_for_config

logger = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    """What a crawl did, per site. ``sites`` maps a site name to its health dict."""

    run_id: int | None
    month: str
    started_at: datetime
    finished_at: datetime | None = None
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_file: Path | None = None
    interrupted: bool = False
    # Measured by the worker: seconds from the first request to the last site's close, and the
    # crawl process's peak memory.
    crawl_seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None

    @property
    def failed_sites(self) -> list[str]:
        return sorted(name for name, health in self.sites.items() if not health.get("healthy"))

    @property
    def ok(self) -> bool:
        return bool(self.sites) and not self.failed_sites and not self.interrupted

    @property
    def pages(self) -> int:
        return sum(int(h.get("pages", 0)) for h in self.sites.values())

    @property
    def items(self) -> int:
        return sum(int(h.get("items", 0)) for h in self.sites.values())


ProgressCallback = Callable[[dict[str, Any]], None]


def default_keywords(config: Config) -> list[str]:
    """Every search keyword of the lexicon (Simplified; spiders convert per site)."""
    from monitor.matching import Lexicon

    lexicon = Lexicon.load(Path(config.keywords_dir) if config.keywords_dir else None)
    terms = [k.term for k in lexicon.search_keywords()]
    return list(dict.fromkeys(terms))


def open_database(config: Config) -> Any:
    """The configured database: a fresh SQLite file is created, any other must be current."""
    from monitor.storage import Database

    config.data_path.mkdir(parents=True, exist_ok=True)
    fresh_sqlite = config.db_url.startswith("sqlite") and not (config.data_path / "wtm.sqlite3").exists() \
        and not config.values.get("database_url")
    db = Database(config.db_url, evidence_dir=config.data_path / "evidence")
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
    """Crawl ``sites`` (default: the configured ones, else all) for ``keywords`` (default: the
    lexicon's search keywords), observing at ``as_of`` (default: now).

    ``progress`` shows a rich progress display when stderr is a terminal and plain log lines
    otherwise; ``on_event`` receives the worker's raw events instead. ``pipelines=False`` and
    ``polite=False`` exist for benchmarks and tests; ``keep_state`` (default: with the pipelines)
    keeps Scrapy's JOBDIR so a killed crawl resumes. One site's failure never stops the others;
    it shows up in ``CrawlSummary.failed_sites``.
    """
    # Stored times are wall-clock times in the configured zone (see monitor.storage.timeutil).
    as_of = as_of or datetime.now(config.tz)
    month = as_of.strftime("%Y-%m")
    errors: list[SiteFileError] = []
    chosen = sites_for_config(config, sites, errors)
    names = sorted(chosen) + [Path(str(e).split(":", 1)[0]).stem for e in errors]
    if not names:
        raise CrawlError("no site definitions to crawl")
    words = list(keywords) if keywords else default_keywords(config)
    kind = run_kind or ("monthly" if not sites else "site")
    started = datetime.now(timezone.utc)

    db = open_database(config) if pipelines else None
    jobs_root = state_dir(config) / "jobs" / month
    run_file = jobs_root / "run.json"
    run_id: int | None = None
    if db is not None:
        resumable = run_file.is_file() and any(job_dir(config, month, n).exists() for n in names)
        if resumable:
            run_id = int(json.loads(run_file.read_text(encoding="utf-8"))["run_id"])
            logger.info("resuming interrupted crawl run %s of %s", run_id, month)
        else:
            for name in names:  # stale state of a finished job must not filter this one
                _remove_tree(job_dir(config, month, name))
            run_id = db.start_run(kind=kind, started_at=as_of, month=month)
            jobs_root.mkdir(parents=True, exist_ok=True)
            run_file.write_text(json.dumps({"run_id": run_id, "kind": kind}), encoding="utf-8")
        revisit = {name: [list(pair) for pair in db.listings_to_revisit(name)] for name in chosen}
    else:
        revisit = {}

    logs = config.data_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_file = logs / f"scrapy-{month}.log"
    summary = CrawlSummary(run_id=run_id, month=month, started_at=started, log_file=log_file)
    with tempfile.TemporaryDirectory(prefix="wtm-crawl-") as tmp:
        job = {
            "config": dict(config.values), "sites": names, "keywords": words, "as_of": as_of.isoformat(),
            "run_id": run_id, "job": month if (pipelines if keep_state is None else keep_state) else "", "pipelines": pipelines, "polite": polite,
            "revisit": revisit, "summary": str(Path(tmp) / "summary.json"),
            "settings_overrides": settings_overrides or {},
        }
        job_file = Path(tmp) / "job.json"
        job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        display = _Display(names, progress, on_event)
        with open(log_file, "ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "monitor.crawling.worker", str(job_file)],
                stdout=subprocess.PIPE, stderr=log, env=_worker_env(),
            )
            try:
                with display:
                    assert worker.stdout is not None
                    for line in worker.stdout:
                        event = _parse_event(line)
                        if event is None:
                            continue
                        if event.get("event") == "site_done":
                            summary.sites[event["site"]] = event["health"]
                        elif event.get("event") == "done":
                            summary.crawl_seconds = event.get("crawl_s")
                            summary.peak_rss_mb = event.get("peak_rss_mb")
                            summary.cpu_seconds = event.get("cpu_s")
                        display.update(event)
                worker.wait()
            except KeyboardInterrupt:
                summary.interrupted = True
                _stop(worker)
                raise
            finally:
                summary.finished_at = datetime.now(timezone.utc)
                _finish(config, db, summary, names, month)
        summary_file = Path(job["summary"])
        if summary_file.is_file():
            for name, health in json.loads(summary_file.read_text(encoding="utf-8"))["sites"].items():
                summary.sites.setdefault(name, health)
    if worker.returncode not in (0, None) and not summary.sites:
        raise CrawlError(f"the crawl worker exited with status {worker.returncode}; see {log_file}")
    for name in names:
        if name not in summary.sites:
            summary.sites[name] = {"healthy": False, "items": 0, "pages": 0, "errors": {"crawl_failed": 1},
                                   "problems": [f"no outcome reported; see {log_file}"], "finish_reason": "unknown"}
    return summary


def _finish(config: Config, db: Any, summary: CrawlSummary, names: Iterable[str], month: str) -> None:
    """Log one line per site, close the database run when no site is left to resume."""
    unfinished = [n for n in names if job_dir(config, month, n).exists()]
    if db is not None and summary.run_id is not None and not unfinished and not summary.interrupted:
        db.finish_run(summary.run_id, summary.finished_at)
        (state_dir(config) / "jobs" / month / "run.json").unlink(missing_ok=True)
    lines = []
    stamp = (summary.finished_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    for name in sorted(summary.sites):
        lines.append(outcome_line(name, summary.sites[name], stamp, summary.month))
    if lines:
        with open(config.data_path / "logs" / "crawl.log", "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        for line in lines:
            logger.info("%s", line)
    if db is not None and hasattr(db, "dispose"):
        db.dispose()


def outcome_line(name: str, health: dict[str, Any], stamp: str = "", month: str = "") -> str:
    """One greppable line per site and run."""
    verdict = "ok" if health.get("healthy") else "UNHEALTHY"
    errors = ",".join(f"{k}={v}" for k, v in sorted((health.get("errors") or {}).items())) or "-"
    problems = "; ".join(health.get("problems") or []) or "-"
    return (
        f"{stamp} month={month} site={name} outcome={verdict} pages={health.get('pages', 0)} "
        f"items={health.get('items', 0)} removed={health.get('removed', 0)} "
        f"finish={health.get('finish_reason', '?')} duration_s={health.get('duration_s', 0)} "
        f"errors={errors} problems={problems}"
    ).strip()


def _parse_event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop gracefully (Scrapy saves its JOBDIR state), then wait."""
    import signal

    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=120)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class _Display:
    """rich progress bars on a terminal, plain log lines otherwise."""

    def __init__(self, names: list[str], enabled: bool, on_event: ProgressCallback | None) -> None:
        self.names = names
        self.enabled = enabled
        self.on_event = on_event
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.last_log = 0.0

    def __enter__(self) -> "_Display":
        if self.enabled and self.on_event is None and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(), transient=False,
            )
            self.progress.start()
            overall = self.progress.add_task("all sites", total=len(self.names), status="")
            self.tasks["__all__"] = overall
            for name in self.names:
                self.tasks[name] = self.progress.add_task(name, total=None, status="waiting")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event)
            return
        if not self.enabled:
            return
        kind = event.get("event")
        if self.progress is not None:
            if kind == "progress":
                for name, counts in event["sites"].items():
                    if name in self.tasks:
                        self.progress.update(self.tasks[name], status=f"{counts['pages']} pages, {counts['items']} listings")
            elif kind == "site_done":
                health = event["health"]
                status = "ok" if health.get("healthy") else "UNHEALTHY: " + "; ".join(health.get("problems", []))
                task_id = self.tasks.get(event["site"])
                if task_id is not None:
                    self.progress.update(task_id, total=1, completed=1,
                                         status=f"{health.get('pages', 0)} pages, {health.get('items', 0)} listings, {status}")
                self.progress.advance(self.tasks["__all__"])
            return
        if kind == "site_done":
            logger.info("%s", outcome_line(event["site"], event["health"]))
        elif kind == "progress" and time.monotonic() - self.last_log > 30:
            self.last_log = time.monotonic()
            pages = sum(c["pages"] for c in event["sites"].values())
            items = sum(c["items"] for c in event["sites"].values())
            logger.info("crawling %d sites: %d pages, %d listings so far", len(event["sites"]), pages, items)
