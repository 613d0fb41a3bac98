"""``wtm sites check``: fetch one search page of a site and show what each selector of its
definition extracts, then do the same for the first listing found. This is how an analyst
repairs a site after a redesign: change a selector, check again, no crawl needed.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.config import Config
from monitor.crawling.parsers import clean_location, http_date, parse_date, parse_price
from monitor.crawling.scope import BLOCKED_ADDRESS, SiteScope, refused_address
from monitor.crawling.settings import PAGE_MAXSIZE
from monitor.crawling.sites import PageReader, SiteConfig, sites_for_config
from monitor.exceptions import CrawlError


@dataclass
class PageCheck:
    url: str
    status: int = 0
    encoding: str = ""
    error: str = ""
    # selector name -> (selector text, values it extracted)
    selectors: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)


@dataclass
class SiteCheck:
    site: SiteConfig
    keyword: str
    search: PageCheck | None = None
    listing: PageCheck | None = None

    @property
    def ok(self) -> bool:
        pages = [p for p in (self.search, self.listing) if p is not None]
        if not pages or any(p.error for p in pages) or self.listing is None:
            return False
        return bool(self.listing.selectors.get("title", ("", []))[1])


class _ScopedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the site's scope, as the crawl's guard does."""

    def __init__(self, scope: SiteScope) -> None:
        self.scope = scope

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        refusal = _refusal(self.scope, newurl)
        if refusal:
            raise urllib.error.URLError(f"redirect to {newurl[:200]} refused: {refusal}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _refusal(scope: SiteScope, url: str) -> str:
    """The crawl's scope rule, plus what the host name resolves to (the crawl's resolver rule)."""
    refusal = scope.refusal(url)
    host = urlsplit(url).hostname or ""
    if refusal or scope.local:
        return refusal
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return ""  # the fetch itself reports the name that does not resolve
    return BLOCKED_ADDRESS if any(refused_address(a) for a in addresses) else ""


def _fetch(url: str, config: Config, site: SiteConfig) -> tuple[Any, str]:
    """A Scrapy response for ``url`` (so the spiders' own readers apply), or an error text.
    Like the crawl, it fetches only within the site's scope and at most ``PAGE_MAXSIZE`` bytes."""
    from scrapy.http import Headers
    from scrapy.responsetypes import responsetypes

    scope = site.scope(config.sandbox_url)
    refusal = _refusal(scope, url)
    if refusal:
        return None, f"refused ({refusal}): {url[:200]}"
    opener = urllib.request.build_opener(_ScopedRedirects(scope))
    if config.obey_robots and site.politeness.get("obey_robots", True):
        parts = urlsplit(url)
        robots = urllib.robotparser.RobotFileParser()
        try:  # read through the scoped opener: RobotFileParser.read() would follow any redirect
            with opener.open(f"{parts.scheme}://{parts.netloc}/robots.txt", timeout=float(config.download_timeout)) as answer:
                text = _read_by(answer, time.monotonic() + float(config.download_timeout))[:PAGE_MAXSIZE]
                robots.parse(text.decode("utf-8", "replace").splitlines())
        except (urllib.error.URLError, OSError):
            pass
        else:
            if not robots.can_fetch(config.user_agent, url):
                return None, "forbidden by robots.txt"
    request = urllib.request.Request(url, headers={"User-Agent": config.user_agent})
    timeout = float(config.download_timeout)
    deadline = time.monotonic() + timeout
    try:
        try:
            with opener.open(request, timeout=timeout) as answer:
                status, headers, final = answer.status, answer.headers, answer.geturl()
                body = _read_by(answer, deadline)
        except urllib.error.HTTPError as exc:  # an error page is read too, within the same deadline
            status, headers, body, final = exc.code, exc.headers, _read_by(exc, deadline), url
    except TimeoutError:
        return None, f"cannot fetch: the page took over download_timeout ({timeout:g} s)"
    except (urllib.error.URLError, OSError) as exc:
        return None, f"cannot fetch: {exc}"
    if len(body) > PAGE_MAXSIZE:
        return None, f"too large: over {PAGE_MAXSIZE} bytes"
    scrapy_headers = Headers({k: v for k, v in headers.items()})
    cls = responsetypes.from_args(headers=scrapy_headers, url=final, body=body)
    return cls(url=final, status=status, headers=scrapy_headers, body=body), ""


def _read_by(answer: Any, deadline: float) -> bytes:
    """At most ``PAGE_MAXSIZE`` + 1 bytes of the body, by ``deadline``: urllib's timeout bounds
    each socket read, so a page dripping a byte at a time would otherwise never end (the crawl
    bounds the whole download, as Scrapy's download_timeout does)."""
    parts: list[bytes] = []
    size = 0
    while size <= PAGE_MAXSIZE:
        if time.monotonic() > deadline:
            raise TimeoutError("download_timeout")
        chunk = answer.read1(65536) if hasattr(answer, "read1") else answer.read(PAGE_MAXSIZE + 1 - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _read(reader: PageReader, response: Any, page: PageCheck) -> Any:
    """The page as the crawl reads it: the same reader, the same charset rule."""
    from monitor.spiders.archetypes import READERS
    from monitor.spiders.readers import UnreadablePage, decode

    page.status = response.status
    try:
        declared = response.text if hasattr(response, "text") else None
    except Exception:  # an encoding name the codec registry does not know
        declared = None
    text = decode(response.body, declared, reader.charset)
    page.encoding = (getattr(response, "encoding", "") or "") if text == declared else reader.charset
    try:
        return READERS[reader.kind].read(text, reader.script)
    except UnreadablePage as exc:
        page.error = f"{exc} (read as {reader.kind})"
        return None


def check_site(config: Config, name: str, keyword: str | None = None) -> SiteCheck:
    from monitor.spiders.readers import extract_all, extract_text, select_nodes

    site = sites_for_config(config, [name])[name]
    rule = site.search if site.search is not None else site.category
    if rule is None:
        raise CrawlError(f"site {name!r} has neither search nor category pages")
    keyword = keyword or "象牙"
    urls = site.search_urls(keyword, config.sandbox_url) if site.search is not None else site.category_urls(config.sandbox_url)
    result = SiteCheck(site=site, keyword=site.site_keyword(keyword))
    result.search = PageCheck(url=urls[0])
    response, error = _fetch(urls[0], config, site)
    if response is None:
        result.search.error = error
        return result
    doc = _read(rule.reader, response, result.search)
    if doc is None:
        return result
    links: list[str] = []
    first_item = None
    for label, selector in (("results", rule.results), ("items", rule.items), ("next_page", rule.next_page)):
        if selector is None:
            continue
        if label == "items":
            nodes = select_nodes(doc, selector)
            result.search.selectors[label] = (selector.source, [f"{len(nodes)} listings"] if nodes else [])
            first_item = nodes[0] if nodes else None
            for name, field_selector in rule.item_fields.items():
                found = extract_all(first_item, field_selector) if first_item is not None else []
                result.search.selectors[f"item {name}"] = (field_selector.source, found)
        else:
            values = extract_all(doc, selector)
            result.search.selectors[label] = (selector.source, values)
            if label == "results":
                links = values
    target = ""
    if first_item is not None and rule.item_fields:
        link = extract_text(first_item, rule.item_fields["url"]) if "url" in rule.item_fields else ""
        ident = extract_text(first_item, rule.item_fields["id"]) if "id" in rule.item_fields else ""
        ident = ident or _id_from(site, urljoin(response.url, link) if link else "")
        if rule.follow:
            target = site.fetch_url(ident, config.sandbox_url) or site.listing_url(ident, config.sandbox_url) or urljoin(response.url, link)
    elif links:
        link = urljoin(response.url, links[0])
        ident = _id_from(site, link)
        target = (site.fetch_url(ident, config.sandbox_url) if ident else None) or link
    if first_item is not None and not target:
        node, listing_response = first_item, response
        result.listing = PageCheck(url=response.url + "  (first listing on the result page)")
        result.listing.status = response.status
    elif target:
        result.listing = PageCheck(url=target)
        listing_response, error = _fetch(target, config, site)
        if listing_response is None:
            result.listing.error = error
            return result
        node = _read(site.listing_reader, listing_response, result.listing)
        if node is None:
            return result
    else:
        return result
    values: dict[str, str] = {}
    for field_name, selector in site.fields.items():
        found = extract_all(node, selector)
        result.listing.selectors[field_name] = (selector.source, found)
        values[field_name] = extract_text(node, selector)
    reference = (http_date(listing_response.headers.get(b"Date")) or datetime.now(timezone.utc)).astimezone(config.tz)
    if "price" in values:
        price = parse_price(values["price"], site.default_currency)
        result.listing.parsed["price"] = (
            f"{price.amount} {price.currency} = {price.cny} CNY" if price.amount is not None else f"no amount ({price.currency or '-'})"
        )
    if "posted" in values:
        posted = parse_date(values["posted"], reference, site.date_format)
        result.listing.parsed["posted"] = f"{posted:%Y-%m-%d %H:%M}" if posted else "not a date"
    if "location" in values:
        result.listing.parsed["location"] = clean_location(values["location"])
    if "contact" in values or "description" in values:
        from monitor.contacts import extract_contacts

        text = " ".join(values.get(k, "") for k in ("contact", "title", "description"))
        result.listing.parsed["contacts"] = ", ".join(f"{c.kind}:{c.value}" for c in extract_contacts(text)) or "none"
    return result


def _id_from(site: SiteConfig, url: str) -> str:
    if site.id_from_url is None or not url:
        return ""
    match = site.id_from_url.search(url)
    return match.group(1) if match else ""
