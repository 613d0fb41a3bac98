"""Health verdicts from a crawl's stats and the site's last good run."""

from __future__ import annotations

from pathlib import Path

from monitor.crawling.health import HealthHistory, assess, errors_by_kind

FIELDS = ["title", "price", "posted", "contact", "location"]


def stats(items: int, covered: float = 1.0, **extra: int) -> dict:
    base = {"response_received_count": items + 5, "wtm/items/live": items}
    for name in ("price", "date", "contact", "location"):
        base[f"wtm/field/{name}"] = int(items * covered)
    return {**base, **extra}


def test_a_normal_crawl_is_healthy() -> None:
    health = assess(stats(40), "finished", FIELDS, None, 12.5)
    assert health["healthy"] and health["problems"] == []
    assert health["coverage"] == {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}
    assert health["pages"] == 45 and health["duration_s"] == 12.5


def test_no_items_is_unhealthy() -> None:
    health = assess(stats(0, **{"downloader/response_status_count/500": 12}), "finished", FIELDS, None, 1)
    assert not health["healthy"] and "no listings found" in health["problems"]
    assert health["errors"] == {"http_500": 12}


def test_items_halving_against_the_last_good_run_is_unhealthy() -> None:
    previous = {"items": 100, "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}}
    assert assess(stats(60), "finished", FIELDS, previous, 1)["healthy"]
    health = assess(stats(40), "finished", FIELDS, previous, 1)
    assert not health["healthy"] and "listings fell from 100 to 40" in health["problems"]


def test_collapsed_field_coverage_is_unhealthy() -> None:
    previous = {"items": 100, "coverage": {"price": 0.9, "date": 1.0, "contact": 0.5, "location": 1.0}}
    run = stats(100)
    run["wtm/field/price"] = 30
    health = assess(run, "finished", FIELDS, previous, 1)
    assert not health["healthy"] and health["problems"] == ["price coverage fell from 90% to 30%"]
    first_run = assess(run | {"wtm/field/date": 5}, "finished", FIELDS, None, 1)
    assert "date coverage only 5%" in first_run["problems"]


def test_unfinished_or_storage_failures_are_unhealthy() -> None:
    assert "did not finish: shutdown" in assess(stats(10), "shutdown", FIELDS, None, 1)["problems"]
    failed = assess(stats(10, **{"wtm/errors/storage": 2}), "finished", FIELDS, None, 1)
    assert not failed["healthy"] and failed["errors"]["storage"] == 2


def test_errors_by_kind_ignore_removal_answers() -> None:
    errors = errors_by_kind({
        "downloader/response_status_count/404": 5, "downloader/response_status_count/410": 1,
        "downloader/response_status_count/429": 3, "retry/max_reached": 2, "wtm/errors/login_wall": 4,
        "wtm/errors/HttpError": 9, "spider_exceptions/ValueError": 1,
    })
    assert errors == {"http_429": 3, "retries_exhausted": 2, "login_wall": 4, "spider_ValueError": 1}


def test_history_keeps_the_last_good_run_per_site(tmp_path: Path) -> None:
    history = HealthHistory(tmp_path)
    history.record("site", assess(stats(80), "finished", FIELDS, None, 1))
    history.record("site", assess(stats(0), "finished", FIELDS, None, 1))  # unhealthy: not kept
    assert history.last_good("site")["items"] == 80
    assert history.last_good("other") is None
    (tmp_path / "old.json").write_text('{"0123456789abcdef": {"items": 80}}', encoding="utf-8")
    assert history.last_good("old") is None  # a history kept per keyword set, before plans changed monthly


def test_listing_counts_compare_only_plans_of_a_like_size() -> None:
    previous = {"items": 100, "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}, "queries": 40}
    planned = {f"wtm/query/pages/q{i}": 1 for i in range(30)}
    assert not assess(stats(40, **planned), "finished", FIELDS, previous, 1)["healthy"]
    small = {f"wtm/query/pages/q{i}": 1 for i in range(10)}  # a quarter of the plan finds fewer, rightly
    assert assess(stats(40, **small), "finished", FIELDS, previous, 1)["healthy"]
    collapsed = stats(40, **small) | {"wtm/field/price": 2}
    assert "price coverage fell from 100% to 5%" in assess(collapsed, "finished", FIELDS, previous, 1)["problems"]


def test_small_sites_are_not_judged_on_noise() -> None:
    previous = {"items": 8, "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}}
    assert assess(stats(3), "finished", FIELDS, previous, 1)["healthy"]
    previous = {"items": 12, "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}}
    assert assess(stats(3), "finished", FIELDS, previous, 1)["healthy"]
    previous = {"items": 20, "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}}
    assert not assess(stats(9), "finished", FIELDS, previous, 1)["healthy"]


def test_health_is_one_typed_object_written_and_read_as_json() -> None:
    import json

    from monitor.crawlhealth import SiteHealth

    run = stats(40, **{"wtm/query/pages/象牙": 3, "wtm/query/pages/犀角": 1, "wtm/pages/browse": 5,
                       "wtm/found/query": 20, "wtm/found/browse": 15, "wtm/found/both": 5,
                       "wtm/reach/single_query": 12, "downloader/request_count": 95, "wtm/items/flagged": 10,
                       "wtm/removed_unread/http_404": 2})
    health = assess(run, "finished", FIELDS, None, 3.0)
    reach = health.reach
    assert (reach.queries, reach.query_pages, reach.browse_pages) == (2, 4, 5)
    assert (reach.found, reach.only_browse, reach.only_query, reach.single_query) == (40, 15, 20, 12)
    assert reach.requests_per_flagged == 9.5 and health.removed_unread == 2
    stored = json.loads(json.dumps(health.to_json()))
    assert SiteHealth.from_json(stored) == health
    assert stored["reach"]["requests_per_flagged"] == 9.5
    # A row stored before coverage was recorded reads with zeros, and the old dict reads still work.
    old = SiteHealth.from_json({"pages": 3, "items": 7, "healthy": True})
    assert old.reach.queries == 0 and old.reach.requests_per_flagged is None and old["items"] == 7
    assert SiteHealth.failed("crawl did not run").to_json()["errors"] == {"crawl_failed": 1}


def test_a_listing_lost_in_a_pipeline_is_counted_and_named() -> None:
    """Scrapy only logs a pipeline's exception; the lost listing must show in health."""
    from scrapy import Spider, signals
    from scrapy.utils.test import get_crawler
    from twisted.python.failure import Failure

    from monitor.crawling.health import CrawlHealth

    crawler = get_crawler(Spider)
    extension = CrawlHealth.from_crawler(crawler)  # kept: signals hold receivers weakly
    try:
        raise OverflowError("date value out of range")
    except OverflowError:
        failure = Failure()
    crawler.signals.send_catch_log(signals.item_error, item={}, response=None, spider=None, failure=failure)
    health = assess({**stats(40), **crawler.stats.get_stats()}, "finished", FIELDS, None, 1)
    assert health["errors"].get("item_lost") == 1
    assert not health["healthy"] and any("1 listings lost" in p for p in health["problems"]), health["problems"]
    assert extension.crawler is crawler
