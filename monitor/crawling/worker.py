"""The crawl subprocess: ``python -m monitor.crawling.worker JOB.json``.

Twisted's reactor cannot be restarted, so every crawl runs in a fresh process started by
``monitor.crawling.runner``. All chosen sites crawl at once in one ``AsyncCrawlerProcess`` (one
crawler, settings and throttle per site); one site failing to start or crash never stops
the others. Progress and each site's outcome go to stdout as JSON lines; Scrapy's log goes
to stderr (the runner sends it to a log file).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.crawling.health import GOOD_FINISH
from monitor.crawling.settings import crawl_settings, job_dir, site_settings
from monitor.crawling.sites import load_sites


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def failed_health(problem: str) -> dict[str, Any]:
    return {
        "pages": 0, "items": 0, "removed": 0, "errors": {"crawl_failed": 1}, "finish_reason": "failed",
        "duration_s": 0.0, "coverage": {"price": 0.0, "date": 0.0, "contact": 0.0, "location": 0.0},
        "charset_repaired": 0, "healthy": False, "problems": [problem],
    }


def _stats_of(crawler: Any) -> Any:
    """The crawler's stats, or None for a crawler that never started (its spider failed to open)."""
    try:
        return crawler.stats
    except RuntimeError:
        return None


def run(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Crawl the job's sites; returns each site's health."""
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
        shared_matcher(config.keywords_dir or None)
    process = AsyncCrawlerProcess(settings)
    crawlers: dict[str, Any] = {}

    def finished(name: str, crawler: Any, jobdir: Path | None, outcome: Any) -> None:
        error = outcome.exception() if not outcome.cancelled() else None
        stats = _stats_of(crawler)
        health = stats.get_value("wtm/health") if stats else None
        if error is not None or not health:
            problem = f"crawl failed: {type(error).__name__}: {error}" if error is not None else "crawl did not run"
            health = failed_health(problem)
        results[name] = health
        # Finished (or never started): nothing to resume, so the next crawl starts afresh.
        if jobdir is not None and (error is not None or health.get("finish_reason") in GOOD_FINISH):
            shutil.rmtree(jobdir, ignore_errors=True)
        emit({"event": "site_done", "site": name, "health": health})

    for name, site in sites.items():
        jobdir = job_dir(config, job["job"], name) if job.get("job") else None
        spider = spider_class(site, site_settings(config, site, jobdir, polite))
        crawler = process.create_crawler(spider)
        crawlers[name] = crawler
        emit({"event": "site_start", "site": name})
        try:
            future = process.crawl(
                crawler,
                keywords=job.get("keywords") or [],
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
                "items": stats.get_value("wtm/items/live", 0),
            }
        if snapshot:
            emit({"event": "progress", "sites": snapshot})

    ticker = task.LoopingCall(progress)
    ticker.start(1.0, now=False)
    started = time.monotonic()
    process.start()
    results["__crawl_s__"] = round(time.monotonic() - started, 2)  # type: ignore[assignment]
    return results


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m monitor.crawling.worker JOB.json\n")
        return 2
    job_path = Path(args[0])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    started = time.monotonic()
    results = run(job)
    crawl_s = results.pop("__crawl_s__", None)
    summary = {"sites": results, "duration_s": round(time.monotonic() - started, 2), "crawl_s": crawl_s,
               "cpu_s": round(time.process_time(), 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}
    if job.get("summary"):
        out = Path(job["summary"])
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, ensure_ascii=False, default=str, indent=1), encoding="utf-8")
        tmp.replace(out)
    emit({"event": "done", **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
