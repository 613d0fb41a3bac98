"""Reading a site file: the YAML checked key by key into a ``SiteConfig``
(``monitor.crawling.sites``). Every error names the file, the field and the line it is on, and
readers and archetypes are checked against their registry (``monitor.spiders.archetypes``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from monitor.crawling.sites import (_NAME, CRAWL_MODES, FIELDS, SCRIPTS, SEARCH_MATCHES, VARIANTS, WALK_STOPS,
                                    PageReader, PageRule, Selector, SiteConfig)
from monitor.exceptions import SiteFileError
from monitor.spiders.archetypes import ARCHETYPES, READER_KEYS, READERS


class _Reader:
    """Pulls typed values out of the parsed YAML, naming file and field in every error."""

    def __init__(self, path: Path, data: Mapping[str, Any], lines: Mapping[str, int] | None = None) -> None:
        self.path = path
        self.data = data
        self.lines = lines or {}

    def fail(self, key: str, message: str) -> SiteFileError:
        """An error naming the file, the field and the line of the field (or of the nearest
        section that holds it, when the field is missing)."""
        probe = key
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0] if "." in probe else probe.partition("[")[0] if "[" in probe else ""
        line = self.lines.get(probe)
        return SiteFileError(f"{self.path}: {key}: {message}" + (f" (line {line})" if line else ""))

    def get(self, mapping: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], required: bool = False, default: Any = None) -> Any:
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(where + key, "is required")
            return default
        value = mapping[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(where + key, f"expected {name}, got {value!r}")
        return value

    def choice(self, mapping: Mapping[str, Any], key: str, where: str, choices: Iterable[str], default: str | None = None) -> str:
        value = self.get(mapping, key, where, str, required=default is None, default=default)
        if value not in choices:
            raise self.fail(where + key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def selector(self, mapping: Mapping[str, Any], key: str, where: str, required: bool = False) -> Selector | None:
        value = self.get(mapping, key, where, str, required=required)
        if value is None:
            return None
        try:
            return Selector.parse(value, "")
        except SiteFileError as exc:
            raise self.fail(where + key, str(exc).removeprefix(": ")) from None

    def section(self, key: str) -> Mapping[str, Any]:
        value = self.get(self.data, key, "", dict, default={})
        unknown = set(value) - _KNOWN_KEYS.get(key, set(value))
        if unknown:
            raise self.fail(f"{key}.{sorted(unknown)[0]}", f"unknown key; expected one of {', '.join(sorted(_KNOWN_KEYS[key]))}")
        return value


_KNOWN_KEYS: dict[str, set[str]] = {
    "": {"name", "title", "platform", "base_url", "script", "traditional_variant", "charset", "crawl", "search",
         "category", "listing", "parsers", "politeness", "max_pages", "notes", "hosts", "search_match",
         "query_charset"},
    "search": {"url", "urls", "results", "items", "item_fields", "follow", "next_page", "next_url", "max_pages",
               "cap", "reader", "charset", *READER_KEYS},
    "category": {"url", "urls", "results", "items", "item_fields", "follow", "next_page", "next_url", "max_pages",
                 "stop", "reader", "charset", *READER_KEYS},
    "listing": {"fields", "id_from_url", "url", "fetch", "deleted_text", "reader", "charset", *READER_KEYS},
    "parsers": {"currency", "date_format"},
    "politeness": {"download_delay", "concurrency", "obey_robots", "autothrottle"},
}


def _charset(reader: _Reader, mapping: Mapping[str, Any], key: str, where: str, default: str | None) -> str:
    value = reader.get(mapping, key, where, str, required=default is None, default=default).lower()
    try:
        "测试".encode(value)
    except LookupError:
        raise reader.fail(where + key, f"unknown encoding {value!r}") from None
    except UnicodeEncodeError:
        pass
    return value


def _page_reader(reader: _Reader, section: Mapping[str, Any], where: str, default: PageReader) -> PageReader:
    """A section's reader and charset (default: the site's), with the keys the reader adds."""
    kind = reader.get(section, "reader", where, str, default=default.kind)
    if kind not in READERS:
        raise reader.fail(f"{where}reader", f"must be one of {', '.join(READERS)}; got {kind!r}")
    for extra in READER_KEYS:  # listing.embedded_json is also every page's default script
        if extra in section and extra not in READERS[kind].keys and where != "listing.":
            raise reader.fail(f"{where}{extra}", f"is a key of reader {', '.join(n for n, r in READERS.items() if extra in r.keys)}, "
                                                 f"not of {kind}")
    charset = _charset(reader, section, "charset", where, default.charset)
    script = reader.selector(section, "embedded_json", where) or default.script
    if "embedded_json" in READERS[kind].requires and script is None:
        raise reader.fail(f"{where}embedded_json", f"is required for reader {kind} (the <script> holding the data; "
                                                   "listing.embedded_json is every page's default)")
    return PageReader(kind, charset, script)


def _page_rule(reader: _Reader, key: str, default: PageReader) -> PageRule | None:
    section = reader.section(key)
    if not section:
        return None
    where = f"{key}."
    page_reader = _page_reader(reader, section, where, default)
    urls = section.get("urls") if "urls" in section else section.get("url")
    if isinstance(urls, str):
        urls = [urls]
    if not urls or not all(isinstance(u, str) and u for u in urls):
        raise reader.fail(f"{key}.url", "is required (a URL template, or a list under urls)")
    if key == "search" and not all("{keyword}" in u for u in urls):
        raise reader.fail("search.url", "must contain {keyword}")
    if key == "category" and any("{keyword}" in u for u in urls):
        raise reader.fail(f"{key}.{'urls' if 'urls' in section else 'url'}",
                          "category pages are fixed addresses without {keyword} (searching is search.url's job)")
    results = reader.selector(section, "results", where)
    items = reader.selector(section, "items", where)
    if results is None and items is None:
        raise reader.fail(f"{key}.results", "is required (or give items, for sites whose result pages hold whole listings)")
    max_pages = reader.get(section, "max_pages", where, int)
    cap = reader.get(section, "cap", where, int)
    if cap is not None and cap < 1:
        raise reader.fail(f"{key}.cap", f"must be at least 1 (the most results the site shows); got {cap}")
    item_fields = _fields(reader, section, "item_fields", where, required=False)
    if item_fields and items is None:
        raise reader.fail(f"{key}.item_fields", "needs items (the selector of one listing's container)")
    follow = reader.get(section, "follow", where, bool, default=False)
    next_url = reader.get(section, "next_url", where, str)
    if next_url is not None and "{next}" not in next_url:
        raise reader.fail(f"{key}.next_url", "must contain {next} (where the next_page value goes)")
    next_page = reader.selector(section, "next_page", where)
    if next_url is not None and next_page is None:
        raise reader.fail(f"{key}.next_page", "is required with next_url")
    stop = _walk_stop(reader, section, max_pages) if key == "category" else None
    return PageRule(tuple(urls), results, items, item_fields, follow, next_page, next_url, max_pages, cap, stop,
                    page_reader)


def _walk_stop(reader: _Reader, section: Mapping[str, Any], max_pages: int | None) -> str | None:
    """A category walk's ``stop`` rule, checked with its ``max_pages``. A first crawl knows no
    listing, so with ``stop: known`` only ``max_pages`` ends its walk: it is then required."""
    if max_pages is not None and max_pages < 1:
        raise reader.fail("category.max_pages", f"must be at least 1 (pages walked from each address); got {max_pages}")
    stop = reader.get(section, "stop", "category.", str)
    if stop is not None and stop not in WALK_STOPS:
        raise reader.fail("category.stop", f"must be one of {', '.join(WALK_STOPS)} (or left out); got {stop!r}")
    if stop == "known" and max_pages is None:
        raise reader.fail("category.max_pages", "is required with stop: known (a first crawl knows no listing, "
                                                "so only max_pages ends its walk)")
    return stop


def _fields(reader: _Reader, section: Mapping[str, Any], key: str, where: str, required: bool) -> dict[str, Selector]:
    raw = reader.get(section, key, where, dict, required=required, default={})
    fields: dict[str, Selector] = {}
    for name, value in raw.items():
        if name not in FIELDS:
            raise reader.fail(f"{where}{key}.{name}", f"unknown field; expected one of {', '.join(FIELDS)}")
        fields[name] = reader.selector(raw, name, f"{where}{key}.", required=True)  # type: ignore[assignment]
    return fields


def read_site_file(path: Path) -> SiteConfig:
    """Read and validate one site definition: every error names the file, the field and its line."""
    data, lines = _parse(path)
    reader = _Reader(path, data, lines)
    unknown = set(data) - _KNOWN_KEYS[""]
    if unknown:
        raise reader.fail(sorted(unknown)[0], f"unknown key; expected one of {', '.join(sorted(_KNOWN_KEYS['']))}")

    name = reader.get(data, "name", "", str, required=True)
    if not _NAME.match(name):
        raise reader.fail("name", f"use lower-case letters, digits, - and _ only; got {name!r}")
    platform = reader.choice(data, "platform", "", ARCHETYPES)
    base_url = reader.get(data, "base_url", "", str, required=True)
    if not (base_url.startswith(("http://", "https://")) or base_url.startswith("{sandbox}/")):
        raise reader.fail("base_url", f"must start with http://, https:// or {{sandbox}}/; got {base_url!r}")
    script = reader.choice(data, "script", "", SCRIPTS)
    variant = reader.choice(data, "traditional_variant", "", VARIANTS, default="s2t")
    charset = _charset(reader, data, "charset", "", None)
    query_charset = _charset(reader, data, "query_charset", "", charset)
    crawl = reader.choice(data, "crawl", "", CRAWL_MODES, default="search")
    listing = reader.section("listing")
    # every page's default reader: the platform's, with listing.embedded_json as its script
    embedded = reader.selector(listing, "embedded_json", "listing.")
    listing_reader = _page_reader(reader, listing, "listing.", PageReader(ARCHETYPES[platform].reader, charset))
    default = PageReader(ARCHETYPES[platform].reader, charset, embedded)
    search = _page_rule(reader, "search", default)
    category = _page_rule(reader, "category", default)
    if crawl in ("search", "both") and search is None:
        raise reader.fail("search", f"is required when crawl is {crawl!r}")
    if crawl in ("category", "both") and category is None:
        raise reader.fail("category", f"is required when crawl is {crawl!r}")
    fields, id_regex, templates, deleted = _listing(reader, listing)
    currency, date_format = _parsers(reader)
    max_pages = reader.get(data, "max_pages", "", int)
    if max_pages is not None and max_pages < 1:
        raise reader.fail("max_pages", f"must be at least 1; got {max_pages!r}")
    return SiteConfig(
        name=name, platform=platform, base_url_template=base_url, script=script, variant=variant,
        charset=charset, crawl=crawl, search=search, category=category, fields=fields, id_from_url=id_regex,
        listing_url_template=templates["url"], fetch_url_template=templates["fetch"],
        embedded_json=embedded, deleted_markers=deleted, default_currency=currency, date_format=date_format,
        politeness=_politeness(reader), max_pages=max_pages, listing_reader=listing_reader,
        query_charset=query_charset, hosts=_hosts(reader, data),
        search_match=reader.choice(data, "search_match", "", SEARCH_MATCHES, default="unknown"),
        search_cap=search.cap if search is not None else None, title=reader.get(data, "title", "", str, default=""),
        notes=reader.get(data, "notes", "", str, default=""), source_file=path, raw=data,
    )


def _parse(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's settings, and the line of each of its keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SiteFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SiteFileError(f"{path}: expected a mapping of settings at the top level")
    return data, lines


def _listing(reader: _Reader, listing: Mapping[str, Any]
             ) -> tuple[dict[str, Selector], re.Pattern[str] | None, dict[str, str | None], tuple[str, ...]]:
    """The listing section: its fields, how an id is read from a URL, its URL templates and the
    words of its deleted page."""
    fields = _fields(reader, listing, "fields", "listing.", required=True)
    if "title" not in fields:
        raise reader.fail("listing.fields.title", "is required")
    id_pattern = reader.get(listing, "id_from_url", "listing.", str)
    id_regex = None
    if id_pattern is not None:
        try:
            id_regex = re.compile(id_pattern)
        except re.error as exc:
            raise reader.fail("listing.id_from_url", f"bad regular expression: {exc}") from None
        if id_regex.groups < 1:
            raise reader.fail("listing.id_from_url", "needs one (group) around the id")
    if id_regex is None and "id" not in fields:
        raise reader.fail("listing.id_from_url", "is required unless listing.fields.id is given")
    templates = {}
    for key in ("url", "fetch"):
        value = reader.get(listing, key, "listing.", str)
        if value is not None and "{id}" not in value:
            raise reader.fail(f"listing.{key}", f"must contain {{id}}; got {value!r}")
        templates[key] = value
    deleted = reader.get(listing, "deleted_text", "listing.", (list, str), default=["信息已删除", "資訊已刪除", "信息已刪除"])
    return fields, id_regex, templates, tuple([deleted] if isinstance(deleted, str) else deleted)


def _parsers(reader: _Reader) -> tuple[str, str | None]:
    """The currency of prices that name none, and the date format of ambiguous dates."""
    from monitor.crawling.parsers import CNY_RATES

    parsers = reader.section("parsers")
    currency = reader.get(parsers, "currency", "parsers.", str, default="CNY").upper()
    if currency not in CNY_RATES:
        raise reader.fail("parsers.currency", f"unknown currency {currency!r}; known: {', '.join(CNY_RATES)}")
    date_format = reader.get(parsers, "date_format", "parsers.", str)
    if date_format is not None and "%" not in date_format:
        raise reader.fail("parsers.date_format", f"expected a strptime format such as %d/%m/%Y; got {date_format!r}")
    return currency, date_format


def _politeness(reader: _Reader) -> dict[str, Any]:
    politeness = dict(reader.section("politeness"))
    for key, kind in (("download_delay", float), ("concurrency", int), ("obey_robots", bool), ("autothrottle", bool)):
        if key in politeness:
            politeness[key] = reader.get(politeness, key, "politeness.", kind)
    for key, low, high in (("download_delay", 0.0, 3600.0), ("concurrency", 1, 64)):
        value = politeness.get(key)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise reader.fail(f"politeness.{key}", f"must be between {low:g} and {high:g}; got {value!r}")
    return politeness


def _key_lines(node: yaml.Node | None, prefix: str = "", lines: dict[str, int] | None = None) -> dict[str, int]:
    """The line of every key of the file, by its dotted name (``search.reader``, ``hosts[1]``),
    so errors can point at it; yaml.safe_load keeps no positions."""
    lines = {} if lines is None else lines
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines.setdefault(name, key_node.start_mark.line + 1)
            _key_lines(value_node, name, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.setdefault(f"{prefix}[{index}]", item.start_mark.line + 1)
            _key_lines(item, f"{prefix}[{index}]", lines)
    return lines


def _hosts(reader: _Reader, data: Mapping[str, Any]) -> tuple[str, ...]:
    """Further places the crawl may fetch from (an API or image host); each checked now."""
    from monitor.crawling.scope import parse_scope

    raw = reader.get(data, "hosts", "", (list, str), default=[])
    entries = [raw] if isinstance(raw, str) else raw
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise reader.fail(f"hosts[{index}]", f"expected a host name or URL, got {entry!r}")
        try:
            parse_scope(entry.replace("{sandbox}", "http://127.0.0.1:1"))
        except ValueError as exc:
            raise reader.fail(f"hosts[{index}]", str(exc)) from None
    return tuple(entries)
