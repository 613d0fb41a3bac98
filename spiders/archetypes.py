"""One generic spider per page archetype. They differ only in how a response becomes a
document for the site file's selectors; crawling, revisits and item building are shared
(``spiders.base``)."""

from __future__ import annotations

import json
from typing import Any

import scrapy
from scrapy.http import Response

from monitor.spiders.base import Node, SiteSpider, extract_text, json_document


class HtmlSpider(SiteSpider):
    """Server-rendered list pages and listing pages (most classifieds and shops)."""


class ForumSpider(HtmlSpider):
    """Forum boards: a thread is a listing and its first post carries the offer.

    Site files select the first post (``div.post:first-of-type …``); replies, which quote
    keywords back at the seller, are never read as the listing's text.
    """


class JsonApiSpider(SiteSpider):
    """Sites whose search and listing pages answer JSON (mobile or AJAX APIs)."""

    def document(self, response: Response) -> Node | None:
        text = response.text if hasattr(response, "text") else response.body.decode(self.site.charset, "replace")
        try:
            data = json.loads(text)
        except ValueError:
            self.crawler.stats.inc_value("wtm/errors/bad_json")
            return None
        return Node(None, data)

    def removal_kind(self, response: Response) -> str:
        kind = super().removal_kind(response)
        if kind:
            return kind
        doc = self.document(response) if response.status == 200 else None
        if doc is not None:
            text = json.dumps(doc.data, ensure_ascii=False)
            if any(marker in text for marker in self.site.deleted_markers):
                return "deleted_page"
        return ""


class EmbeddedJsonSpider(SiteSpider):
    """Pages that ship their data as JSON inside a <script> (single-page-app shells)."""

    def document(self, response: Response) -> Node | None:
        if not hasattr(response, "text"):
            return None
        html = scrapy.Selector(response)
        script = extract_text(Node(html), self.site.embedded_json)
        if not script:
            self.crawler.stats.inc_value("wtm/errors/no_embedded_json")
            return Node(html, None)
        try:
            data: Any = json_document(script)
        except ValueError:
            self.crawler.stats.inc_value("wtm/errors/bad_json")
            data = None
        return Node(html, data)


ARCHETYPES: dict[str, type[SiteSpider]] = {
    "html": HtmlSpider,
    "forum": ForumSpider,
    "json_api": JsonApiSpider,
    "embedded_json": EmbeddedJsonSpider,
}
