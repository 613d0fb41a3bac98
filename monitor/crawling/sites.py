"""Site definitions: one YAML file per marketplace, so an analyst can add or repair a site by
editing data, never Python. Files are validated when loaded; a bad file raises ``SiteFileError``
naming the file and the field, and never stops the other sites from loading (see
``load_sites(..., errors=...)``).

Selectors are strings: CSS by default (``h1.title::text``), ``xpath:`` for XPath, ``json:`` for a
JMESPath expression over a JSON document (API answers, or JSON embedded in a page), and
``re:`` after any of them to keep one regular-expression group of what was selected, e.g.
``"span.price::text re:([\\d.,]+)"``.

Each page (search, category, listing) is read by a reader (``monitor.spiders.archetypes``): the
site's ``platform`` names the default, a section's ``reader`` another; the section's ``charset``
decodes its pages, ``query_charset`` encodes the queries, ``charset`` is the default of both.
Errors name the file, the field and its line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

import yaml

from monitor.exceptions import SiteFileError
from monitor.spiders.archetypes import ARCHETYPES, READER_KEYS, READERS

SCRIPTS = ("simplified", "traditional")
VARIANTS = ("s2t", "s2tw", "s2hk", "s2twp")
CRAWL_MODES = ("search", "category", "both")
# How the site's search matches a query (see monitor.crawling.planner): every ad containing it,
# the ads sharing its words after the site cuts text into words, or not known.
SEARCH_MATCHES = ("substring", "segmented", "unknown")
# When a category walk stops before its last page (besides max_pages): ``known`` stops after the
# first page listing nothing the crawl did not already know when it began (the site's stored,
# not-removed listings): on a newest-first page, everything further on is older than the last crawl.
WALK_STOPS = ("known",)
FIELDS = ("title", "description", "price", "location", "seller", "contact", "posted", "id", "url")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


@dataclass(frozen=True)
class Selector:
    """One way to pull a string out of a page or JSON document."""

    kind: str  # "css" | "xpath" | "json"
    expression: str
    regex: re.Pattern[str] | None = None
    source: str = ""

    @classmethod
    def parse(cls, text: str, where: str) -> "Selector":
        text = text.strip()
        if not text:
            raise SiteFileError(f"{where}: empty selector")
        regex = None
        expression = text
        if " re:" in text:
            expression, _, pattern = text.partition(" re:")
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise SiteFileError(f"{where}: bad regular expression {pattern!r}: {exc}") from None
        kind = "css"
        for prefix in ("xpath:", "json:", "css:"):
            if expression.startswith(prefix):
                kind = prefix[:-1]
                expression = expression[len(prefix):].strip()
        if kind == "json":
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                jmespath.compile(expression)
            except JMESPathError as exc:
                raise SiteFileError(f"{where}: bad JSON path {expression!r}: {exc}") from None
        else:
            from parsel import Selector as ParselSelector

            probe = ParselSelector(text="<html></html>")
            try:
                probe.css(expression) if kind == "css" else probe.xpath(expression)
            except Exception as exc:  # parsel raises several unrelated types for bad syntax
                raise SiteFileError(f"{where}: bad {kind.upper()} selector {expression!r}: {exc}") from None
        return cls(kind=kind, expression=expression, regex=regex, source=text)


@dataclass(frozen=True)
class PageReader:
    """How one kind of page is read: a reader of ``monitor.spiders.archetypes.READERS``, the
    charset its pages are decoded with when their server does not say (or lies), and the
    ``<script>`` holding the data (embedded_json)."""

    kind: str
    charset: str
    script: Selector | None = None


@dataclass(frozen=True)
class PageRule:
    """How to read a page of results (a search answer or a category page)."""

    urls: tuple[str, ...]  # templates relative to the base URL
    results: Selector | None  # links (HTML) or URLs (JSON) of listing pages to follow
    items: Selector | None  # containers/objects, one per listing
    item_fields: Mapping[str, Selector]  # read inside each container (default: listing.fields)
    follow: bool  # also open each item's listing page for the fields the result page lacks
    next_page: Selector | None
    next_url: str | None  # template for cursor paging: {next} is what next_page selected
    max_pages: int | None
    cap: int | None = None  # results the search shows at most (search only)
    stop: str | None = None  # one of WALK_STOPS, or None: walk to max_pages or the last page (category only)
    reader: PageReader = PageReader("html", "utf-8")


@dataclass(frozen=True)
class SiteConfig:
    """A validated marketplace definition; build it with ``load_site_file``."""

    name: str
    platform: str
    base_url_template: str
    script: str
    variant: str
    charset: str
    crawl: str
    search: PageRule | None
    category: PageRule | None
    fields: Mapping[str, Selector]
    id_from_url: re.Pattern[str] | None
    listing_url_template: str | None  # canonical listing URL from its id ("item?id={id}")
    fetch_url_template: str | None  # where a listing's data is read, when not its page (an API)
    embedded_json: Selector | None
    deleted_markers: tuple[str, ...]
    default_currency: str
    date_format: str | None
    politeness: Mapping[str, Any]
    max_pages: int | None
    listing_reader: PageReader = PageReader("html", "utf-8")
    query_charset: str = ""  # queries are percent-encoded in it (default: charset)
    hosts: tuple[str, ...] = ()  # further scopes beyond the base URL's (see monitor.crawling.scope)
    search_match: str = "unknown"  # one of SEARCH_MATCHES
    search_cap: int | None = None  # results the site's search shows at most, when it caps them
    title: str = ""
    notes: str = ""
    source_file: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def sandbox(self) -> bool:
        return "{sandbox}" in self.base_url_template

    def base_url(self, sandbox_url: str = "") -> str:
        """The base URL with ``{sandbox}`` replaced by the configured sandbox origin."""
        if self.sandbox:
            if not sandbox_url:
                raise SiteFileError(
                    f"{self.source_file}: base_url: {self.base_url_template!r} needs sandbox_url to be configured"
                )
            url = self.base_url_template.replace("{sandbox}", sandbox_url.rstrip("/"))
        else:
            url = self.base_url_template
        return url if url.endswith("/") else url + "/"

    def scope(self, sandbox_url: str = "") -> "SiteScope":
        """Where this site's crawl may go: the base URL's scheme, host, port and path, plus ``hosts``."""
        from monitor.crawling.scope import SiteScope, parse_scope

        origin = sandbox_url.rstrip("/")
        extra = [parse_scope(h.replace("{sandbox}", origin)) for h in self.hosts]
        return SiteScope(self.base_url(sandbox_url), extra)

    def site_keyword(self, keyword: str) -> str:
        """The keyword in the site's own script (Simplified terms go Traditional via OpenCC)."""
        if self.script != "traditional":
            return keyword
        return _converter(self.variant).convert(keyword)

    def encode_keyword(self, keyword: str) -> str:
        """The keyword converted to the site's script and percent-encoded in its query charset."""
        text = self.site_keyword(keyword)
        return quote(text.encode(self.query_charset or self.charset, errors="xmlcharrefreplace"), safe="")

    def listing_url(self, external_id: str, sandbox_url: str = "") -> str | None:
        from urllib.parse import urljoin

        if not self.listing_url_template:
            return None
        return urljoin(self.base_url(sandbox_url), self.listing_url_template.replace("{id}", quote(external_id, safe="")))

    def fetch_url(self, external_id: str, sandbox_url: str = "") -> str | None:
        from urllib.parse import urljoin

        if not self.fetch_url_template:
            return None
        return urljoin(self.base_url(sandbox_url), self.fetch_url_template.replace("{id}", quote(external_id, safe="")))

    def search_urls(self, keyword: str, sandbox_url: str = "") -> list[str]:
        from urllib.parse import urljoin

        if self.search is None:
            return []
        encoded = self.encode_keyword(keyword)
        base = self.base_url(sandbox_url)
        return [urljoin(base, t.replace("{keyword}", encoded).replace("{page}", "1")) for t in self.search.urls]

    def category_urls(self, sandbox_url: str = "") -> list[str]:
        from urllib.parse import urljoin

        if self.category is None:
            return []
        base = self.base_url(sandbox_url)
        return [urljoin(base, t.replace("{page}", "1")) for t in self.category.urls]


