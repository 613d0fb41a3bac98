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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
import ahocorasick_rs
import opencc
from confusable_homoglyphs import confusables as _confusables
from confusable_homoglyphs.categories import alias as _script

from monitor.matching.zhuyin import BOPOMOFO, pinyin_syllables, spell

INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b"
    "\u206c\u206d\u206e\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a"
    "\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Characters sellers wedge between the characters of a word. Sentence punctuation (，。、：；！？
# brackets, quotes) is deliberately absent: stripping it would glue unrelated words together.
_SEP = (
    r"\s*/\\.\u00b7\u2022\u30fb\u2027\-_~|+#=^`'@$%&\u2605\u2606\u2665\u2661\u2764\u25c6\u25c7"
    r"\u25cb\u25cf\u25ce\u203b\u2192\u2190\u00d7\u2716\u2573\u3000\u2500-\u257f\u25a0-\u25ff"
    r"\u2600-\u27bf\U0001f300-\U0001faff"
    # dashes and ellipses, wave dashes, the katakana long mark and the stroke 丨 (象—牙, 犀…角, 象丨牙)
    r"\u2010-\u2016\u2026\u2219\u22c5\u00a6\u301c\u3030\u30fc\u4e28"
)
# an empty pair of brackets wedged into a word (象（）牙, 象【】牙)
_EMPTY_BRACKETS = r"\(\)|（）|\[\]|［］|【】|「」|『』|〔〕|〖〗"
SEPARATOR_CHARS = re.compile(f"[{_SEP}]")


def _run_of(body: str) -> re.Pattern[str]:
    """One to three separators or empty bracket pairs, written as one then up to two more: a
    pattern that starts with a choice of characters lets sre skip to where a run can start."""
    one = f"(?:[{body}]|{_EMPTY_BRACKETS})"
    return re.compile(f"{one}{one}{{0,2}}")


_SEPARATOR_RUN = _run_of(_SEP)
_SEPARATOR_ANY = re.compile(f"[{_SEP}]+")
# The same for text without an astral character (most): with the emoji range left out and \s
# spelled out, the class is one bitmap instead of a list of ranges sre walks for every character
# (and to delete separators, one at a time is quicker than by runs)
_SEP_BMP = _SEP.replace(r"\U0001f300-\U0001faff", "").replace(
    r"\s", "".join(re.escape(chr(c)) for c in range(0x10000) if chr(c).isspace()))
_SEPARATOR_RUN_BMP = _run_of(_SEP_BMP)
_SEPARATOR_ANY_BMP = re.compile(f"[{_SEP_BMP}]")
_EMPTY_BRACKET_PAIR = re.compile(_EMPTY_BRACKETS)
_OPENING_BRACKET = re.compile(r"[(（\[［【「『〔〖]")
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _is_cjk(ch: str) -> bool:
    return ("\u4e00" <= ch <= "\u9fff") or ("\u3400" <= ch <= "\u4dbf") or ("\uf900" <= ch <= "\ufaff")


def separator_spans(s: str, run: re.Pattern[str] = _SEPARATOR_RUN, kept: frozenset[str] = frozenset(),
                    tones: bool = True) -> list[tuple[int, int]]:
    """Runs of separators wedged between two Chinese characters, or between Chinese and pinyin.

    ``run`` and ``kept`` come from a ``Normaliser`` whose lexicon spells terms with emoji
    (🐘🦷): those emoji are not separators but word characters, like Chinese ones. ``tones``
    False: ``s`` is known to hold no letter before a tone number."""
    spans = []
    end = len(s)
    for m in run.finditer(s):
        a, b = m.span()
        if a == 0 or b >= end:
            continue
        left, right = s[a - 1], s[b]
        if kept:
            left = "\u4e00" if left in kept else left
            right = "\u4e00" if right in kept else right
        if (_is_cjk(left) and (_is_cjk(right) or right in _ASCII_LOWER)) or (left in _ASCII_LOWER and _is_cjk(right)):
            spans.append((a, b))
        elif left in _ASCII_LOWER and right in _ASCII_LOWER and not m.group().isspace() and " " not in m.group():
            spans.append((a, b))  # xiang-ya, hu.gu (spaced pinyin has spellings of its own)
        elif left in _ASCII_LOWER and right in _ASCII_LOWER and _single_letter(s, a - 1) and _single_letter(s, b):
            spans.append((a, b))  # spaced initials: x j -> xj
        elif left in _ASCII_LOWER and right in _ASCII_LOWER and m.group().startswith(" ") and b - a > 1:
            spans.append((a + 1, b))  # xiang   ya -> xiang ya
    if tones and _LETTER_DIGIT.search(s) and _TONE_DIGIT.search(s):
        spans = sorted(spans + _tone_digit_spans(s))
    return spans


