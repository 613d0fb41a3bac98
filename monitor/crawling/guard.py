"""The crawl's guard against hostile pages: every request, redirect, robots.txt fetch and
API cursor stays within its site's scope (``monitor.crawling.scope``), and host names that
resolve to non-public addresses are refused unless a site's own base URL is local.

Scrapy's ``OffsiteMiddleware`` checks the host name only, and lets ``dont_filter`` requests
(retries, our own listing redirects) through; this subclass keeps its hooks (it refuses at
scheduling time, before any I/O, and again in the downloader) but checks scheme, host, port
and path for every request. The resolver is Scrapy's caching resolver, checking what a name
resolves to, so a name (or an integer or octal IP form) that points at 169.254.169.254 is
refused even when its text looks harmless.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Sequence
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from monitor.crawlhealth import Stat
from monitor.crawling.scope import BLOCKED_ADDRESS, SiteScope, refused_address

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

# Set on a refused request, so the spider's errback does not count the refusal twice.
REFUSED_META = "wtm_refused"
# Local base-URL hosts of the sites crawling in this process (all share one resolver), and
# the names it refused: Twisted turns the resolver's error into "no results", losing why.
_LOCAL_HOSTS: set[str] = set()
_BLOCKED_NAMES: set[str] = set()
TOO_LARGE = "too_large"


class SiteScopeMiddleware(OffsiteMiddleware):
    """Refuses requests outside the spider's ``scope`` (a ``SiteScope``), counting each
    refusal as the fault ``wtm/errors/<refused_scheme|offsite|blocked_address>``."""

    def spider_opened(self, spider: Spider) -> None:
        self.scope: SiteScope | None = getattr(spider, "scope", None)
        self.refused_hosts: set[str] = set()
        if self.scope is not None and self.scope.local:
            _LOCAL_HOSTS.add(self.scope.base_host)
        super().spider_opened(spider)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        scope = getattr(self, "scope", None)
        if scope is None:  # a spider without a site (never ours): Scrapy's own policy
            return super().process_request(request)
        refusal = scope.refusal(request.url)
        if not refusal:
            return None
        request.meta[REFUSED_META] = refusal
        self.stats.inc_value(f"{Stat.ERRORS}{refusal}")
        key = f"{refusal} {request.url[:80]}"
        if len(self.refused_hosts) < 20 and key not in self.refused_hosts:
            self.refused_hosts.add(key)
            logger.warning("refused %s request to %.200s", refusal, request.url)
        raise IgnoreRequest(f"{refusal}: {request.url[:200]}")


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching DNS resolver that refuses non-public answers (private, loopback,
    link-local, reserved) for any name but the local base-URL hosts of the sites crawling."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> "Deferred[str]":
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self._check, name)
        return deferred

    def _check(self, address: str, name: str) -> str:
        host = name.lower().rstrip(".")
        if refused_address(address) and host not in _LOCAL_HOSTS:
            logger.warning("refused %s: %s resolves to the non-public address %s", BLOCKED_ADDRESS, name, address)
            _BLOCKED_NAMES.add(host)
            raise DNSLookupError(f"{BLOCKED_ADDRESS}: {name} resolves to the non-public address {address}")
        return address


def fault_name(error: BaseException, url: str = "") -> str:
    """The crawl-health name of a failed request's error (``too_large`` for a page or a
    decompressed body over ``DOWNLOAD_MAXSIZE``; ``blocked_address`` for a refused name)."""
    if isinstance(error, DownloadCancelledError) and "max size" in str(error):
        return TOO_LARGE
    if isinstance(error, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(error):
        return TOO_LARGE
    if BLOCKED_ADDRESS in str(error) or (url and (urlsplit(url).hostname or "") in _BLOCKED_NAMES):
        return BLOCKED_ADDRESS
    return type(error).__name__
