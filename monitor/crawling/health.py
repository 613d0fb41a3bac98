"""Crawl health per site and run: pages, items, field coverage, errors by kind, finish reason,
duration, and a verdict.

Why not Spidermon: its monitors alert, but the monitor needs the verdict as *data* (stored with
the run, shown in the report and mapped to the CLI's exit status). Its comparison with earlier
runs needs Scrapy Cloud or a custom monitor over its stats history anyway, its item validation
does not accept dataclass items (spidermon#379) and broke on Scrapy 2.14 (#473), and its suite
refuses to run until every threshold is set. What we need is a few rules over Scrapy's own
stats plus the last good run, which this module does in plain code.

A site is unhealthy when:
* it produced no live items (a login wall, 500s, garbage, or selectors that no longer match);
* over half of its requests failed (refused connections, time-outs, 5xx and 429 answers);
* more than 5 % of the listings it found could not be read after retries;
* its items dropped by more than half against the site's last good run, and by at least
  ``MIN_ITEMS_TO_COMPARE`` listings (10 → 3 is a quiet month, not a breakage); the planner
  changes a site's queries every month, so the runs compared are the site's, whatever they
  searched, when their plans are of comparable size (``COMPARABLE_PLANS``);
* a field's coverage collapsed (under half of the last good run's, or under half of the
  listings when the site file selects that field and there is no earlier run to compare with);
* it did not finish (killed, shut down, failed to start, or stopped because the disk holding
  the data folder was nearly full: ``disk_full``);
* it was walled off: the crawl gave up on the site after repeated captcha or ban pages.

The verdict is a ``monitor.crawlhealth.SiteHealth``; the counters it is made of are the
``Stat`` keys there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from scrapy import signals

from monitor.crawlhealth import COVERAGE, Reach, SiteHealth, Stat

SITE_FIELD_FOR = {"price": "price", "date": "posted", "contact": "contact", "location": "location"}
GOOD_FINISH = ("finished", "closespider_pagecount")
# A halving smaller than this many listings is noise (10 → 3 ads), not a broken site.
MIN_ITEMS_TO_COMPARE = 10
# Listing counts are compared with the site's last good run only when the two plans ran
# within this factor of each other's number of queries (a plan half the size finds fewer).
COMPARABLE_PLANS = 2.0
# Unhealthy past these shares: failed requests of all requests, unread listings of all found,
# and (on a first crawl) the least share of listings a declared field must be filled on.
MAX_FAILED_REQUESTS = 0.5
MAX_UNREAD_LISTINGS = 0.05
MIN_FIRST_COVERAGE = 0.5
# Fewer requests than this tell nothing about a site's failure rate.
MIN_REQUESTS_TO_JUDGE = 4
# Below this much free space where the crawl keeps its state, the crawl stops (``disk_full``)
# before Scrapy's disk queue fails mid-write, which leaves the spider waiting forever.
MIN_FREE_BYTES = 20 * 1024 * 1024
DISK_CHECK_SECONDS = 2.0
# Where the verdict waits in the crawl's stats for the storage pipeline and the worker.
HEALTH_STAT = "wtm/health"
_STATUS = re.compile(r"^downloader/response_status_count/(\d+)$")


def errors_by_kind(stats: Mapping[str, Any]) -> dict[str, int]:
    """Failures counted from Scrapy's stats and the spiders' own ``wtm/errors/*`` counters."""
    errors: dict[str, int] = {}
    for key, value in stats.items():
        if not isinstance(value, int) or not value:
            continue
        status = _STATUS.match(key)
        if status and int(status.group(1)) >= 400 and int(status.group(1)) not in (404, 410):
            kind = f"http_{status.group(1)}"
        elif key.startswith("spider_exceptions/") and key.count("/") == 1:
            kind = "spider_" + key.split("/", 1)[1]
        elif key.startswith(Stat.ERRORS) and key != Stat.ERRORS + "HttpError":
            kind = key[len(Stat.ERRORS):]
        elif key == "retry/max_reached":
            kind = "retries_exhausted"
        elif key == Stat.LISTINGS_UNREAD:
            kind = "listings_unread"
        else:
            continue
        errors[kind] = errors.get(kind, 0) + value
    return errors


def _counted(stats: Mapping[str, Any], prefix: str) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))


def reach(stats: Mapping[str, Any]) -> Reach:
    """What the crawl searched and browsed, from the spiders' counters."""
    found_by = {how: int(stats.get(Stat.FOUND_BY + how, 0)) for how in ("query", "browse", "both")}
    return Reach(
        queries=sum(1 for k in stats if k.startswith(Stat.QUERY_PAGES)),
        query_pages=_counted(stats, Stat.QUERY_PAGES),
        browse_pages=int(stats.get(Stat.BROWSE_PAGES, 0)),
        found=sum(found_by.values()),
        only_browse=found_by["browse"],
        only_query=found_by["query"],
        single_query=int(stats.get(Stat.SINGLE_QUERY, 0)),
        requests=int(stats.get("downloader/request_count", 0)),
        flagged=int(stats.get(Stat.ITEMS_FLAGGED, 0)),
    )


def comparable(previous: Mapping[str, Any], queries: int) -> bool:
    """Whether the last good run's plan was of a size like this one's (see COMPARABLE_PLANS);
    a run recorded before plans were counted is compared as it always was."""
    before = previous.get("queries")
    if before is None:
        return True
    low, high = sorted((int(before), queries))
    return high == 0 or (low > 0 and high / low <= COMPARABLE_PLANS)


def assess(
    stats: Mapping[str, Any],
    finish_reason: str,
    selected_fields: Iterable[str],
    previous: Mapping[str, Any] | None,
    duration_s: float,
) -> SiteHealth:
    """The site's health from its crawl's stats and its last good run (``HealthHistory``)."""
    items = int(stats.get(Stat.ITEMS_LIVE, 0))
    coverage = {name: round(stats.get(Stat.FIELD + name, 0) / items, 4) if items else 0.0 for name in COVERAGE}
    seen = reach(stats)
    problems: list[str] = []
    if finish_reason == "disk_full":
        problems.append(f"stopped: under {MIN_FREE_BYTES // 2**20} MB free on the disk of the data folder")
    elif finish_reason not in GOOD_FINISH:
        problems.append(f"did not finish: {finish_reason}")
    if items == 0:
        problems.append("no listings found")
    if stats.get(Stat.ERRORS + "item_lost"):
        problems.append(f"{stats[Stat.ERRORS + 'item_lost']} listings lost to an error while processing them (see the log)")
    if stats.get(Stat.ERRORS + "storage"):
        problems.append(f"{stats[Stat.ERRORS + 'storage']} batch writes to the database failed (listings lost)")
    if stats.get(Stat.GAVE_UP):
        problems.append(f"gave up on the site after {stats[Stat.GAVE_UP]} walls (captcha or ban pages)")
    problems += _failure_problems(stats, items)
    selected = set(selected_fields)
    if previous and int(previous.get("items") or 0) >= MIN_ITEMS_TO_COMPARE:
        before = int(previous["items"])
        if items and items < before / 2 and before - items >= MIN_ITEMS_TO_COMPARE and comparable(previous, seen.queries):
            problems.append(f"listings fell from {before} to {items}")
        for name in COVERAGE:
            was = float(previous.get("coverage", {}).get(name, 0.0))
            if items >= MIN_ITEMS_TO_COMPARE and was >= 0.2 and coverage[name] < was / 2:
                problems.append(f"{name} coverage fell from {was:.0%} to {coverage[name]:.0%}")
    elif items >= 10:
        for name in COVERAGE:
            if SITE_FIELD_FOR[name] in selected and coverage[name] < MIN_FIRST_COVERAGE:
                problems.append(f"{name} coverage only {coverage[name]:.0%}")
    return SiteHealth(
        pages=int(stats.get("response_received_count", 0)),
        items=items,
        removed=_counted(stats, Stat.REMOVED),
        removed_unread=_counted(stats, Stat.REMOVED_UNREAD),
        errors=errors_by_kind(stats),
        finish_reason=finish_reason,
        duration_s=round(duration_s, 2),
        coverage=coverage,
        charset_repaired=int(stats.get(Stat.CHARSET_REPAIRED, 0)),
        healthy=not problems,
        problems=problems,
        reach=seen,
    )


def failed_requests(stats: Mapping[str, Any]) -> tuple[int, int]:
    """(failed, all) download attempts: exceptions (refused, time-out, too large) and
    5xx/429 answers, retries included, against every attempt."""
    attempts = int(stats.get("downloader/request_count", 0))
    failed = int(stats.get("downloader/exception_count", 0)) - sum(int(stats.get(k, 0)) for k in Stat.OVER_BUDGET)
    for key, value in stats.items():
        status = _STATUS.match(key)
        if status and (int(status.group(1)) >= 500 or int(status.group(1)) == 429) and isinstance(value, int):
            failed += value
    return failed, attempts


def _failure_problems(stats: Mapping[str, Any], items: int) -> list[str]:
    problems = []
    failed, attempts = failed_requests(stats)
    if attempts >= MIN_REQUESTS_TO_JUDGE and failed > attempts * MAX_FAILED_REQUESTS:
        problems.append(f"most requests failed ({failed} of {attempts})")
    unread = int(stats.get(Stat.LISTINGS_UNREAD, 0))
    found = items + unread + _counted(stats, Stat.REMOVED) + _counted(stats, Stat.REMOVED_UNREAD)
    if unread and unread > found * MAX_UNREAD_LISTINGS:
        problems.append(f"{unread} of {found} listings could not be read after retries")
    return problems


class HealthHistory:
    """The last good run per site, kept as small JSON files in the state folder so health works
    with or without the database (benchmarks, ``scrapy crawl``). Keyed by site alone: the
    planner changes a site's queries every month, and a history per query set never compared."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, site: str) -> Path:
        return self.folder / f"{site}.json"

    def last_good(self, site: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(site).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and "items" in data else None  # not the old per-keyword file

    def record(self, site: str, health: SiteHealth) -> None:
        if not health.healthy:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(site)
        data = {"items": health.items, "coverage": health.coverage, "queries": health.reach.queries}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


class CrawlHealth:
    """Scrapy extension: computes the site's health when its spider closes and leaves it in
    the stats (``HEALTH_STAT``, a ``SiteHealth``) for the storage pipeline and the worker."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        state = crawler.settings.get("WTM_STATE_DIR")
        self.history = HealthHistory(Path(state) / "health") if state else None
        self.state_dir = Path(state) if state else None
        self.disk_watch: Any = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CrawlHealth":
        return cls(crawler)

    def _carry_file(self) -> Path | None:
        jobdir = self.crawler.settings.get("JOBDIR")
        return Path(jobdir) / "health_stats.json" if jobdir else None

    def spider_opened(self, spider: Any) -> None:
        if self.state_dir is not None:
            from twisted.internet import task

            self.disk_watch = task.LoopingCall(self._check_disk)
            self.disk_watch.start(DISK_CHECK_SECONDS, now=True)
        carry = self._carry_file()
        if carry is not None and carry.is_file():
            # Resuming an interrupted job: count what its first part already did.
            for key, value in json.loads(carry.read_text(encoding="utf-8")).items():
                self.crawler.stats.inc_value(key, value)
            carry.unlink()

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        """A pipeline failed on a listing, which is then lost: counted, so health names it
        (Scrapy only logs it) and a page's trick cannot keep an ad out of the database unseen."""
        self.crawler.stats.inc_value(Stat.ERRORS + "item_lost")

    def _check_disk(self) -> None:
        import shutil

        folder = self.state_dir
        while folder is not None and not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder is None or shutil.disk_usage(folder).free >= MIN_FREE_BYTES:
            return
        self.crawler.stats.set_value(Stat.ERRORS + "disk_full", 1)
        if self.disk_watch is not None and self.disk_watch.running:
            self.disk_watch.stop()
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        # Not from inside the spider_opened signal: the engine closes the spider once it runs.
        reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full")))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.disk_watch is not None and self.disk_watch.running:
            self.disk_watch.stop()
        stats = self.crawler.stats
        started = stats.get_value("start_time")
        duration = 0.0
        if started is not None:
            from datetime import datetime, timezone

            duration = (datetime.now(timezone.utc) - started).total_seconds()
        site = getattr(spider, "site", None)
        fields = list(site.fields) if site is not None else []
        previous = self.history.last_good(spider.name) if self.history else None
        health = assess(stats.get_stats(), reason, fields, previous, duration)
        carry = self._carry_file()
        if carry is not None and reason not in GOOD_FINISH:
            counters = {k: v for k, v in stats.get_stats().items()
                        if isinstance(v, int) and (k.startswith(("wtm/", "downloader/response_status_count/"))
                                                   or k in ("response_received_count", "downloader/request_count"))}
            carry.parent.mkdir(parents=True, exist_ok=True)
            carry.write_text(json.dumps(counters), encoding="utf-8")
        stats.set_value(HEALTH_STAT, health)
        if self.history is not None:
            self.history.record(spider.name, health)