_TONE_DIGIT = re.compile(r"(?<=[a-z])[1-5](?![0-9])")
_LETTER_DIGIT = re.compile("[a-z][1-5]")  # what a tone number needs, found quicker than the number
_LETTERS_BEFORE = re.compile(r"[a-z]+$")


def _tone_digit_spans(s: str) -> list[tuple[int, int]]:
    """Tone numbers after pinyin syllables (xiang4ya2, 象ya2, xi1jiao3): dropped."""
    syllables = pinyin_syllables()
    spans = []
    for m in _TONE_DIGIT.finditer(s):
        letters = _LETTERS_BEFORE.search(s, max(0, m.start() - 6), m.start())
        if letters and any(letters.group()[i:] in syllables for i in range(len(letters.group()))):
            spans.append((m.start(), m.end()))
    return spans


def _single_letter(s: str, i: int) -> bool:
    """``s[i]`` is a Latin letter standing alone (an initial), not part of a word."""
    return not (i > 0 and s[i - 1].isascii() and s[i - 1].isalnum()) and \
        not (i + 1 < len(s) and s[i + 1].isascii() and s[i + 1].isalnum())


def strip_separators(s: str, run: re.Pattern[str] = _SEPARATOR_RUN, kept: frozenset[str] = frozenset()) -> str:
    spans = separator_spans(s, run, kept)
    if not spans:
        return s
    out, pos = [], 0
    for a, b in spans:
        out.append(s[pos:a])
        pos = b
    out.append(s[pos:])
    return "".join(out)


@lru_cache(maxsize=1)
def translate_table() -> dict[int, str | None]:
    """NFKC + lower case per character; invisible characters map to None (deleted)."""
    table: dict[int, str | None] = {}
    ranges = [(0x41, 0x5B), (0xA0, 0x3400), (0xA000, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            if 0xD800 <= cp < 0xE000:
                continue
            out = unicodedata.normalize("NFKC", ch).lower()
            if out != ch and not (out.isascii() and not out.isalnum() and not SEPARATOR_CHARS.fullmatch(out)):
                table[cp] = out
    # CJK compatibility ideographs and Kangxi radicals are in the ranges above or below
    for cp in range(0xF900, 0xFB00):
        out = unicodedata.normalize("NFKC", chr(cp))
        if out != chr(cp):
            table[cp] = out
    # pinyin written with tone marks (xiàng牙, hǔ骨): keep the bare letter
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch)[0].lower()
        if base.isascii() and base.isalpha() and base != ch:
            table[cp] = base
    for ch in "üǖǘǚǜÜǕǗǙǛ":
        table[ord(ch)] = "v"
    # then the TR39 skeleton of look-alike letters: of the letter itself (Greek Χ is x, its
    # lower case χ is not), else of its NFKC lower case
    latin = confusable_latin()
    for cp, out in latin.items():
        if cp not in table or (table[cp] is not None and not table[cp].isascii()):
            table[cp] = out
    for cp, out in list(table.items()):
        if out and any(ord(c) in latin for c in out):
            table[cp] = "".join(latin.get(ord(c), c) for c in out)
    for ch in INVISIBLE:
        table[ord(ch)] = None
    return table


# Scripts whose letters are never folded to Latin: Han and the scripts written beside it, whose
# TR39 look-alikes (丫 for Y, ㄧ for l, ロ for 口) would turn Chinese text into Latin initials.
_UNFOLDED_SCRIPTS = frozenset({"HAN", "BOPOMOFO", "HIRAGANA", "KATAKANA", "HANGUL", "YI", "COMMON", "INHERITED"})


@lru_cache(maxsize=1)
def confusable_latin() -> dict[int, str]:
    """Letters of other alphabets that look like Latin letters or digits (Cyrillic х, Greek Ν,
    Cherokee Ꮃ), mapped to that ASCII lower-case skeleton (Unicode TR39 confusables.txt, from
    the ``confusable-homoglyphs`` data).

    Only letters outside Han and the scripts written with it: a skeleton is many-to-one, and
    folding those would make Latin initials out of Chinese text. In the confusables data a
    source letter lists exactly one entry, its prototype; a prototype lists its sources.
    """
    out: dict[int, str] = {}
    for ch, entries in _confusables.confusables_data.items():
        if len(ch) != 1 or ch.isascii() or len(entries) != 1 or not unicodedata.category(ch).startswith("L"):
            continue
        target = entries[0]["c"].lower()
        if not (target.isascii() and target.isalnum()) or _script(ch) in _UNFOLDED_SCRIPTS:
            continue
        out[ord(ch)] = target
    return out


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


def _char_class(codepoints: list[int]) -> re.Pattern[str]:
    """A regex character class written as ranges (a list of single characters is very slow)."""
    parts, run = [], []
    for cp in sorted(set(codepoints)):
        if run and cp == run[-1] + 1:
            run.append(cp)
            continue
        if run:
            parts.append((run[0], run[-1]))
        run = [cp]
    if run:
        parts.append((run[0], run[-1]))
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in parts)
    return re.compile(f"[{body}]")


