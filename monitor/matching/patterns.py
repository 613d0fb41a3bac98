"""Compiling the lexicon into search patterns: every spelling of every term, plus context words.

Compiling runs pypinyin over the lexicon once; the result is cached on disk under the lexicon's
content hash, so later processes only unpickle it (Matcher construction stays well under 2 s).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from monitor.matching.lexicon import Lexicon, Term

_FORMAT = 8
# The last character of a number written before a unit (2.5克, 一整根, 三百克, 半斤).
QUANTITY_NUMERALS = "0123456789一二两三四五六七八九十百千半整"


@dataclass(frozen=True)
class Spelling:
    term: Term
    trick: str          # "", "pinyin_mix", "pinyin", "homophone"
    strong: bool
    latin_start: bool
    latin_end: bool


@dataclass
class Patterns:
    terms: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    context: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    user_words: dict[str, int] = field(default_factory=dict)   # for jieba's dictionary
    lexicon_words: set[str] = field(default_factory=set)       # terms and exclusions


def _code_hash() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(str(_FORMAT).encode())
    for name in ("patterns.py", "variants.py", "normalise.py", "separators.py", "char_tables.py", "zhuyin.py", "lexicon.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


def compile_patterns(
    lexicon: Lexicon, normalise: Callable[[str], str], is_common_word: Callable[[str], bool]
) -> Patterns:
    from monitor.matching.variants import homophone_variants, pinyin_variants, punctuation_variants

    shared = lexicon.shared
    out = Patterns()

    def add(table: dict[str, list[tuple[str, Any]]], word: str, entry: tuple[str, Any]) -> None:
        key = normalise(word)
        if key and entry not in table.setdefault(key, []):
            table[key].append(entry)

    real_terms = {normalise(t.term) for t in lexicon.terms()}
    out.lexicon_words |= real_terms
    names: dict[str, list[str]] = {}
    for t in lexicon.terms():
        if t.kind == "name":
            names.setdefault(t.species, []).append(normalise(t.term))
    name_chars = _name_characters(lexicon, normalise)
    for t in lexicon.terms():
        base = normalise(t.term)
        add(out.terms, t.term, ("term", Spelling(t, "", t.strong, base[:1].isascii(), base[-1:].isascii())))
        out.user_words[base] = 3000
        if t.pinyin:
            for v in pinyin_variants(base, initials_alone=t.kind == "name" or len(base) >= 3):
                add(out.terms, v.text, ("term", Spelling(t, v.trick, False, v.text[:1].isascii(), v.text[-1:].isascii())))
        for v in punctuation_variants(base):
            add(out.terms, v.text, ("term", Spelling(t, v.trick, False, False, False)))
        contains_name = t.kind != "name" and any(n in base for n in names.get(t.species, []))
        if t.homophones and not contains_name and len(base) >= shared.homophone_min_term_length:
            swaps = shared.homophone_max_swaps_short if len(base) == 2 else shared.homophone_max_swaps
            for v in homophone_variants(base, shared.homophone_classes, is_common_word, swaps,
                                        _swappable(t, name_chars)):
                if v.text not in real_terms:
                    add(out.terms, v.text, ("term", Spelling(t, "homophone", False, False, False)))
    for key in lexicon.species:
        entry = lexicon.entry(key)
        for word in entry.cover_terms:
            add(out.terms, word, ("suspect_cover" if word in entry.cover_suspect else "cover", key))
            out.user_words.setdefault(normalise(word), 3000)
        for word in entry.exclusions:
            add(out.terms, word, ("exclusion", key))
            out.user_words[normalise(word)] = 6000
            out.lexicon_words.add(normalise(word))
    for kind, words in (
        ("product", shared.product), ("unit", shared.units), ("size_unit", shared.size_units), ("innocent", shared.innocent),
        ("innocent_near", shared.innocent_near), ("near", shared.near_innocent),
        ("near_exception", shared.near_innocent_exceptions), ("negation_before", shared.negation_before),
        ("negation_exception", shared.negation_before_exceptions),
        ("negation_names_only", shared.negation_before_names_only), ("negation_after", shared.negation_after),
        ("accessory_before", shared.accessory_before), ("accessory_after", shared.accessory_after),
        ("giveaway", shared.giveaways), ("trade", shared.trade), ("price", shared.prices),
    ):
        for word in words:
            add(out.context, word, (kind, None))
    for name, words in shared.product_types.items():
        for word in words:
            add(out.context, word, ("product_type", name))
    offer = shared.offer
    for rank, (name, words) in enumerate(offer.forms.items()):
        for word in words:
            add(out.context, word, ("form", (rank, name)))
    for kind, words in (("buying", offer.buying), ("buying_before", offer.buying_before)):
        for word in words:
            add(out.context, word, (kind, None))
    # a quantity is a number then a unit: searched as numeral + unit (3根, 半斤), so the many
    # units that are everyday characters (支持, 只是) add no context entry
    units = [(w, ("piece", 0)) for w in offer.pieces] + [(w, ("set", 0)) for w in offer.sets] + \
        [(w, ("gram", g)) for w, g in offer.weights.items()]
    for word, (unit, grams) in units:
        unit_word = normalise(word)
        for numeral in QUANTITY_NUMERALS:
            add(out.context, numeral + unit_word, ("quantity", (unit, grams, len(unit_word))))
    for key in lexicon.species:
        entry = lexicon.entry(key)
        for kind, words in (("context", entry.context), ("species_innocent", entry.innocent_context),
                            ("veto", entry.veto), ("cover_giveaway", entry.cover_giveaways),
                            ("cover_honest", entry.cover_honest)):
            for word in words:
                add(out.context, word, (kind, key))
    return out


def homophone_candidates(lexicon: Lexicon, normalise: Callable[[str], str]) -> set[str]:
    """Every homophone spelling before the common-word filter (to look up their frequencies)."""
    from monitor.matching.variants import homophone_variants

    shared = lexicon.shared
    name_chars = _name_characters(lexicon, normalise)
    out: set[str] = set()
    for t in lexicon.terms():
        base = normalise(t.term)
        if t.homophones and len(base) >= shared.homophone_min_term_length:
            swaps = shared.homophone_max_swaps_short if len(base) == 2 else shared.homophone_max_swaps
            out.update(v.text for v in homophone_variants(base, shared.homophone_classes, max_swaps=swaps,
                                                          swappable=_swappable(t, name_chars)))
    return out


def _name_characters(lexicon: Lexicon, normalise: Callable[[str], str]) -> dict[str, str]:
    """Per species, the Chinese characters of its names (豹 for leopard, 虎 骨 老 for tiger)."""
    out: dict[str, set[str]] = {}
    for t in lexicon.terms():
        if t.kind == "name":
            out.setdefault(t.species, set()).update(c for c in normalise(t.term) if not c.isascii())
    return {sp: "".join(sorted(chars)) for sp, chars in out.items()}


def _swappable(term: Term, name_chars: dict[str, str]) -> str | None:
    """Which characters a homophone may replace: any in a name or code word, only the
    animal's own characters in a product word."""
    return name_chars.get(term.species, "") if term.kind == "product" else None


def load_patterns(
    lexicon: Lexicon,
    normalise: Callable[[str], str],
    is_common_word: Callable[[str], bool],
    cache_dir: Path | None,
) -> Patterns:
    """Compiled patterns from the cache when the lexicon and this code are unchanged."""
    path = cache_dir / f"patterns-{lexicon.version}-{_code_hash()}.pickle" if cache_dir else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as f:
                cached = pickle.load(f)
            if isinstance(cached, Patterns):
                return cached
        except Exception:  # a damaged cache is rebuilt, never trusted
            pass
    patterns = compile_patterns(lexicon, normalise, is_common_word)
    if path is not None:
        try:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump(patterns, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
            _prune(cache_dir, keep=path)
        except OSError:
            pass
    return patterns


def _prune(folder: Path, keep: Path, versions: int = 6) -> None:
    """Drop compiled caches of all but the most recent lexicon versions."""
    old = sorted(folder.glob("patterns-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[versions:]
    for path in old:
        if path != keep:
            version = path.name.split("-")[1]
            for stale in [path, *folder.glob(f"jieba-*{version}*")]:
                stale.unlink(missing_ok=True)
