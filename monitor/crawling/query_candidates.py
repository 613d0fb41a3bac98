"""Candidate queries from the lexicon: what the planner (``monitor.crawling.planner``) may send.

A marketplace only shows an ad to a crawl that searches for the words the ad is written in, so
the candidates are what the matcher would flag: the lexicon's names, product words, code words
and cover terms, and the disguised spellings the lexicon already knows how to undo (Traditional
script and regional wording, separators wedged into names, pinyin mixes, same-sound
characters), each with its kind and its rank within the kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from monitor.matching.lexicon import Lexicon, Term
from monitor.matching.separators import SEPARATOR_CHARS

# Prior order of the kinds of query, for queries never run (lower first).
KINDS = ("plain", "code_word", "cover", "traditional", "separator", "pinyin_mix", "homophone")
# Same-sound spellings per name from pypinyin's readings alone (the curated classes of
# homophones.yaml are all kept): the most common characters first.
MAX_READING_HOMOPHONES = 40
# Disguised spellings of a name up to this rank are also searched inside its product words.
COMPOUND_MAX_RANK = 0
# Separators, in the normaliser's order, share a rank this many at a time (space * / \ first).
SEPARATORS_PER_RANK = 2
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z]", re.I)
_FOREIGN = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff\u3040-\u30ff\uac00-\ud7af]")  # accented Latin, kana, Hangul


def separators() -> tuple[str, ...]:
    """Separators sellers can type, in the order the normaliser lists them: the characters it
    strips from between a name's characters (monitor.matching.normalise), space first."""
    pattern = SEPARATOR_CHARS.pattern
    typable = " *" + "".join(chr(c) for c in range(0x21, 0x7f) if not chr(c).isalnum()) + "\u00b7\u3000"
    found = [c for c in typable if SEPARATOR_CHARS.fullmatch(c)]

    def position(ch: str) -> int:
        if ch == " ":
            return -1
        for escaped in ("\\" + ch, f"\\u{ord(ch):04x}", ch):
            at = pattern.find(escaped)
            if at >= 0:
                return at
        return len(pattern)

    return tuple(dict.fromkeys(sorted(found, key=position)))


@dataclass(frozen=True)
class Candidate:
    """A query the lexicon suggests, before any site is considered.

    ``text`` is what the spider is given (Simplified, or a Traditional/regional spelling that the
    site's conversion leaves alone); ``rank`` orders candidates of one kind (0: most likely);
    ``fragment`` marks part of a name (two of its characters with a separator between them, or
    the name less its first or last character), useful only where search matches substrings."""

    text: str
    kind: str
    species: str
    source: str
    rank: int = 0
    fragment: bool = False


_CANDIDATES: dict[tuple[str, int], tuple[Candidate, ...]] = {}


def lexicon_candidates(lexicon: Lexicon, max_separators: int | None = None) -> tuple[Candidate, ...]:
    """Every candidate query of the lexicon, in prior order (cached per lexicon version)."""
    seps = separators()[: max_separators or None]
    key = (lexicon.version, len(seps))
    if key not in _CANDIDATES:
        _CANDIDATES[key] = tuple(_build_candidates(lexicon, seps))
    return _CANDIDATES[key]


def is_cjk_word(text: str) -> bool:
    return bool(text) and all(_CJK.match(c) for c in text)


