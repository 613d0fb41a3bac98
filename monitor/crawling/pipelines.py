"""Item pipelines, in order: Normalise (validate, price, date, location) → Contacts → Match →
Storage. Each is a thin class that configures itself in ``from_crawler``; the work lives in
``monitor.crawling.parsers``, ``monitor.contacts``, ``monitor.matching`` and ``monitor.storage``.

The Match pipeline leaves its verdict on the item as ``item.match`` (a JSON-able dict with the
lexicon version): spiders never set it, so ``ListingItem`` has no field for it.
"""

from __future__ import annotations

import gc
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scrapy import signals
from scrapy.exceptions import DropItem

from monitor.config import Config
from monitor.crawlhealth import SiteHealth, Stat
from monitor.crawling.health import GOOD_FINISH, HEALTH_STAT
from monitor.crawling.parsers import clean_location, parse_date, parse_price, price_display, strip_controls
from monitor.exceptions import MonitorError
from monitor.items import ListingItem

logger = logging.getLogger(__name__)


def config_from_settings(settings: Any) -> Config:
    """The monitor configuration the crawl was started with (carried in ``WTM_CONFIG``)."""
    values = settings.getdict("WTM_CONFIG")
    if not values:
        from monitor.config import load_config

        return load_config()
    return Config(values=values)


def as_of_from_settings(settings: Any) -> datetime:
    text = settings.get("WTM_AS_OF")
    return datetime.fromisoformat(text) if text else datetime.now(config_from_settings(settings).tz)


class NormalisePipeline:
    """Drops items without identity; reads price (to CNY, currency kept), posting date
    (against the response's Date header, in the configured time zone) and location."""

    def __init__(self, crawler: Any, tz: ZoneInfo) -> None:
        self.crawler = crawler
        self.tz = tz

    @classmethod
    def from_crawler(cls, crawler: Any) -> "NormalisePipeline":
        return cls(crawler, config_from_settings(crawler.settings).tz)

    def process_item(self, item: ListingItem) -> ListingItem:
        if not (item.site and item.external_id and item.url):
            raise DropItem(f"listing without site, id or URL: {item.url or item.external_id!r}")
        if item.status == "removed" and not item.unread:
            return item
        for name in ("title", "description", "price_text", "location", "seller", "contact_text", "posted_text"):
            value = getattr(item, name)
            if value:
                setattr(item, name, strip_controls(value).strip())
        site = getattr(self.crawler.spider, "site", None)
        price = parse_price(item.price_text, site.default_currency if site is not None else "CNY")
        item.price_amount, item.price_currency, item.price_cny = price.amount, price.currency, price.cny
        item.price_text = price_display(item.price_text)
        reference = (item.fetched_at or datetime.now(timezone.utc)).astimezone(self.tz)
        item.posted_at = parse_date(item.posted_text, reference, site.date_format if site is not None else None)
        item.location = clean_location(item.location)
        return item


class ContactsPipeline:
    """Sellers' phone numbers, WeChat and QQ ids, from the contact field and the ad text."""

    def __init__(self, crawler: Any) -> None:
        from monitor.contacts import extract_contacts

        self.crawler = crawler
        self.extract = extract_contacts

    @classmethod
    def from_crawler(cls, crawler: Any) -> "ContactsPipeline":
        return cls(crawler)

    def process_item(self, item: ListingItem) -> ListingItem:
        if item.status != "live":
            return item
        text = "\n".join(t for t in (item.contact_text, item.title, item.description) if t)
        seen: dict[tuple[str, str], None] = {}
        try:
            for contact in self.extract(text):
                seen[(contact.kind, contact.value)] = None
        except Exception:  # hostile text must not cost us the listing: salvage line by line
            logger.warning("contact extraction failed on %s; reading it line by line", item.url, exc_info=True)
            self.crawler.stats.inc_value(Stat.ERRORS + "contact_extraction")
            for line in text.splitlines():
                try:
                    for contact in self.extract(line):
                        seen[(contact.kind, contact.value)] = None
                except Exception:
                    continue
        item.contacts = list(seen)
        return item


_DATABASES: dict[str, Any] = {}


def shared_database(config: Config) -> Any:
    """One database handle (engine, connection pool, schema check) for all sites of a process."""
    if config.db_url not in _DATABASES:
        from monitor.crawling.runner import open_database

        _DATABASES[config.db_url] = open_database(config)
    return _DATABASES[config.db_url]


_MATCHERS: dict[str, tuple[Any, Any]] = {}


