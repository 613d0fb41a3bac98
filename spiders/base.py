"""The generic site spider: searches a marketplace for each keyword, walks the category pages its
site file names (browsing), follows result pages and listings, and revisits every listing
already known so removals are seen even when search no longer shows them. Everything
site-specific comes from the ``SiteConfig``; each page (search, category, listing) is read by the
reader its site file names (``monitor.spiders.archetypes``: HTML, a JSON API, JSON inside HTML).

Spiders yield ``ListingItem``s and nothing else: matching and storage are pipelines.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable, Iterator
from urllib.parse import quote, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from monitor.crawlhealth import Stat
from monitor.crawling.guard import REFUSED_META, fault_name
from monitor.crawling.parsers import http_date
from monitor.crawling.scope import REFUSED_SCHEME
from monitor.crawling.sites import PageReader, PageRule, SiteConfig
from monitor.items import ListingItem
from monitor.spiders.archetypes import READERS
from monitor.spiders.readers import Node, UnreadablePage, decode, extract_all, extract_text, select_nodes


def media_type(response: Response) -> str:
    """The response's Content-Type without its parameters, lower-cased ("" when absent)."""
    header = response.headers.get(b"Content-Type") or b""
    return header.decode("latin-1").split(";", 1)[0].strip().lower()[:100]


# Field name in the site file -> ListingItem attribute.
ITEM_FIELDS = {
    "title": "title", "description": "description", "price": "price_text", "location": "location",
    "seller": "seller", "contact": "contact_text", "posted": "posted_text",
}
# Listing pages handle their own redirects: a removed listing's redirect to the home page must
# be seen as such, not followed (and then dropped as a duplicate of the home page).
REDIRECTS = (301, 302, 303, 307, 308)
# Results read from one page: marketplaces list 20 to 100; a hostile page listing 300,000 links
# would otherwise queue as many requests (and hold their memory) before the budget drops them.
MAX_RESULTS_PER_PAGE = 500
LISTING_STATUSES = [404, 410, *REDIRECTS]
COVERAGE_FIELDS = {"price": "price_text", "date": "posted_text", "contact": "contact_text", "location": "location"}
# Counter keys in the crawl's stats, defined once in monitor.crawlhealth.Stat (health, storage
# and the report read them): per query result pages and listings; browsing pages; found by what.
QUERY_PAGES, QUERY_FOUND = Stat.QUERY_PAGES, Stat.QUERY_FOUND
BROWSE_PAGES, FOUND_BY = Stat.BROWSE_PAGES, Stat.FOUND_BY


