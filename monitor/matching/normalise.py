"""Undoing sellers' spelling tricks before matching, keeping a map back to the original text.

Steps: NFKC (full-width letters, Kangxi radicals) + lower case + dropping invisible characters
via one ``str.translate`` table; Traditional -> Simplified with OpenCC (``tw2sp`` also turns
Taiwan phrases such as 塑膠 into mainland ones); the lexicon's regional vocabulary; and removal of
separators wedged between Chinese characters (象 牙, 象*牙, 鹤/顶/红, 象 ya).

``fast()`` is for the pre-filter and builds no offset map; ``with_offsets()`` is for the few
listings that have a candidate and records, for every output character, its original index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick
import ahocorasick_rs
import opencc

from monitor.matching.char_tables import (
    ANY_ASTRAL, INVISIBLE_CHARS, astral_special, char_class, needs_translation, traditional_chars,
    traditional_list, translate_table,
)
from monitor.matching.separators import (
    EMPTY_BRACKET_PAIR, LETTER_DIGIT, OPENING_BRACKET, SEP_BMP, SEPARATOR_ANY, SEPARATOR_ANY_BMP,
    SEPARATOR_CHARS, SEPARATOR_RUN, SEPARATOR_RUN_BMP, TONE_DIGIT, run_of, separator_spans,
    separators_but, strip_separators,
)
from monitor.matching.zhuyin import BOPOMOFO, spell


@dataclass(eq=False)
class Normalised:
    """Normalised text; ``origin[i]`` is the index in the original text of character ``i``.

    Text no step changed (most descriptions) stores no map (``_origin`` None): every character
    is where it was, and the map is made only if asked for."""

    text: str
    _origin: list[int] | None
    original: str

    @property
    def origin(self) -> list[int]:
        if self._origin is None:
            self._origin = list(range(len(self.text)))
        return self._origin

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the normalised span ``[start, end)``."""
        origin = self._origin
        if origin is None:
            return start, end
        return origin[start], origin[end - 1] + 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Normalised) and \
            (self.text, self.origin, self.original) == (other.text, other.origin, other.original)