def shared_matcher(keywords_dir: str | None, data_dir: Path | None = None) -> tuple[Any, Any]:
    """One (lexicon, matcher) per process, however many sites crawl in it; the matcher's model is
    the newest trained in ``data_dir`` (else the shipped one).

    The first build is followed by ``gc.freeze()``: the matcher's dictionaries are hundreds of
    thousands of long-lived objects that would otherwise be walked by every collection during
    the crawl (measured: 21 % slower crawl without the freeze, 2 % faster with it).
    """
    key = f"{keywords_dir or ''}\0{data_dir or ''}"
    if key not in _MATCHERS:
        from monitor.matching import Lexicon, Matcher

        lexicon = Lexicon.load(Path(keywords_dir) if keywords_dir else None)
        _MATCHERS[key] = (lexicon, Matcher(lexicon, model_dir=data_dir))
        gc.collect()
        gc.freeze()
    return _MATCHERS[key]


class MatchPipeline:
    """Runs the matcher on each live listing's title and description.

    The matcher reads at most ``Matcher.max_field_chars`` of a field; a listing with a longer
    one is matched on its beginning (the verdict says which fields under ``truncated``) and
    counted as the crawl fault ``truncated`` (``wtm/errors/truncated``)."""

    def __init__(self, lexicon: Any, matcher: Any, crawler: Any = None) -> None:
        self.lexicon = lexicon
        self.matcher = matcher
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "MatchPipeline":
        config = config_from_settings(crawler.settings)
        return cls(*shared_matcher(config.keywords_dir or None, config.data_path), crawler=crawler)

    def process_item(self, item: ListingItem) -> ListingItem:
        if item.status != "live" and not item.unread:
            return item  # a gone listing already stored: nothing new to match
        result = self.matcher.match({"title": item.title, "description": item.description})
        if result.truncated:
            logger.warning("%s: matched only the first %s characters of its %s", item.url,
                           f"{self.matcher.max_field_chars:,}", " and ".join(result.truncated))
            if self.crawler is not None:
                self.crawler.stats.inc_value(Stat.ERRORS + "truncated")
        verdict = result.to_dict()
        verdict["lexicon_version"] = self.matcher.version  # "<lexicon>+<model>": what decided
        if result.flagged and item.status == "live" and self.crawler is not None:
            self.crawler.stats.inc_value(Stat.ITEMS_FLAGGED)
        item.match = verdict  # type: ignore[attr-defined]
        return item


