"""Zhuyin (bopomofo) spelled out as pinyin, so 象ㄧㄚˊ reads as 象ya; pinyin syllables for
recognising tone digits (xiang4ya2).

Taiwan sellers spell a blocked character with the phonetic symbols every Taiwanese keyboard
types; turned into pinyin, the spelling is caught by the pinyin variants the lexicon already
generates. The syllable table comes from pypinyin (never hand-written), built only when a text
actually contains bopomofo.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

BOPOMOFO = re.compile("[\u3105-\u312f\u31a0-\u31bf][\u3105-\u312f\u31a0-\u31bf\u02ca\u02c7\u02cb\u02d9\u02c9]*")
_TONE_MARKS = "\u02ca\u02c7\u02cb\u02d9\u02c9"


def _toneless(syllable: str) -> str:
    base = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in base if not unicodedata.combining(c)).replace("ü", "v")


@lru_cache(maxsize=1)
def syllables() -> dict[str, str]:
    """Toneless bopomofo syllable -> toneless pinyin."""
    from pypinyin import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    table: dict[str, str] = {}
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            spelled = convert(reading, Style.BOPOMOFO, strict=True, default=None)
            if not spelled:
                continue
            key = "".join(c for c in spelled if c not in _TONE_MARKS)
            if key:
                table.setdefault(key, _toneless(reading))
    return table


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (to recognise tone digits: xiang4ya2)."""
    return frozenset(syllables().values())


def spell(run: str) -> list[tuple[str, int]]:
    """Pinyin for a run of bopomofo: (letters, index in ``run`` they come from), longest
    syllables first; a symbol that starts no syllable is spelled as nothing."""
    table = syllables()
    longest = max(map(len, table))
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(run):
        if run[i] in _TONE_MARKS:
            i += 1
            continue
        for size in range(min(longest, len(run) - i), 0, -1):
            letters = table.get(run[i:i + size])
            if letters:
                out.append((letters, i))
                i += size
                break
        else:
            i += 1
    return out
