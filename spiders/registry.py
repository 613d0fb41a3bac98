"""Spider classes per site: the archetype's generic spider, subclassed with the site's name and
definition (and its crawl settings). A site that truly needs code registers its subclass in
``SPECIAL``."""

from __future__ import annotations

from typing import Any, Mapping

from monitor.crawling.sites import SiteConfig
from monitor.spiders.archetypes import ARCHETYPES
from monitor.spiders.base import SiteSpider

# site name -> spider class to use instead of the archetype's (none needed so far).
SPECIAL: dict[str, type[SiteSpider]] = {}


def spider_class(site: SiteConfig, custom_settings: Mapping[str, Any] | None = None) -> type[SiteSpider]:
    """A spider class named after the site, crawling it as its definition says."""
    base = SPECIAL.get(site.name) or ARCHETYPES[site.platform]
    attributes = {"name": site.name, "site": site, "custom_settings": dict(custom_settings or {})}
    return type(f"{base.__name__}_{site.name.replace('-', '_')}", (base,), attributes)
