"""The monthly job: crawl every enabled site, then write that month's briefing.

The crawl runs in a subprocess (see monitor.crawling), so this function can be called
again and again from one long-lived scheduler process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.config import Config
from monitor.months import last_complete_month, month_of

log = logging.getLogger("monitor.monthly")


@dataclass
class MonthlyOutcome:
    month: str
    report_path: Path | None
    failed_sites: list[str] = field(default_factory=list)
    sites: int = 0


def run_monthly(
    config: Config,
    month: str | None = None,
    as_of: datetime | None = None,
    progress: bool = False,
) -> MonthlyOutcome:
    """Crawl, then report on ``month`` (default: the last complete month).

    ``as_of`` is the time the crawl is recorded at; the demo passes the simulated month's
    end, a real run leaves it to the clock. A failed site does not stop the report: the
    report states the gap.
    """
    from monitor.crawljobs import crawl
    from monitor.reports import render_report
    from monitor.site_titles import site_titles
    from monitor.storage.search import refresh_after_crawl

    if month is None:
        month = month_of(as_of) if as_of else last_complete_month(datetime.now(config.tz))
    log.info("monthly run for %s: crawling", month)
    summary = crawl(config, as_of=as_of, progress=progress)
    failed = list(summary.failed_sites)
    indexed = refresh_after_crawl(config)
    log.info("monthly run for %s: %d listings indexed for search", month, indexed)
    log.info("monthly run for %s: crawl finished, %d sites failed%s",
             month, len(failed), f" ({', '.join(failed)})" if failed else "")
    report = render_report(config, month, site_titles=site_titles(config))
    log.info("monthly run for %s: report written to %s", month, report)
    return MonthlyOutcome(month=month, report_path=report, failed_sites=failed,
                          sites=len(summary.sites))
