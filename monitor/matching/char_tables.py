"""The character tables of normalisation: NFKC and lower case per character, TR39 skeletons of
look-alike letters, invisible characters, and the characters OpenCC converts, each with the
regex class that tells whether a text needs the step at all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from confusable_homoglyphs import confusables as _confusables
from confusable_homoglyphs.categories import alias as _script

from monitor.matching.separators import SEPARATOR_CHARS

INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b"
    "\u206c\u206d\u206e\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a"
    "\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)
INVISIBLE_CHARS = re.compile(f"[{INVISIBLE}]")


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


def char_class(codepoints: list[int]) -> re.Pattern[str]:
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
def needs_translation() -> re.Pattern[str]:
    """Characters of the BMP that the translate table changes (astral ones: astral_special)."""
    return char_class([cp for cp in translate_table() if cp < 0x10000])


# Character classes that mix BMP and astral code points lose sre's bitmap and are searched range
# by range (40 us per listing instead of 2), so the astral part is checked on its own.
ANY_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def astral_special() -> re.Pattern[str]:
    """Astral characters the translate table changes (math letters, enclosed letters, look-alike
    letters of old alphabets): a class of astral code points only."""
    return char_class([cp for cp in translate_table() if cp >= 0x10000])


@lru_cache(maxsize=1)
def traditional_list() -> tuple[str, ...]:
    """Characters OpenCC changes on their own: a listing without any needs no conversion."""
    converter = opencc.OpenCC("tw2sp")
    chars = [chr(c) for c in list(range(0x3400, 0xA000)) + list(range(0xF900, 0xFB00))]
    converted = converter.convert("\n".join(chars)).split("\n")
    return tuple(a for a, b in zip(chars, converted) if a != b) if len(converted) == len(chars) else tuple(chars)


@lru_cache(maxsize=1)
def traditional_chars() -> re.Pattern[str]:
    return char_class([ord(c) for c in traditional_list()])
