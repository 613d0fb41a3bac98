"""The spider loader of a wtm job on a Scrapyd node.

Scrapyd runs ``scrapy crawl SITE -s WTM_RUN_ID=.. -s WTM_AS_OF=..``; a local crawl's worker is
handed each site's query plan and the listings to revisit, so here the job works them out from
the shared database at its start (the coordinator passes the plan, made before any site
crawled, as the job argument ``plan``), and the spider goes through the same pipelines as a
local crawl's.
"""

from __future__ import annotations

import json
from typing import Any

from monitor.crawling.spiderloader import SiteSpiderLoader
from monitor.crawling.settings import politeness, site_settings


class NodeSpiderLoader(SiteSpiderLoader):
    def load(self, spider_name: str) -> type:
        from monitor.crawling.pipelines import as_of_from_settings, shared_database
        from monitor.spiders.registry import spider_class
        from monitor.storage.recorder import listings_known_before

        site = self._sites.get(spider_name)
        if site is None:
            raise KeyError(f"Spider not found: {spider_name}")
        # The project settings were made polite (they are read before the job's WTM_POLITE).
        impolite = {} if self.polite else politeness(self.config, False)
        base = spider_class(site, {**impolite, **site_settings(self.config, site, polite=self.polite)})
        db = shared_database(self.config)
        as_of = as_of_from_settings(self.settings)
        # A site restarted after its node died revisits only what was known before the run.
        revisit = [list(pair) for pair in listings_known_before(db, site.name, as_of)]
        planned = self._planner(site, f"{as_of:%Y-%m}")

        def __init__(spider: Any, *args: Any, **kwargs: Any) -> None:
            # The coordinator's plan (`-a plan=JSON`), else the site's own, planned here.
            plan = json.loads(kwargs.pop("plan")) if "plan" in kwargs else planned()
            kwargs.setdefault("keywords", plan["queries"])
            kwargs.setdefault("query_kinds", plan["kinds"])
            kwargs.setdefault("revisit", revisit)
            base.__init__(spider, *args, **kwargs)

        spider = type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__})
        spider.default_sandbox_url = self.config.sandbox_url
        return spider

    def _planner(self, site: Any, month: str) -> Any:
        def planned() -> dict[str, Any]:
            from monitor.crawling.pipelines import shared_database
            from monitor.crawling.planner import plan_sites

            return plan_sites(self.config, {site.name: site}, month, db=shared_database(self.config))[site.name].to_job()
        return planned
