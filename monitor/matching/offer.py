"""What a flagged listing offers: the product's form, the quantity stated, buying or selling.

For the report's table of dealers' supply by product form and volume. Read from the context
words the matcher already found (``context.yaml``'s ``offer``), near the hits that flagged:

* ``form``: the form word nearest a flagged hit, inside it counting as nearest (象牙手镯 is a
  worked item, 穿山甲片 scales), ties settled in the YAML's order; None when none is named.
* ``quantity``: ``{"amount", "unit", "text"}``; the first weight stated (in grams: 半斤 is 250),
  else the first set (一副, 一批), else the first count of pieces (2根); None when none is stated.
* ``intent``: ``"buy"`` when the ad buys in (求购, 回收, 收象牙), else ``"sell"``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from monitor.matching.evidence import span_start, context_spans
from monitor.matching.hit_context import negated_at

if TYPE_CHECKING:
    from monitor.matching.evidence import Hit, ListingEvidence

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_TENS = {"十": 10, "百": 100, "千": 1000}
_NUMBER_CHARS = frozenset("0123456789.") | frozenset(_DIGITS) | frozenset(_TENS) | {"半"}
_FAR = 10_000  # a form named in another field than every flagged hit


@dataclass(frozen=True)
class Offer:
    form: str | None
    quantity: dict[str, Any] | None
    intent: str


def describe(ev: "ListingEvidence", hits: Iterable["Hit"]) -> Offer:
    """The offer of a listing whose flagged hits are ``hits``."""
    by_field: dict[str, list["Hit"]] = {}
    for hit in hits:
        by_field.setdefault(hit.field, []).append(hit)
    return Offer(_form(ev, by_field), _quantity(ev), "buy" if _buying(ev, by_field) else "sell")


def _form(ev: "ListingEvidence", by_field: dict[str, list["Hit"]]) -> str | None:
    best: tuple[int, int, str] | None = None
    for order, fe in enumerate(ev.fields):
        spans = context_spans(fe, "form")
        if not spans:
            continue
        hits = by_field.get(fe.name)
        if not hits:  # the first form word of the field, as no hit is nearer to any
            candidates = [_first_outermost(spans, _FAR + order * 1000)]
        else:
            near = _Nearest(hits)
            candidates = [(near.distance(start, end), rank, name) for (rank, name), start, end in _outermost(spans)]
        for distance, rank, name in candidates:
            if best is None or distance < best[0] or (distance == best[0] and rank < best[1]):
                best = (distance, rank, name)
    return best[2] if best else None


def _first_outermost(spans: list[tuple[Any, int, int]], far: int) -> tuple[int, int, str]:
    """What ``_form`` makes of a field without a flagged hit (its distance grows with a span's
    start): the outermost span starting first, the longest there, the first in YAML order."""
    start = min(s for _, s, _ in spans)
    end = max(e for _, s, e in spans if s == start)
    rank, name = min(payload for payload, s, e in spans if s == start and e == end)
    return far + start, rank, name


def _outermost(spans: list[tuple[Any, int, int]]) -> list[tuple[Any, int, int]]:
    """The spans not inside a longer one (甲片, not the 片 in it), in one sorted pass."""
    out, reach, last = [], -1, None
    for payload, start, end in sorted(spans, key=_start_then_longest):
        if (start, end) != last:
            inside = end <= reach
            reach = max(reach, end)
            last = (start, end)
        if not inside:
            out.append((payload, start, end))
    return out


def _start_then_longest(span: tuple[Any, int, int]) -> tuple[int, int]:
    return span[1], -span[2]


class _Nearest:
    """Distance from a span to the nearest of some hits (0 when they overlap), by bisection, so
    a page dense with hits and form words takes time in proportion to its length."""

    def __init__(self, hits: list["Hit"]) -> None:
        ordered = sorted((h.start, h.end) for h in hits)
        self.starts = [a for a, _ in ordered]
        self.reach: list[int] = []  # the furthest end among the hits up to each one
        for _, b in ordered:
            self.reach.append(max(b, self.reach[-1]) if self.reach else b)

    def distance(self, start: int, end: int) -> int:
        i = bisect_left(self.starts, end)  # hits starting before the span ends: [0, i)
        after = self.starts[i] - end if i < len(self.starts) else _FAR
        if i == 0:
            return after
        reach = self.reach[i - 1]
        return 0 if reach > start else min(start - reach, after)


def _quantity(ev: "ListingEvidence") -> dict[str, Any] | None:
    found: dict[str, dict[str, Any]] = {}
    for fe in ev.fields:
        for payload, start, end in sorted(context_spans(fe, "quantity"), key=span_start):
            unit, grams, size = payload
            if unit in found:
                continue
            number = _number_before(fe.norm.text, end - size)
            if number is None:
                continue
            amount, at = number
            o_start, o_end = fe.norm.span(at, end)
            amount = round(amount * grams, 3) if unit == "gram" else amount
            found[unit] = {"amount": int(amount) if amount == int(amount) else amount, "unit": unit,
                           "text": fe.norm.original[o_start:o_end]}
    return found.get("gram") or found.get("set") or found.get("piece")


def _number_before(text: str, end: int) -> tuple[float, int] | None:
    """The number written right before ``end`` (2.3, 一, 半, 三百; 一整根's 整 skipped)."""
    i = end
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i > 0 and text[i - 1] == "整":
        i -= 1
    stop = i
    while i > 0 and stop - i < 12 and text[i - 1] in _NUMBER_CHARS:
        i -= 1
    if i == stop:
        return None
    value = _parse_number(text[i:stop])
    return None if value is None else (value, i)


def _parse_number(s: str) -> float | None:
    """Arabic or Chinese numerals as ads write quantities; by hand, as these are a dozen
    characters (a numeral library would add a dependency for them)."""
    if s[0].isdigit():
        try:
            return float(s)
        except ValueError:
            return None
    if s == "半":
        return 0.5
    total, current = 0, 0
    for ch in s:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _TENS:
            total += (current or 1) * _TENS[ch]
            current = 0
        else:
            return None
    return float(total + current)


def _buying(ev: "ListingEvidence", by_field: dict[str, list["Hit"]]) -> bool:
    for fe in ev.fields:
        if any(not negated_at(fe, start) for _, start, _ in context_spans(fe, "buying")):
            return True
        before = context_spans(fe, "buying_before")
        if before and {end for _, _, end in before} & {h.start for h in by_field.get(fe.name, [])}:
            return True
    return False
