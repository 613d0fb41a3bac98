"""What every simulated site shares: responses, encodings, search paging and removal answers.

An archetype module subclasses ``SiteApp`` once and varies its markup by ``spec.variant``;
the server only calls ``handle(month, path, query)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote

from monitor.sandbox.sites import SandboxSite
from monitor.sandbox.urls import DETAIL_RE
from monitor.sandbox.world import Listing, Sandbox, month_index

DELETED_TEXT = {"simplified": "信息已删除", "traditional": "此商品資訊已刪除"}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html"
    headers: list[tuple[str, str]] = field(default_factory=list)


def h(text: object) -> str:
    return escape(str(text), quote=True)


def relative_date(posted: date, today: date) -> str:
    """How classifieds show a posting date: 今天, 昨天, 3天前, then 06-12, then 2024-11-03."""
    days = (today - posted).days
    if days <= 0:
        return "今天"
    if days == 1:
        return "昨天"
    if days < 7:
        return f"{days}天前"
    if posted.year == today.year:
        return posted.strftime("%m-%d")
    return posted.isoformat()


class SiteApp:
    """One site's HTTP behaviour; subclasses render search, detail and home pages."""

    def __init__(self, world: Sandbox, spec: SandboxSite) -> None:
        self.world = world
        self.spec = spec
        self.prefix = f"/{spec.name}/"
        self.detail_re = DETAIL_RE[spec.name]

    # -- entry point -------------------------------------------------------------------
    def handle(self, month: str, path: str, query: str) -> Response:
        if path in (self.prefix, self.prefix[:-1]):
            return self.home(month)
        target = path + (f"?{query}" if query else "")
        match = self.detail_re.match(target) or self.detail_re.match(path)
        if match:
            return self.detail_or_removed(month, match.group(1))
        response = self.route(month, path, query)
        return response if response is not None else self.not_found()

    def route(self, month: str, path: str, query: str) -> Response | None:
        """Search pages, APIs and other site-specific paths; None means 404."""
        return None

    def detail_or_removed(self, month: str, external_id: str, api: bool = False) -> Response:
        item = self.world.listing(self.spec.name, external_id, month)
        idx = month_index(month)
        if item is None or item.posted_idx > idx:
            return self.not_found(api)
        if not item.live_in(idx):
            return self.removed(api)
        return self.api_detail(month, item) if api else self.detail(month, item)

    def detail(self, month: str, item: Listing) -> Response:
        raise NotImplementedError

    def api_detail(self, month: str, item: Listing) -> Response:
        """The listing as JSON, on sites with an item API."""
        return self.not_found(api=True)

    def page_url(self, keyword: str, page: int) -> str:
        """The site's search URL for ``keyword`` (page numbers start at 1), as its pager writes it."""
        raise NotImplementedError

    def search_url(self, keyword: str, page: int = 1) -> str:
        """Origin-relative search URL (the pager's relative links resolved)."""
        url = self.page_url(keyword, page)
        return url if url.startswith("/") else self.prefix + url

    def home(self, month: str) -> Response:
        raise NotImplementedError

    # -- answers -----------------------------------------------------------------------
    def page(self, title: str, body: str, status: int = 200, head: str = "") -> Response:
        charset = self.spec.charset
        meta = (f'<meta charset="{charset}">' if charset == "utf-8" else
                f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">')
        text = (f"<!DOCTYPE html>\n<html><head>{meta}<title>{h(title)} - {h(self.spec.label)}</title>{head}</head>\n"
                f"<body class=\"{self.spec.name}\">\n{body}\n</body></html>\n")
        return self.html(text, status)

    def html(self, text: str, status: int = 200) -> Response:
        return Response(status, text.encode(self.spec.charset, "xmlcharrefreplace"),
                        f"text/html; charset={self.spec.declared_charset}")

    def json(self, obj: Any, status: int = 200) -> Response:
        return Response(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                        "application/json; charset=utf-8")

    def not_found(self, api: bool = False) -> Response:
        if api:
            return self.json({"code": 404, "error": "not_found"}, 404)
        return self.page("404", '<div class="error-404"><h1>404</h1><p>页面不存在</p></div>', 404)

    def removed(self, api: bool = False) -> Response:
        """The site's way of saying an ad is gone (see SITES.md)."""
        kind = self.spec.removal
        deleted = DELETED_TEXT[self.spec.script]
        if kind == "redirect_home":
            return Response(302, b"", "text/html", [("Location", self.prefix)])
        if kind == "http_410":
            if api:
                return self.json({"code": 410, "error": "gone", "msg": deleted}, 410)
            return self.page("410", f'<div class="error-410"><h1>410 Gone</h1><p>{deleted}</p></div>', 410)
        if kind == "deleted_page":
            if api:
                return self.json({"code": 0, "status": "deleted", "msg": deleted, "item": None})
            return self.page(deleted, f'<div class="notice deleted"><p>{deleted}</p><a href="{self.prefix}">返回首页</a></div>')
        return self.not_found(api)

    # -- search helpers ----------------------------------------------------------------
    def params(self, query: str) -> dict[str, str]:
        """Query parameters decoded in the site's own charset (a GBK site reads GBK bytes)."""
        parsed = parse_qs(query, keep_blank_values=True, encoding=self.spec.charset, errors="replace")
        return {k: v[0] for k, v in parsed.items()}

    def quote(self, keyword: str) -> str:
        return quote(keyword.encode(self.spec.charset, "xmlcharrefreplace"), safe="")

    def search_page(self, month: str, keyword: str, page: int) -> tuple[list[Listing], bool, int]:
        """(listings on search page ``page`` (1-based), has a next page, total hits) with the site's faults."""
        return self.list_page(month, page, keyword)

    def list_page(self, month: str, page: int, keyword: str = "", category: str | None = None
                  ) -> tuple[list[Listing], bool, int]:
        """A page of search results, or of category ``category``: (listings, has a next page,
        the count the page prints). Only what the world returns (capped) is ever shown."""
        if category is None:
            ids, total = self.world.search_results(self.spec.name, keyword, month)
        else:
            ids, total = self.world.category_results(self.spec.name, category, month)
        size = self.spec.page_size
        start = (max(page, 1) - 1) * size
        chosen = list(ids[start:start + size])
        if "duplicates" in self.spec.faults and page > 1 and chosen:
            chosen = list(ids[max(0, start - 2):start]) + chosen
        has_next = start + size < len(ids) or "endless_pages" in self.spec.faults
        items = [self.world.listing(self.spec.name, i, month) for i in chosen]
        return [x for x in items if x is not None], has_next, total

    def list_url(self, keyword: str, page: int, category: str | None = None) -> str:
        """The pager's link to page ``page`` of a search or of a category."""
        return self.page_url(keyword, page) if category is None else self.category_url(category, page)

    def category_url(self, key: str, page: int) -> str:
        """The site's URL of page ``page`` of category ``key``, as its pager writes it."""
        raise NotImplementedError

    def category_page_url(self, key: str, page: int = 1) -> str:
        """Origin-relative URL of a category page (the pager's relative links resolved)."""
        url = self.category_url(key, page)
        return url if url.startswith("/") else self.prefix + url

    def is_category(self, key: str) -> bool:
        return self.spec.category(key) is not None

    def heading(self, keyword: str, category: str | None) -> str:
        """What a result page is about: the keyword, or the category's label."""
        found = self.spec.category(category) if category is not None else None
        return keyword if found is None else found.label

    def category_nav(self) -> str:
        """Links to the first page of every category, for the home page."""
        if not self.spec.categories:
            return ""
        links = "".join(f'<a href="{h(self.category_page_url(c.key))}">{h(c.label)}</a>' for c in self.spec.categories)
        return f'<nav class="cats">{links}</nav>'

    @staticmethod
    def int_param(value: str | None, default: int) -> int:
        try:
            return max(int(value or default), 0)
        except ValueError:
            return default

    def page_of_offset(self, value: str | None, first: int = 0) -> int:
        """The page an offset parameter points at, for sites that page by item offset
        (``first`` is the offset of the first item: 0 or 1)."""
        return (self.int_param(value, first) - first) // self.spec.page_size + 1

    def offset_of_page(self, page: int, first: int = 0) -> int:
        return (page - 1) * self.spec.page_size + first

    def search_form(self, action: str, name: str, button: str = "搜索") -> str:
        return (f'<form class="search" action="{action}" method="get"><input type="text" name="{name}">'
                f'<button type="submit">{button}</button></form>')

