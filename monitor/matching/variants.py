"""Expanding lexicon terms into the spellings sellers use, once, at load time.

pypinyin is far too slow to run per listing (about 1 ms each), so every term is expanded here
into pinyin and initial forms (象ya, xiang牙, xiangya, XN角, LYJ) and into same-sound character
swaps (希角, 鹤丁红, 川山甲). The matcher then finds all of them with one Aho-Corasick pass.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from pypinyin import lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict


@dataclass(frozen=True)
class Variant:
    text: str       # normalised spelling to search for
    trick: str      # "" (as written), "pinyin_mix", "pinyin" (bare), "homophone"


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _toneless(syllable: str) -> str:
    base = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in base if not unicodedata.combining(c)).replace("ü", "v")


def _is_common(ch: str) -> bool:
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xF7


@lru_cache(maxsize=1)
def same_sound_index() -> dict[str, frozenset[str]]:
    """Toneless syllable -> common (GB2312) characters read that way, by their first (usual)
    reading only: 和 is hé to a seller typing a disguise, and its rare hú made 拿猛犸和骨头
    (mammoth and bone) read as 虎骨."""
    index: dict[str, set[str]] = {}
    for cp, readings in pinyin_dict.items():
        ch = chr(cp)
        if not _is_common(ch):
            continue
        index.setdefault(_toneless(readings.split(",")[0]), set()).add(ch)
    return {k: frozenset(v) for k, v in index.items()}


def pinyin_variants(term: str, initials_alone: bool = True) -> list[Variant]:
    """Every mix of characters, full syllables and initials; all-Latin forms are 'pinyin'.

    ``initials_alone`` adds the bare initials (XY, LYJ); two letters are too ambiguous for
    anything but the main names, so callers switch it off for short product and code words.
    """
    if not term or not all(_is_cjk(c) for c in term):
        return []
    full = [s.lower() for s in lazy_pinyin(term)]
    initials = [s[0] for s in full]
    out: dict[str, str] = {}
    out["".join(full)] = "pinyin"
    out[" ".join(full)] = "pinyin"
    if initials_alone:
        out["".join(initials)] = "pinyin"
    n = len(term)
    if n <= 4:
        choices = [(term[i], full[i], initials[i]) for i in range(n)]
        for combo in itertools.product(*choices):
            if all(c == term[i] for i, c in enumerate(combo)):
                continue
            if not any(_is_cjk(c) for c in combo):
                continue
            # an initial mixed into a 2-character word (x牙, 象y) only for the main names
            if n == 2 and not initials_alone and any(len(c) == 1 and c.isascii() for c in combo):
                continue
            out.setdefault("".join(combo), "pinyin_mix")
    else:
        for i in range(n):
            out.setdefault(term[:i] + full[i] + term[i + 1:], "pinyin_mix")
    return [Variant(text, trick) for text, trick in out.items()]


PUNCTUATION_SPLITS = ("，", "、", ",")


def punctuation_variants(term: str) -> list[Variant]:
    """The term with sentence punctuation between every character (象，牙, 犀、角): the
    normaliser keeps such punctuation, since stripping it everywhere would glue words together."""
    if not 2 <= len(term) <= 4 or not all(_is_cjk(c) for c in term):
        return []
    return [Variant(mark.join(term), "separator") for mark in PUNCTUATION_SPLITS]


def homophone_variants(
    term: str,
    extra_classes: Iterable[Iterable[str]] = (),
    is_common_word: Callable[[str], bool] = lambda w: False,
    max_swaps: int = 1,
    swappable: str | None = None,
) -> list[Variant]:
    """Same-sound swaps: one character from pypinyin's readings (tones ignored), or up to
    ``max_swaps`` characters from the curated ``extra_classes`` (玳瑁 -> 代帽).

    ``swappable`` limits the swaps to these characters: a product word is disguised through
    its animal (豹皮 -> 报皮), while swapping its other characters mostly spells ordinary
    text (牙雕 -> 牙吊坠, 狮骨 -> 风湿骨痛)."""
    if not all(_is_cjk(c) for c in term):
        return []
    index = same_sound_index()
    readings = [_toneless(s) for s in lazy_pinyin(term)]
    classes: dict[str, set[str]] = {}
    for group in extra_classes:
        members = set(group)
        for ch in members:
            classes.setdefault(ch, set()).update(members)
    options = [sorted((set(index.get(readings[i], ())) | classes.get(ch, set()) | {ch})) for i, ch in enumerate(term)]
    curated = [sorted(classes.get(ch, set()) | {ch}) for ch in term]
    out: list[Variant] = []
    seen = {term}
    for positions in itertools.chain.from_iterable(
        itertools.combinations([i for i, ch in enumerate(term) if swappable is None or ch in swappable], k)
        for k in range(1, max_swaps + 1)
    ):
        source = options if len(positions) == 1 else curated
        pools = [source[i] if i in positions else [ch] for i, ch in enumerate(term)]
        for combo in itertools.product(*pools):
            if any(combo[i] == term[i] for i in positions):
                continue
            text = "".join(combo)
            if text in seen or is_common_word(text):
                continue
            seen.add(text)
            out.append(Variant(text, "homophone"))
    return out
