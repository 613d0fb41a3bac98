"""Scrapy spider loader for ``scrapy crawl <site>``: one spider per site definition, so people
who know Scrapy can run, list and debug sites with Scrapy's own tools."""

from __future__ import annotations

from typing import Any

import scrapy

from monitor.crawling.pipelines import as_of_from_settings, config_from_settings
from monitor.crawling.settings import site_settings
from monitor.crawling.sites import SiteConfig, load_sites


class SiteSpiderLoader:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.config = config_from_settings(settings)
        self.polite = settings.getbool("WTM_POLITE", True)
        self._sites: dict[str, SiteConfig] = load_sites(self.config.sites_dir or None, errors=[])

    @classmethod
    def from_settings(cls, settings: Any) -> "SiteSpiderLoader":
        return cls(settings)

    def load(self, spider_name: str) -> type[scrapy.Spider]:
        from monitor.spiders.registry import spider_class

        site = self._sites.get(spider_name)
        if site is None:
            raise KeyError(f"Spider not found: {spider_name}")
        spider = spider_class(site, site_settings(self.config, site, polite=self.polite))
        # Run outside the monitor's runner: take the sandbox origin from the configuration and
        # the month's queries from the planner unless `-a sandbox_url=... -a keywords=a,b` are given.
        spider.default_sandbox_url = self.config.sandbox_url
        spider.default_keywords = tuple(self.planned_queries(site))
        return spider

    def planned_queries(self, site: SiteConfig) -> list[str]:
        """The site's queries for the crawl's month (``WTM_AS_OF`` or the clock), as the monthly
        crawl plans them: from the lexicon and the yields stored in the configured database."""
        from monitor.crawling.pipelines import shared_database
        from monitor.crawling.planner import plan_sites

        month = f"{as_of_from_settings(self.settings):%Y-%m}"
        return plan_sites(self.config, {site.name: site}, month, db=shared_database(self.config))[site.name].keywords

    def list(self) -> list[str]:
        return sorted(self._sites)

    def find_by_request(self, request: Any) -> list[str]:
        return [name for name, site in self._sites.items() if request.url.startswith(site.base_url(self.config.sandbox_url))]
