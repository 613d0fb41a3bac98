"""Scraped text made safe for a page: escaped, with the matcher's hits marked."""

from __future__ import annotations

from typing import Iterable

from markupsafe import Markup, escape


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """``text`` escaped, each occurrence of a term wrapped in ``<mark>``; written by hand because
    the spans must be merged before escaping (a term inside another, or overlapping it)."""
    text = text or ""
    spans: list[tuple[int, int]] = []
    for term in {t for t in terms if t}:
        start = text.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = text.find(term, start + 1)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>%s</mark>") % text[start:end])
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
