"""The matcher: finds species terms in a listing, however written, and decides whether it flags.

Per listing: a fast normalisation of all text and one Aho-Corasick pass over every term spelling
(plain, Traditional, pinyin, initials, homophones). Most listings stop there. The few with a
candidate are normalised again with an offset map, scanned for exclusions and context words,
checked with jieba (so 象牙塔 or 虎皮鹦鹉 stay whole words), and judged by ``verdict.decide``.

Every step takes time in proportion to the text read, and at most ``MAX_FIELD_CHARS`` of each
field are read: a longer field (a page stuffed with keywords, a 5 MB description) is matched on
its beginning and named in ``MatchResult.truncated``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import ahocorasick
import ahocorasick_rs

from monitor.collector import paused
from monitor.matching import model_stage
from monitor.matching.evidence import FieldEvidence, Hit, ListingEvidence
from monitor.matching.lexicon import Lexicon
from monitor.matching.model import Model, load_model
from monitor.matching.normalise import Normalised, Normaliser
from monitor.matching.patterns import Spelling, homophone_candidates, load_patterns
from monitor.matching.scanner import Scanner
from monitor.matching.segmenter import Segmenter, stock_frequencies
from monitor.matching.segmenter import cache_dir as default_cache_dir
from monitor.matching.separators import SEPARATOR_CHARS
from monitor.matching.verdict import decide

# Characters read per field. Real titles and descriptions are far shorter; a longer field is
# matched on its first MAX_FIELD_CHARS characters and named in MatchResult.truncated.
MAX_FIELD_CHARS = 20_000

# Half of a UTF-16 surrogate pair on its own, which OpenCC cannot encode.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

NON_TEXT_FIELDS = frozenset({"id", "url", "site", "external_id", "price", "price_text", "label",
                             "species", "tricks", "note", "script", "keyword", "contact_text", "seller"})


@dataclass(frozen=True)
class Match:
    """One piece of evidence: ``start``/``end`` index the ORIGINAL text of ``field``."""

    term: str
    species: str
    kind: str
    field: str
    start: int
    end: int
    text: str
    trick: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MatchResult:
    """The verdict on one listing; ``rejected`` (hits that did not count, with the reason) is for
    explaining results (`wtm keywords test`) and is left out of ``to_dict``.

    ``truncated`` names the fields longer than the matcher reads (``Matcher.max_field_chars``):
    only their beginning was matched. ``to_dict`` has the key only when some field was cut.

    ``form``, ``quantity`` and ``intent`` say what is on offer (``monitor.matching.offer``);
    ``to_dict`` has these three keys on every flagged result (a value may be None)."""

    flagged: bool
    species: list[str]
    score: float
    matches: list[Match]
    rejected: list[tuple[Match, str]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    # what is on offer (monitor.matching.offer), in to_dict when flagged: "form" (raw_tusk,
    # segment, whole_horn, casque, scale, bone, skin, worked or None), "quantity" ({"amount",
    # "unit": piece/gram/set, "text"} or None) and "intent" ("sell" or "buy")
    form: str | None = None
    quantity: dict[str, Any] | None = None
    intent: str | None = None
    model: dict[str, Any] | None = None  # the second stage's probability, reasons and version


    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flagged": self.flagged,
            "species": list(self.species),
            "score": self.score,
            "matches": [m.to_dict() for m in self.matches],
        }
        if self.flagged:
            out["form"] = self.form
            out["quantity"] = dict(self.quantity) if self.quantity else None
            out["intent"] = self.intent
        if self.truncated:
            out["truncated"] = list(self.truncated)
        if self.model is not None:
            out["model"] = dict(self.model)
        return out


TRICK_PRIORITY = ("legal_cover", "homophone", "pinyin_mix", "separator", "traditional", "code_word")


def primary_trick(tricks: list[str]) -> str:
    """The one trick a match reports: the most telling disguise that was undone (a code word
    written in Traditional script reports ``traditional``; its kind already says code word)."""
    for trick in TRICK_PRIORITY:
        if trick in tricks:
            return trick
    return "plain"


def _drop_hit(fe: FieldEvidence, term: Any, start: int, end: int) -> None:
    """Take a field's hit out when the seam between two fields holds it (see ``_scan_seams``)."""
    fe.hits = [h for h in fe.hits if not (h.term == term and h.original[0] == start and h.original[1] == end)]


