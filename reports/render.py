"""The HTML page: Jinja2 templates with autoescape on, filters that treat scraped text as hostile.

Every string that came from a marketplace (titles, descriptions, URLs, sellers, terms) reaches
the page only through autoescape or through the filters below, which escape each piece before
adding their own markup. Templates are never built from data, so ``{{ 7*7 }}`` in a listing
stays text. The page carries a Content-Security-Policy that forbids every script, as a second
wall should anything ever slip through.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from monitor.exceptions import MonitorError

from .codes import code_name
from .sections import SECTIONS

# Only plain http(s) URLs without spaces, quotes or angle brackets become links.
_LINKABLE = re.compile(r"^https?://[^\s\"'<>\\`\x00-\x1f\x7f]+$", re.IGNORECASE)


def highlight(text: str, spans: Iterable[Iterable[int]] | None) -> Markup:
    """``text`` escaped, with the matched ``[start, end)`` offsets wrapped in ``<mark>``.

    Offsets index the original text, so each slice is escaped on its own and only our own
    ``<mark>`` tags are added; overlapping or out-of-range spans are merged or clipped.
    """
    text = "" if text is None else str(text)
    merged: list[list[int]] = []
    for span in sorted((max(0, int(a)), min(len(text), int(b))) for a, b in (spans or [])):
        start, end = span
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    cursor = 0
    for start, end in merged:
        pieces.append(escape(text[cursor:start]))
        pieces.append(Markup("<mark>%s</mark>") % text[start:end])
        cursor = end
    pieces.append(escape(text[cursor:]))
    return Markup("").join(pieces)


def link(url: str, label: str | None = None) -> Markup:
    """A link for an http(s) URL; anything else (javascript:, data:, odd bytes) as plain text."""
    url = "" if url is None else str(url).strip()
    shown = url if label is None else label
    if not _LINKABLE.match(url):
        return Markup('<span class="url">%s</span>') % shown
    return Markup('<a class="url" href="%s" rel="noopener noreferrer nofollow" target="_blank">%s</a>') % (url, shown)


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def signed_percent(value: float | None, digits: int = 1) -> str:
    """A change as a percentage with its sign (the same minus sign as ``signed``)."""
    if value is None:
        return "—"
    text = f"{abs(value) * 100:.{digits}f}%"
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def signed_points(value: float | None, unit: str = "pp", digits: int = 1) -> str:
    """A difference of two rates in percentage points, with its sign (``+12.5 pp``)."""
    if value is None:
        return "—"
    return f"{signed_percent(value, digits).rstrip('%')} {unit}"


def signed(value: int | float | None) -> str:
    if value is None:
        return "—"
    if value > 0:
        return f"+{value:,}"
    if value < 0:
        return f"−{abs(value):,}"
    return "0"


def number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def cny(value: float | None) -> str:
    """A price converted to CNY, whole yuan (the rates are fixed approximations, so cents mislead)."""
    return "" if value is None else f"¥{value:,.0f}"


def rates(table: Mapping[str, float], lang: str = "en", sep: str = ", ") -> str:
    """The exchange rates a page's CNY prices use: ``1 HKD = 0.92 CNY`` (``1 港币 = 0.92 人民币``)."""
    cny = code_name("currency", "CNY", lang)
    return sep.join(f"1 {code_name('currency', code, lang)} = {rate:g} {cny}" for code, rate in table.items())


def trend_class(value: int | float | None) -> str:
    if not value:
        return "flat"
    return "up" if value > 0 else "down"


FILTERS: dict[str, Callable[..., Any]] = {
    "highlight": highlight,
    "link": link,
    "percent": percent,
    "signed": signed,
    "signed_percent": signed_percent,
    "signed_points": signed_points,
    "number": number,
    "trend_class": trend_class,
    "cny": cny,
    "rates": rates,
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment: package templates, autoescape on everywhere. One per process, so
    a template is compiled once (a tenth of a warm render), not at every report."""
    env = Environment(loader=PackageLoader("monitor.reports", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def chart_svgs(context: Mapping[str, Any]) -> dict[str, Markup]:
    """The sections' charts as inline SVG, drawn from the context's numbers at render time."""
    svgs: dict[str, Markup] = {}
    for section in SECTIONS:
        if section.charts is not None:
            svgs.update({name: Markup(svg) for name, svg in section.charts(context).items()})
    return svgs


def render_html(context: Mapping[str, Any]) -> str:
    """The whole report as one self-contained HTML document (inline CSS and SVG, no scripts)."""
    template = environment().get_template("base.html")
    titles = context.get("site_titles") or {}
    return template.render(ctx=context, t=context["labels"], charts=chart_svgs(context), sections=SECTIONS,
                           site=lambda name: titles.get(name) or name)


class PdfUnavailable(MonitorError):
    """WeasyPrint or the system libraries it draws with (Pango) are missing."""


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher (before its URLFetcher class): refuse everything."""
    raise ValueError(f"the report's PDF loads nothing: {url[:80]!r} refused")


def no_fetcher() -> Any:
    """A WeasyPrint URL fetcher that allows no protocol: the page is self-contained, so any
    fetch is refused (a URL can never make the PDF engine read a file or call the network)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint before 66 takes a plain function
        return _refuse_fetch
    return URLFetcher(allowed_protocols=())


def render_pdf(context: Mapping[str, Any]) -> bytes:
    """The same page printed by WeasyPrint: A4, page numbers and a running header (the CSS
    @page margin boxes), rows kept whole, table headers repeated, fonts embedded as subsets.

    One engine, pip-installed: it draws the page's inline SVG charts itself, needs no browser,
    and reads the print rules of report.css, so the PDF and the browser's print agree.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango or its fonts libraries missing
        raise PdfUnavailable(f"--format pdf needs WeasyPrint and Pango (pip install weasyprint; "
                             f"apt-get install libpango-1.0-0): {str(exc).splitlines()[0]}") from None
    for name in ("weasyprint", "fontTools"):  # their progress and subsetting notes are not ours to log
        logging.getLogger(name).setLevel(logging.ERROR)
    return HTML(string=render_html(context), url_fetcher=no_fetcher()).write_pdf()
