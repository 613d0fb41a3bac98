"""Crawling: Scrapy settings, middlewares, pipelines, health and the runner.

``run_crawl`` is the entry point for everything that crawls (CLI, monthly job, scheduler, demo).
"""

from __future__ import annotations

from monitor.crawling.runner import CrawlSummary, run_crawl

__all__ = ["CrawlSummary", "run_crawl"]
