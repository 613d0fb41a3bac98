"""The crawl a job starts: on this machine, or spread over the Scrapyd nodes of ``scrapyd_urls``.

Jobs-level (called by ``wtm crawl``, the monthly job, and so the scheduler, and the demo): running a
crawl's sites as Scrapyd jobs (``monitor.nodes``) is one way to run crawling's spiders, so the choice
is made here and ``monitor.crawling`` knows nothing of nodes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.crawling import CrawlSummary, run_crawl
from monitor.crawling.progress import ProgressCallback


def crawl(
    config: Config,
    sites: list[str] | None = None,
    keywords: list[str] | None = None,
    as_of: datetime | None = None,
    progress: bool = True,
    *,
    on_event: ProgressCallback | None = None,
    polite: bool = True,
    run_kind: str | None = None,
    **local: Any,
) -> CrawlSummary:
    """Crawl ``sites`` as ``monitor.crawling.run_crawl`` does, on the Scrapyd nodes when
    ``scrapyd_urls`` names any (one job per site, ``monitor.nodes.coordinator``), else here.

    ``local`` holds run_crawl's options that only a local crawl has (``keep_state``,
    ``settings_overrides``; ``pipelines=False``, which stores nothing, so runs here too)."""
    if config.scrapyd_urls and local.get("pipelines", True):
        from monitor.nodes.coordinator import run_on_nodes

        unknown = sorted(set(local) - {"pipelines"})
        if unknown:
            raise TypeError(f"a crawl on Scrapyd nodes takes no {', '.join(unknown)}")
        return run_on_nodes(config, sites, as_of=as_of, keywords=keywords, progress=progress, on_event=on_event,
                            polite=polite, run_kind=run_kind)
    return run_crawl(config, sites, keywords, as_of, progress, on_event=on_event, polite=polite, run_kind=run_kind,
                     **local)
