"""Spider classes per site: the generic ``SiteSpider`` subclassed with the site's name and
definition, the Scrapy settings of its archetype (``monitor.spiders.archetypes.ARCHETYPES``) and
its own crawl settings. How each page is read is the site file's choice (its readers), not the
class's, so no site needs code of its own."""

from __future__ import annotations

from typing import Any, Mapping

from monitor.crawling.sites import SiteConfig
from monitor.spiders.archetypes import ARCHETYPES
from monitor.spiders.base import SiteSpider


def spider_class(site: SiteConfig, custom_settings: Mapping[str, Any] | None = None) -> type[SiteSpider]:
    """A spider class named after the site, crawling it as its definition says."""
    archetype = ARCHETYPES[site.platform]
    settings = {**archetype.settings, **dict(custom_settings or {})}
    attributes = {"name": site.name, "site": site, "archetype": archetype, "custom_settings": settings}
    return type(f"SiteSpider_{site.name.replace('-', '_')}", (SiteSpider,), attributes)
