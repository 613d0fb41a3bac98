"""How a page becomes something a site file's selectors run on, and how they run on it.

Free of Scrapy (parsel and JMESPath only): the site-file validator, ``wtm sites check`` and the
spiders share these functions, so a selector reads the same page the same way everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import parsel

if TYPE_CHECKING:
    from monitor.crawling.sites import Selector


class UnreadablePage(ValueError):
    """The page is not what its reader expects (HTML where JSON should be, ...)."""


@dataclass
class Node:
    """Where selectors run: an HTML selector, parsed JSON, or both (embedded-JSON pages)."""

    html: parsel.Selector | None
    data: Any = None


def decode(body: bytes, declared: str | None, charset: str) -> str:
    """The page's text: as its server declared it (``declared``: what Scrapy decoded), unless that
    holds U+FFFD or there is none, then in ``charset`` (the site file's charset for this page)."""
    if declared is not None and "\ufffd" not in declared:
        return declared
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return declared if declared is not None else body.decode(charset, "replace")


def html_node(text: str) -> Node:
    return Node(parsel.Selector(text=text or "<html></html>"))


def json_node(text: str) -> Node:
    try:
        return Node(None, json.loads(text))
    except ValueError:
        raise UnreadablePage("not JSON") from None


def embedded_json_node(text: str, script: "Selector | None") -> Node:
    """The page's HTML and the JSON inside its ``script`` element. Numeric character references
    in the JSON's strings are read as the characters they stand for: a page in a narrow charset
    (Big5, GBK) writes the characters it cannot hold that way, in scripts too."""
    node = html_node(text)
    source = extract_text(node, script) if script is not None else ""
    if not source:
        raise UnreadablePage(f"no embedded JSON at {script.source if script is not None else '?'}")
    try:
        data: Any = json_document(source)
    except ValueError:
        raise UnreadablePage("embedded script is not JSON") from None
    return Node(node.html, _unescape_refs(data))


_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")


def _char(match: re.Match[str]) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)


def _unescape_refs(value: Any) -> Any:
    if isinstance(value, str):
        return _CHAR_REF.sub(_char, value) if "&#" in value else value
    if isinstance(value, list):
        return [_unescape_refs(v) for v in value]
    if isinstance(value, dict):
        return {k: _unescape_refs(v) for k, v in value.items()}
    return value


def json_document(text: str) -> Any:
    """Parse JSON, tolerating a JavaScript assignment around it (window.__DATA__ = {...};)."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    match = re.search(r"[\[{].*[\]}]", text, re.S)
    if match is None:
        raise ValueError("no JSON object found")
    return json.loads(match.group(0))


def extract_all(node: Node, selector: "Selector") -> list[str]:
    """Every string the selector finds, stripped, empties dropped. A JSON object or list
    selected whole is kept as JSON text (a price object: parsers.parse_price reads it)."""
    if selector.kind == "json":
        import jmespath

        value = jmespath.search(selector.expression, node.data) if node.data is not None else None
        values = value if isinstance(value, list) else [value]
        texts = [_json_text(v) for v in values if v is not None]
    elif node.html is None:
        texts = []
    elif selector.kind == "css":
        texts = node.html.css(selector.expression).getall()
    else:
        texts = node.html.xpath(selector.expression).getall()
    texts = [" ".join(t.split()) for t in texts]
    if selector.regex is not None:
        found = []
        for text in texts:
            match = selector.regex.search(text)
            if match:
                found.append(match.group(1) if selector.regex.groups else match.group(0))
        texts = found
    return [t for t in texts if t]


def extract_text(node: Node, selector: "Selector | None") -> str:
    if selector is None:
        return ""
    if selector.regex is not None:
        from dataclasses import replace

        joined = " ".join(extract_all(node, replace(selector, regex=None)))
        match = selector.regex.search(joined)
        if not match:
            return ""
        return match.group(1) if selector.regex.groups else match.group(0)
    return " ".join(extract_all(node, selector))


def select_nodes(node: Node, selector: "Selector") -> list[Node]:
    """Containers (HTML) or objects (JSON) that each hold one listing."""
    if selector.kind == "json":
        import jmespath

        value = jmespath.search(selector.expression, node.data) if node.data is not None else None
        if value is None:
            return []
        return [Node(None, v) for v in (value if isinstance(value, list) else [value])]
    if node.html is None:
        return []
    found = node.html.css(selector.expression) if selector.kind == "css" else node.html.xpath(selector.expression)
    return [Node(s, node.data) for s in found]


def _json_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
