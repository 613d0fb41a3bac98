"""The crawl's request budget per site, held at download time.

The query planner sizes each site's search plan from what its last crawl spent on revisits,
listing pages and browsing; a first crawl, or a month with many more new listings, can still run
over. So searching stops when the site's requests reach ``requests_per_site`` less its walk pages,
and browsing when they reach it: a site's crawl takes at most about that many requests times its
download delay. Listing pages and revisits are never dropped (an ad found but not read would be
lost), and the queries not sent wait for next month's plan (they have no yield this month).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from monitor.crawlhealth import Stat
from monitor.crawling.guard import REFUSED_META

logger = logging.getLogger(__name__)


class RequestBudgetMiddleware:
    """Drops a site's search and walk pages past its budget (``WTM_REQUESTS_PER_SITE``; one
    crawler per site, so one count per site)."""

    def __init__(self, crawler: Any, budget: int) -> None:
        self.crawler = crawler
        self.budget = budget
        self.sent = 0
        self.search_limit = budget
        self._told = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> "RequestBudgetMiddleware":
        budget = crawler.settings.getint("WTM_REQUESTS_PER_SITE", 0)
        if budget <= 0:
            raise NotConfigured("no request budget")
        middleware = cls(crawler, budget)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        from monitor.crawling.planner import walk_pages  # the lexicon's modules: only once a crawl opens

        site = getattr(spider, "site", None)
        walks = walk_pages(site) if site is not None else 0
        self.search_limit = max(1, self.budget - walks)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        rule = request.meta.get("rule")
        if rule == "search" and self.sent >= self.search_limit:
            self._drop(request, Stat.SEARCHES_OVER_BUDGET, "searching")
        if rule == "category" and self.sent >= self.budget:
            self._drop(request, Stat.WALK_PAGES_OVER_BUDGET, "browsing")
        self.sent += 1

    def _drop(self, request: Request, stat: str, what: str) -> None:
        self.crawler.stats.inc_value(stat)
        request.meta[REFUSED_META] = "over_budget"  # counted here: the spider's errback leaves it be
        if not self._told:
            self._told = True
            logger.info("%s reached its budget of %d requests (requests_per_site): %s stops here, and "
                        "what it did not send waits for next month", self.crawler.spider.name, self.budget, what)
        raise IgnoreRequest(f"over the site's budget of {self.budget} requests")
