"""One generic spider per page archetype. They differ only in how a response becomes a
document for the site file's selectors (``DOCUMENTS``); crawling, revisits and item building
are shared (``spiders.base``). ``wtm sites check`` reads pages with the same functions."""

from __future__ import annotations

import json
from typing import Any, Callable

import scrapy
from scrapy.http import Response

from monitor.crawling.sites import SiteConfig
from monitor.spiders.base import Node, SiteSpider, extract_text, json_document


class UnreadablePage(ValueError):
    """The page is not what the archetype expects (HTML where JSON should be, ...)."""


def html_document(site: SiteConfig, response: Response) -> Node:
    if not hasattr(response, "text"):
        raise UnreadablePage("not a text page")
    return Node(scrapy.Selector(response))


def json_api_document(site: SiteConfig, response: Response) -> Node:
    text = response.text if hasattr(response, "text") else response.body.decode(site.charset, "replace")
    try:
        return Node(None, json.loads(text))
    except ValueError:
        raise UnreadablePage("not JSON") from None


def embedded_json_document(site: SiteConfig, response: Response) -> Node:
    node = html_document(site, response)
    script = extract_text(node, site.embedded_json)
    if not script:
        raise UnreadablePage(f"no embedded JSON at {site.embedded_json.source if site.embedded_json else '?'}")
    try:
        data: Any = json_document(script)
    except ValueError:
        raise UnreadablePage("embedded script is not JSON") from None
    return Node(node.html, data)


DOCUMENTS: dict[str, Callable[[SiteConfig, Response], Node]] = {
    "html": html_document,
    "forum": html_document,
    "json_api": json_api_document,
    "embedded_json": embedded_json_document,
}


class _DocumentSpider(SiteSpider):
    def document(self, response: Response) -> Node | None:
        try:
            return DOCUMENTS[self.site.platform](self.site, response)
        except UnreadablePage as exc:
            self.logger.debug("%s: %s: %s", self.site.name, response.url, exc)
            return None


class HtmlSpider(_DocumentSpider):
    """Server-rendered result pages and listing pages (most classifieds and shops)."""


class ForumSpider(_DocumentSpider):
    """Forum boards: a thread is a listing and its first post carries the offer.

    Site files select inside the first post (``div.post:first-of-type …``) so replies, which
    quote keywords back at the seller, are never read as the listing's text.
    """


class JsonApiSpider(_DocumentSpider):
    """Sites whose search and listing pages answer JSON (mobile or AJAX APIs)."""

    def removal_kind(self, response: Response) -> str:
        kind = super().removal_kind(response)
        if kind or response.status != 200:
            return kind
        doc = self.document(response)
        if doc is not None:  # JSON may escape the deleted-page text as \\uXXXX
            text = json.dumps(doc.data, ensure_ascii=False)
            if any(marker in text for marker in self.site.deleted_markers):
                return "deleted_page"
        return ""


class EmbeddedJsonSpider(_DocumentSpider):
    """Pages that ship their data as JSON inside a <script> (single-page-app shells)."""


ARCHETYPES: dict[str, type[SiteSpider]] = {
    "html": HtmlSpider,
    "forum": ForumSpider,
    "json_api": JsonApiSpider,
    "embedded_json": EmbeddedJsonSpider,
}
