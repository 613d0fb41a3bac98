"""The crawl subprocess: ``python -u -m monitor.crawling.worker --parent PID``, the job as one
JSON line on stdin.

Twisted's reactor cannot be restarted, so every crawl runs in a fresh process started by
``monitor.crawling.runner``. All chosen sites crawl at once in one ``AsyncCrawlerProcess`` (one
crawler, settings and throttle per site); one site failing to start or crash never stops
the others. Progress and each site's outcome go to stdout as JSON lines; Scrapy's log goes
to stderr (the runner sends it to a log file).

The job (with the configuration, database password included) comes through stdin, so it is
never written to disk. The worker does not outlive its runner: stdin stays open for the whole
crawl and its end (the runner closed it, or died) stops the crawl gracefully, as does SIGTERM
or SIGINT; on Linux the kernel sends SIGTERM when the runner dies (PR_SET_PDEATHSIG). A
graceful stop lets Scrapy save each site's JOBDIR, so the crawl resumes; a second signal forces
the stop, and a stop that takes over STOP_GRACE seconds ends the process.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.crawlhealth import SiteHealth, Stat
from monitor.crawling.health import GOOD_FINISH, HEALTH_STAT
from monitor.crawling.settings import crawl_settings, discard_killed_queue, job_dir, site_settings
from monitor.crawling.sites import load_sites

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Seconds a graceful stop may take before the kernel ends the worker (SIGALRM): the backstop
# for a worker whose runner is gone and whose reactor is stuck. As long as the runner's own
# STOP_TIMEOUT, after which a runner still alive kills it.
STOP_GRACE = 120

_runner_gone = False


def emit(event: dict[str, Any]) -> None:
    global _runner_gone
    if _runner_gone:
        return
    try:
        sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # Nobody reads any more: the runner is gone (its stdin watchdog stops the crawl).
        _runner_gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # so the buffered rest cannot fail again at exit
        os.close(devnull)


def failed_health(problem: str) -> dict[str, Any]:
    return SiteHealth.failed(problem).to_json()


def _stats_of(crawler: Any) -> Any:
    """The crawler's stats, or None for a crawler that never started (its spider failed to open)."""
    try:
        return crawler.stats
    except RuntimeError:
        return None


def run(job: dict[str, Any], stopper: "Stopper | None" = None) -> dict[str, dict[str, Any]]:
    """Crawl the job's sites; returns each site's health. With a ``stopper``, it (not Scrapy)
    handles SIGINT and SIGTERM."""
    from scrapy.crawler import AsyncCrawlerProcess
    from twisted.internet import task

    from monitor.spiders.registry import spider_class

    config = Config(values=job["config"])
    polite = bool(job.get("polite", True))
    as_of = datetime.fromisoformat(job["as_of"])
    results: dict[str, dict[str, Any]] = {}
    site_errors: list[Any] = []
    sites = load_sites(config.sites_dir or None, job["sites"], errors=site_errors)
    for error in site_errors:
        name = Path(str(error).split(":", 1)[0]).stem
        results[name] = failed_health(str(error))
        emit({"event": "site_done", "site": name, "health": results[name]})

    settings = crawl_settings(
        config, pipelines=bool(job.get("pipelines", True)), polite=polite, run_id=job.get("run_id"), as_of=as_of
    )
    settings.update(job.get("settings_overrides") or {})
    if job.get("pipelines", True):
        # Built before the first request, once for all sites (and frozen out of the GC's way).
        from monitor.crawling.pipelines import shared_database, shared_matcher

        shared_database(config)
        shared_matcher(config.keywords_dir or None, config.data_path)
    if stopper is not None and stopper.reason is not None:
        return results  # stopped before it began: every site's state is as it was
    process = AsyncCrawlerProcess(settings)
    crawlers: dict[str, Any] = {}

    def finished(name: str, crawler: Any, jobdir: Path | None, outcome: Any) -> None:
        error = outcome.exception() if not outcome.cancelled() else None
        stats = _stats_of(crawler)
        verdict = stats.get_value(HEALTH_STAT) if stats else None
        if error is not None or verdict is None:
            problem = f"crawl failed: {type(error).__name__}: {error}" if error is not None else "crawl did not run"
            verdict = SiteHealth.failed(problem)
        health = results[name] = SiteHealth.from_json(verdict).to_json()
        # Finished (or never started): nothing to resume, so the next crawl starts afresh.
        if jobdir is not None and (error is not None or verdict.finish_reason in GOOD_FINISH):
            shutil.rmtree(jobdir, ignore_errors=True)
        emit({"event": "site_done", "site": name, "health": health})

    for name, site in sites.items():
        jobdir = job_dir(config, job["job"], name) if job.get("job") else None
        if jobdir is not None and discard_killed_queue(jobdir):
            logger.warning("site %s: its last crawl was killed outright and left its queue unreadable; "
                           "crawling it afresh", name)
        spider = spider_class(site, site_settings(config, site, jobdir, polite))
        crawler = process.create_crawler(spider)
        crawlers[name] = crawler
        emit({"event": "site_start", "site": name})
        plan = (job.get("plans") or {}).get(name)  # the site's own queries, unless keywords were given
        try:
            future = process.crawl(
                crawler,
                keywords=plan["queries"] if plan else job.get("keywords") or [],
                query_kinds=plan["kinds"] if plan else {},
                revisit=(job.get("revisit") or {}).get(name, []),
                sandbox_url=config.sandbox_url,
            )
        except Exception as exc:  # a spider that cannot even be created
            results[name] = failed_health(f"crawl failed: {type(exc).__name__}: {exc}")
            emit({"event": "site_done", "site": name, "health": results[name]})
            continue
        future.add_done_callback(lambda f, n=name, c=crawler, j=jobdir: finished(n, c, j, f))

    def progress() -> None:
        snapshot = {}
        for name, crawler in crawlers.items():
            stats = _stats_of(crawler)
            if stats is None or name in results:
                continue
            snapshot[name] = {
                "pages": stats.get_value("response_received_count", 0),
                "items": stats.get_value(Stat.ITEMS_LIVE, 0),
            }
        if snapshot:
            emit({"event": "progress", "sites": snapshot})

    ticker = task.LoopingCall(progress)
    ticker.start(1.0, now=False)
    started = time.monotonic()
    if stopper is not None:
        stopper.attach(process)
    process.start(install_signal_handlers=stopper is None)
    results["__crawl_s__"] = round(time.monotonic() - started, 2)  # type: ignore[assignment]
    return results


