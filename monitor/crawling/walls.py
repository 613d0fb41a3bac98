"""Walls: captcha and ban pages, and searches robots.txt forbids.

A marketplace searched too fast answers with a captcha (a slider, 验证码, 访问过于频繁) or bans
the client (403/429 saying so). Such a page is no result page: read as one it would find nothing,
and the site would look empty. ``WallMiddleware`` tells them apart, backs off and names the fault:

* a wall met on a search moves that site's searches to a download slot of their own, so its
  listing pages keep their pace while the searches slow down;
* the slot pauses (``WALL_PAUSE`` seconds, doubling with each wall) and then sends at most one
  request per ``WALL_DELAY`` seconds (doubling too): a site whose wall comes from a rate is
  then crawled under that rate, and the walled requests are sent again;
* after ``MAX_WALLS`` walls the site is given up for this run (``Stat.GAVE_UP``; its health says so).

Settings ``WTM_WALL_PAUSE``, ``WTM_WALL_DELAY`` and ``WTM_MAX_WALLS`` change the three.

Each wall counts as the fault ``captcha`` or ``banned`` in crawl health; walls met while the slot
is already paused belong to the same wall. A search URL that robots.txt disallows is refused by
Scrapy's RobotsTxtMiddleware; it is counted here as the fault ``robots_search``.

Hand-written: Scrapy has no wall detection, and AutoThrottle only reacts to latency, which a
captcha page served fast does not raise.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from time import monotonic
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from monitor.crawlhealth import Stat
from monitor.crawling.guard import REFUSED_META

logger = logging.getLogger(__name__)

WALL_PAUSE = 2.5
WALL_DELAY = 0.12
MAX_WALLS = 5
# A wall is a small page: its words count anywhere in one this small, else only in its <title>
# (a results page may hold a login form's 验证码 field, or an ad that says 验证).
MAX_WALL_PAGE = 5_000
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
CAPTCHA_WORDS = re.compile(
    r"验证码|驗證碼|滑块验证|滑塊驗證|安全验证|安全驗證|人机验证|人機驗證|访问过于频繁|訪問過於頻繁|captcha", re.I)
BAN_WORDS = re.compile(r"封禁|封锁|封鎖|禁止访问|禁止訪問|拒绝访问|拒絕訪問|IP\s*(已被|被)|\bbanned\b|\bblocked\b", re.I)
VERIFY_PATH = re.compile(r"verify|captcha|security[-_]?check|validate|slider", re.I)
WALL_META = "wtm_walls"


def wall_kind(response: Response, request: Request | None = None) -> str:
    """``captcha``, ``banned`` or "" for a page that is no wall (a redirect to a verify page,
    followed or not, is a captcha)."""
    status = response.status
    if request is not None and request.meta.get("redirect_urls") and VERIFY_PATH.search(urlsplit(response.url).path):
        return "captcha"
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get(b"Location") or b""
        target = urljoin(response.url, location.decode("latin-1", "replace"))
        return "captcha" if VERIFY_PATH.search(urlsplit(target).path) else ""
    if status not in (200, 403, 429):
        return ""
    try:
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
    except Exception:  # an unknown declared charset
        text = response.body.decode("utf-8", "replace")
    if len(response.body) > MAX_WALL_PAGE:
        title = _TITLE.search(text[:4096])
        text = title.group(1) if title else ""
    if status in (403, 429):
        return "banned" if BAN_WORDS.search(text) else ("captcha" if CAPTCHA_WORDS.search(text) else "")
    return "captcha" if CAPTCHA_WORDS.search(text) else ""


@dataclass
class _SiteWalls:
    walls: int = 0
    paused_until: float = 0.0
    search_slot: str = ""  # set once a search met a wall
    gave_up: bool = False


class WallMiddleware:
    """Downloader middleware at 580: after decompression (590) and charset repair (585), so it
    reads the page as the spider would; before retries (550), so a ban's 429 is its to handle.
    See the module docstring."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        # Shared with VerifyRedirectMiddleware: one record of walls per crawl.
        self.sites: dict[str, _SiteWalls] = crawler.__dict__.setdefault("wtm_walls", {})
        settings = crawler.settings
        self.pause = settings.getfloat("WTM_WALL_PAUSE", WALL_PAUSE)
        self.delay = settings.getfloat("WTM_WALL_DELAY", WALL_DELAY)
        self.max_walls = settings.getint("WTM_MAX_WALLS", MAX_WALLS)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "WallMiddleware":
        return cls(crawler)

    def _site(self, request: Request) -> str:
        spider = getattr(self.crawler, "spider", None)
        return getattr(spider, "name", "") or request.meta.get("download_slot", "")

    def process_request(self, request: Request) -> None:
        state = self.sites.get(self._site(request))
        if state is None:
            return None
        if state.gave_up:
            self.crawler.stats.inc_value(Stat.WALLS + "skipped")
            request.meta[REFUSED_META] = True  # counted here, not as a failure of the request
            raise IgnoreRequest(f"{self._site(request)}: given up after {state.walls} walls")
        if state.search_slot and request.meta.get("rule") == "search":
            request.meta["download_slot"] = state.search_slot
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        return self.handle(request, response, wall_kind(response, request))

    def handle(self, request: Request, response: Response, kind: str) -> Request | Response:
        """The response, or the request again once its slot has waited when ``kind`` names a wall."""
        slot_key = request.meta.get("download_slot") or urlsplit(request.url).hostname or ""
        site = self._site(request)
        if not kind:
            self._settle(site, slot_key)
            return response
        stats = self.crawler.stats
        stats.inc_value(f"{Stat.WALLS}{kind}_pages")
        state = self.sites.setdefault(site, _SiteWalls())
        now = monotonic()
        if now >= state.paused_until:  # a new wall, not one more page of the current one
            state.walls += 1
            stats.inc_value(f"{Stat.ERRORS}{kind}")
            if state.walls > self.max_walls:
                state.gave_up = True
                stats.set_value(Stat.GAVE_UP, state.walls)
                logger.warning("%s: wall %d (%s); giving up on the site for this run", site, state.walls, kind)
                return response
            if request.meta.get("rule") == "search" and not state.search_slot:
                state.search_slot = f"{site}/search"
            pause = self.pause * 2 ** (state.walls - 1)
            state.paused_until = now + pause
            logger.info("%s: %s page at %s; pausing %.1f s", site, kind, request.url, pause)
            if request.meta.get("rule") == "search":
                slot_key = state.search_slot
            self._pause(slot_key, pause)
        if state.gave_up:
            return response
        tries = int(request.meta.get(WALL_META, 0)) + 1
        if tries > self.max_walls:
            return response
        meta = {k: v for k, v in request.meta.items() if k not in ("redirect_urls", "redirect_times", "redirect_reasons")}
        first = (request.meta.get("redirect_urls") or [request.url])[0]  # the page asked for, not the verify page
        retry = request.replace(url=first, dont_filter=True, meta={**meta, WALL_META: tries})
        if request.meta.get("rule") == "search" and state.search_slot:
            retry.meta["download_slot"] = state.search_slot
        return retry

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest) and "robots.txt" in str(exception) \
                and request.meta.get("rule") == "search":
            self.crawler.stats.inc_value(f"{Stat.ERRORS}robots_search")
            request.meta[REFUSED_META] = True  # named here; the spider does not count it again
        return None

    # -- the download slots -------------------------------------------------------------------

    def _slots(self) -> Any:
        return self.crawler.engine.downloader

    def _pause(self, key: str, pause: float) -> None:
        """Hold the slot ``pause`` seconds from now: its next request waits that long."""
        from scrapy.core.downloader import Slot

        downloader = self._slots()
        downloader.per_slot_settings[key] = {**downloader.per_slot_settings.get(key, {}), "delay": pause,
                                             "concurrency": 1}
        slot = downloader.slots.get(key)
        if slot is None:  # a new slot would send at once: its last request is "never"
            slot = downloader.slots[key] = Slot(1, pause, 0.0)
        slot.delay = pause
        slot.lastseen = monotonic()

    def _settle(self, site: str, key: str) -> None:
        """After a pause, the slot's lasting pace: one request per WALL_DELAY (doubling per wall)."""
        state = self.sites.get(site)
        if state is None or not state.walls or monotonic() < state.paused_until:
            return
        downloader = self._slots()
        pace = max(self.delay * 2 ** (state.walls - 1), downloader._delay)
        settings = downloader.per_slot_settings.get(key)
        if settings is None or settings.get("delay") == pace:
            return
        downloader.per_slot_settings[key] = {**settings, "delay": pace}
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = pace


class VerifyRedirectMiddleware(WallMiddleware):
    """At 610, before RedirectMiddleware (600) follows it: a redirect to a verify page (which may
    lie off the site, where the scope guard would refuse it unnamed) is a captcha wall. Only
    the Location counts, so this one need not see the body decompressed."""

    def process_request(self, request: Request) -> None:
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        return None  # WallMiddleware names refusals

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in (301, 302, 303, 307, 308):
            return response
        return self.handle(request, response, wall_kind(response, request))
