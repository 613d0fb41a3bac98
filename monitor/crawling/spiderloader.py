"""Scrapy spider loader for ``scrapy crawl <site>``: one spider per site definition, so people
who know Scrapy can run, list and debug sites with Scrapy's own tools."""

from __future__ import annotations

from typing import Any

import scrapy

from monitor.crawling.pipelines import config_from_settings
from monitor.crawling.settings import site_settings
from monitor.crawling.sites import SiteConfig, load_sites


class SiteSpiderLoader:
    def __init__(self, settings: Any) -> None:
        self.config = config_from_settings(settings)
        self.polite = settings.getbool("WTM_POLITE", True)
        self._sites: dict[str, SiteConfig] = load_sites(self.config.sites_dir or None, errors=[])

    @classmethod
    def from_settings(cls, settings: Any) -> "SiteSpiderLoader":
        return cls(settings)

    def load(self, spider_name: str) -> type[scrapy.Spider]:
        from monitor.crawling.runner import default_keywords
        from monitor.spiders.registry import spider_class

        site = self._sites.get(spider_name)
        if site is None:
            raise KeyError(f"Spider not found: {spider_name}")
        spider = spider_class(site, site_settings(self.config, site, polite=self.polite))
        # Run outside the monitor's runner: take the sandbox origin and the lexicon's search
        # keywords from the configuration unless `-a sandbox_url=... -a keywords=a,b` are given.
        spider.default_sandbox_url = self.config.sandbox_url
        spider.default_keywords = tuple(default_keywords(self.config))
        return spider

    def list(self) -> list[str]:
        return sorted(self._sites)

    def find_by_request(self, request: Any) -> list[str]:
        return [name for name, site in self._sites.items() if request.url.startswith(site.base_url(self.config.sandbox_url))]