class Stopper:
    """One graceful stop of the crawl, whoever asks first: SIGTERM or SIGINT (a person, the
    runner's death on Linux) or the end of stdin (the runner closed it or died). A second
    signal forces the stop, as in Scrapy; the end of stdin never does."""

    def __init__(self) -> None:
        self.process: Any = None
        self.reactor: Any = None
        self.reason: str | None = None
        self.signals = 0
        self._stopping = False

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def watch_stdin(self) -> None:
        """Stop when stdin ends (in a daemon thread: the runner keeps stdin open while it lives)."""
        threading.Thread(target=self._watch_stdin, name="stdin-watchdog", daemon=True).start()

    def _watch_stdin(self) -> None:
        try:
            while sys.stdin.buffer.read1(65536):
                pass
        except (OSError, ValueError):
            pass
        self.request("the crawl runner stopped (end of stdin)")

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signals += 1
        if self.signals > 1 and self.reactor is not None:
            self._call(self._force)
        else:
            self.request(f"received {signal.Signals(signum).name}")

    def request(self, reason: str) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        if hasattr(signal, "alarm"):  # default action: end the process, stuck or not
            signal.alarm(STOP_GRACE)
        if self.reactor is not None:
            self._call(self._stop)

    def attach(self, process: Any) -> None:
        """The crawl to stop, its crawlers added; a stop asked for before is applied now."""
        from twisted.internet import reactor  # installed by the process (never import it in a signal handler)

        self.reactor = reactor
        self.process = process
        if self.reason is not None:
            self._call(self._stop)

    def _call(self, function: Any) -> None:
        # Safe from a signal handler or another thread (logging is not: it runs in the reactor).
        try:
            self.reactor.callFromThread(function)
        except RuntimeError:  # the reactor has already shut down
            pass

    def _stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        from scrapy.utils.defer import deferred_from_coro

        logger.info("%s: stopping the crawl gracefully (each site's state is kept for resuming)", self.reason)
        deferred_from_coro(self.process.stop()).addErrback(lambda f: logger.error("stopping the crawl: %s", f.value))

    def _force(self) -> None:
        logger.info("received a second signal: forcing an unclean shutdown")
        try:
            self.reactor.stop()
        except RuntimeError:  # already stopped or stopping
            pass


def die_with_parent(parent: int) -> bool:
    """Ask the kernel (Linux) to send SIGTERM when the runner, process ``parent``, dies; False
    when it has died already (the race between its starting us and this call)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGTERM),
                       ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
        except (OSError, AttributeError):
            pass  # the stdin watchdog still stops the crawl
    return os.getppid() == parent


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--parent" or not args[1].isdigit():
        sys.stderr.write("usage: python -u -m monitor.crawling.worker --parent PID < JOB (one JSON line)\n")
        return 2
    stopper = Stopper()
    stopper.install_signal_handlers()
    if not die_with_parent(int(args[1])):
        sys.stderr.write("the crawl runner exited before its worker started\n")
        return 1
    line = sys.stdin.buffer.readline()
    try:
        job = json.loads(line)
    except ValueError:
        sys.stderr.write("no job on stdin (the crawl runner stopped before sending it?)\n")
        return 2
    stopper.watch_stdin()
    started = time.monotonic()
    results = run(job, stopper)
    crawl_s = results.pop("__crawl_s__", None)
    summary = {"sites": results, "duration_s": round(time.monotonic() - started, 2), "crawl_s": crawl_s,
               "cpu_s": round(time.process_time(), 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}
    emit({"event": "done", **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
