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

from typing import TYPE_CHECKING, Any, Callable, Sequence

from monitor.matching.evidence import FieldEvidence, Hit, ListingEvidence, spans_of
from monitor.matching.hit_context import (
    any_listing_word, context_places, count_words, has_product_word, has_unit, in_work_title, innocent_near,
    inside_exclusion, listing_has, listing_words, near_innocent, negated_after, negated_at, product_char_near,
    product_type, split_by_space_outside, trade_context,
)

if TYPE_CHECKING:
    from monitor.matching.matcher import MatchResult

STRONG_SCORE = 0.9
WEAK_SCORE = 0.6
COVER_SCORE = 0.75


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
        return has_product_word(self.ev) or has_unit(self.ev)

    @_first_use
    def product(self) -> bool:
        return self.product_word or has_unit(self.ev, "size_unit")

    @_first_use
    def innocent(self) -> bool:
        return any_listing_word(self.ev, "innocent")

    @_first_use
    def species_context(self) -> set[Any]:
        return set(self.context_places)

    @_first_use
    def context_places(self) -> dict[Any, list[tuple[FieldEvidence, int, int]]]:
        return context_places(self.ev)

    def context_for(self, sp: str, hit: Hit, fe: FieldEvidence) -> bool:
        """The species' context words confirm this hit: a feature that is itself the evidence
        (人字纹 written as a code word, here or in another field) does not confirm itself,
        though it confirms another hit beside it."""
        places = self.context_places.get(sp)
        return bool(places) and any(
            not any(h.term is hit.term and h.start <= start and end <= h.end
                    for h in f.hit_index().touching(start, end))
            for f, start, end in places)

    @_first_use
    def vetoed(self) -> set[Any]:
        return listing_words(self.ev, "veto")

    @_first_use
    def traded(self) -> bool:
        return trade_context(self.ev)


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
            if fe.name == ev.title_field and not negated_at(fe, start):
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
                   and not (o.term.species != hit.term.species and split_by_space_outside(fe, o.start, o.end, hit))
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
    giveaway = listing_has(ev, "giveaway")
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
            cover_giveaways = count_words(ev, "cover_giveaway")
            cover_honest = count_words(ev, "cover_honest")
            # a seller saying outright that the label is cover (过审, 实际是) outweighs one honest feature
            giveaway_count = 2 * count_words(ev, "giveaway").get(None, 0) if giveaway else 0
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
        if inside_exclusion(hit, fe):
            hit.reason = "inside an innocent compound"
        elif negated_at(fe, hit.start) or negated_after(fe, hit.end):
            hit.reason = "negated or named as a substitute"
        elif id(hit) in covered_hits:
            hit.reason = "part of a legal-cover name"
            evidence_by_species.setdefault(sp, []).append(hit)
        else:
            evidence_by_species.setdefault(sp, []).append(hit)
            if not giveaway and in_work_title(hit, fe):
                hit.reason = "inside the title of a book or work (《...》)"
            elif not giveaway and sp in facts.vetoed:
                hit.reason = "listing is about something else (veto word)"
            elif not giveaway and near_innocent(hit, fe, window):
                hit.reason = "next to a depiction or imitation word"
            elif not giveaway and not facts.context_for(sp, hit, fe) and (kind := product_type(hit, fe, ev)) \
                    and not cover_given_away(sp):
                hit.reason = f"a product named after the animal ({kind}), not an animal product"
            elif sp in cover_species and not cover_given_away(sp):
                hit.reason = "legal substitute named in the title"
            elif not (facts.product_word or facts.context_for(sp, hit, fe) or product_char_near(hit, fe)) \
                    and facts.innocent:
                hit.reason = "innocent context (clothing, food, other materials) and no product words"
            elif hit.strong and not absorbed(fe.norm.text, hit.start, hit.end):
                accepted.setdefault(sp, []).append(hit)
                scores[sp] = max(scores.get(sp, 0.0), STRONG_SCORE)
                continue
            elif (giveaway or facts.product or facts.context_for(sp, hit, fe) or product_char_near(hit, fe)
                  or facts.traded) and not facts.innocent and not innocent_near(hit, fe, sp):
                accepted.setdefault(sp, []).append(hit)
                scores[sp] = max(scores.get(sp, 0.0), WEAK_SCORE + (0.1 if facts.context_for(sp, hit, fe) else 0.0))
                continue
            else:
                hit.reason = "weak evidence without product context" \
                    if not (facts.innocent or innocent_near(hit, fe, sp)) else "weak evidence in an innocent context"
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
        spans = spans_of([c for c in fe.covers if c[0] == species])
        for sp, start, end in fe.covers:
            if sp == species and not any(a <= start and end <= b and b - a > end - start
                                         for _, a, b in spans.touching(start, end)):
                o_start, o_end = fe.norm.span(start, end)
                out.append(Match(fe.norm.text[start:end], sp, "code_word", fe.name, o_start, o_end,
                                 fe.norm.original[o_start:o_end], "legal_cover"))
    return out

