"""Site definitions: one YAML file per marketplace, so an analyst can add or repair a site by
editing data, never Python. Files are validated when loaded; a bad file raises ``SiteFileError``
naming the file, the field and its line (``monitor.crawling.sitefile`` reads and checks a file),
and never stops the other sites from loading (see ``load_sites(..., errors=...)``).

Selectors are strings: CSS by default (``h1.title::text``), ``xpath:`` for XPath, ``json:`` for a
JMESPath expression over a JSON document (API answers, or JSON embedded in a page), and
``re:`` after any of them to keep one regular-expression group of what was selected, e.g.
``"span.price::text re:([\\d.,]+)"``.

Each page (search, category, listing) is read by a reader (``monitor.spiders.archetypes``): the
site's ``platform`` names the default, a section's ``reader`` another; the section's ``charset``
decodes its pages, ``query_charset`` encodes the queries, ``charset`` is the default of both.
This module imports neither Scrapy nor the readers: it is the model they and the spiders share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from monitor.exceptions import SiteFileError

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


def load_site_file(path: Path | str) -> SiteConfig:
    """Read and validate one site definition (``monitor.crawling.sitefile`` does it)."""
    from monitor.crawling.sitefile import read_site_file

    return read_site_file(Path(path))


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