class Normaliser:
    """``kept``: emoji the lexicon spells terms with (🦷 in 🐘🦷), which are then word
    characters rather than separators; other emoji still separate nothing from a word."""

    def __init__(self, regional: dict[str, str] | None = None, kept: str | frozenset[str] = "") -> None:
        # emoji the regional vocabulary turns into words (🐘 -> 象) are gone before separators
        self._kept = frozenset(c for c in kept if 0x1F300 <= ord(c) <= 0x1FAFF and c not in (regional or {}))
        self._kept_run, self._kept_any = SEPARATOR_RUN, SEPARATOR_ANY
        if self._kept:
            body = separators_but(self._kept)
            self._kept_run = run_of(body)
            self._kept_any = re.compile(f"[{body}]+")
        self._table = translate_table()
        self._astral_class = astral_special()
        self._needs_table = needs_translation()
        self._traditional = traditional_chars()
        bmp = [cp for cp in translate_table() if cp < 0x10000]
        self._special = char_class(bmp + [ord(c) for c in traditional_list()])
        self._converter = opencc.OpenCC("tw2sp")
        self._regional = sorted((regional or {}).items(), key=lambda kv: -len(kv[0]))
        self._regional_finder = ahocorasick.Automaton()
        for word, _ in self._regional:
            self._regional_finder.add_word(word, word)
        if self._regional:
            self._regional_finder.make_automaton()
        # regional words of the BMP as one regex (a few times quicker than the automaton on
        # short text); those with an emoji (🐘) left to the automaton, for text with one
        bmp_words = [w for w, _ in self._regional if all(ord(c) < 0x10000 for c in w)]
        self._regional_bmp = re.compile("|".join(re.escape(w) for w in bmp_words)) if bmp_words else None
        # quicker still, all of them in one compiled automaton (the two above stay for half a surrogate pair)
        self._regional_any = ahocorasick_rs.AhoCorasick(
            [w for w, _ in self._regional], matchkind=ahocorasick_rs.MatchKind.LeftmostFirst,
            implementation=ahocorasick_rs.Implementation.DFA) if self._regional else None
        self._regional_astral = len(bmp_words) < len(self._regional)
        # (emoji words are left out: text with an astral character is read the long way anyway)
        self._regional_separated = any(SEPARATOR_CHARS.search(w) for w in bmp_words)
        self._kept_char = char_class([ord(c) for c in self._kept]) if self._kept else None
        # every BMP character some step may change or drop but separators (table, Traditional, zhuyin,
        # brackets), and with separators
        rewritten = self._special.pattern[1:-1] + "\u3105-\u312f\u31a0-\u31bf" + re.escape("()（）[]［］【】「」『』〔〕〖〗")
        # and any astral character, in one pass: sre keeps the BMP part a bitmap and tries the
        # astral range after it
        self._rewritten_or_astral = re.compile(f"[{rewritten}\U00010000-\U0010ffff]")
        self._changeable = re.compile("[" + SEP_BMP + rewritten + "]")

    def _astral(self, text: str) -> bool:
        """An astral character the table changes; the class has many ranges, so it is searched
        only when the text has an astral character at all (one range, quick)."""
        return ANY_ASTRAL.search(text) is not None and self._astral_class.search(text) is not None

    def _keeps(self, text: str) -> bool:
        """Whether ``text`` holds an emoji of a term: only then is the slower separator class
        (the emoji range cut around it) used."""
        return self._kept_char is not None and ANY_ASTRAL.search(text) is not None \
            and self._kept_char.search(text) is not None

    def _separators(self, text: str) -> tuple[re.Pattern[str], frozenset[str]]:
        if ANY_ASTRAL.search(text) is None:
            return SEPARATOR_RUN_BMP, frozenset()
        return (self._kept_run, self._kept) if self._keeps(text) else (SEPARATOR_RUN, frozenset())

    def _needs(self, text: str) -> bool:
        return bool(self._needs_table.search(text) or self._astral(text))

    def _nothing_rewritten(self, text: str) -> bool:
        """No character any step rewrites and no regional word: at most separators (and tone
        numbers) can go. Every condition holds for a piece of a text it holds for."""
        return self._rewritten_or_astral.search(text) is None \
            and not self._has_regional(text)

    def nothing_rewritten(self, text: str) -> bool:
        """Whether no step but dropping separators and tone numbers can touch ``text``: true of
        every piece of such a text too, so a listing asks once for all its fields and seams."""
        return self._nothing_rewritten(text)

    def unchanged(self, text: str) -> bool:
        """Whether no step touches ``text``: then ``prefilter`` and ``with_offsets`` give it back
        as it is (most descriptions), and neither needs to look further."""
        return self._nothing_rewritten(text) and self._changeable.search(text) is None \
            and LETTER_DIGIT.search(text) is None

    def prefilter_pair(self, left: str, right: str, plain: bool = False, clean: bool = False) \
            -> tuple[str, str] | None:
        """``prefilter`` of each text, when that of the two joined by a newline is simply the two
        glued (no step reaches across the join: nothing is rewritten, only separators dropped,
        and no regional word or tone number forms across); else None. ``plain``: both are
        known to be pieces of a text ``nothing_rewritten`` holds for; ``clean``: of a text
        ``prefilter_listing`` found clean."""
        if not plain and not self._nothing_rewritten(left + right):
            return None
        left, right = SEPARATOR_ANY_BMP.sub("", left), SEPARATOR_ANY_BMP.sub("", right)  # no astral character
        if clean:
            return left, right
        both = left + right
        if LETTER_DIGIT.search(both) is not None or self._has_regional(both):
            return None
        return left, right

    def is_separator(self, ch: str) -> bool:
        """Whether a character of the BMP is one the looser form (``prefilter``) drops."""
        return SEPARATOR_ANY_BMP.match(ch) is not None

    def translate(self, text: str) -> str:
        """Only the per-character step: NFKC, lower case, invisible characters dropped."""
        return text.translate(self._table)

    def simplify(self, text: str) -> str:
        """Traditional -> Simplified (with Taiwan phrases), for lexicon words and display."""
        return self._converter.convert(text)

    def fast(self, text: str) -> str:
        """The normalised text without an offset map (what ``with_offsets`` gives, faster)."""
        s = text.translate(self._table) if self._needs(text) else text
        if BOPOMOFO.search(s):
            s = spell_zhuyin(s)
        if self._traditional.search(s):
            s = self._converter.convert(s)
        s = self._apply_regional(s)
        stripped = strip_separators(s, *self._separators(s))
        return self._apply_regional(stripped) if stripped != s else s

    def _has_regional(self, s: str) -> bool:
        if self._regional_any is None:
            return False
        try:
            return bool(self._regional_any.find_matches_as_indexes(s))
        except UnicodeEncodeError:
            pass
        if self._regional_bmp is not None and self._regional_bmp.search(s) is not None:
            return True
        return self._regional_astral and ANY_ASTRAL.search(s) is not None \
            and next(self._regional_finder.iter(s), None) is not None

    def _apply_regional(self, s: str) -> str:
        if not self._has_regional(s):
            return s
        for word, target in self._regional:
            if word in s:
                s = s.replace(word, target)
        return s

    def word(self, text: str) -> str:
        """Normalise a lexicon word the way listing text is normalised."""
        return self.fast(text)

    def prefilter_listing(self, text: str) -> tuple[str, bool, bool]:
        """``prefilter(text)``, ``nothing_rewritten(text)`` (``plain``) and whether a plain text is
        also clean: with every separator gone it holds no letter before a tone number and no
        regional word. Then neither does any piece of ``text`` however its separators are
        dropped, and the pieces need not ask (``clean``)."""
        if self._regional_separated:  # a regional word with a separator in it: ask the long way
            plain = self._nothing_rewritten(text)
            return self.prefilter(text, plain), plain, False
        if self._rewritten_or_astral.search(text) is None:
            stripped = SEPARATOR_ANY_BMP.sub("", text)  # no astral character
            if not self._has_regional(stripped):  # nor in text: a regional word has no separator
                if LETTER_DIGIT.search(stripped) is None:
                    return stripped, True, True  # no bracket either: prefilter(text, True) gives it
                return self.prefilter(text, True), True, False
            if stripped != text and not self._has_regional(text):
                return self.prefilter(text, True), True, False
        return self.prefilter(text), False, False

    def prefilter(self, text: str, plain: bool = False) -> str:
        """A looser, quicker form for the pre-filter: every separator removed, wherever it is.

        It can only add candidates (象 牙白 -> 象牙白), never lose one that ``fast`` finds,
        and the candidates are checked again on the exact form. ``plain``: ``nothing_rewritten``
        is known to hold for ``text``, so only separators and tone numbers can go.
        """
        if plain:
            stripped = SEPARATOR_ANY_BMP.sub("", text)  # no astral character
        else:
            if self._special.search(text) or self._astral(text):
                text = text.translate(self._table)
                if BOPOMOFO.search(text):
                    text = spell_zhuyin(text)
                if self._traditional.search(text):
                    text = self._converter.convert(text)
            text = self._apply_regional(text)
            if ANY_ASTRAL.search(text) is None:
                stripped = SEPARATOR_ANY_BMP.sub("", text)
            else:
                stripped = (self._kept_any if self._keeps(text) else SEPARATOR_ANY).sub("", text)
        if LETTER_DIGIT.search(stripped):
            stripped = TONE_DIGIT.sub("", stripped)
        if OPENING_BRACKET.search(stripped):
            stripped = EMPTY_BRACKET_PAIR.sub("", stripped)
        return self._apply_regional(stripped) if stripped != text else text

    def with_offsets(self, text: str, plain: bool = False, clean: bool = False) -> Normalised:
        """The normalised text with its offset map. ``plain``: ``nothing_rewritten`` is known to
        hold for ``text`` (a piece of a listing that asked once); ``clean``: it is a piece of a
        text ``prefilter_listing`` found clean."""
        if plain or self._nothing_rewritten(text):  # most fields
            if self._changeable.search(text) is None and (clean or LETTER_DIGIT.search(text) is None):
                return Normalised(text, None, text)  # unchanged
            return self._without_separators(text, list(range(len(text))), text, clean)
        return self._with_offsets(text)

    def _with_offsets(self, text: str) -> Normalised:
        table = self._table
        needs = self._needs(text)  # an invisible character is in the table too
        s = text.translate(table) if needs else text
        if not needs or (len(s) == len(text) and not INVISIBLE_CHARS.search(text)):
            origin = list(range(len(text)))
        else:
            parts: list[str] = []
            origin = []
            for i, ch in enumerate(text):
                out = table.get(ord(ch), ch)
                if out is None:
                    continue
                parts.append(out)
                origin.extend([i] * len(out))
            s = "".join(parts)
        if BOPOMOFO.search(s):
            s, origin = _spell_zhuyin_with_offsets(s, origin)
        converted = self._converter.convert(s) if self._traditional.search(s) else s
        if len(converted) != len(s):
            pieces = [self._converter.convert(ch) for ch in s]
            new_origin: list[int] = []
            for piece, o in zip(pieces, origin):
                new_origin.extend([o] * len(piece))
            converted, origin = "".join(pieces), new_origin
        s = converted
        s, origin = self._regional_with_offsets(s, origin)
        return self._without_separators(s, origin, text)

    def _without_separators(self, s: str, origin: list[int], text: str, clean: bool = False) -> Normalised:
        if clean:  # no astral character, tone number or regional word, however separators fall
            spans = separator_spans(s, SEPARATOR_RUN_BMP, tones=False)
        else:
            spans = separator_spans(s, *self._separators(s))
        if spans:
            out, new_origin, pos = [], [], 0
            for a, b in spans:
                out.append(s[pos:a])
                new_origin.extend(origin[pos:a])
                pos = b
            out.append(s[pos:])
            new_origin.extend(origin[pos:])
            s, origin = "".join(out), new_origin
            if not clean:  # words the separators hid from the first pass (白·塑·膠 -> 白塑胶 -> 白塑料)
                s, origin = self._regional_with_offsets(s, origin)
        return Normalised(s, origin, text)

    def _regional_with_offsets(self, s: str, origin: list[int]) -> tuple[str, list[int]]:
        if not self._has_regional(s):
            return s, origin
        for word, target in self._regional:
            if word not in s:
                continue
            if len(word) == len(target):
                s = s.replace(word, target)
                continue
            out, new_origin, pos = [], [], 0
            for m in re.finditer(re.escape(word), s):
                out.append(s[pos:m.start()])
                new_origin.extend(origin[pos:m.start()])
                out.append(target)
                new_origin.extend(origin[m.start() + min(j, len(word) - 1)] for j in range(len(target)))
                pos = m.end()
            out.append(s[pos:])
            new_origin.extend(origin[pos:])
            s, origin = "".join(out), new_origin
        return s, origin


def spell_zhuyin(s: str) -> str:
    """Bopomofo runs spelled as pinyin (象ㄧㄚˊ -> 象ya)."""
    return BOPOMOFO.sub(lambda m: "".join(letters for letters, _ in spell(m.group())), s)


def _spell_zhuyin_with_offsets(s: str, origin: list[int]) -> tuple[str, list[int]]:
    out: list[str] = []
    new_origin: list[int] = []
    pos = 0
    for m in BOPOMOFO.finditer(s):
        out.append(s[pos:m.start()])
        new_origin.extend(origin[pos:m.start()])
        for letters, i in spell(m.group()):
            out.append(letters)
            new_origin.extend([origin[m.start() + i]] * len(letters))
        pos = m.end()
    out.append(s[pos:])
    new_origin.extend(origin[pos:])
    return "".join(out), new_origin