class Matcher:
    """Build once per process (jieba dictionary, pattern automata); then call ``match``.

    ``max_field_chars`` is how much of each field is read (None: all of it). ``model`` is the
    learned second stage (``model_stage``): by default the newest trained in ``model_dir`` (a data
    folder), else the shipped one; None matches with the rules alone."""

    def __init__(self, lexicon: Lexicon, cache_dir: Path | None = None,
                 max_field_chars: int | None = MAX_FIELD_CHARS, model: Model | None | str = "default",
                 model_dir: Path | None = None) -> None:
        if max_field_chars is not None and max_field_chars < 1:
            raise ValueError(f"max_field_chars must be at least 1 or None, got {max_field_chars}")
        self.model: Model | None = load_model(model_dir) if model == "default" else model  # type: ignore[assignment]
        # listings without a single rule hit are scored too (flagged only above the high threshold)
        self.score_unmatched = True
        self.max_field_chars = max_field_chars
        self.lexicon = lexicon
        self._order = tuple(lexicon.species)  # species.yaml's order, for the verdict
        shared = lexicon.shared
        folder = cache_dir or default_cache_dir()
        self.normaliser = Normaliser(shared.regional, lexicon.emoji)
        words = [t.term for t in lexicon.terms()]
        words += [w for k in lexicon.species for w in lexicon.entry(k).exclusions]
        self._segmenter = Segmenter(folder, lexicon.version, [self.normaliser.word(w) for w in words])
        patterns = load_patterns(lexicon, self.normaliser.word, self._is_common_word, folder)
        # Aho-Corasick nodes search their children linearly, so thousands of homophone first
        # characters at the root would slow every scan 5x. Spellings that start with a
        # swapped character are searched backwards instead, from their unchanged last one.
        anchors = {t.term[0] for t in lexicon.terms()} | {c for g in shared.homophone_classes for c in g}
        self._terms = ahocorasick.Automaton()
        self._reversed = ahocorasick.Automaton()
        spelled = dict(patterns.terms)
        for key, entries in patterns.terms.items():
            if " " in key:  # the pre-filter form drops spaces: rhino horn -> rhinohorn
                spelled.setdefault(key.replace(" ", ""), entries)
        # innocent compounds alone never make a candidate (电动牙刷): searched only once a term is found
        self._exclusions = ahocorasick.Automaton()
        for key, entries in spelled.items():
            if all(kind == "exclusion" for kind, _ in entries):
                self._exclusions.add_word(key, (key, tuple(entries)))
            elif key[0] in anchors or key[0].isascii() or all(kind != "term" for kind, _ in entries):
                self._terms.add_word(key, (key, tuple(entries)))
            else:
                self._reversed.add_word(key[::-1], (key, tuple(entries)))
        self._terms.make_automaton()
        if not len(self._exclusions):
            self._exclusions.add_word("\0", ("\0", ()))
        self._exclusions.make_automaton()
        if len(self._reversed):
            self._reversed.make_automaton()
        else:
            self._reversed.add_word("\0", ("\0", ()))
            self._reversed.make_automaton()
        # the pre-filter asks only whether any term spelling occurs: one compiled pass for both
        # automata (they stay for text the library cannot encode: half a surrogate pair)
        self._candidates = ahocorasick_rs.AhoCorasick(
            list(self._terms.keys()) + [k[::-1] for k in self._reversed.keys()],
            matchkind=ahocorasick_rs.MatchKind.LeftmostFirst, implementation=ahocorasick_rs.Implementation.DFA)
        self._context = ahocorasick.Automaton()
        for key, entries in patterns.context.items():
            self._context.add_word(key, (len(key), tuple(entries)))
        self._context.make_automaton()
        self._scanner = Scanner(self._terms, self._reversed, self._exclusions, self._context)
        self.pattern_count = len(patterns.terms)
        self.near_window = shared.near_innocent_window
        self._lexicon_words = patterns.lexicon_words
        self._segmenter.add_words(patterns.user_words)
        owners: dict[str, set[str]] = {}
        for t in lexicon.terms():
            owners.setdefault(t.term, set()).add(t.species)
        self._shared_terms = frozenset(term for term, species in owners.items() if len(species) > 1)
        self._strong_terms = frozenset((t.term, t.species) for t in lexicon.terms() if t.strong)
        self._tricks: dict[tuple[Any, ...], str] = {}
        self._absorbed: dict[tuple[str, int, int], bool] = {}

    def known_words(self) -> list[str]:
        """Every normalised spelling the matcher searches for: terms, covers, exclusions, context."""
        words = [k for k in self._terms.keys()] + [k[::-1] for k in self._reversed.keys()]
        words += list(self._exclusions.keys()) + list(self._context.keys())
        return sorted({w for w in words if w and w != "\0"})

    @property
    def version(self) -> str:
        """The lexicon's version, and the model's after a ``+`` when one is loaded (stored with
        every match, at most 64 characters)."""
        if self.model is None:
            return self.lexicon.version
        return f"{self.lexicon.version}+{self.model.version}"[:64]

    _frequencies: dict[str, int] | None = None

    def _is_common_word(self, word: str) -> bool:
        """Is ``word`` an ordinary word in jieba's full dictionary (only asked while compiling)?"""
        if self._frequencies is None:
            wanted = homophone_candidates(self.lexicon, self.normaliser.word)
            self._frequencies = stock_frequencies(wanted)
        return self._frequencies.get(word, 0) > self.lexicon.shared.homophone_max_word_frequency

    def normalise(self, text: str) -> str:
        return self.normaliser.fast(text)

    def tokens(self, text: str) -> list[str]:
        return [w for w, _, _ in self._segmenter.tokenize(self.normaliser.fast(text))]

    # -- matching --------------------------------------------------------------------------

    def match(self, listing: Mapping[str, Any], fields: list[str] | None = None) -> MatchResult:
        """Flag one listing. ``listing`` maps field names to text; ids, URLs, prices are skipped.
        The cycle collector is paused meanwhile: on a page dense with terms it walked every hit
        made so far at each collection, and matching grew faster than the text."""
        with paused():
            return self._match(listing, fields, self.model)

    def rules_evidence(self, listing: Mapping[str, Any]) -> tuple[MatchResult, str, str]:
        """What the model reads of one listing: the rules' verdict alone, the normalised text and
        the verdict's tier (``model_stage``). Training calls this, so both ends read alike."""
        text: list[str] = []
        result = self._match(listing, None, None, text)
        return result, text[0] if text else "", model_stage.tier(result, self._strong_terms)

    def _match(self, listing: Mapping[str, Any], fields: list[str] | None, model: Model | None,
               text_out: list[str] | None = None) -> MatchResult:
        names = fields or [k for k, v in listing.items() if isinstance(v, str) and k not in NON_TEXT_FIELDS]
        texts = [(n, listing.get(n)) for n in names]
        texts = [(n, t) for n, t in texts if isinstance(t, str) and t]
        if not texts:
            return MatchResult(False, [], 0.0, [])
        joined = "\n".join(t for _, t in texts)
        cap = self.max_field_chars
        if cap is not None and len(joined) > cap and any(len(t) > cap for _, t in texts):
            result = self._verdict([(n, t[:cap]) for n, t in texts], None, model, text_out)
            result.truncated = [n for n, t in texts if len(t) > cap]
            return result
        return self._verdict(texts, joined, model, text_out)

    def _verdict(self, texts: list[tuple[str, str]], joined: str | None, model: Model | None,
                 text_out: list[str] | None) -> MatchResult:
        try:
            return self._decide(texts, "\n".join(t for _, t in texts) if joined is None else joined, model, text_out)
        except UnicodeEncodeError:
            if not any(_LONE_SURROGATE.search(t) for _, t in texts):
                raise
        # half a surrogate pair (JSON can spell one: "\ud800") stops OpenCC: read it as U+FFFD,
        # one character for one, so offsets still index the original text
        texts = [(n, _LONE_SURROGATE.sub("\ufffd", t)) for n, t in texts]
        return self._decide(texts, "\n".join(t for _, t in texts), model, text_out)

    def _decide(self, texts: list[tuple[str, str]], joined: str, model: Model | None,
                text_out: list[str] | None) -> MatchResult:
        joined, plain, clean = self.normaliser.prefilter_listing(joined)  # plain: then so is every field and seam
        if text_out is not None:
            text_out.append(joined)
        result = self._rules(texts, joined, plain, clean)
        if model is None or (not result.rejected and not result.flagged
                             and not (self.score_unmatched and model.can_flag_unmatched)):
            return result
        level = model_stage.tier(result, self._strong_terms)
        return model_stage.apply(model, result, joined, level, self._order)

    def _rules(self, texts: list[tuple[str, str]], joined: str, plain: bool = False, clean: bool = False) \
            -> MatchResult:
        if not self._has_candidate(joined):
            return MatchResult(False, [], 0.0, [])
        title_field = "title" if any(n == "title" for n, _ in texts) else texts[0][0]
        evidence = ListingEvidence(title_field=title_field)
        for name, text in texts:
            self._scan_field(name, text, evidence, plain, clean)
        if len(texts) > 1:
            self._scan_seams(texts, evidence, plain, clean)
        if not any(fe.hits or fe.covers for fe in evidence.fields):
            return MatchResult(False, [], 0.0, [])
        return decide(evidence, self.near_window, self._shared_terms, self.absorbed, self._order)

    def _has_candidate(self, joined: str) -> bool:
        try:
            return bool(self._candidates.find_matches_as_indexes(joined))
        except UnicodeEncodeError:
            pass
        return next(self._terms.iter(joined), None) is not None or \
            next(self._reversed.iter(joined[::-1]), None) is not None

    def _scan_field(self, name: str, text: str, evidence: ListingEvidence, plain: bool = False,
                    clean: bool = False) -> None:
        norm = self.normaliser.with_offsets(text, plain, clean)
        s = norm.text
        spellings, by_kind = self._scanner.scan(s)
        field_ev = evidence.field(name, norm, by_kind)
        for end, start, entries in spellings:
            for kind, payload in entries:
                if kind == "term":
                    spelling: Spelling = payload
                    if spelling.latin_start and start > 0 and s[start - 1].isascii() and s[start - 1].isalnum():
                        continue
                    if spelling.latin_end and end + 1 < len(s) and s[end + 1].isascii() and s[end + 1].isalnum():
                        continue
                    field_ev.hits.append(Hit(spelling.term, spelling.trick, spelling.strong, start, end + 1, name))
                elif kind in ("cover", "suspect_cover"):
                    field_ev.covers.append((payload, start, end + 1))
                    if kind == "suspect_cover":
                        field_ev.suspect.add(payload)
                else:
                    field_ev.exclusions.append((payload, start, end + 1))
        for hit in field_ev.hits:
            o_start, o_end = norm.span(hit.start, hit.end)
            hit.original = (o_start, o_end, text[o_start:o_end])
            hit.trick = self._trick(hit, norm)

    SEAM_CHARS = 24  # each side of a seam: longer than any spelling of a term

    def _scan_seams(self, texts: list[tuple[str, str]], evidence: ListingEvidence, plain: bool = False,
                    clean: bool = False) -> None:
        """Terms split across two fields (title ends 象, description starts 牙): the fields'
        ends are read as one text, joined by a newline as in ``joined``. Only what crosses the
        seam is kept, with the hits and exclusions it overlaps (穿山|甲片 is 穿山甲片, not also
        甲片), and those are taken out of the fields, so nothing is counted twice. Such a hit's
        field is ``"title+description"``; its offsets index the two fields joined by a newline."""
        by_name = {fe.name: fe for fe in evidence.fields}
        for (a, left), (b, right) in zip(texts, texts[1:]):
            cut = max(0, len(left) - self.SEAM_CHARS)
            head = len(left) - cut
            if not self._seam_has_more(left[cut:], right[:self.SEAM_CHARS], plain, clean):
                continue
            seam = ListingEvidence(title_field=evidence.title_field)
            self._scan_field(f"{a}+{b}", left[cut:] + "\n" + right[:self.SEAM_CHARS], seam, plain, clean)
            fe = seam.fields[0]
            span = fe.norm.span
            across = [span(h.start, h.end) for h in fe.hits] + [span(x[1], x[2]) for x in fe.exclusions]
            across = [(lo, hi) for lo, hi in across if lo < head < hi - 1]
            if not across:
                continue
            fe.hits = [h for h in fe.hits if any(h.original[0] < hi and lo < h.original[1] for lo, hi in across)]
            fe.covers = [c for c in fe.covers if span(c[1], c[2])[0] < head < span(c[1], c[2])[1] - 1]
            for hit in fe.hits:
                o_start, o_end, raw = hit.original
                if o_end <= head:
                    _drop_hit(by_name[a], hit.term, o_start + cut, o_end + cut)
                elif o_start > head:
                    _drop_hit(by_name[b], hit.term, o_start - head - 1, o_end - head - 1)
                hit.original = (o_start + cut, o_end + cut, raw)
            if fe.hits or fe.covers:
                evidence.fields.append(fe)

    def _seam_has_more(self, left: str, right: str, plain: bool = False, clean: bool = False) -> bool:
        """Whether the two ends read as one hold more spellings than each alone: only then can
        one cross the seam (a quick pre-filter for ``_scan_seams``, on the looser form)."""
        normaliser = self.normaliser
        if clean and left and right and not (normaliser.is_separator(left[-1]) or normaliser.is_separator(right[0])) \
                and not self._scanner.may_spell_across(left[-1] + right[0]):
            return False  # those two stay side by side in the looser form: what spells_across would say
        pair = normaliser.prefilter_pair(left, right, plain, clean)
        if pair is not None:  # the looser form of both is the two glued: only what crosses counts
            return self._scanner.spells_across(pair[0] + pair[1], len(pair[0]))
        prefilter = normaliser.prefilter
        both = self._spelling_count(prefilter(left + "\n" + right))
        if not both:
            return False
        alone = self._spelling_count(prefilter(left))
        return both > alone and both > alone + self._spelling_count(prefilter(right))

    def _spelling_count(self, s: str) -> int:
        return self._scanner.spelling_count(s)

    _ABSORBED_MEMO_SIZE = 50_000

    def absorbed(self, s: str, start: int, end: int) -> bool:
        """True when jieba reads the hit as part of a longer ordinary word (象牙塔, 虎皮鹦鹉).

        Only the 8 characters each side are read, so the answer is remembered per window: a
        crawl meets the same phrases around its hits again and again, and jieba is slow."""
        lo, hi = max(0, start - 8), min(len(s), end + 8)
        key = (s[lo:hi], start - lo, end - lo)
        found = self._absorbed.get(key)
        if found is None:
            if len(self._absorbed) >= self._ABSORBED_MEMO_SIZE:
                self._absorbed.clear()
            found = self._absorbed[key] = self._absorbed_in(*key)
        return found

    def _absorbed_in(self, window: str, start: int, end: int) -> bool:
        if not self._may_absorb(window, start, end):
            return False
        for word, w_start, w_end in self._segmenter.tokenize(window):
            if w_start <= start and end <= w_end and (w_end - w_start) > (end - start):
                return word not in self._lexicon_words and self._segmenter.stock_frequency(word) > 0
            if w_start >= end:
                break
        return False

    def _may_absorb(self, window: str, start: int, end: int) -> bool:
        """Whether any longer ordinary word of the window holds the hit: every word jieba cuts is
        a piece of the window, so without such a piece it cannot absorb the hit (most windows;
        a few dictionary lookups instead of a segmentation)."""
        return self._segmenter.has_word_around(window, start, end, self._lexicon_words)

    _TRICK_MEMO_SIZE = 50_000

    def _trick(self, hit: Hit, norm: Normalised) -> str:
        """The hit's primary trick, remembered per spelling: a crawl meets the same few hundred
        spellings again and again, and working one out costs an OpenCC call."""
        key = (hit.term.kind, hit.term.trick, hit.spelling_trick, hit.original[2], norm.text[hit.start:hit.end])
        found = self._tricks.get(key)
        if found is None:
            if len(self._tricks) >= self._TRICK_MEMO_SIZE:
                self._tricks.clear()
            found = self._tricks[key] = self._work_out_trick(hit, norm)
        return found

    def _work_out_trick(self, hit: Hit, norm: Normalised) -> str:
        raw = hit.original[2]
        tricks: list[str] = []
        if hit.term.kind == "code_word":
            tricks.append(hit.term.trick or "code_word")
        if hit.spelling_trick == "separator":
            tricks.append("separator")
        if hit.spelling_trick in ("pinyin", "pinyin_mix"):
            tricks.append("pinyin_mix")
        elif hit.spelling_trick == "homophone":
            tricks.append("homophone")
        if any(ord(c) > 0xFFFF for c in raw):  # an emoji standing for the animal (🐘牙)
            return primary_trick(tricks + ["code_word"])
        translated = self.normaliser.translate(raw)
        if len(raw) != hit.end - hit.start:
            tricks.append("separator")
        span = norm.text[hit.start:hit.end]
        stripped = translated if len(translated) == len(span) else SEPARATOR_CHARS.sub("", translated)
        if self.normaliser.simplify(stripped) != stripped or (hit.spelling_trick == "" and stripped != span):
            tricks.append("traditional")
        return primary_trick(tricks)
