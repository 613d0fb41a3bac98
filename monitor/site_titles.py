"""Site titles for the report: the database knows sites by short name, the site files by title.

Read here, at the jobs layer, because the reports package may not import the crawl's site-file
reader; ``wtm report``, the demo and the monthly job hand the mapping to ``render_report``.
"""

from __future__ import annotations

from typing import Any


def site_titles(config: Any) -> dict[str, str]:
    """name -> title of every site file the configuration can read (a broken file is skipped:
    the report then shows that site's short name, and ``wtm sites check`` names the fault)."""
    from monitor.crawling.sites import load_sites

    errors: list[Any] = []
    sites = load_sites(config.sites_dir or None, None, errors)
    return {name: site.title for name, site in sites.items() if getattr(site, "title", "")}
