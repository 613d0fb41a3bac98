"""One pass over a field's normalised text for every word the matcher looks for.

The matcher keeps its word lists as pyahocorasick automata (terms, terms searched backwards,
innocent compounds, context words). Those walk a node's children one by one, and the context
words alone start with some 500 different characters: every character of a listing then costs
hundreds of comparisons at the root, and a field read four times costs more than its verdict.
``Scanner`` puts every word in one ``ahocorasick_rs`` automaton (a compiled automaton in Rust)
and sorts its matches back into the four lists, in the order the four automata give them, so
nothing downstream changes. A text the library cannot encode (half a surrogate pair) is read
by the four automata as before.
"""

from __future__ import annotations

from typing import Any

import ahocorasick
import ahocorasick_rs

TERM, EXCLUSION, BACKWARDS, CONTEXT = range(4)

# (last index, start, entries) of a spelling, as Matcher._scan_field reads them
Spelling = tuple[int, int, tuple[tuple[str, Any], ...]]
ByKind = dict[str, list[tuple[Any, int, int]]]


def _backwards_order(found: Spelling) -> tuple[int, int]:
    """A backwards automaton meets later starts first and, at one start, longer words first."""
    return -found[1], -found[0]


class Scanner:
    """Built from the matcher's automata; ``scan`` gives what iterating all four would give."""

    def __init__(self, terms: ahocorasick.Automaton, backwards: ahocorasick.Automaton,
                 exclusions: ahocorasick.Automaton, context: ahocorasick.Automaton) -> None:
        self._automata = (terms, exclusions, backwards, context)
        roles: dict[str, list[tuple[int, Any]]] = {}
        for role, automaton in ((TERM, terms), (EXCLUSION, exclusions), (BACKWARDS, backwards)):
            for key, (word, entries) in automaton.items():
                roles.setdefault(word, []).append((role, entries))
        for key, (_, entries) in context.items():
            roles.setdefault(key, []).append((CONTEXT, tuple(entries)))
        words = list(roles)
        # per word, what to file where: (kind, payload) for a context word, (role, entries) for a spelling
        self._acts: list[tuple[tuple[Any, Any], ...]] = []
        for w in words:
            acts: list[tuple[Any, Any]] = []
            for role, entries in roles[w]:
                acts.extend(entries if role == CONTEXT else [(role, entries)])
            self._acts.append(tuple(acts))
        self._is_spelling = [any(role != CONTEXT for role, _ in roles[w]) for w in words]
        # every two characters that follow each other in a spelling: one crossing a cut has the
        # two characters either side of it, so most cuts are settled by one set lookup
        self._spelling_pairs = frozenset(w[i:i + 2] for w, spelled in zip(words, self._is_spelling) if spelled
                                         for i in range(len(w) - 1))
        self._automaton = ahocorasick_rs.AhoCorasick(
            words, matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA)

    def scan(self, s: str) -> tuple[list[Spelling], ByKind]:
        """Every spelling (terms, then innocent compounds, then backwards terms, each in its
        automaton's order) and the context words by kind, in the order they were found."""
        try:
            found = self._automaton.find_matches_as_indexes(s, overlapping=True)
        except UnicodeEncodeError:
            return self._scan_slowly(s)
        by_kind: dict[Any, list[tuple[Any, int, int]]] = {}
        get = by_kind.get
        acts = self._acts
        for index, start, stop in found:
            for key, payload in acts[index]:
                spans = get(key)
                if spans is None:
                    by_kind[key] = [(payload, start, stop)]
                else:
                    spans.append((payload, start, stop))
        spellings: list[Spelling] = []
        for role in (TERM, EXCLUSION, BACKWARDS):
            spans = by_kind.pop(role, None)
            if spans:
                found_here = [(stop - 1, start, entries) for entries, start, stop in spans]
                if role == BACKWARDS:
                    found_here.sort(key=_backwards_order)
                spellings += found_here
        return spellings, by_kind

    def spelling_count(self, s: str) -> int:
        """How many spellings (terms, compounds, backwards terms) occur in ``s``, overlaps counted."""
        try:
            found = self._automaton.find_matches_as_indexes(s, overlapping=True)
        except UnicodeEncodeError:
            terms, exclusions, backwards, _ = self._automata
            return sum(1 for _ in terms.iter(s)) + sum(1 for _ in exclusions.iter(s)) + \
                sum(1 for _ in backwards.iter(s[::-1]))
        is_spelling = self._is_spelling
        return sum(1 for index, _, _ in found if is_spelling[index])

    def may_spell_across(self, pair: str) -> bool:
        """Whether the two characters follow each other in some spelling (else none crosses between them)."""
        return pair in self._spelling_pairs

    def spells_across(self, s: str, cut: int) -> bool:
        """Whether a spelling occurs in ``s`` over position ``cut`` (starting before, ending after)."""
        if not 0 < cut < len(s) or s[cut - 1:cut + 1] not in self._spelling_pairs:
            return False
        try:
            found = self._automaton.find_matches_as_indexes(s, overlapping=True)
        except UnicodeEncodeError:
            return self.spelling_count(s) > self.spelling_count(s[:cut]) + self.spelling_count(s[cut:])
        is_spelling = self._is_spelling
        return any(start < cut < stop and is_spelling[index] for index, start, stop in found)

    def _scan_slowly(self, s: str) -> tuple[list[Spelling], ByKind]:
        terms, exclusions, backwards, context = self._automata
        found: list[Spelling] = [(end, end + 1 - len(key), entries) for end, (key, entries) in terms.iter(s)]
        found += [(end, end + 1 - len(key), entries) for end, (key, entries) in exclusions.iter(s)]
        last = len(s) - 1
        for r_end, (key, entries) in backwards.iter(s[::-1]):
            start = last - r_end
            found.append((start + len(key) - 1, start, entries))
        by_kind: ByKind = {}
        for end, (size, entries) in context.iter(s):
            for kind, payload in entries:
                by_kind.setdefault(kind, []).append((payload, end + 1 - size, end + 1))
        return found, by_kind