def _build_candidates(lexicon: Lexicon, seps: Sequence[str]) -> list[Candidate]:
    from monitor.matching.variants import pinyin_variants

    out: list[Candidate] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, kind: str, species: str, source: str, rank: int = 0, fragment: bool = False) -> None:
        text = text.strip()
        if not text or (text, species) in seen:
            return
        seen.add((text, species))
        out.append(Candidate(text, kind, species, source, rank, fragment))

    terms = lexicon.terms()
    code_words = {t.term for t in terms if t.kind == "code_word"}
    covers: dict[str, set[str]] = {}
    suspect: set[str] = set()
    for sp in lexicon.species:
        entry = lexicon.entry(sp)
        for word in entry.cover_terms:
            covers.setdefault(word, set()).add(sp)
        suspect.update(entry.cover_suspect)

    # 1. The lexicon's search keywords, each under the kind it is; then its other words.
    base: list[Candidate] = []
    for kw in lexicon.search_keywords():
        word = kw.term
        if word in covers:
            kind, rank = "cover", 0 if word in suspect else 2
        elif word in code_words or (word.isascii() and " " not in word):
            kind, rank = "code_word", 0
        elif _LATIN.search(word) and _CJK.search(word):
            kind, rank = "pinyin_mix", 0
        else:
            kind, rank = "plain", 0
        add(word, kind, kw.species, word, rank)
    for t in terms:
        kind = "code_word" if t.kind == "code_word" else "plain"
        # a word in another language (ivory, サイの角, ngà voi) is seldom what a Chinese-language ad says
        foreign = _FOREIGN.search(t.term) is not None or not _CJK.search(t.term)
        add(t.term, kind, t.species, t.term, 3 if foreign else 1)
    for sp in lexicon.species:
        for word in lexicon.entry(sp).cover_terms:
            add(word, "cover", sp, word, 0 if word in suspect else 2)
    base = list(out)

    # 2. Traditional and regional spellings of the words (sellers on Simplified sites write them
    #    to dodge filters; Traditional sites convert every query anyway).
    regional = [(mainland, word) for word, mainland in lexicon.shared.regional.items()
                if is_cjk_word(word) and is_cjk_word(mainland)]
    for cand in base:
        if not _CJK.search(cand.text):
            continue
        for form in _traditional_forms(cand.text, regional):
            add(form, "traditional", cand.species, cand.source, cand.rank)

    # 3. Disguised spellings of the names, as the matcher undoes them.
    names = _disguisable_names(terms, lexicon.search_keywords())
    for t in names:
        for form, rank, fragment in _separator_forms(t.term, seps):
            add(form, "separator", t.species, t.term, rank, fragment)
    for t in names:
        if not t.pinyin:
            continue
        for form, rank, fragment in _pinyin_forms(t.term, pinyin_variants):
            add(form, "pinyin_mix", t.species, t.term, rank, fragment)
    for form, species, source, rank in _homophone_forms(lexicon, [t for t in names if t.homophones]):
        add(form, "homophone", species, source, rank)
    for t in names:
        # where search matches substrings, 顶红 finds every spelling of 鹤顶红 that changes only its
        # first character (合顶红, he顶红, 鹤 顶红), 鹤顶 those changing its last
        if t.homophones and len(t.term) >= 3:
            add(t.term[1:], "homophone", t.species, t.term, 0, True)
            add(t.term[:-1], "homophone", t.species, t.term, 0, True)

    # 4. The likeliest of those inside the product words (希角杯, xi角片): where search goes by
    #    words, 希角 does not find 希角杯, which a word index cuts 希 / 角杯. (Where search matches
    #    substrings, the name's spelling covers them.)
    likely: dict[tuple[str, str], list[Candidate]] = {}
    for c in out:
        if c.kind in ("homophone", "pinyin_mix") and c.rank <= COMPOUND_MAX_RANK and not c.fragment:
            likely.setdefault((c.species, c.source), []).append(c)
    products = [(k.species, k.term) for k in lexicon.search_keywords()]
    products += [(t.species, t.term) for t in terms if t.kind == "product"]
    for species, word in dict.fromkeys(products):
        if not is_cjk_word(word):
            continue
        for t in names:
            if t.species == species and t.term in word and t.term != word:
                for c in likely.get((species, t.term), []):
                    add(word.replace(t.term, c.text, 1), c.kind, species, word, c.rank + 1)
                break
    # Prior order: by rank, then kind; within them the species take turns (象牙, 犀角, 玳瑁, ...
    # then 象牙手镯, 犀角杯, ...), each in the lexicon's order.
    order = {k: i for i, k in enumerate(KINDS)}
    species_order = {k: i for i, k in enumerate(lexicon.species)}
    turn: dict[tuple[int, str, str], int] = {}
    position = {}
    for c in out:
        group = (c.rank, c.kind, c.species)
        position[id(c)] = turn[group] = turn.get(group, -1) + 1
    return sorted(out, key=lambda c: (c.rank, order[c.kind], position[id(c)], species_order.get(c.species, 99)))


def _disguisable_names(terms: Sequence[Term], search_keywords: Sequence[Any] = ()) -> list[Term]:
    """The names whose disguises are searched: Chinese names the lexicon generates variants of,
    except those containing a shorter name of the species (非洲象牙 holds 象牙, whose disguised
    spellings are searched), most used first (in the most search keywords and product words)."""
    names = [t for t in terms if t.kind == "name" and is_cjk_word(t.term) and (t.pinyin or t.homophones)]
    minimal = [t for t in names
               if not any(o.species == t.species and o.term != t.term and o.term in t.term for o in names)]
    words = [t.term for t in terms if t.kind in ("name", "product")] + [k.term for k in search_keywords]
    use = {t.term: sum(1 for w in words if t.term in w) for t in minimal}
    order = {t.term: i for i, t in enumerate(minimal)}
    return sorted(minimal, key=lambda t: (-use[t.term], order[t.term]))


