"""Candidate code words for analysts (``wtm keywords suggest``).

Sellers coin new code words faster than anyone edits the lexicon. Confirmed listings say what
sellers write; an n-gram frequent there, rare in rejected and benign listings, and not part of
any lexicon word (term, spelling, cover, exclusion or context word) is worth an analyst's look.
Counts are of listings, not occurrences, on the matcher's own normalised text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import ahocorasick

from monitor.matching import Matcher

MIN_LEN, MAX_LEN = 2, 4


@dataclass(frozen=True)
class Suggestion:
    ngram: str
    confirmed: int  # confirmed listings holding it
    benign: int  # rejected or benign listings holding it
    example: str  # one confirmed listing's title

    @property
    def share(self) -> float:
        """The share of listings holding it that were confirmed."""
        return self.confirmed / (self.confirmed + self.benign)


def _grams(text: str, finder: "ahocorasick.Automaton") -> set[str]:
    """The n-grams of ``text`` outside every lexicon word's occurrence (的象 in 的象牙 is not new),
    letters and Han only (a number is a quantity, not a word)."""
    chars = list(text)
    for end, word in finder.iter(text):
        for i in range(end + 1 - len(word), end + 1):
            chars[i] = "\0"
    text = "".join(chars)
    return {text[i:i + k] for k in range(MIN_LEN, MAX_LEN + 1) for i in range(len(text) - k + 1)
            if all(c.isalpha() for c in text[i:i + k])}


def lexicon_words(matcher: Matcher) -> list[str]:
    """Every normalised word the matcher searches for (terms in all their spellings, covers,
    exclusions, context words)."""
    return matcher.known_words()


def suggest(matcher: Matcher, confirmed: Iterable[tuple[str, str]], benign: Iterable[tuple[str, str]],
            min_count: int = 3, min_share: float = 0.9, top: int = 30) -> list[Suggestion]:
    """N-grams of confirmed listings (title, description) the lexicon lacks, most frequent first;
    an n-gram is dropped for a longer one found in as many confirmed listings."""
    words = lexicon_words(matcher)
    finder = ahocorasick.Automaton()
    for w in words:
        if len(w) >= 2:  # one-character product words (片, 粉) sit inside too many new words
            finder.add_word(w, w)
    finder.make_automaton()
    pos: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    example: dict[str, str] = {}
    for title, description in confirmed:
        for g in _grams(matcher.normaliser.prefilter(f"{title}\n{description}"), finder):
            pos[g] += 1
            example.setdefault(g, title)
    for title, description in benign:
        neg.update(_grams(matcher.normaliser.prefilter(f"{title}\n{description}"), finder))
    known = set(words)
    kept = [Suggestion(g, n, neg[g], example[g]) for g, n in pos.items()
            if n >= min_count and n / (n + neg[g]) >= min_share and g not in known]
    kept.sort(key=lambda s: (-s.confirmed, s.benign, -len(s.ngram), s.ngram))
    return _longest(kept)[:top]


def _longest(found: Sequence[Suggestion]) -> list[Suggestion]:
    """Drop an n-gram inside a longer kept one with the same confirmed count (非洲 inside 非洲老)."""
    out: list[Suggestion] = []
    for s in sorted(found, key=lambda s: -len(s.ngram)):
        if not any(s.ngram in o.ngram and o.confirmed == s.confirmed for o in out):
            out.append(s)
    return sorted(out, key=lambda s: (-s.confirmed, s.benign, -len(s.ngram), s.ngram))
