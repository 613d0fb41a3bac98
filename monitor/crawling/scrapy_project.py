"""Settings module named by ``scrapy.cfg`` so ``scrapy crawl <site>`` and ``scrapy list`` work
from a checkout. It reads the monitor's configuration the usual way (wtm.toml, WTM_*)."""

from __future__ import annotations

from monitor.config import load_config
from monitor.crawling.settings import crawl_settings

globals().update(crawl_settings(load_config()))