def _traditional_forms(text: str, regional: list[tuple[str, str]]) -> list[str]:
    from monitor.crawling.sites import _converter

    spellings = {text}
    for mainland, word in regional:
        if mainland in text:
            spellings.add(text.replace(mainland, word))
    forms: list[str] = []
    for spelling in sorted(spellings, key=lambda s: (s != text, s)):
        for variant in ("s2t", "s2tw", "s2twp", "s2hk"):
            form = _converter(variant).convert(spelling)
            if form != text and form not in forms:
                forms.append(form)
    return forms


def _separator_forms(name: str, seps: Sequence[str]) -> list[tuple[str, int, bool]]:
    """The name split by each separator: between every character, at each single place, and
    (fragments) two neighbouring characters with the separator between them."""
    out: list[tuple[str, int, bool]] = []
    n = len(name)
    if n < 2:
        return out
    for index, sep in enumerate(seps):
        rank = index // SEPARATORS_PER_RANK
        out.append((sep.join(name), rank, False))
        if n > 2:
            for i in range(1, n):
                out.append((name[:i] + sep + name[i:], rank + 1, False))
            for i in range(n - 1):
                out.append((name[i] + sep + name[i + 1], rank, True))
    return out


def _pinyin_forms(name: str, pinyin_variants: Any) -> list[tuple[str, int, bool]]:
    """Mixes of characters and pinyin the matcher knows (象ya, xiang牙, x牙), ranked: one full
    syllable first, initials next, several syllables last."""
    from pypinyin import lazy_pinyin

    out: list[tuple[str, int, bool]] = []
    full = [s.lower() for s in lazy_pinyin(name)]
    if len(full) != len(name):
        return out
    for v in pinyin_variants(name, initials_alone=True):
        if v.trick != "pinyin_mix":
            continue
        pieces = _split_mix(v.text, name, full)
        if pieces is None:
            continue
        syllables = sum(1 for p in pieces if p == "syllable")
        initials = sum(1 for p in pieces if p == "initial")
        rank = 0 if syllables == 1 and initials == 0 else (1 if syllables + initials == 1 else 2)
        out.append((v.text, rank, False))
    return out


def _split_mix(text: str, name: str, full: list[str]) -> list[str] | None:
    """How each character of ``name`` is written in the mix ``text``: char, syllable or initial."""
    pieces: list[str] = []
    at = 0
    for ch, syl in zip(name, full):
        if text.startswith(ch, at):
            pieces.append("char")
            at += 1
        elif text.startswith(syl, at):
            pieces.append("syllable")
            at += len(syl)
        elif text.startswith(syl[0], at):
            pieces.append("initial")
            at += 1
        else:
            return None
    return pieces if at == len(text) else None


def _homophone_forms(lexicon: Lexicon, names: list[Term]) -> list[tuple[str, str, str, int]]:
    """Same-sound spellings of the names: swaps within the curated classes of homophones.yaml
    first (rank 0 for one character, 1 for two), then single swaps from pypinyin's readings, the
    most common characters first (rank 2 and up), at most MAX_READING_HOMOPHONES per name.
    Spellings that are ordinary words in jieba's dictionary are dropped, as the matcher drops them."""
    from monitor.matching.segmenter import stock_frequencies
    from monitor.matching.variants import homophone_variants

    shared = lexicon.shared
    classes: dict[str, set[str]] = {}
    for group in shared.homophone_classes:
        for ch in group:
            classes.setdefault(ch, set()).update(group)
    generated: list[tuple[Term, list[str]]] = []
    wanted: set[str] = set()
    for t in names:
        if len(t.term) < shared.homophone_min_term_length:
            continue
        swaps = shared.homophone_max_swaps_short if len(t.term) == 2 else shared.homophone_max_swaps
        texts = [v.text for v in homophone_variants(t.term, shared.homophone_classes, max_swaps=swaps)]
        generated.append((t, texts))
        wanted.update(texts)
        wanted.update(c for text in texts for c in text)
    frequencies = stock_frequencies(wanted)
    real = {x.term for x in lexicon.terms()}
    out: list[tuple[str, str, str, int]] = []
    for t, texts in generated:
        curated: list[tuple[str, int]] = []
        readings: list[tuple[str, int]] = []
        for text in texts:
            if text in real or frequencies.get(text, 0) > shared.homophone_max_word_frequency:
                continue
            swapped = [i for i, (a, b) in enumerate(zip(t.term, text)) if a != b]
            if all(text[i] in classes.get(t.term[i], ()) for i in swapped):
                curated.append((text, 0 if len(swapped) == 1 else 1))
            elif len(swapped) == 1:
                readings.append((text, frequencies.get(text[swapped[0]], 0)))
        out.extend((text, t.species, t.term, rank) for text, rank in curated)
        readings.sort(key=lambda pair: -pair[1])
        for position, (text, _) in enumerate(readings[:MAX_READING_HOMOPHONES]):
            out.append((text, t.species, t.term, 2 + position // 5))
    return out