class StoragePipeline:
    """Writes listings and this crawl's observations through ``CrawlRecorder`` (batched), and
    the raw page as evidence for flagged listings. Removals found by revisits are applied
    only when the site's crawl was healthy: a login wall or an outage must not "remove" every
    known listing of a site.

    At the end it stores each search query's yield (``monitor.storage.yields``): the result
    pages and listings the spider counted for it, and the flagged listings it brought in that
    were new to the database (a listing found by several queries counts for the first)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.config = config_from_settings(crawler.settings)
        self.as_of = as_of_from_settings(crawler.settings)
        self.run_id = crawler.settings.getint("WTM_RUN_ID") or None
        self.batch_size = crawler.settings.getint("WTM_BATCH_SIZE", 500)
        self.db: Any = None
        self.recorder: Any = None
        self.removed: list[ListingItem] = []
        self.flagged: dict[str, str] = {}  # flagged listing (stored id) -> the query that found it first
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StoragePipeline":
        return cls(crawler)

    def open_spider(self) -> None:
        from monitor.storage import CrawlRecorder

        self.db = shared_database(self.config)
        if self.run_id is None:
            self.run_id = self.db.start_run(kind="site", started_at=self.as_of, month=self.as_of.strftime("%Y-%m"))
        spider = self.crawler.spider
        self.recorder = CrawlRecorder(
            self.db, run_id=self.run_id, site=spider.name, observed_at=self.as_of, batch_size=self.batch_size
        )
        pending = self._pending_file()
        if pending is not None and pending.is_file():
            for external_id, url, kind in json.loads(pending.read_text(encoding="utf-8")):
                self.removed.append(ListingItem(site=spider.name, external_id=external_id, url=url,
                                                status="removed", removal_kind=kind))
            pending.unlink()
        carried = self._pending_file("pending_yields.json")
        if carried is not None and carried.is_file():
            self.flagged.update(json.loads(carried.read_text(encoding="utf-8")))
            carried.unlink()

    def _pending_file(self, name: str = "pending_removals.json") -> Path | None:
        jobdir = self.crawler.settings.get("JOBDIR")
        return Path(jobdir) / name if jobdir else None

    def process_item(self, item: ListingItem) -> ListingItem:
        if item.status == "removed" and not item.unread:
            self.removed.append(item)
            return item
        verdict = getattr(item, "match", None) or {}
        flagged = bool(verdict.get("flagged"))
        if flagged and item.keyword and not item.unread:
            from monitor.storage.recorder import storable_id

            self.flagged.setdefault(storable_id(item.external_id), item.keyword)
        try:
            self.recorder.add(
                item,
                matches=verdict.get("matches") or [],
                lexicon_version=verdict.get("lexicon_version", ""),
                flagged=flagged,
                species=verdict.get("species") or [],
                score=float(verdict.get("score") or 0.0),
                evidence=item.raw_body if flagged and item.raw_body else None,
                offer={key: verdict.get(key) for key in ("form", "quantity", "intent")} if flagged else None,
            )
        except MonitorError:
            raise
        except Exception:  # a failed batch write: counted, and the site is reported unhealthy
            logger.exception("storing a batch of %s listings failed", self.crawler.spider.name)
            self.crawler.stats.inc_value(Stat.ERRORS + "storage")
        item.raw_body = b""
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.recorder is None:
            return
        verdict = self.crawler.stats.get_value(HEALTH_STAT)
        # No verdict (the health extension is off): nothing says the crawl went wrong.
        health = SiteHealth.from_json(verdict) if verdict is not None else SiteHealth(healthy=True)
        pending = self._pending_file()
        if self.removed and reason not in GOOD_FINISH and pending is not None:
            # Interrupted: the revisits are done (the job's dupefilter will not repeat them),
            # so keep their verdicts for the resumed crawl to apply.
            pending.parent.mkdir(parents=True, exist_ok=True)
            rows = [(i.external_id, i.url, i.removal_kind) for i in self.removed]
            pending.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        elif self.removed:
            if health.healthy:
                for item in self.removed:
                    self.recorder.mark_removed(item.external_id, item.removal_kind)
            else:
                health.fail(f"{len(self.removed)} removals not applied because the crawl was unhealthy")
        try:
            self.recorder.finish(health)
        except Exception as exc:
            logger.exception("finishing the crawl record of %s failed", spider.name)
            health.fail(f"storing the last listings failed: {exc}")
            self.crawler.stats.set_value(HEALTH_STAT, health)
        else:
            self._store_yields(spider, reason)
        self.recorder = None

    def _store_yields(self, spider: Any, reason: str) -> None:
        """Each query's yield into ``query_yields``. An interrupted crawl that will resume keeps
        its flagged listings in the JOBDIR instead (its counters are carried by the health
        extension), so the resumed crawl stores the whole month's yields once."""
        from monitor.storage.yields import YieldRecord, new_listing_ids, record_yields

        carry = self._pending_file("pending_yields.json")
        if reason not in GOOD_FINISH and carry is not None:
            carry.parent.mkdir(parents=True, exist_ok=True)
            carry.write_text(json.dumps(self.flagged, ensure_ascii=False), encoding="utf-8")
            return
        stats = self.crawler.stats.get_stats()
        pages = {k[len(Stat.QUERY_PAGES):]: int(v) for k, v in stats.items() if k.startswith(Stat.QUERY_PAGES)}
        found = {k[len(Stat.QUERY_FOUND):]: int(v) for k, v in stats.items() if k.startswith(Stat.QUERY_FOUND)}
        try:
            new = new_listing_ids(self.db, spider.name, self.flagged, since=self.as_of)
            flagged_new: dict[str, int] = {}
            for external_id in new:
                query = self.flagged[external_id]
                flagged_new[query] = flagged_new.get(query, 0) + 1
            kinds = getattr(spider, "query_kinds", None) or {}
            site = getattr(spider, "site", None)
            month = self.as_of.strftime("%Y-%m")
            records = [
                YieldRecord(site=spider.name, month=month, query=site.site_keyword(q) if site is not None else q,
                            kind=kinds.get(q, "manual"), requests=pages.get(q, 0), found=found.get(q, 0),
                            flagged_new=flagged_new.get(q, 0), run_id=self.run_id)
                for q in sorted(set(pages) | set(found) | set(flagged_new))
            ]
            record_yields(self.db, records)
        except Exception:  # the listings are stored; a lost yield only makes next month's plan blunter
            logger.exception("storing the query yields of %s failed", spider.name)
