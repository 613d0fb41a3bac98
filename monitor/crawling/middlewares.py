"""Downloader middlewares: retries that back off and honour ``Retry-After``, and charset
repair for pages whose declared encoding lies."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.response import response_status_message

from monitor.crawlhealth import Stat
from monitor.crawling.parsers import http_date

logger = logging.getLogger(__name__)

# Encodings a Chinese page may really be in when its declaration is wrong, most likely first.
_FALLBACK_ENCODINGS = ("gb18030", "big5hkscs", "utf-8")


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    when = http_date(text)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class PatientRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting before each new attempt: ``Retry-After`` when a 429/503 gives
    one (capped by ``WTM_RETRY_AFTER_MAX``), otherwise exponential backoff from
    ``WTM_RETRY_BACKOFF`` seconds. Waiting here keeps the site's download slot busy, which
    is the point: an overloaded site gets fewer requests, not the same ones sooner."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("WTM_RETRY_BACKOFF", 1.0)
        self.retry_after_max = settings.getfloat("WTM_RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = None
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get(b"Retry-After"))
            if delay is not None:
                self.crawler.stats.inc_value(Stat.RETRY_AFTER_HONOURED)
                delay = min(delay, self.retry_after_max)
        if delay is None:
            delay = self.backoff * 2 ** (retry.meta.get("retry_times", 1) - 1)
        if delay > 0:
            await asyncio.sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None and self.backoff > 0:
            await asyncio.sleep(self.backoff * 2 ** (retry.meta.get("retry_times", 1) - 1))
        return retry


class CharsetRepairMiddleware:
    """Re-decode a page whose text holds U+FFFD (a lying ``Content-Type`` charset), trying
    the site file's charset for the page first; counts repairs in the ``Stat.CHARSET_REPAIRED`` stat.

    Ordered at 585, after HttpCompressionMiddleware (590) has decompressed the body.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CharsetRepairMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        try:
            text = response.text
        except Exception:  # an encoding name the codec registry does not know
            text = "\ufffd"
        if "\ufffd" not in text:
            return response
        reader = getattr(self.crawler.spider, "page_reader", None)  # this page's charset (search, listing, ...)
        # the request: a response is tied to its request (response.meta) only after the downloader
        candidates = [reader(request).charset] if reader is not None else []
        candidates += [e for e in _FALLBACK_ENCODINGS if e not in candidates]
        for encoding in candidates:
            try:
                response.body.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            if encoding == response.encoding:
                break
            self.crawler.stats.inc_value(Stat.CHARSET_REPAIRED)
            logger.debug("re-decoded %s as %s (declared %s)", response.url, encoding, response.encoding)
            return response.replace(encoding=encoding)
        self.crawler.stats.inc_value(Stat.CHARSET_UNREPAIRED)
        return response