@lru_cache(maxsize=1)
def _needs_translation() -> re.Pattern[str]:
    """Characters of the BMP that the translate table changes (astral ones: _astral_special)."""
    return _char_class([cp for cp in translate_table() if cp < 0x10000])


# Character classes that mix BMP and astral code points lose sre's bitmap and are searched range
# by range (40 us per listing instead of 2), so the astral part is checked on its own.
_ANY_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _astral_special() -> re.Pattern[str]:
    """Astral characters the translate table changes (math letters, enclosed letters, look-alike
    letters of old alphabets): a class of astral code points only."""
    return _char_class([cp for cp in translate_table() if cp >= 0x10000])


@lru_cache(maxsize=1)
def _traditional_list() -> tuple[str, ...]:
    """Characters OpenCC changes on their own: a listing without any needs no conversion."""
    converter = opencc.OpenCC("tw2sp")
    chars = [chr(c) for c in list(range(0x3400, 0xA000)) + list(range(0xF900, 0xFB00))]
    converted = converter.convert("\n".join(chars)).split("\n")
    return tuple(a for a, b in zip(chars, converted) if a != b) if len(converted) == len(chars) else tuple(chars)


@lru_cache(maxsize=1)
def _traditional_chars() -> re.Pattern[str]:
    return _char_class([ord(c) for c in _traditional_list()])


def _separators_but(kept: frozenset[str]) -> str:
    """The separator class body less ``kept`` (astral emoji only: the rest is written out)."""
    body = _SEP.replace(r"\U0001f300-\U0001faff", "")
    lo, parts = 0x1F300, []
    for cp in sorted(ord(c) for c in kept if 0x1F300 <= ord(c) <= 0x1FAFF):
        if cp > lo:
            parts.append(f"{chr(lo)}-{chr(cp - 1)}")
        lo = cp + 1
    if lo <= 0x1FAFF:
        parts.append(f"{chr(lo)}-{chr(0x1FAFF)}")
    return body + "".join(parts)


