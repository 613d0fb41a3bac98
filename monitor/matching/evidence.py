"""What the matcher found in a listing, as the verdict reads it: hits, innocent compounds,
covers and context words per field, each kind indexed by position on first use.

Every rule of the verdict looks only a few characters around a hit, so each lookup asks a
sorted index (``_Spans``) for the spans starting in a window instead of walking all of a
field's spans: the verdict on a page dense with terms takes time in proportion to its length,
not to the square (or cube) of its number of hits.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from monitor.matching.lexicon import Term
    from monitor.matching.normalise import Normalised


@dataclass
class Hit:
    term: "Term"
    spelling_trick: str
    strong: bool
    start: int
    end: int
    field: str
    original: tuple[int, int, str] = (0, 0, "")
    trick: str = "plain"
    reason: str = ""


class _Spans:
    """Spans sorted by start, to find the few near a position in O(log n) rather than O(n).

    Both queries may return more spans than asked for (all of them, when there are so few that
    walking them is quicker than indexing them): callers test each span they get."""

    SMALL = 32  # up to this many spans, walking them all beats sorting them (most listings)

    __slots__ = ("items", "starts", "longest")

    def __init__(self, spans: "list[Any]", start: Callable[[Any], int], end: Callable[[Any], int]) -> None:
        self.starts: list[int] | None = None
        self.items = spans
        self.longest = 0
        if len(spans) > self.SMALL:
            self.items = sorted(spans, key=start)
            self.starts = [start(s) for s in self.items]
            self.longest = max(end(s) - start(s) for s in self.items)

    def starting(self, lo: int, hi: int) -> "list[Any]":
        """The spans starting in ``[lo, hi)`` (and maybe others)."""
        if self.starts is None:
            return self.items
        if lo >= hi:
            return []
        return self.items[bisect_left(self.starts, lo):bisect_left(self.starts, hi)]

    def touching(self, lo: int, hi: int, reach: int = 0) -> "list[Any]":
        """The spans ending after ``lo - reach`` and starting before ``hi + reach`` (and maybe others):
        ``longest`` bounds how far before ``lo - reach`` such a span can start."""
        return self.starting(lo - reach - self.longest, hi + reach)


def span_start(span: tuple[Any, int, int]) -> int:
    return span[1]


def _span_end(span: tuple[Any, int, int]) -> int:
    return span[2]


def spans_of(spans: list[tuple[Any, int, int]]) -> _Spans:
    return _Spans(spans, span_start, _span_end)


@dataclass
class FieldEvidence:
    name: str
    norm: "Normalised"
    hits: list[Hit] = field(default_factory=list)
    covers: list[tuple[str, int, int]] = field(default_factory=list)
    suspect: set[str] = field(default_factory=set)  # species whose suspect cover (猛犸) is named
    exclusions: list[tuple[str, int, int]] = field(default_factory=list)
    # context words by kind: (payload, start, end) in the order found (the matcher's context scan)
    by_kind: dict[str, list[tuple[Any, int, int]]] = field(default_factory=dict)
    # indexes built on first use by the verdict, once hits and context are complete
    _indexes: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def index(self, kind: str) -> _Spans:
        """The context words of ``kind`` (or the exclusions, for ``"exclusion"``), sorted by start."""
        found = self._indexes.get(kind)
        if found is None:
            found = spans_of(self.exclusions if kind == "exclusion" else context_spans(self, kind))
            self._indexes[kind] = found
        return found

    def hit_index(self, species: str | None = None) -> _Spans:
        """This field's hits (of one species, or all), sorted by start."""
        key = ("hits", species)
        found = self._indexes.get(key)
        if found is None:
            hits = self.hits if species is None else [h for h in self.hits if h.term.species == species]
            found = _Spans(hits, _hit_start, _hit_end)
            self._indexes[key] = found
        return found

    def hit_spans(self) -> set[tuple[int, int]]:
        found = self._indexes.get("hit_spans")
        if found is None:
            found = self._indexes["hit_spans"] = {(h.start, h.end) for h in self.hits}
        return found

    def marks(self, char: str) -> list[int]:
        """Sorted positions of one character (《, 》...) in the normalised text."""
        key = ("marks", char)
        found = self._indexes.get(key)
        if found is None:
            text = self.norm.text
            found, at = [], text.find(char)
            while at >= 0:
                found.append(at)
                at = text.find(char, at + 1)
            self._indexes[key] = found
        return found


def _hit_start(hit: Hit) -> int:
    return hit.start


def _hit_end(hit: Hit) -> int:
    return hit.end


@dataclass
class ListingEvidence:
    title_field: str
    fields: list[FieldEvidence] = field(default_factory=list)

    def field(self, name: str, norm: "Normalised", by_kind: dict[str, list[tuple[Any, int, int]]] | None = None) \
            -> FieldEvidence:
        ev = FieldEvidence(name, norm) if by_kind is None else FieldEvidence(name, norm, by_kind=by_kind)
        self.fields.append(ev)
        return ev


_NONE: list[tuple[Any, int, int]] = []


def context_spans(fe: FieldEvidence, kind: str) -> list[tuple[Any, int, int]]:
    """The field's context words of one kind, in the order they were found (read only)."""
    return fe.by_kind.get(kind, _NONE)
