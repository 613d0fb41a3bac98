"""The one registry of page readers and site archetypes.

A *reader* says how a page becomes a document for the site file's selectors: ``html`` (CSS and
XPath), ``json_api`` (JMESPath over a JSON answer) or ``embedded_json`` (JMESPath over the JSON in
a ``<script>``, CSS and XPath over the page around it); each names the site-file keys it adds to
a page section and how it recognises a deleted listing. An *archetype* (a site file's
``platform``) is a kind of marketplace: the reader its pages use unless a section names another,
and the Scrapy settings its spiders get. A site's search, category and listing pages may each
use a different reader (``search.reader``, ``category.reader``, ``listing.reader``).

Free of Scrapy, so the site-file validator (``monitor.crawling.sites``) checks names and keys
against this registry; the spiders (``monitor.spiders.registry``) and ``wtm sites check`` read
pages through it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from monitor.spiders.readers import Node, embedded_json_node, html_node, json_node


def _deleted_in_text(text: str, markers: tuple[str, ...], document: Callable[[], Node | None]) -> bool:
    return any(marker in text for marker in markers)


def _deleted_in_json(text: str, markers: tuple[str, ...], document: Callable[[], Node | None]) -> bool:
    """JSON may escape the deleted-page text as \\uXXXX: look in the parsed answer too."""
    if _deleted_in_text(text, markers, document):
        return True
    doc = document()
    if doc is None or doc.data is None:
        return False
    dumped = json.dumps(doc.data, ensure_ascii=False)
    return any(marker in dumped for marker in markers)


@dataclass(frozen=True)
class Reader:
    """How one kind of page is read."""

    name: str
    about: str
    read: Callable[[str, Any], Node]  # (page text, the section's script selector) -> document
    # whether a listing page (its text, the deleted-page markers, its document on demand) says it is gone
    deleted: Callable[[str, tuple[str, ...], Callable[[], Node | None]], bool] = _deleted_in_text
    keys: tuple[str, ...] = ()  # site-file keys it adds to a page section
    requires: tuple[str, ...] = ()  # of those, the ones it cannot do without


@dataclass(frozen=True)
class Archetype:
    """A kind of marketplace: a site file's ``platform``."""

    name: str
    about: str
    reader: str  # the reader of every page whose section names none
    settings: Mapping[str, Any] = field(default_factory=dict)  # Scrapy settings of its spiders


READERS: dict[str, Reader] = {r.name: r for r in (
    Reader("html", "server-rendered pages: CSS (default) and xpath: selectors",
           lambda text, script: html_node(text)),
    Reader("json_api", "a JSON answer (mobile or AJAX API): json: selectors (JMESPath)",
           lambda text, script: json_node(text), deleted=_deleted_in_json),
    Reader("embedded_json", "HTML whose data is JSON in a <script>: json: selectors run on that JSON, "
                            "CSS and XPath on the page",
           embedded_json_node, keys=("embedded_json",), requires=("embedded_json",)),
)}

ARCHETYPES: dict[str, Archetype] = {a.name: a for a in (
    Archetype("html", "classifieds, shops and auctions that render their pages on the server", "html"),
    Archetype("forum", "forum boards: a thread is a listing and its first post carries the offer; "
                       "select inside the first post so replies are never read as the listing", "html"),
    Archetype("json_api", "apps whose search and listing pages answer JSON", "json_api",
              {"DEFAULT_REQUEST_HEADERS": {"Accept": "application/json, text/plain;q=0.9, */*;q=0.8", "Accept-Language": "en"}}),
    Archetype("embedded_json", "single-page-app shells that ship their data as JSON in a <script>",
              "embedded_json"),
)}

# Keys any reader may add to a page section (the validator's list of known keys).
READER_KEYS = tuple(dict.fromkeys(k for r in READERS.values() for k in r.keys))
