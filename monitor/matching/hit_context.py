"""What the words around a hit say: the lookups the verdict's rules make (``monitor.matching.verdict``).

Each asks the sorted index of a field's evidence (``monitor.matching.evidence``) for the spans
starting within a few characters of a hit, so a rule's cost does not grow with the number of
hits in the field.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from monitor.matching.evidence import FieldEvidence, Hit, ListingEvidence, context_spans


def inside_exclusion(hit: Hit, fe: FieldEvidence) -> bool:
    """Inside an innocent compound, even one split by a space (象牙 色, 三白 瓜), starting
    inside one that swallows its first two characters (红象牙手串 is hornbill, not 象牙手串),
    or ending inside one that starts within it (小象牙刷)."""
    hit_spans = fe.hit_spans()
    for _, start, end in fe.index("exclusion").touching(hit.start, hit.end):
        term_span = (start, end) in hit_spans
        if term_span and split_by_space_outside(fe, start, end, hit):
            continue  # 鹤顶红 象牙: the space ends one word, 红象牙 is glued across it
        if start <= hit.start and hit.end <= end and (end - start) > (hit.end - hit.start):
            return True
        if start < hit.start < end and end - hit.start >= 2:
            return True
        if hit.start < start < hit.end < end and not term_span:
            return True  # its tail starts one (小象牙刷 is 小象 + 牙刷, 大象牙膏 is 大象 + 牙膏)
    return False


def split_by_space_outside(fe: FieldEvidence, start: int, end: int, inner: Hit) -> bool:
    """Whether the seller's whitespace, removed by normalisation, falls inside [start, end) but
    outside ``inner``: then the span joins two words the seller wrote apart (鹤顶红 象牙)."""
    origin, original = fe.norm.origin, fe.norm.original
    for p in range(start + 1, end):
        if inner.start < p < inner.end:
            continue
        gap = original[origin[p - 1] + 1:origin[p]]
        if gap and gap.isspace():
            return True
    return False


def in_work_title(hit: Hit, fe: FieldEvidence) -> bool:
    """Inside 《...》: the name of a book, film or artwork (《走出象牙塔》, 《中国象牙雕刻》)."""
    opened = max(_last_before(fe.marks("《"), hit.start), _last_before(fe.marks("〈"), hit.start))
    if opened < 0:
        return False
    if max(_last_before(fe.marks("》"), hit.start), _last_before(fe.marks("〉"), hit.start)) >= opened:
        return False  # closed again before the hit
    end = min((i for i in (_first_from(fe.marks("》"), hit.end), _first_from(fe.marks("〉"), hit.end)) if i >= 0),
              default=-1)
    return end >= 0 and end - opened <= 30


def _last_before(positions: list[int], at: int) -> int:
    """The last position before ``at``, or -1 (like ``str.rfind`` on the whole text before it)."""
    i = bisect_left(positions, at)
    return positions[i - 1] if i else -1


def _first_from(positions: list[int], at: int) -> int:
    """The first position at or after ``at``, or -1 (like ``str.find``)."""
    i = bisect_left(positions, at)
    return positions[i] if i < len(positions) else -1


NEGATION_GAP = 2


def negated_at(fe: FieldEvidence, start: int) -> bool:
    """A negation marker ending at most 2 characters (0 for one-character markers) before ``start``."""
    if not fe.by_kind.get("negation_before"):
        return False
    memo = fe._indexes.setdefault("negated_at", {})
    found = memo.get(start)
    if found is None:
        found = memo[start] = _find_negation(fe, start)
    return found


def type_negated_at(fe: FieldEvidence, start: int) -> bool:
    """A product type word denied (不是玩具), not merely described (保育T恤: a conservation shirt)."""
    return bool(fe.by_kind.get("negation_before")) and _find_negation(fe, start, types=True)


def _find_negation(fe: FieldEvidence, start: int, types: bool = False) -> bool:
    exceptions = fe.index("negation_exception")
    for _, n_start, n_end in fe.index("negation_before").touching(start - NEGATION_GAP, start + 1):
        gap = start - n_end
        limit = 0 if n_end - n_start == 1 else NEGATION_GAP
        if 0 <= gap <= limit:
            if any(x_start <= n_start and n_end <= x_end and x_end - x_start > n_end - n_start
                   for _, x_start, x_end in exceptions.touching(n_start, n_end)):
                continue
            if types and any((x_start, x_end) == (n_start, n_end)
                             for _, x_start, x_end in fe.index("negation_names_only").touching(n_start, n_end)):
                continue
            if _confirms(fe, n_start, n_end, start):
                continue
            return True
    return False


def _confirms(fe: FieldEvidence, n_start: int, n_end: int, start: int) -> bool:
    """The negation is part of wording that confirms (不是仿品, 非猛犸 before 象牙): it denies the
    imitation or the cover, not what follows, so what follows is the real material."""
    return any(g_start <= n_start and n_end <= g_end <= start and g_end - g_start > n_end - n_start
               for _, g_start, g_end in fe.index("giveaway").touching(n_start, n_end))


ACCESSORY_GAP = 2


def _accessory(fe: FieldEvidence, start: int, end: int) -> bool:
    """The word names an accessory, not the item (配南红隔珠, 送红木盒, 紫檀底座): an innocent
    material or a toy there says nothing about what the item itself is."""
    by_kind = fe.by_kind
    if not by_kind.get("accessory_before") and not by_kind.get("accessory_after"):
        return False
    before = fe.index("accessory_before").touching(start - ACCESSORY_GAP, start + 1)
    after = fe.index("accessory_after").starting(end, end + ACCESSORY_GAP + 1)
    return any(0 <= start - a_end <= ACCESSORY_GAP for _, _, a_end in before) or \
        any(0 <= a_start - end <= ACCESSORY_GAP for _, a_start, _ in after)


def negated_after(fe: FieldEvidence, end: int) -> bool:
    return any(0 <= n_start - end <= NEGATION_GAP
               for _, n_start, _ in fe.index("negation_after").starting(end, end + NEGATION_GAP + 1))


def near_innocent(hit: Hit, fe: FieldEvidence, window: int) -> bool:
    exceptions = fe.index("near_exception")
    for _, c_start, c_end in fe.index("near").touching(hit.start, hit.end, window):
        if c_end <= hit.start - window or c_start >= hit.end + window:
            continue
        if hit.start <= c_start < hit.end:
            continue
        if any(x_start <= c_start and c_end <= x_end for _, x_start, x_end in exceptions.touching(c_start, c_end)):
            continue
        if negated_at(fe, c_start) or _accessory(fe, c_start, c_end):
            continue
        return True
    return False


WEAK_WINDOW = 8


def innocent_near(hit: Hit, fe: FieldEvidence, species: str) -> bool:
    """Innocent words (clothing, other materials...) qualifying a weak hit: 和田玉白料, 带帽卫衣."""
    for kind in ("innocent_near", "species_innocent"):
        for payload, start, end in fe.index(kind).touching(hit.start, hit.end, WEAK_WINDOW):
            if kind == "species_innocent" and payload != species:
                continue
            if end > hit.start - WEAK_WINDOW and start < hit.end + WEAK_WINDOW and not negated_at(fe, start) \
                    and not _accessory(fe, start, end):
                return True
    return False


def listing_words(ev: ListingEvidence, kind: str) -> set[Any]:
    found: set[Any] = set()
    for fe in ev.fields:
        for payload, start, end in context_spans(fe, kind):
            if not negated_at(fe, start) and not (kind == "innocent" and _accessory(fe, start, end)):
                found.add(payload)
    return found


def context_places(ev: ListingEvidence) -> dict[Any, list[tuple[FieldEvidence, int, int]]]:
    """Per species, where its context words (网格纹, 鱼子纹) stand, negated ones left out."""
    found: dict[Any, list[tuple[FieldEvidence, int, int]]] = {}
    for fe in ev.fields:
        for species, start, end in context_spans(fe, "context"):
            if not negated_at(fe, start):
                found.setdefault(species, []).append((fe, start, end))
    return found


def any_listing_word(ev: ListingEvidence, kind: str) -> bool:
    """Whether ``listing_words`` would find any: stops at the first."""
    for fe in ev.fields:
        for _, start, end in context_spans(fe, kind):
            if not negated_at(fe, start) and not (kind == "innocent" and _accessory(fe, start, end)):
                return True
    return False


def count_words(ev: ListingEvidence, kind: str) -> dict[Any, int]:
    """Distinct words of one kind per payload (species), ignoring negated ones."""
    seen: dict[Any, set[str]] = {}
    for fe in ev.fields:
        for payload, start, end in context_spans(fe, kind):
            if not negated_at(fe, start):
                seen.setdefault(payload, set()).add(fe.norm.text[start:end])
    return {payload: len(words) for payload, words in seen.items()}


_NUMERALS = frozenset("0123456789一二三四五六七八九十百千半几两")


def has_unit(ev: ListingEvidence, kind: str = "unit") -> bool:
    """A unit right after a number (50克, 半斤, 一副; ``size_unit``: 10 mm)."""
    for fe in ev.fields:
        text = fe.norm.text
        for _, start, _ in context_spans(fe, kind):
            i = start - 1
            while i >= 0 and text[i].isspace():  # what text[:start].rstrip() leaves, without the copy
                i -= 1
            if i >= 0 and text[i] in _NUMERALS:
                return True
    return False


PRODUCT_CHAR_WINDOW = 3


def has_product_word(ev: ListingEvidence) -> bool:
    """A product word of two or more characters anywhere (手镯, 原料, 下奶)."""
    return any(end - start >= 2 for fe in ev.fields for _, start, end in context_spans(fe, "product"))


def product_char_near(hit: Hit, fe: FieldEvidence) -> bool:
    """A one-character product word (片, 粉, 珠, 杯) right by the hit (川山甲片, 二黑单颗隔珠);
    anywhere else it is too often part of another word (纪录片, 照片, 奶粉)."""
    return any(
        end - start == 1 and hit.start - PRODUCT_CHAR_WINDOW <= start < hit.end + PRODUCT_CHAR_WINDOW
        for _, start, end in fe.index("product").starting(hit.start - PRODUCT_CHAR_WINDOW,
                                                          hit.end + PRODUCT_CHAR_WINDOW)
    )


def listing_has(ev: ListingEvidence, kind: str) -> bool:
    return any(context_spans(fe, kind) for fe in ev.fields)


PRODUCT_TYPE_WINDOW = 12


def product_type(hit: Hit, fe: FieldEvidence, ev: ListingEvidence) -> str | None:
    """The product type (toy, book, machine...) a hit names, if any: a type word in the title
    (it says what the listing sells) or within a few characters of the hit. A type word further
    off in a description is often another item of a mixed list (象牙手镯, 机械键盘, 铜香炉)."""
    for other in ev.fields:
        if other.name != ev.title_field and other is not fe:
            continue
        whole = other.name == ev.title_field
        for name, start, end in context_spans(other, "product_type"):
            if other is fe and not whole and not (hit.start - PRODUCT_TYPE_WINDOW < end and
                                                  start < hit.end + PRODUCT_TYPE_WINDOW):
                continue
            if not type_negated_at(other, start) and not _accessory(other, start, end) \
                    and not _inside_hit(other, start, end) and not _inside_latin_word(other.norm.text, start, end):
                return name
    return None


def _inside_latin_word(text: str, start: int, end: int) -> bool:
    """A Latin word found inside a longer one (app in whatsapp, otc in hotcake)."""
    def glued(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()
    return (text[start].isascii() and glued(start - 1)) or (text[end - 1].isascii() and glued(end))


def _inside_hit(fe: FieldEvidence, start: int, end: int) -> bool:
    return any(h.start <= start and end <= h.end for h in fe.hit_index().touching(start, end))


def trade_context(ev: ListingEvidence) -> bool:
    """An origin (非洲), selling cheap (便宜出) or a price after a number (500元)."""
    return any(not negated_at(fe, start) for fe in ev.fields for _, start, _ in context_spans(fe, "trade")) \
        or has_unit(ev, "price")
