"""Separators sellers wedge between the characters of a word (象 牙, 象*牙, 鹤/顶/红, 象 ya,
象（）牙, xiang4ya2), and where in a text they are taken out.

Sentence punctuation is not among them: stripping it would glue unrelated words together.
"""

from __future__ import annotations

import re

from monitor.matching.zhuyin import pinyin_syllables

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Characters sellers wedge between the characters of a word. Sentence punctuation (，。、：；！？
# brackets, quotes) is deliberately absent: stripping it would glue unrelated words together.
SEP = (
    r"\s*/\\.\u00b7\u2022\u30fb\u2027\-_~|+#=^`'@$%&\u2605\u2606\u2665\u2661\u2764\u25c6\u25c7"
    r"\u25cb\u25cf\u25ce\u203b\u2192\u2190\u00d7\u2716\u2573\u3000\u2500-\u257f\u25a0-\u25ff"
    r"\u2600-\u27bf\U0001f300-\U0001faff"
    # dashes and ellipses, wave dashes, the katakana long mark and the stroke 丨 (象—牙, 犀…角, 象丨牙)
    r"\u2010-\u2016\u2026\u2219\u22c5\u00a6\u301c\u3030\u30fc\u4e28"
)
# an empty pair of brackets wedged into a word (象（）牙, 象【】牙)
EMPTY_BRACKETS = r"\(\)|（）|\[\]|［］|【】|「」|『』|〔〕|〖〗"
SEPARATOR_CHARS = re.compile(f"[{SEP}]")


def run_of(body: str) -> re.Pattern[str]:
    """One to three separators or empty bracket pairs, written as one then up to two more: a
    pattern that starts with a choice of characters lets sre skip to where a run can start."""
    one = f"(?:[{body}]|{EMPTY_BRACKETS})"
    return re.compile(f"{one}{one}{{0,2}}")


SEPARATOR_RUN = run_of(SEP)
SEPARATOR_ANY = re.compile(f"[{SEP}]+")
# The same for text without an astral character (most): with the emoji range left out and \s
# spelled out, the class is one bitmap instead of a list of ranges sre walks for every character
# (and to delete separators, one at a time is quicker than by runs)
SEP_BMP = SEP.replace(r"\U0001f300-\U0001faff", "").replace(
    r"\s", "".join(re.escape(chr(c)) for c in range(0x10000) if chr(c).isspace()))
SEPARATOR_RUN_BMP = run_of(SEP_BMP)
SEPARATOR_ANY_BMP = re.compile(f"[{SEP_BMP}]")
EMPTY_BRACKET_PAIR = re.compile(EMPTY_BRACKETS)
OPENING_BRACKET = re.compile(r"[(（\[［【「『〔〖]")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _is_cjk(ch: str) -> bool:
    return ("\u4e00" <= ch <= "\u9fff") or ("\u3400" <= ch <= "\u4dbf") or ("\uf900" <= ch <= "\ufaff")


def separator_spans(s: str, run: re.Pattern[str] = SEPARATOR_RUN, kept: frozenset[str] = frozenset(),
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
    if tones and LETTER_DIGIT.search(s) and TONE_DIGIT.search(s):
        spans = sorted(spans + _tone_digit_spans(s))
    return spans


TONE_DIGIT = re.compile(r"(?<=[a-z])[1-5](?![0-9])")
LETTER_DIGIT = re.compile("[a-z][1-5]")  # what a tone number needs, found quicker than the number
_LETTERS_BEFORE = re.compile(r"[a-z]+$")


def _tone_digit_spans(s: str) -> list[tuple[int, int]]:
    """Tone numbers after pinyin syllables (xiang4ya2, 象ya2, xi1jiao3): dropped."""
    syllables = pinyin_syllables()
    spans = []
    for m in TONE_DIGIT.finditer(s):
        letters = _LETTERS_BEFORE.search(s, max(0, m.start() - 6), m.start())
        if letters and any(letters.group()[i:] in syllables for i in range(len(letters.group()))):
            spans.append((m.start(), m.end()))
    return spans


def _single_letter(s: str, i: int) -> bool:
    """``s[i]`` is a Latin letter standing alone (an initial), not part of a word."""
    return not (i > 0 and s[i - 1].isascii() and s[i - 1].isalnum()) and \
        not (i + 1 < len(s) and s[i + 1].isascii() and s[i + 1].isalnum())


def strip_separators(s: str, run: re.Pattern[str] = SEPARATOR_RUN, kept: frozenset[str] = frozenset()) -> str:
    spans = separator_spans(s, run, kept)
    if not spans:
        return s
    out, pos = [], 0
    for a, b in spans:
        out.append(s[pos:a])
        pos = b
    out.append(s[pos:])
    return "".join(out)


def separators_but(kept: frozenset[str]) -> str:
    """The separator class body less ``kept`` (astral emoji only: the rest is written out)."""
    body = SEP.replace(r"\U0001f300-\U0001faff", "")
    lo, parts = 0x1F300, []
    for cp in sorted(ord(c) for c in kept if 0x1F300 <= ord(c) <= 0x1FAFF):
        if cp > lo:
            parts.append(f"{chr(lo)}-{chr(cp - 1)}")
        lo = cp + 1
    if lo <= 0x1FAFF:
        parts.append(f"{chr(lo)}-{chr(0x1FAFF)}")
    return body + "".join(parts)
