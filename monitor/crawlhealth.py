"""Crawl health as one typed object: what one site's crawl did and whether it can be trusted.

Spiders and middlewares count into Scrapy's stats under the keys of ``Stat``; the health
extension (``monitor.crawling.health``) turns those counters into a ``SiteHealth``; the worker
sends it to the runner, storage keeps it with the site's crawl and the report reads it back.
It crosses every one of those lines as JSON, written and read here only (``to_json`` and
``from_json``), so a field is named once. It lives below storage and crawling because both
import it (storage may not import ``monitor.crawling``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

COVERAGE = ("price", "date", "contact", "location")


class Stat:
    """Keys of the crawl's own counters in Scrapy's stats (a trailing "/" takes a name)."""

    ITEMS_LIVE = "wtm/items/live"
    ITEMS_FLAGGED = "wtm/items/flagged"
    ITEMS_INCOMPLETE = "wtm/items/incomplete"
    FIELD = "wtm/field/"  # + coverage name: live items with that field filled
    ERRORS = "wtm/errors/"  # + fault name
    REMOVED = "wtm/removed/"  # + removal kind: a known listing found gone
    REMOVED_UNREAD = "wtm/removed_unread/"  # + removal kind: gone before its first visit
    LISTINGS_UNREAD = "wtm/listings/unread"  # listing pages still failing after retries
    CHARSET_REPAIRED = "wtm/charset_repaired"
    RESULT_PAGES = "wtm/pages/results"
    LISTING_PAGES = "wtm/pages/listing"
    BROWSE_STOPPED = "wtm/browse/stopped_known"  # walks ended on a page of known listings
    RETRY_AFTER_HONOURED = "wtm/retry_after_honoured"
    CHARSET_UNREPAIRED = "wtm/charset_unrepaired"
    # Per search query (as given to the spider): result pages requested and listings they listed.
    QUERY_PAGES = "wtm/query/pages/"
    QUERY_FOUND = "wtm/query/found/"
    # Browsing: category pages walked; listings found only by queries, only by browsing, or by
    # both ("wtm/found/query", ".../browse", ".../both"); of those found only by queries, the
    # ones only a single query listed.
    BROWSE_PAGES = "wtm/pages/browse"
    FOUND_BY = "wtm/found/"
    SINGLE_QUERY = "wtm/reach/single_query"
    # Walls: captcha or ban pages met, by fault ("captcha", "banned"); sites given up.
    WALLS = "wtm/walls/"
    GAVE_UP = "wtm/walls/gave_up"
    # Requests not sent because the site reached requests_per_site (monitor.crawling.budget).
    SEARCHES_OVER_BUDGET = "wtm/budget/searches_dropped"
    WALK_PAGES_OVER_BUDGET = "wtm/budget/walk_pages_dropped"
    OVER_BUDGET = (SEARCHES_OVER_BUDGET, WALK_PAGES_OVER_BUDGET)


@dataclass
class Reach:
    """How far the crawl looked on a site, and how thinly some listings hang on it: a listing
    only one query or only browsing found would be missed if that one path failed."""

    queries: int = 0  # search queries run
    query_pages: int = 0  # their result pages
    browse_pages: int = 0  # category pages walked
    found: int = 0  # distinct listings result and category pages listed
    only_browse: int = 0
    only_query: int = 0
    single_query: int = 0  # of only_query: listed by one query alone
    requests: int = 0  # every request sent, retries included
    flagged: int = 0  # flagged listings read

    @property
    def requests_per_flagged(self) -> float | None:
        return round(self.requests / self.flagged, 1) if self.flagged else None


@dataclass
class SiteHealth:
    """One site's crawl health; ``healthy`` is the verdict, ``problems`` say why not.

    Readable like the stored JSON too (``health["items"]``, ``health.get("errors")``), so
    code and tests written against the dict keep working while they move to attributes."""

    pages: int = 0
    items: int = 0
    removed: int = 0
    removed_unread: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    finish_reason: str = ""
    duration_s: float = 0.0
    coverage: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name in COVERAGE})
    charset_repaired: int = 0
    healthy: bool = False
    problems: list[str] = field(default_factory=list)
    reach: Reach = field(default_factory=Reach)

    @classmethod
    def failed(cls, problem: str, fault: str = "crawl_failed", finish_reason: str = "failed") -> "SiteHealth":
        """The health of a crawl that died or never ran."""
        return cls(errors={fault: 1} if fault else {}, finish_reason=finish_reason, problems=[problem])

    def fail(self, problem: str) -> None:
        """Mark unhealthy for a reason found after the verdict (storage failed, ...)."""
        self.healthy = False
        self.problems.append(problem)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["reach"]["requests_per_flagged"] = self.reach.requests_per_flagged
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | "SiteHealth" | None) -> "SiteHealth":
        """From stored or sent JSON; missing figures (an older row, a crawl that died early) read as zero."""
        if isinstance(data, SiteHealth):
            return data
        data = dict(data or {})
        reach = data.get("reach") or {}
        known = {f.name for f in fields(Reach)}
        health = cls(
            pages=int(data.get("pages") or 0),
            items=int(data.get("items") or 0),
            removed=int(data.get("removed") or 0),
            removed_unread=int(data.get("removed_unread") or 0),
            errors={str(k): int(v) for k, v in (data.get("errors") or {}).items()},
            finish_reason=str(data.get("finish_reason") or ""),
            duration_s=float(data.get("duration_s") or 0.0),
            coverage={name: float((data.get("coverage") or {}).get(name) or 0.0) for name in COVERAGE},
            charset_repaired=int(data.get("charset_repaired") or 0),
            healthy=bool(data.get("healthy", False)),
            problems=[str(p) for p in data.get("problems") or []],
            reach=Reach(**{k: int(v or 0) for k, v in reach.items() if k in known}),
        )
        return health

    # -- read like the JSON -------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key not in _FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in _FIELDS else default


_FIELDS = tuple(f.name for f in fields(SiteHealth))