class SiteSpider(scrapy.Spider):
    """Generic spider for one site; ``spider_class(site)`` makes a named subclass per site."""

    site: SiteConfig
    name = "site"
    default_sandbox_url = ""
    # Set by the `scrapy crawl` loader: the planner's queries for the month, used when none are given.
    default_keywords: tuple[str, ...] = ()

    def __init__(
        self,
        *args: Any,
        keywords: Iterable[str] | str | None = None,
        revisit: Iterable[tuple[str, str]] | None = None,
        sandbox_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(keywords, str):  # `scrapy crawl site -a keywords=象牙,犀角`
            keywords = [k for k in keywords.split(",") if k]
        if keywords is None:
            keywords = self.default_keywords
        self.keywords = list(keywords or [])
        self.revisit = [tuple(pair) for pair in (revisit or [])]
        # Listings known before this crawl began, by id and by URL: a walk with `stop: known`
        # ends after a page listing none but these.
        self.known = {str(part) for pair in self.revisit for part in pair}
        self.found_by: dict[str, str] = {}  # listing (id, else URL) -> "query" | "browse" | "both"
        self._queries_of: dict[str, set[str]] = {}  # listing -> up to two queries that listed it
        self._walking = False
        self.sandbox_url = sandbox_url or self.default_sandbox_url
        self.base_url = self.site.base_url(self.sandbox_url)
        # Read by monitor.crawling.guard.SiteScopeMiddleware for every request.
        self.scope = self.site.scope(self.sandbox_url)
        self.allowed_domains = self.scope.hosts
        self._home_paths = {urlsplit(self.base_url).path, urlsplit(self.base_url).path + "index.html"}

    # -- requests ---------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> "SiteSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.walk_when_searched, signal=signals.spider_idle)
        return spider

    def _meta(self, **extra: Any) -> dict[str, Any]:
        return {"download_slot": self.site.name, **extra}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for external_id, url in self.revisit:
            yield self.revisit_request(external_id, url)
        if self.site.crawl in ("search", "both"):
            for keyword in self.keywords:
                for url in self.site.search_urls(keyword, self.sandbox_url):
                    yield scrapy.Request(
                        url, callback=self.parse_results, errback=self.on_error,
                        meta=self._meta(keyword=keyword, rule="search", page=1, template=url),
                    )
        if self.site.crawl == "category":
            self._walking = True
            for request in self.walk_requests():
                yield request

    def walk_requests(self) -> list[scrapy.Request]:
        """The first page of each category walk."""
        return [scrapy.Request(url, callback=self.parse_results, errback=self.on_error,
                               meta=self._meta(keyword="", rule="category", page=1, template=url))
                for url in self.site.category_urls(self.sandbox_url)]

    def walk_when_searched(self) -> None:
        """With ``crawl: both``, the walks begin when the searches and revisits are done, so a
        listing both find was requested for its query, and the query's yield counts it."""
        if self._walking or self.site.crawl != "both":
            return
        self._walking = True
        requests = self.walk_requests()
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def on_error(self, failure: Any) -> None:
        request = getattr(failure, "request", None)
        meta = getattr(request, "meta", {}) if request is not None else {}
        if meta.get(REFUSED_META):
            return  # refused by the scope guard, which counted it
        stats = self.crawler.stats
        if meta.get("rule") == "search" and meta.get("keyword"):
            stats.inc_value(f"{QUERY_PAGES}{meta['keyword']}")  # a result page spent, though it failed
        stats.inc_value(f"{Stat.ERRORS}{fault_name(failure.value, getattr(request, 'url', ''))}")
        if meta.get("external_id") or meta.get("revisit"):
            stats.inc_value(Stat.LISTINGS_UNREAD)  # a listing page still failing after retries
        self.logger.warning("%s: %s failed: %s", self.site.name, getattr(request, "url", "?"), failure.value)

    def link(self, base: str, value: str) -> str:
        """``value`` resolved against ``base`` when it lies in the site's scope, else "" (the
        refusal counted): a page may list ``javascript:``, ``file:`` or ``data:`` links,
        unparsable ones, or links elsewhere that must be neither fetched nor stored."""
        try:
            url = urljoin(base, value.strip())
        except ValueError:  # e.g. an unclosed IPv6 bracket
            url = ""
        refusal = self.scope.refusal(url) if url else REFUSED_SCHEME
        if refusal:
            self.crawler.stats.inc_value(f"{Stat.ERRORS}{refusal}")
            return ""
        return url

    # -- documents ----------------------------------------------------------------------------

    def page_reader(self, page: scrapy.Request | Response) -> PageReader:
        """The reader of this page (given by its request, or its response once tied to one): its
        result rule's (search, category), else the listing's."""
        rule = page.meta.get("rule")
        page = self.site.search if rule == "search" else self.site.category if rule == "category" else None
        return page.reader if page is not None else self.site.listing_reader

    def page_text(self, response: Response, reader: PageReader) -> str:
        """The page's text as its server declared it, or in the site file's charset for the page."""
        try:
            declared = response.text if hasattr(response, "text") else None
        except Exception:  # an encoding name the codec registry does not know
            declared = None
        return decode(response.body, declared, reader.charset)

    def document(self, response: Response) -> Node | None:
        """The response as something selectors run on, read by its page's reader (search,
        category or listing: each may be HTML, a JSON API or JSON in a script); None when
        it cannot be read."""
        reader = self.page_reader(response)
        try:
            return READERS[reader.kind].read(self.page_text(response, reader), reader.script)
        except UnreadablePage as exc:
            self.logger.debug("%s: %s: %s", self.site.name, response.url, exc)
            return None

    def _looks_like_login_wall(self, response: Response) -> bool:
        """Sent to a login page (or refused): the listing is hidden, not gone."""
        if response.status in REDIRECTS:
            return self._looks_like_login_wall_url(self._redirect_target(response))
        return response.status in (401, 403) or self._looks_like_login_wall_url(response.url)

    @staticmethod
    def _looks_like_login_wall_url(url: str) -> bool:
        path = urlsplit(url).path.lower()
        return any(word in path for word in ("login", "signin", "passport"))

    # -- result pages -------------------------------------------------------------------------

    def _rule(self, response: Response) -> PageRule:
        rule = self.site.search if response.meta["rule"] == "search" else self.site.category
        assert rule is not None
        return rule

    def parse_results(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        rule = self._rule(response)
        self.crawler.stats.inc_value(Stat.RESULT_PAGES)
        keyword = meta.get("keyword", "")
        browsing = meta.get("rule") == "category"  # a walk's page; its listings carry the keyword ""
        if browsing:
            self.crawler.stats.inc_value(BROWSE_PAGES)
        if meta.get("rule") == "search" and keyword:
            self.crawler.stats.inc_value(f"{QUERY_PAGES}{keyword}")
        if self._looks_like_login_wall(response):
            self.crawler.stats.inc_value(Stat.ERRORS + "login_wall")
            return
        doc = self.document(response)
        if doc is None:
            self.crawler.stats.inc_value(Stat.ERRORS + "unreadable_page")
            return
        found = 0
        fresh = False  # the page lists a listing not known before the crawl began
        if rule.items is not None:
            fields = rule.item_fields or self.site.fields
            for node in self._capped(select_nodes(doc, rule.items)):
                values = {name: extract_text(node, selector) for name, selector in fields.items()}
                link = self.link(response.url, values["url"]) if values.get("url") else ""
                if values.get("url") and not link:
                    continue
                external_id = values.get("id") or self.id_from_url(link)
                if not external_id:
                    self.crawler.stats.inc_value(Stat.ITEMS_INCOMPLETE)
                    continue
                found += 1
                canonical = self.site.listing_url(external_id, self.sandbox_url) or link
                fresh = self._note_listed(external_id, canonical, browsing, keyword) or fresh
                if rule.follow:
                    target = self.site.fetch_url(external_id, self.sandbox_url) or canonical
                    yield self._listing_request(target, keyword, external_id, canonical, partial=values)
                else:
                    item = self.build_item(values, response, keyword, canonical, external_id)
                    if item is not None:
                        yield item
        if rule.results is not None:
            texts = self._link_texts(doc, rule.results)
            for link in self._capped(extract_all(doc, rule.results)):
                url = self.link(response.url, link)
                if not url:
                    continue
                found += 1
                external_id = self.id_from_url(url)
                canonical = (self.site.listing_url(external_id, self.sandbox_url) if external_id else None) or url
                target = (self.site.fetch_url(external_id, self.sandbox_url) if external_id else None) or url
                fresh = self._note_listed(external_id, canonical, browsing, keyword) or fresh
                yield self._listing_request(target, keyword, external_id, canonical, link_text=texts.get(link, ""))
        if found and meta.get("rule") == "search" and keyword:
            self.crawler.stats.inc_value(f"{QUERY_FOUND}{keyword}", found)
        page = meta.get("page", 1)
        limit = rule.max_pages
        if browsing and rule.stop == "known" and found and not fresh:
            self.crawler.stats.inc_value(Stat.BROWSE_STOPPED)
            return  # everything here is older than the last crawl, and so is every later page
        if found and rule.next_page is not None and (limit is None or page < limit):
            next_url = self._next_page_url(doc, rule, response, page)
            if next_url:
                yield scrapy.Request(
                    next_url, callback=self.parse_results, errback=self.on_error,
                    meta=self._meta(keyword=keyword, rule=meta["rule"], page=page + 1, template=meta.get("template", "")),
                )

    def _capped(self, results: Iterable[Any]) -> Iterator[Any]:
        """The first ``MAX_RESULTS_PER_PAGE`` of a page's results; more are counted as a fault."""
        for index, result in enumerate(results):
            if index == MAX_RESULTS_PER_PAGE:
                self.crawler.stats.inc_value(Stat.ERRORS + "results_capped")
                return
            yield result

    def _note_listed(self, external_id: str, url: str, browsing: bool, keyword: str = "") -> bool:
        """Record that a result page listed this listing (by a query, or by browsing) in
        ``found_by`` and its ``wtm/found/*`` counters, and whether one query alone lists it
        (``Stat.SINGLE_QUERY``); True when it was not known before the crawl."""
        key = external_id or url
        how = "browse" if browsing else "query"
        before = self.found_by.get(key)
        queries = self._queries_of.setdefault(key, set())
        was_single = before == "query" and len(queries) == 1
        if not browsing and keyword and len(queries) < 2:
            queries.add(keyword)  # two tell "more than one" as well as all would
        if before not in (how, "both"):
            after = self.found_by[key] = how if before is None else "both"
            if before is not None:
                self.crawler.stats.inc_value(f"{FOUND_BY}{before}", -1)
            self.crawler.stats.inc_value(f"{FOUND_BY}{after}")
        single = self.found_by[key] == "query" and len(queries) == 1
        if single != was_single:
            self.crawler.stats.inc_value(Stat.SINGLE_QUERY, 1 if single else -1)
        return external_id not in self.known and url not in self.known

    def _listing_request(
        self, url: str, keyword: str, external_id: str, canonical: str, partial: dict[str, str] | None = None,
        link_text: str = "",
    ) -> scrapy.Request:
        """A listing page's request; ``partial`` (what an items rule read) or ``link_text`` (the
        result link's text) is what is known should the page answer that the listing is gone."""
        meta = self._meta(keyword=keyword, external_id=external_id, listing_url=canonical,
                          handle_httpstatus_list=LISTING_STATUSES, dont_redirect=True)
        if partial:
            meta["partial"] = partial
        if link_text:
            meta["link_text"] = link_text
        return scrapy.Request(url, callback=self.parse_listing, errback=self.on_error, meta=meta)

    @staticmethod
    def _link_texts(doc: Node, selector: Any) -> dict[str, str]:
        """href -> link text for a results rule that picks links' ``href`` (CSS ``::attr(href)``
        or XPath ``/@href``): the only title a listing gone before its first visit will have."""
        expression = selector.expression
        if doc.html is None or selector.regex is not None:
            return {}
        if selector.kind == "css" and expression.endswith("::attr(href)"):
            links = doc.html.css(expression[: -len("::attr(href)")])
        elif selector.kind == "xpath" and expression.endswith("/@href"):
            links = doc.html.xpath(expression[: -len("/@href")])
        else:
            return {}
        texts: dict[str, str] = {}
        for link in links[:MAX_RESULTS_PER_PAGE]:
            href = " ".join((link.attrib.get("href") or "").split())
            text = " ".join(" ".join(link.xpath(".//text()").getall()).split())
            if href and text:
                texts.setdefault(href, text)
        return texts

    def _next_page_url(self, doc: Node, rule: PageRule, response: Response, page: int) -> str:
        value = extract_text(doc, rule.next_page)
        if not value or value.lower() in ("false", "none", "null", "0"):
            return ""
        if rule.next_url:
            keyword = response.meta.get("keyword", "")
            encoded = self.site.encode_keyword(keyword) if keyword else ""
            return self.link(self.base_url, rule.next_url.replace("{keyword}", encoded).replace("{next}", quote(value, safe="")))
        if value.lower() == "true" or value.isdigit():
            wanted = page + 1 if value.lower() == "true" else int(value)
            if wanted <= page or not any("{page}" in t for t in rule.urls):
                return ""
            return self._page_url(response, rule, wanted)
        return self.link(response.url, value)

    def _page_url(self, response: Response, rule: PageRule, page: int) -> str:
        """Result page ``page`` of the same query, from the rule's ``{page}`` template."""
        keyword = response.meta.get("keyword", "")
        encoded = self.site.encode_keyword(keyword) if keyword else ""
        first = response.meta.get("template", "")
        for template in rule.urls:
            url = urljoin(self.base_url, template.replace("{keyword}", encoded).replace("{page}", "1"))
            if url == first or len(rule.urls) == 1:
                return urljoin(self.base_url, template.replace("{keyword}", encoded).replace("{page}", str(page)))
        return ""

    # -- listing pages ------------------------------------------------------------------------

    def removal_kind(self, response: Response) -> str:
        """How a listing page says the listing is gone, or "" when it is there."""
        if response.status == 404:
            return "http_404"
        if response.status == 410:
            return "http_410"
        if response.status in REDIRECTS:
            target = self._redirect_target(response)
            return "redirect_home" if target and urlsplit(target).path in self._home_paths else ""
        reader = self.page_reader(response)
        text = self.page_text(response, reader)
        document = lambda: self.document(response) if response.status == 200 else None  # noqa: E731
        return "deleted_page" if READERS[reader.kind].deleted(text, self.site.deleted_markers, document) else ""

    def _redirect_target(self, response: Response) -> str:
        location = response.headers.get(b"Location")
        try:
            return urljoin(response.url, location.decode("latin-1")) if location else ""
        except ValueError:  # an unparsable Location
            return ""

    def revisit_request(self, external_id: str, url: str) -> scrapy.Request:
        target = self.site.fetch_url(external_id, self.sandbox_url) or url
        request = self._listing_request(target, "", external_id, url)
        request.meta["revisit"] = external_id
        request.priority = -10
        return request

    def parse_listing(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value(Stat.LISTING_PAGES)
        meta = response.meta
        original_url = (meta.get("redirect_urls") or [response.url])[0]
        hops = meta.get("listing_hops", 0)
        if response.status in REDIRECTS and not self.removal_kind(response):
            target = self._redirect_target(response)
            target = self.link(response.url, target) if target else ""
            if target and hops < 5 and not self._looks_like_login_wall_url(target):
                yield response.request.replace(
                    url=target, meta={**meta, "listing_hops": hops + 1,
                                      "redirect_urls": [*(meta.get("redirect_urls") or [response.url]), target]},
                )
                return
        canonical = meta.get("listing_url") or original_url
        external_id = meta.get("external_id") or meta.get("revisit") or self.id_from_url(original_url)
        keyword = meta.get("keyword", "")
        kind = self.removal_kind(response)
        if kind:
            if not external_id:
                return
            yield self.removed_item(response, external_id, canonical, kind)
            return
        partial = dict(meta.get("partial") or {})
        doc = None
        if self._looks_like_login_wall(response):
            self.crawler.stats.inc_value(Stat.ERRORS + "login_wall")
        else:
            doc = self.document(response)
            if doc is None:
                self.crawler.stats.inc_value(Stat.ERRORS + "unreadable_page")
        if doc is not None:
            for name, selector in self.site.fields.items():
                value = extract_text(doc, selector)
                if value:
                    partial[name] = value
        elif not partial:
            if doc is None and not self._looks_like_login_wall(response):
                self.crawler.stats.inc_value(Stat.LISTINGS_UNREAD)
            return
        item = self.build_item(partial, response, keyword, canonical, external_id)
        if item is not None:
            yield item

    def removed_item(self, response: Response, external_id: str, url: str, kind: str) -> ListingItem:
        """A listing page that says the listing is gone. Known before the crawl, it is a removal;
        else it was gone before its first visit (``unread``) and carries what its results page
        showed: the items rule's fields, or the result link's text as its title."""
        meta = response.meta
        item = ListingItem(site=self.site.name, external_id=external_id, url=url, status="removed",
                           removal_kind=kind, fetched_at=self.fetched_at(response), keyword=meta.get("keyword", ""))
        if meta.get("revisit") or external_id in self.known or url in self.known:
            self.crawler.stats.inc_value(f"{Stat.REMOVED}{kind}")
            return item
        self.crawler.stats.inc_value(f"{Stat.REMOVED_UNREAD}{kind}")
        item.unread = True
        shown = dict(meta.get("partial") or {})
        if not shown.get("title") and meta.get("link_text"):
            shown["title"] = meta["link_text"]
        for name, attribute in ITEM_FIELDS.items():
            if shown.get(name):
                setattr(item, attribute, shown[name])
        return item

    def id_from_url(self, url: str) -> str:
        if self.site.id_from_url is None:
            return ""
        match = self.site.id_from_url.search(url)
        return match.group(1) if match else ""

    def fetched_at(self, response: Response) -> datetime:
        return http_date(response.headers.get(b"Date")) or datetime.now(timezone.utc)

    def read_encoding(self, response: Response) -> str:
        """The encoding ``page_text`` read the page in: the server's, unless the text it gives
        is broken and the site file's charset reads the page."""
        declared = getattr(response, "encoding", "") or ""
        reader = self.page_reader(response)
        if not hasattr(response, "text"):
            return reader.charset
        text = self.page_text(response, reader)
        try:
            return declared if text == response.text else reader.charset
        except Exception:  # an encoding name the codec registry does not know
            return reader.charset

    def build_item(
        self, values: dict[str, str], response: Response, keyword: str, url: str, external_id: str
    ) -> ListingItem | None:
        external_id = values.get("id") or external_id
        if not external_id or not values.get("title"):
            self.crawler.stats.inc_value(Stat.ITEMS_INCOMPLETE)
            return None
        item = ListingItem(
            site=self.site.name, external_id=external_id, url=url, keyword=keyword,
            fetched_at=self.fetched_at(response), raw_body=response.body,
            raw_encoding=self.read_encoding(response), raw_content_type=media_type(response),
        )
        for name, attribute in ITEM_FIELDS.items():
            if values.get(name):
                setattr(item, attribute, values[name])
        stats = self.crawler.stats
        stats.inc_value(Stat.ITEMS_LIVE)
        for name, attribute in COVERAGE_FIELDS.items():
            if getattr(item, attribute):
                stats.inc_value(f"{Stat.FIELD}{name}")
        return item