class Normaliser:
    """``kept``: emoji the lexicon spells terms with (🦷 in 🐘🦷), which are then word
    characters rather than separators; other emoji still separate nothing from a word."""

    def __init__(self, regional: dict[str, str] | None = None, kept: str | frozenset[str] = "") -> None:
        # emoji the regional vocabulary turns into words (🐘 -> 象) are gone before separators
        self._kept = frozenset(c for c in kept if 0x1F300 <= ord(c) <= 0x1FAFF and c not in (regional or {}))
        self._kept_run, self._kept_any = _SEPARATOR_RUN, _SEPARATOR_ANY
        if self._kept:
            body = _separators_but(self._kept)
            self._kept_run = _run_of(body)
            self._kept_any = re.compile(f"[{body}]+")
        self._table = translate_table()
        self._astral_class = _astral_special()
        self._needs_table = _needs_translation()
        self._traditional = _traditional_chars()
        bmp = [cp for cp in translate_table() if cp < 0x10000]
        self._special = _char_class(bmp + [ord(c) for c in _traditional_list()])
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
        self._kept_char = _char_class([ord(c) for c in self._kept]) if self._kept else None
        # every BMP character some step may change or drop but separators (table, Traditional, zhuyin,
        # brackets), and with separators
        rewritten = self._special.pattern[1:-1] + "\u3105-\u312f\u31a0-\u31bf" + re.escape("()（）[]［］【】「」『』〔〕〖〗")
        # and any astral character, in one pass: sre keeps the BMP part a bitmap and tries the
        # astral range after it
        self._rewritten_or_astral = re.compile(f"[{rewritten}\U00010000-\U0010ffff]")
        self._changeable = re.compile("[" + _SEP_BMP + rewritten + "]")

    def _astral(self, text: str) -> bool:
        """An astral character the table changes; the class has many ranges, so it is searched
        only when the text has an astral character at all (one range, quick)."""
        return _ANY_ASTRAL.search(text) is not None and self._astral_class.search(text) is not None

    def _keeps(self, text: str) -> bool:
        """Whether ``text`` holds an emoji of a term: only then is the slower separator class
        (the emoji range cut around it) used."""
        return self._kept_char is not None and _ANY_ASTRAL.search(text) is not None \
            and self._kept_char.search(text) is not None

    def _separators(self, text: str) -> tuple[re.Pattern[str], frozenset[str]]:
        if _ANY_ASTRAL.search(text) is None:
            return _SEPARATOR_RUN_BMP, frozenset()
        return (self._kept_run, self._kept) if self._keeps(text) else (_SEPARATOR_RUN, frozenset())

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
            and _LETTER_DIGIT.search(text) is None

    def prefilter_pair(self, left: str, right: str, plain: bool = False, clean: bool = False) \
            -> tuple[str, str] | None:
        """``prefilter`` of each text, when that of the two joined by a newline is simply the two
        glued (no step reaches across the join: nothing is rewritten, only separators dropped,
        and no regional word or tone number forms across); else None. ``plain``: both are
        known to be pieces of a text ``nothing_rewritten`` holds for; ``clean``: of a text
        ``prefilter_listing`` found clean."""
        if not plain and not self._nothing_rewritten(left + right):
            return None
        left, right = _SEPARATOR_ANY_BMP.sub("", left), _SEPARATOR_ANY_BMP.sub("", right)  # no astral character
        if clean:
            return left, right
        both = left + right
        if _LETTER_DIGIT.search(both) is not None or self._has_regional(both):
            return None
        return left, right

    def is_separator(self, ch: str) -> bool:
        """Whether a character of the BMP is one the looser form (``prefilter``) drops."""
        return _SEPARATOR_ANY_BMP.match(ch) is not None

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
        return self._regional_astral and _ANY_ASTRAL.search(s) is not None \
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
            stripped = _SEPARATOR_ANY_BMP.sub("", text)  # no astral character
            if not self._has_regional(stripped):  # nor in text: a regional word has no separator
                if _LETTER_DIGIT.search(stripped) is None:
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
            stripped = _SEPARATOR_ANY_BMP.sub("", text)  # no astral character
        else:
            if self._special.search(text) or self._astral(text):
                text = text.translate(self._table)
                if BOPOMOFO.search(text):
                    text = spell_zhuyin(text)
                if self._traditional.search(text):
                    text = self._converter.convert(text)
            text = self._apply_regional(text)
            if _ANY_ASTRAL.search(text) is None:
                stripped = _SEPARATOR_ANY_BMP.sub("", text)
            else:
                stripped = (self._kept_any if self._keeps(text) else _SEPARATOR_ANY).sub("", text)
        if _LETTER_DIGIT.search(stripped):
            stripped = _TONE_DIGIT.sub("", stripped)
        if _OPENING_BRACKET.search(stripped):
            stripped = _EMPTY_BRACKET_PAIR.sub("", stripped)
        return self._apply_regional(stripped) if stripped != text else text

    def with_offsets(self, text: str, plain: bool = False, clean: bool = False) -> Normalised:
        """The normalised text with its offset map. ``plain``: ``nothing_rewritten`` is known to
        hold for ``text`` (a piece of a listing that asked once); ``clean``: it is a piece of a
        text ``prefilter_listing`` found clean."""
        if plain or self._nothing_rewritten(text):  # most fields
            if self._changeable.search(text) is None and (clean or _LETTER_DIGIT.search(text) is None):
                return Normalised(text, None, text)  # unchanged
            return self._without_separators(text, list(range(len(text))), text, clean)
        return self._with_offsets(text)

    def _with_offsets(self, text: str) -> Normalised:
        table = self._table
        needs = self._needs(text)  # an invisible character is in the table too
        s = text.translate(table) if needs else text
        if not needs or (len(s) == len(text) and not _INVISIBLE.search(text)):
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
            spans = separator_spans(s, _SEPARATOR_RUN_BMP, tones=False)
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