_CONVERTERS: dict[str, Any] = {}


def _converter(variant: str) -> Any:
    if variant not in _CONVERTERS:
        import opencc

        _CONVERTERS[variant] = opencc.OpenCC(variant)
    return _CONVERTERS[variant]


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


def load_site_file(path: Path | str) -> SiteConfig:
    """Read and validate one site definition."""
    path = Path(path)
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
    default = PageReader(ARCHETYPES[platform].reader, charset, None)
    embedded = reader.selector(listing, "embedded_json", "listing.")
    listing_reader = _page_reader(reader, listing, "listing.", default)
    default = PageReader(default.kind, charset, embedded)
    search = _page_rule(reader, "search", default)
    category = _page_rule(reader, "category", default)
    if crawl in ("search", "both") and search is None:
        raise reader.fail("search", f"is required when crawl is {crawl!r}")
    if crawl in ("category", "both") and category is None:
        raise reader.fail("category", f"is required when crawl is {crawl!r}")

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
    if isinstance(deleted, str):
        deleted = [deleted]

    parsers = reader.section("parsers")
    currency = reader.get(parsers, "currency", "parsers.", str, default="CNY").upper()
    from monitor.crawling.parsers import CNY_RATES

    if currency not in CNY_RATES:
        raise reader.fail("parsers.currency", f"unknown currency {currency!r}; known: {', '.join(CNY_RATES)}")
    date_format = reader.get(parsers, "date_format", "parsers.", str)
    if date_format is not None and "%" not in date_format:
        raise reader.fail("parsers.date_format", f"expected a strptime format such as %d/%m/%Y; got {date_format!r}")
    politeness = dict(reader.section("politeness"))
    for key, kind in (("download_delay", float), ("concurrency", int), ("obey_robots", bool), ("autothrottle", bool)):
        if key in politeness:
            politeness[key] = reader.get(politeness, key, "politeness.", kind)
    for key, low, high in (("download_delay", 0.0, 3600.0), ("concurrency", 1, 64)):
        value = politeness.get(key)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise reader.fail(f"politeness.{key}", f"must be between {low:g} and {high:g}; got {value!r}")
    max_pages = reader.get(data, "max_pages", "", int)
    if max_pages is not None and max_pages < 1:
        raise reader.fail("max_pages", f"must be at least 1; got {max_pages!r}")
    hosts = _hosts(reader, data)
    search_match = reader.choice(data, "search_match", "", SEARCH_MATCHES, default="unknown")
    return SiteConfig(
        name=name, platform=platform, base_url_template=base_url, script=script, variant=variant,
        charset=charset, crawl=crawl, search=search, category=category, fields=fields, id_from_url=id_regex,
        listing_url_template=templates["url"], fetch_url_template=templates["fetch"],
        embedded_json=embedded, deleted_markers=tuple(deleted), default_currency=currency, date_format=date_format,
        politeness=politeness, max_pages=max_pages, listing_reader=listing_reader, query_charset=query_charset,
        hosts=hosts, search_match=search_match,
        search_cap=search.cap if search is not None else None, title=reader.get(data, "title", "", str, default=""),
        notes=reader.get(data, "notes", "", str, default=""), source_file=path, raw=data,
    )


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


