"""The report's charts, drawn by matplotlib's SVG backend and embedded in the page as inline SVG.

Why matplotlib: it is the best-kept plotting library in Python and its SVG backend needs no
browser, no JavaScript and no network, so the chart is part of the HTML file, prints as
vectors and renders the same in WeasyPrint. With ``svg.fonttype = "none"`` labels stay text
(selectable, and drawn by the reader's CJK fonts). pygal was the lighter alternative, but its
SVG always carries a ``<script>`` block, which the page's Content-Security-Policy forbids.

Only the figure/canvas API is used (no pyplot), so no global state or GUI backend is touched.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import warnings
from typing import Any, Iterable, Mapping, Sequence

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from markupsafe import escape

from .labels import species_colours

# Fonts a reader is likely to have for Chinese labels; the browser picks the first present.
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
             "PingFang SC", "SimHei", "DejaVu Sans", "sans-serif"]
# Colour-blind-safe qualitative palette (Okabe & Ito; olive instead of its yellow, which is
# too faint on white paper): the total's bars, and a species group species.yaml does not know.
# Each group's own colour is fixed in species.yaml, so it keeps it from one report to the next.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#999933", "#000000"]

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "wildlife-trade-monitor",
    "font.family": "sans-serif",
    "font.sans-serif": CJK_FONTS,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def trend_total_svg(months: Sequence[str], totals: Sequence[int | None], title: str, no_data: str = "no data") -> str:
    """Bars of new flagged ads per month since the first crawl; a month without data (``None``)
    gets no bar but a ``no_data`` mark, so it does not read as zero."""
    fig = Figure(figsize=(9, 3.2))
    _margins(fig)
    with matplotlib.rc_context(_RC):
        ax = fig.add_subplot()
        shown = [(i, n) for i, n in enumerate(totals) if n is not None]
        ax.bar([i for i, _ in shown], [n for _, n in shown], color=PALETTE[0], width=0.75)
        for i, n in enumerate(totals):
            if n is None:
                ax.text(i, 0, no_data, rotation=90, ha="center", va="bottom", fontsize=8, color="#777777")
        _month_axis(ax, months)
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
        return _to_svg(fig, "trend-total", title)


def trend_species_svg(months: Sequence[str], series: dict[str, Sequence[int]], names: dict[str, str],
                      title: str, colours: Mapping[str, str] | None = None) -> str:
    """One line per species group, so a group's rise is not hidden under a stack.

    ``colours`` maps keys to colours (default: species.yaml of the report's lexicon folder).
    """
    if colours is None:
        colours = species_colours()
    fig = Figure(figsize=(9, 3.6))
    _margins(fig, right=_legend_width(names.get(species, species) for species in series) if series else 0.2)
    with matplotlib.rc_context(_RC):
        ax = fig.add_subplot()
        positions = list(range(len(months)))
        for index, (species, values) in enumerate(series.items()):
            colour = colours.get(species, PALETTE[index % len(PALETTE)])
            values = [float("nan") if v is None else v for v in values]  # a month without data: a gap
            ax.plot(positions, values, label=names.get(species, species), color=colour,
                    linewidth=1.8, marker="o" if len(months) <= 24 else None, markersize=3)
        _month_axis(ax, months)
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
        return _to_svg(fig, "trend-species", title)


def _margins(fig: Figure, right: float = 0.2) -> None:
    """Fixed margins in inches around the axes: room for six-digit counts on the left, the slanted
    month labels below and ``right`` for a legend. Set by hand because matplotlib's tight layout
    draws every label once more to measure it (a third of the charts' time)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=0.75 / width, right=1 - right / width, bottom=0.8 / height, top=1 - 0.15 / height)


def _legend_width(names: Iterable[str]) -> float:
    """Inches a legend at 9 pt needs beside the axes: its line sample and padding, and the longest
    name (a Han character a full em, other characters about 0.6 em)."""
    em = 9 / 72
    longest = max((sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in name) for name in names),
                  default=0.0)
    return 0.85 + longest * em


def _month_axis(ax: object, months: Sequence[str]) -> None:
    step = max(1, len(months) // 12)
    ticks = list(range(0, len(months), step))
    ax.set_xticks(ticks, [months[i] for i in ticks], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.6, max(len(months) - 0.4, 0.6))


def _to_svg(fig: Figure, chart_id: str, label: str) -> str:
    """The figure as an ``<svg>`` element ready to inline (no XML prolog, no fixed size)."""
    buffer = io.StringIO()
    # Missing CJK glyphs only affect matplotlib's size estimate; the browser draws the text.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", buffer.getvalue(), count=1)
    svg = _METADATA.sub("", svg, count=1)
    attributes = f'id="{chart_id}" class="chart" role="img" aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet"'
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', lambda m: f"<svg {m.group(1)}{attributes}", svg, count=1)
    return svg.strip()


def __getattr__(name: str) -> Any:
    if name == "SPECIES_COLOURS":  # key -> colour from species.yaml (the shipped one outside a report)
        return species_colours()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
