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

import opencc

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
)
SEPARATOR_CHARS = re.compile(f"[{_SEP}]")
_SEPARATOR_RUN = re.compile(f"(?<=[{_CJK}a-z])[{_SEP}]{{1,3}}(?=[{_CJK}])|(?<=[{_CJK}])[{_SEP}]{{1,3}}(?=[a-z])")


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
            if out != ch:
                table[cp] = out
    # CJK compatibility ideographs and Kangxi radicals are in the ranges above or below
    for cp in range(0xF900, 0xFB00):
        out = unicodedata.normalize("NFKC", chr(cp))
        if out != chr(cp):
            table[cp] = out
    for ch in INVISIBLE:
        table[ord(ch)] = None
    return table


@dataclass
class Normalised:
    """Normalised text; ``origin[i]`` is the index in the original text of character ``i``."""

    text: str
    origin: list[int]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the normalised span ``[start, end)``."""
        return self.origin[start], self.origin[end - 1] + 1


class Normaliser:
    def __init__(self, regional: dict[str, str] | None = None) -> None:
        self._table = translate_table()
        self._converter = opencc.OpenCC("tw2sp")
        self._regional = sorted((regional or {}).items(), key=lambda kv: -len(kv[0]))

    def simplify(self, text: str) -> str:
        """Traditional -> Simplified (with Taiwan phrases), for lexicon words and display."""
        return self._converter.convert(text)

    def fast(self, text: str) -> str:
        """The normalised text without an offset map (pre-filter path)."""
        s = self._converter.convert(text.translate(self._table))
        for word, target in self._regional:
            if word in s:
                s = s.replace(word, target)
        return _SEPARATOR_RUN.sub("", s)

    def word(self, text: str) -> str:
        """Normalise a lexicon word the way listing text is normalised."""
        return self.fast(text)

    def with_offsets(self, text: str) -> Normalised:
        table = self._table
        s = text.translate(table)
        if len(s) == len(text) and not any(ord(c) in table and table[ord(c)] is None for c in text):
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
        converted = self._converter.convert(s)
        if len(converted) != len(s):
            pieces = [self._converter.convert(ch) for ch in s]
            new_origin: list[int] = []
            for piece, o in zip(pieces, origin):
                new_origin.extend([o] * len(piece))
            converted, origin = "".join(pieces), new_origin
        s = converted
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
        if _SEPARATOR_RUN.search(s):
            out, new_origin, pos = [], [], 0
            for m in _SEPARATOR_RUN.finditer(s):
                out.append(s[pos:m.start()])
                new_origin.extend(origin[pos:m.start()])
                pos = m.end()
            out.append(s[pos:])
            new_origin.extend(origin[pos:])
            s, origin = "".join(out), new_origin
        return Normalised(s, origin, text)