def shipped_sites_dir() -> Path:
    """The folder of site definitions that ship with the package."""
    return Path(str(resources.files("monitor.spiders") / "sites"))


def site_files(extra_dir: str | Path | None = None) -> list[Path]:
    """Shipped definitions, then those in ``extra_dir``; a later file with the same stem wins."""
    by_stem: dict[str, Path] = {}
    for folder in (shipped_sites_dir(), Path(extra_dir) if extra_dir else None):
        if folder is None:
            continue
        if not folder.is_dir():
            raise SiteFileError(f"{folder}: sites_dir is not a folder")
        for path in sorted(folder.glob("*.yaml")):
            by_stem[path.stem] = path
    return list(by_stem.values())


def load_sites(
    extra_dir: str | Path | None = None,
    names: Iterable[str] | None = None,
    errors: list[SiteFileError] | None = None,
) -> dict[str, SiteConfig]:
    """Load every site definition (or just ``names``).

    With ``errors`` given, a bad file is appended there and skipped so the other sites still
    run; without it the first bad file raises.
    """
    wanted = set(names) if names else None
    sites: dict[str, SiteConfig] = {}
    for path in site_files(extra_dir):
        if wanted is not None and path.stem not in wanted:
            continue
        try:
            site = load_site_file(path)
            if site.name != path.stem:
                raise SiteFileError(f"{path}: name: {site.name!r} must match the file name {path.stem!r}")
        except SiteFileError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        sites[site.name] = site
    if wanted is not None:
        missing = wanted - set(sites) - {Path(str(e).split(":", 1)[0]).stem for e in (errors or [])}
        if missing:
            known = ", ".join(sorted(p.stem for p in site_files(extra_dir)))
            raise SiteFileError(f"unknown site {sorted(missing)[0]!r}; known sites: {known}")
    return sites


def sites_for_config(config: Any, names: Iterable[str] | None = None, errors: list[SiteFileError] | None = None) -> dict[str, SiteConfig]:
    """The sites a configuration selects: ``names``, else ``config.sites``, else all."""
    chosen = list(names) if names else list(config.sites or [])
    return load_sites(config.sites_dir or None, chosen or None, errors)
