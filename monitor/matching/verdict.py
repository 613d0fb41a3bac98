"""Deciding whether a listing's hits add up to an offer of a protected species.

The rules, in the order an analyst would apply them:

1. A hit inside an innocent compound (象牙白, 虎皮青椒) or inside a longer ordinary jieba word is
   not evidence; a hit right after a negation or substitution marker (不是犀角, 可代羚羊角,
   拒绝象牙) is not evidence either.
2. A hit next to a depiction or imitation word (毛绒, 图录, 仿, 树脂) is not evidence, and a
   species' veto words (玳瑁猫, 金鱼, 空酒瓶) clear the whole listing for that species.
3. Strong hits (names and product terms as written, in Traditional script or split by
   separators) flag on their own.
4. Weak hits (code words, homophones, pinyin and initials) flag only with product or species
   context and with no innocent word (clothing, food, other materials) within a few characters;
   strong hits with innocent words in the listing and no product word at all do not flag.
5. A legal cover (mammoth ivory, buffalo horn, resin in the title) protects the listing unless
   the seller gives it away (过审, 实为, 纯白无皮...): then it flags, trick ``legal_cover``.
   A giveaway also lets weak and imitation-framed hits count (仿玳瑁手镯（其实是真的）).

Every rule looks only a few characters around a hit, so each lookup asks a sorted index of the
evidence (``monitor.matching.evidence``) for the spans starting in a window instead of walking
all of a field's spans: the verdict on a page dense with terms takes time in proportion to its
length, not to the square (or cube) of its number of hits.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any, Callable, Sequence

from monitor.matching.evidence import FieldEvidence, Hit, ListingEvidence, _spans, _spans_of

if TYPE_CHECKING:
    from monitor.matching.matcher import MatchResult

STRONG_SCORE = 0.9
WEAK_SCORE = 0.6
COVER_SCORE = 0.75


def _inside_exclusion(hit: Hit, fe: FieldEvidence) -> bool:
    """Inside an innocent compound, even one split by a space (象牙 色, 三白 瓜), starting
    inside one that swallows its first two characters (红象牙手串 is hornbill, not 象牙手串),
    or ending inside one that starts within it (小象牙刷)."""
    hit_spans = fe.hit_spans()
    for _, start, end in fe.index("exclusion").touching(hit.start, hit.end):
        term_span = (start, end) in hit_spans
        if term_span and _split_by_space_outside(fe, start, end, hit):
            continue  # 鹤顶红 象牙: the space ends one word, 红象牙 is glued across it
        if start <= hit.start and hit.end <= end and (end - start) > (hit.end - hit.start):
            return True
        if start < hit.start < end and end - hit.start >= 2:
            return True
        if hit.start < start < hit.end < end and not term_span:
            return True  # its tail starts one (小象牙刷 is 小象 + 牙刷, 大象牙膏 is 大象 + 牙膏)
    return False


def _split_by_space_outside(fe: FieldEvidence, start: int, end: int, inner: Hit) -> bool:
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


def _in_work_title(hit: Hit, fe: FieldEvidence) -> bool:
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


def _negated_at(fe: FieldEvidence, start: int) -> bool:
    """A negation marker ending at most 2 characters (0 for one-character markers) before ``start``."""
    if not fe.by_kind.get("negation_before"):
        return False
    memo = fe._indexes.setdefault("negated_at", {})
    found = memo.get(start)
    if found is None:
        found = memo[start] = _find_negation(fe, start)
    return found


def _find_negation(fe: FieldEvidence, start: int) -> bool:
    exceptions = fe.index("negation_exception")
    for _, n_start, n_end in fe.index("negation_before").touching(start - NEGATION_GAP, start + 1):
        gap = start - n_end
        limit = 0 if n_end - n_start == 1 else NEGATION_GAP
        if 0 <= gap <= limit:
            if any(x_start <= n_start and n_end <= x_end and x_end - x_start > n_end - n_start
                   for _, x_start, x_end in exceptions.touching(n_start, n_end)):
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


def _negated_after(fe: FieldEvidence, end: int) -> bool:
    return any(0 <= n_start - end <= NEGATION_GAP
               for _, n_start, _ in fe.index("negation_after").starting(end, end + NEGATION_GAP + 1))


def _near_innocent(hit: Hit, fe: FieldEvidence, window: int) -> bool:
    exceptions = fe.index("near_exception")
    for _, c_start, c_end in fe.index("near").touching(hit.start, hit.end, window):
        if c_end <= hit.start - window or c_start >= hit.end + window:
            continue
        if hit.start <= c_start < hit.end:
            continue
        if any(x_start <= c_start and c_end <= x_end for _, x_start, x_end in exceptions.touching(c_start, c_end)):
            continue
        if _negated_at(fe, c_start) or _accessory(fe, c_start, c_end):
            continue
        return True
    return False


WEAK_WINDOW = 8


def _innocent_near(hit: Hit, fe: FieldEvidence, species: str) -> bool:
    """Innocent words (clothing, other materials...) qualifying a weak hit: 和田玉白料, 带帽卫衣."""
    for kind in ("innocent_near", "species_innocent"):
        for payload, start, end in fe.index(kind).touching(hit.start, hit.end, WEAK_WINDOW):
            if kind == "species_innocent" and payload != species:
                continue
            if end > hit.start - WEAK_WINDOW and start < hit.end + WEAK_WINDOW and not _negated_at(fe, start) \
                    and not _accessory(fe, start, end):
                return True
    return False


def _listing_words(ev: ListingEvidence, kind: str) -> set[Any]:
    found: set[Any] = set()
    for fe in ev.fields:
        for payload, start, end in _spans(fe, kind):
            if not _negated_at(fe, start) and not (kind == "innocent" and _accessory(fe, start, end)):
                found.add(payload)
    return found


def _any_listing_word(ev: ListingEvidence, kind: str) -> bool:
    """Whether ``_listing_words`` would find any: stops at the first."""
    for fe in ev.fields:
        for _, start, end in _spans(fe, kind):
            if not _negated_at(fe, start) and not (kind == "innocent" and _accessory(fe, start, end)):
                return True
    return False


def _count_words(ev: ListingEvidence, kind: str) -> dict[Any, int]:
    """Distinct words of one kind per payload (species), ignoring negated ones."""
    seen: dict[Any, set[str]] = {}
    for fe in ev.fields:
        for payload, start, end in _spans(fe, kind):
            if not _negated_at(fe, start):
                seen.setdefault(payload, set()).add(fe.norm.text[start:end])
    return {payload: len(words) for payload, words in seen.items()}


def _resolve_species(accepted: dict[str, list[Hit]], shared_terms: set[str], with_context: set[str]) -> None:
    """Drop species that only ambiguous evidence supports when others have firmer evidence.

    A term listed for several species (一红二黑三白) counts for all of them only when nothing
    more specific is present; a species supported by code words alone (非洲料, 甲片) gives way
    to one named outright or in disguise, and among code-word-only species those with species
    context (竹丝纹, 凉血) win.
    """
    def only(sp: str, test: Any) -> bool:
        return all(test(h) for h in accepted[sp])

    if len(accepted) < 2:
        return
    if any(accepted.values()):
        for sp in [sp for sp, hits in accepted.items() if not hits]:
            del accepted[sp]  # flagged only through a cover's giveaway and context words
    shared_only = {sp for sp in accepted if accepted[sp] and only(sp, lambda h: h.term.term in shared_terms)}
    if shared_only and len(shared_only) < len(accepted):
        for sp in shared_only:
            del accepted[sp]
    code_only = {sp for sp in accepted if accepted[sp] and only(sp, lambda h: h.term.kind == "code_word")}
    if code_only and len(code_only) < len(accepted):
        for sp in code_only:
            del accepted[sp]
        return
    if len(code_only) > 1:
        contextual = code_only & with_context
        if contextual:
            for sp in code_only - contextual:
                del accepted[sp]


_NUMERALS = frozenset("0123456789一二三四五六七八九十百千半几两")


def _has_unit(ev: ListingEvidence, kind: str = "unit") -> bool:
    """A unit right after a number (50克, 半斤, 一副; ``size_unit``: 10 mm)."""
    for fe in ev.fields:
        text = fe.norm.text
        for _, start, _ in _spans(fe, kind):
            i = start - 1
            while i >= 0 and text[i].isspace():  # what text[:start].rstrip() leaves, without the copy
                i -= 1
            if i >= 0 and text[i] in _NUMERALS:
                return True
    return False


PRODUCT_CHAR_WINDOW = 3


def _has_product_word(ev: ListingEvidence) -> bool:
    """A product word of two or more characters anywhere (手镯, 原料, 下奶)."""
    return any(end - start >= 2 for fe in ev.fields for _, start, end in _spans(fe, "product"))


def _product_char_near(hit: Hit, fe: FieldEvidence) -> bool:
    """A one-character product word (片, 粉, 珠, 杯) right by the hit (川山甲片, 二黑单颗隔珠);
    anywhere else it is too often part of another word (纪录片, 照片, 奶粉)."""
    return any(
        end - start == 1 and hit.start - PRODUCT_CHAR_WINDOW <= start < hit.end + PRODUCT_CHAR_WINDOW
        for _, start, end in fe.index("product").starting(hit.start - PRODUCT_CHAR_WINDOW,
                                                          hit.end + PRODUCT_CHAR_WINDOW)
    )


def _has(ev: ListingEvidence, kind: str) -> bool:
    return any(_spans(fe, kind) for fe in ev.fields)


PRODUCT_TYPE_WINDOW = 12


def _product_type(hit: Hit, fe: FieldEvidence, ev: ListingEvidence) -> str | None:
    """The product type (toy, book, machine...) a hit names, if any: a type word in the title
    (it says what the listing sells) or within a few characters of the hit. A type word further
    off in a description is often another item of a mixed list (象牙手镯, 机械键盘, 铜香炉)."""
    for other in ev.fields:
        if other.name != ev.title_field and other is not fe:
            continue
        whole = other.name == ev.title_field
        for name, start, end in _spans(other, "product_type"):
            if other is fe and not whole and not (hit.start - PRODUCT_TYPE_WINDOW < end and
                                                  start < hit.end + PRODUCT_TYPE_WINDOW):
                continue
            if not _negated_at(other, start) and not _accessory(other, start, end) \
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


def _trade_context(ev: ListingEvidence) -> bool:
    """An origin (非洲), selling cheap (便宜出) or a price after a number (500元)."""
    return any(not _negated_at(fe, start) for fe in ev.fields for _, start, _ in _spans(fe, "trade")) \
        or _has_unit(ev, "price")


class _first_use:
    """An attribute worked out on first use and kept (``functools.cached_property`` without its
    lock, which Python 3.11 takes on every first use: once per listing here)."""

    def __init__(self, work: Callable[[Any], Any]) -> None:
        self.work, self.name = work, work.__name__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.work(obj)
        return value


class _Facts:
    """Listing-wide facts a rule may ask about, each worked out when first asked: most hits are
    settled before (inside an innocent compound, negated) or without (a strong hit beside a
    product word needs no innocent words) most of them."""

    def __init__(self, ev: ListingEvidence) -> None:
        self.ev = ev

    @_first_use
    def product_word(self) -> bool:  # outweighs innocent context
        return _has_product_word(self.ev) or _has_unit(self.ev)

    @_first_use
    def product(self) -> bool:
        return self.product_word or _has_unit(self.ev, "size_unit")

    @_first_use
    def innocent(self) -> bool:
        return _any_listing_word(self.ev, "innocent")

    @_first_use
    def species_context(self) -> set[Any]:
        return _listing_words(self.ev, "context")

    @_first_use
    def vetoed(self) -> set[Any]:
        return _listing_words(self.ev, "veto")

    @_first_use
    def traded(self) -> bool:
        return _trade_context(self.ev)


def _covers(ev: ListingEvidence) -> tuple[set[str], set[int], set[str]]:
    """The species whose legal cover the title names, the hits (by id) a cover name overlaps,
    and the species some cover name belongs to alone."""
    cover_species: set[str] = set()
    covered_hits: set[int] = set()
    for fe in ev.fields:
        for species, start, end in fe.covers:
            same = fe.hit_index(species).touching(start, end)  # the species' hits overlapping it, and a few more
            if any(h.start <= start and end <= h.end for h in same):
                continue  # 牛角 inside 犀牛角 is the real name, not a cover
            if fe.name == ev.title_field and not _negated_at(fe, start):
                cover_species.add(species)
            for hit in same:
                if hit.start < end and start < hit.end:
                    covered_hits.add(id(hit))
    cover_owner: dict[str, set[str]] = {}
    for fe in ev.fields:
        for species, start, end in fe.covers:
            cover_owner.setdefault(fe.norm.text[start:end], set()).add(species)
    return cover_species, covered_hits, {next(iter(owners)) for owners in cover_owner.values() if len(owners) == 1}


def _live_hits(ev: ListingEvidence) -> list[tuple[FieldEvidence, Hit]]:
    """The hits not inside a longer hit, one spelling per span and species (dai mao is 玳瑁 and
    带帽), in the order the rules read them."""
    live: list[tuple[FieldEvidence, Hit]] = []
    for fe in ev.fields:
        if len(fe.hits) < 2:  # most fields: nothing to compare
            live.extend((fe, hit) for hit in fe.hits)
            continue
        seen: set[tuple[int, int, str]] = set()
        others = fe.hit_index()
        for hit in sorted(fe.hits, key=_homophone_last):
            key = (hit.start, hit.end, hit.term.species)
            if key in seen:
                continue
            seen.add(key)
            if any(o is not hit and o.start <= hit.start and hit.end <= o.end and (o.end - o.start) > (hit.end - hit.start)
                   and not (o.term.species != hit.term.species and _split_by_space_outside(fe, o.start, o.end, hit))
                   for o in others.touching(hit.start, hit.end)):
                continue
            live.append((fe, hit))
    return live


def _homophone_last(hit: Hit) -> bool:
    return hit.spelling_trick == "homophone"


def decide(
    ev: ListingEvidence,
    window: int,
    shared_terms: set[str] | frozenset[str] = frozenset(),
    absorbed: Callable[[str, int, int], bool] = lambda s, a, b: False,
    order: Sequence[str] = (),
) -> "MatchResult":
    """Apply the rules in this module's docstring to one listing's evidence.

    ``order`` is the lexicon's species order (``species.yaml``): flagged species are listed in it,
    and any species it does not name after them, alphabetically, so none is ever dropped.
    """
    Match, MatchResult, describe = _late_imports()
    giveaway = _has(ev, "giveaway")
    facts = _Facts(ev)

    cover_species, covered_hits, specific_cover = _covers(ev) if any(fe.covers for fe in ev.fields) \
        else (set(), set(), set())
    cover_giveaways: dict[Any, int] | None = None
    cover_honest: dict[Any, int] | None = None  # counted only when a cover is weighed
    giveaway_count = 0

    def cover_given_away(sp: str) -> bool:
        """Giveaways outnumber honest features; a suspect cover (mammoth ivory) must instead
        show more honest features (bark, staining, papers) than giveaways to stay innocent."""
        nonlocal cover_giveaways, cover_honest, giveaway_count
        if cover_giveaways is None or cover_honest is None:
            cover_giveaways = _count_words(ev, "cover_giveaway")
            cover_honest = _count_words(ev, "cover_honest")
            # a seller saying outright that the label is cover (过审, 实际是) outweighs one honest feature
            giveaway_count = 2 * _count_words(ev, "giveaway").get(None, 0) if giveaway else 0
        told = giveaway_count + cover_giveaways.get(sp, 0)
        honest = cover_honest.get(sp, 0)
        if any(sp in fe.suspect for fe in ev.fields):
            return honest <= told
        return told > 0 and told > honest

    live = _live_hits(ev)
    accepted: dict[str, list[Hit]] = {}
    cover_matches: list[Any] = []
    rejected: list[Hit] = []
    scores: dict[str, float] = {}
    evidence_by_species: dict[str, list[Hit]] = {}
    for fe, hit in live:
        sp = hit.term.species
        if _inside_exclusion(hit, fe):
            hit.reason = "inside an innocent compound"
        elif _negated_at(fe, hit.start) or _negated_after(fe, hit.end):
            hit.reason = "negated or named as a substitute"
        elif id(hit) in covered_hits:
            hit.reason = "part of a legal-cover name"
            evidence_by_species.setdefault(sp, []).append(hit)
        else:
            evidence_by_species.setdefault(sp, []).append(hit)
            if not giveaway and _in_work_title(hit, fe):
                hit.reason = "inside the title of a book or work (《...》)"
            elif not giveaway and sp in facts.vetoed:
                hit.reason = "listing is about something else (veto word)"
            elif not giveaway and _near_innocent(hit, fe, window):
                hit.reason = "next to a depiction or imitation word"
            elif not giveaway and sp not in facts.species_context and (kind := _product_type(hit, fe, ev)) \
                    and not cover_given_away(sp):
                hit.reason = f"a product named after the animal ({kind}), not an animal product"
            elif sp in cover_species and not cover_given_away(sp):
                hit.reason = "legal substitute named in the title"
            elif not (facts.product_word or sp in facts.species_context or _product_char_near(hit, fe)) \
                    and facts.innocent:
                hit.reason = "innocent context (clothing, food, other materials) and no product words"
            elif hit.strong and not absorbed(fe.norm.text, hit.start, hit.end):
                accepted.setdefault(sp, []).append(hit)
                scores[sp] = max(scores.get(sp, 0.0), STRONG_SCORE)
                continue
            elif (giveaway or facts.product or sp in facts.species_context or _product_char_near(hit, fe)
                  or facts.traded) and not facts.innocent and not _innocent_near(hit, fe, sp):
                accepted.setdefault(sp, []).append(hit)
                scores[sp] = max(scores.get(sp, 0.0), WEAK_SCORE + (0.1 if sp in facts.species_context else 0.0))
                continue
            else:
                hit.reason = "weak evidence without product context" \
                    if not (facts.innocent or _innocent_near(hit, fe, sp)) else "weak evidence in an innocent context"
        rejected.append(hit)

    for sp, hits in accepted.items():
        if sp in cover_species and cover_given_away(sp):
            for hit in hits:
                hit.trick = "legal_cover"

    # legal cover given away: the cover's species flags even without a clean hit, and the hits
    # the cover was hiding (猛犸象牙手镯) become evidence
    still_rejected: _HitList | None = None
    for sp in sorted(cover_species | {h.term.species for h in rejected if id(h) in covered_hits}):
        if not cover_given_away(sp):
            continue
        if sp in accepted or sp in specific_cover or evidence_by_species.get(sp) or sp in facts.species_context:
            hits = accepted.setdefault(sp, [])
            counted = _HitList(hits)
            still_rejected = still_rejected or _HitList(rejected)
            for hit in evidence_by_species.get(sp, []):
                hit.trick = "legal_cover"
                still_rejected.remove(hit)
                if counted.add(hit):
                    hits.append(hit)
            scores[sp] = max(scores.get(sp, 0.0), COVER_SCORE)
            if not hits:
                cover_matches.extend(_cover_matches(ev, sp))

    if still_rejected is not None:
        rejected = still_rejected.items()
    if len(accepted) > 1:
        _resolve_species(accepted, set(shared_terms), facts.species_context)
    scores = {sp: v for sp, v in scores.items() if sp in accepted}

    def to_match(hit: Hit) -> Match:
        o_start, o_end, raw = hit.original
        return Match(hit.term.term, hit.term.species, hit.term.kind, hit.field, o_start, o_end, raw, hit.trick)

    species = [sp for sp in order if sp in accepted] + sorted(sp for sp in accepted if sp not in order)
    matches = [to_match(h) for sp in species for h in accepted[sp]] + [m for m in cover_matches if m.species in accepted]
    if len(matches) > 1:
        matches.sort(key=lambda m: (m.field != ev.title_field, m.field, m.start))
    if species:
        top = max(scores.values())
        score = round(min(1.0, top + 0.05 * (sum(len(accepted[s]) for s in species) - 1)), 3)
    else:
        score = round(min(0.4, 0.1 * len(rejected)), 3)
    result = MatchResult(bool(species), species, score, matches, [(to_match(h), h.reason) for h in rejected])
    if species:  # what is on offer, read only for flags (most candidates in a crawl are not)
        offer = describe(ev, [h for sp in species for h in accepted[sp]])
        result.form, result.quantity, result.intent = offer.form, offer.quantity, offer.intent
    return result


_LATE: list[Any] = []


def _late_imports() -> list[Any]:
    """``Match``, ``MatchResult`` and ``describe``, imported on first use (they import this
    module), once: an import statement run per listing costs a dictionary walk each time."""
    if not _LATE:
        from monitor.matching.matcher import Match, MatchResult
        from monitor.matching.offer import describe
        _LATE.extend((Match, MatchResult, describe))
    return _LATE


class _HitList:
    """A list of hits with ``in`` and ``remove`` as a list has them (by equality, first equal
    one), in constant time: hits are bucketed by what equal hits must share."""

    def __init__(self, hits: list[Hit]) -> None:
        self._hits: list[Hit | None] = list(hits)
        self._where: dict[tuple[Any, ...], list[int]] = {}
        for i, hit in enumerate(hits):
            self._where.setdefault(_hit_key(hit), []).append(i)

    def _find(self, hit: Hit) -> int:
        return next((i for i in self._where.get(_hit_key(hit), ()) if self._hits[i] == hit), -1)

    def add(self, hit: Hit) -> bool:
        """Append ``hit`` unless an equal one is there; whether it was appended."""
        if self._find(hit) >= 0:
            return False
        self._where.setdefault(_hit_key(hit), []).append(len(self._hits))
        self._hits.append(hit)
        return True

    def remove(self, hit: Hit) -> None:
        """Remove the first hit equal to ``hit``, if any."""
        i = self._find(hit)
        if i >= 0:
            self._where[_hit_key(hit)].remove(i)
            self._hits[i] = None

    def items(self) -> list[Hit]:
        return [h for h in self._hits if h is not None]


def _hit_key(hit: Hit) -> tuple[Any, ...]:
    return (hit.field, hit.start, hit.end, hit.term)


def _cover_matches(ev: ListingEvidence, species: str) -> list[Any]:
    from monitor.matching.matcher import Match

    out = []
    for fe in ev.fields:
        spans = _spans_of([c for c in fe.covers if c[0] == species])
        for sp, start, end in fe.covers:
            if sp == species and not any(a <= start and end <= b and b - a > end - start
                                         for _, a, b in spans.touching(start, end)):
                o_start, o_end = fe.norm.span(start, end)
                out.append(Match(fe.norm.text[start:end], sp, "code_word", fe.name, o_start, o_end,
                                 fe.norm.original[o_start:o_end], "legal_cover"))
    return out

