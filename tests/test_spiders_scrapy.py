"""The site spiders are ordinary Scrapy spiders: ``scrapy list`` and ``scrapy crawl <site>``
work from a checkout, one spider per site definition."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.crawling.settings import crawl_settings, site_settings
from monitor.crawling.sites import load_sites
from monitor.spiders.archetypes import ARCHETYPES
from monitor.spiders.base import SiteSpider
from monitor.spiders.registry import spider_class

CHECKOUT = Path(__file__).resolve().parent.parent


def test_one_spider_class_per_site_of_its_archetype() -> None:
    config = load_config()
    for name, site in load_sites().items():
        spider = spider_class(site, site_settings(config, site))
        assert spider.name == name and issubclass(spider, SiteSpider) and spider.archetype is ARCHETYPES[site.platform]


def test_settings_name_the_tool_and_obey_robots_by_default(tmp_path: Path) -> None:
    config = load_config(overrides={"data_dir": str(tmp_path)})
    settings = crawl_settings(config)
    assert settings["USER_AGENT"].startswith("wildlife-trade-monitor/")
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["CLOSESPIDER_PAGECOUNT"] == config.max_pages_per_site
    polite = site_settings(config, load_sites()["cangpinhui"], tmp_path / "job")
    assert polite["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1 and polite["JOBDIR"] == str(tmp_path / "job")
    assert "CONCURRENT_REQUESTS_PER_DOMAIN" not in site_settings(config, load_sites()["cangpinhui"], polite=False)


@pytest.mark.skipif(not (CHECKOUT / "scrapy.cfg").is_file(), reason="needs a checkout with scrapy.cfg")
def test_scrapy_list_shows_every_site(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
    env["WTM_DATA_DIR"] = str(tmp_path)
    scrapy = Path(sys.executable).with_name("scrapy")
    result = subprocess.run([str(scrapy), "list"], cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(load_sites())
