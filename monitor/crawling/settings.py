"""Scrapy settings derived from the monitor's ``Config``: one place decides politeness,
retries, time-outs, page caps, resume folders and the pipeline order.

``crawl_settings`` gives the process-wide settings; ``site_settings`` the per-site overrides a
spider class carries as ``custom_settings`` (its site file's politeness, page cap and JOBDIR).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.crawling.sites import SiteConfig

PIPELINES = {
    "monitor.crawling.pipelines.NormalisePipeline": 100,
    "monitor.crawling.pipelines.ContactsPipeline": 200,
    "monitor.crawling.pipelines.MatchPipeline": 300,
    "monitor.crawling.pipelines.StoragePipeline": 400,
}
# Without politeness (tests, benchmarks): how many requests one site may have in flight.
IMPOLITE_CONCURRENCY = 4
# A listing or result page is a few hundred KB at most; past this (after decompression, so a
# gzip bomb stops here too) a page is dropped and counted as the fault ``too_large``.
PAGE_MAXSIZE = 8 * 1024 * 1024
PAGE_WARNSIZE = 2 * 1024 * 1024
# Only http(s) is crawled: Scrapy's handlers for these schemes are switched off, so a URL
# that slipped past the scope guard still cannot read a local file or a data: URL.
DISABLED_SCHEMES = {"file": None, "data": None, "s3": None, "ftp": None}


def state_dir(config: Config) -> Path:
    return config.data_path / "state"


def job_dir(config: Config, job: str, site: str) -> Path:
    """Scrapy's JOBDIR for one site in one job (a month's run): never shared between sites
    or jobs, as Scrapy requires. ``job`` and ``site`` are checked names, not scraped text."""
    return state_dir(config) / "jobs" / job / site


def discard_killed_queue(jobdir: Path) -> bool:
    """Remove ``jobdir`` if its crawl was killed outright (True when removed).

    Scrapy writes its queue's index, ``requests.queue/active.json``, only on a clean stop; a
    queue written to after it (or without one) may end mid-record, and resuming it fails at the
    first request. Starting such a site afresh is safe: the pipelines never store a listing twice.
    """
    queue = jobdir / "requests.queue"
    if not queue.is_dir():
        return False
    index = queue / "active.json"
    written = index.stat().st_mtime if index.exists() else None
    stale = any(written is None or path.stat().st_mtime > written
                for path in queue.rglob("*") if path.is_file() and path != index)
    if stale:
        shutil.rmtree(jobdir, ignore_errors=True)
    return stale


def one_at_a_time(concurrency: int) -> dict[str, Any]:
    """A site crawled one request at a time takes its requests in an order that depends only on
    the pages it read, wherever it runs: the next request is chosen once the last response has been
    handled (its listings and next pages queued), not while it is. Otherwise Scrapy takes requests
    into its downloader ahead of time (``CONCURRENT_REQUESTS``) and chooses the next one as soon as
    a page is downloaded, so which request comes next, and so which searches or walk pages the
    request budget (``monitor.crawling.budget``) drops at its end, depends on the machine's load.
    With more than one request in flight, pages arrive in no fixed order anyway."""
    if concurrency > 1:
        return {"CONCURRENT_REQUESTS": max(32, concurrency * 8),
                "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 5_000_000}  # Scrapy's default
    return {"CONCURRENT_REQUESTS": 1, "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 0}


def politeness(config: Config, polite: bool) -> dict[str, Any]:
    """The settings ``polite`` decides (``polite=False``: tests and benchmarks on the sandbox).
    A Scrapyd job's project settings are read before its ``WTM_POLITE``, so its spider carries
    these too (``monitor.nodes.loader``)."""
    concurrency = max(1, int(config.concurrency_per_site)) if polite else IMPOLITE_CONCURRENCY
    return {
        "DOWNLOAD_DELAY": float(config.download_delay) if polite else 0.0,
        "DOWNLOAD_DELAY_JITTER": 0.5 if polite else 0.0,  # ±50 %, as RANDOMIZE_DOWNLOAD_DELAY did
        "AUTOTHROTTLE_ENABLED": bool(config.autothrottle) and polite,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        **one_at_a_time(concurrency),
        "WTM_RETRY_BACKOFF": 1.0 if polite else 0.05,
        "WTM_RETRY_AFTER_MAX": 120.0 if polite else 2.0,
        "WTM_POLITE": polite,
    }


def crawl_settings(
    config: Config,
    *,
    pipelines: bool = True,
    polite: bool = True,
    run_id: int | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Process-wide Scrapy settings for a crawl with ``config``."""
    settings: dict[str, Any] = {
        "BOT_NAME": "wildlife-trade-monitor",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": bool(config.obey_robots),
        **politeness(config, polite),
        "AUTOTHROTTLE_START_DELAY": max(float(config.download_delay), 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        # The same queues whether or not a JOBDIR keeps them (on disk, a local crawl; in memory, a
        # Scrapyd job): one order of requests, so one outcome of the budget, wherever a site runs.
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.LifoMemoryQueue",
        "SCHEDULER_START_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        # Our requests carry only plain values in meta, so marshal (several times cheaper
        # than pickle per queued request) can persist the queues.
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.MarshalLifoDiskQueue",
        "SCHEDULER_START_DISK_QUEUE": "scrapy.squeues.MarshalFifoDiskQueue",
        # Scrapy starts this many asyncio tasks for EVERY response's output (2.19), however few
        # items it holds; our pipelines are synchronous, so a handful is plenty.
        "CONCURRENT_ITEMS": 8,
        # Re-parses callback source per spider instance: seconds of CPU with one spider per site.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOAD_TIMEOUT": float(config.download_timeout),
        "DOWNLOAD_MAXSIZE": PAGE_MAXSIZE,
        "DOWNLOAD_WARNSIZE": PAGE_WARNSIZE,
        "DOWNLOAD_HANDLERS": dict(DISABLED_SCHEMES),
        "TWISTED_DNS_RESOLVER": "monitor.crawling.guard.GuardedResolver",
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(config.retry_times),
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "CLOSESPIDER_PAGECOUNT": int(config.max_pages_per_site),
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": str(config.log_level).upper(),
        "LOGSTATS_INTERVAL": 60.0,
        "DOWNLOADER_MIDDLEWARES": {
            # First of all: every request, redirect and robots.txt fetch stays in the site's scope.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "monitor.crawling.guard.SiteScopeMiddleware": 50,
            "monitor.crawling.budget.RequestBudgetMiddleware": 120,  # after robots.txt (100)
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "monitor.crawling.middlewares.PatientRetryMiddleware": 550,
            "monitor.crawling.middlewares.CharsetRepairMiddleware": 585,
            # Walls (monitor.crawling.walls): sees pages decompressed and re-decoded, before retries.
            "monitor.crawling.walls.WallMiddleware": 580,
            "monitor.crawling.walls.VerifyRedirectMiddleware": 610,
        },
        "EXTENSIONS": {"monitor.crawling.health.CrawlHealth": 500},
        "ITEM_PIPELINES": dict(PIPELINES) if pipelines else {},
        "SPIDER_LOADER_CLASS": "monitor.crawling.spiderloader.SiteSpiderLoader",
        "WTM_CONFIG": dict(config.values),
        "WTM_STATE_DIR": str(state_dir(config)),
        "WTM_REQUESTS_PER_SITE": int(config.requests_per_site),
    }
    if run_id is not None:
        settings["WTM_RUN_ID"] = run_id
    if as_of is not None:
        settings["WTM_AS_OF"] = as_of.isoformat()
    return settings


def site_settings(config: Config, site: SiteConfig, jobdir: Path | None = None, polite: bool = True) -> dict[str, Any]:
    """The site file's overrides: politeness (ignored when politeness is off), page cap, JOBDIR."""
    settings: dict[str, Any] = {}
    if polite:
        p = site.politeness
        if "download_delay" in p:
            settings["DOWNLOAD_DELAY"] = float(p["download_delay"])
            settings["AUTOTHROTTLE_START_DELAY"] = max(float(p["download_delay"]), 1.0)
        if "concurrency" in p:
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = int(p["concurrency"])
            settings.update(one_at_a_time(int(p["concurrency"])))
            settings["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(p["concurrency"])
        if "autothrottle" in p:
            settings["AUTOTHROTTLE_ENABLED"] = bool(p["autothrottle"]) and bool(config.autothrottle)
    if "obey_robots" in site.politeness:
        settings["ROBOTSTXT_OBEY"] = bool(site.politeness["obey_robots"])
    if site.max_pages is not None:
        settings["CLOSESPIDER_PAGECOUNT"] = min(int(site.max_pages), int(config.max_pages_per_site))
    if jobdir is not None:
        settings["JOBDIR"] = str(jobdir)
    return settings
