"""The matcher's shortcuts give what the long way gives.

Speed comes from skipping work whose result is known: text no normalisation step touches, a
seam of such text read in one scan, jieba asked only when the window holds a longer dictionary
word around the hit. Each shortcut is checked here against the long way, on the development
set, both benchmark mixes and disguised text, so a change to the lexicon or the normaliser that
breaks one shows here rather than as a silently different verdict.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from monitor.matching import Lexicon, Matcher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from matcher_speed import LOOKALIKES, SPECIES_PHRASES, generate  # noqa: E402

DISGUISED = ["象 牙 手镯", "xiang4ya2 吊坠", "象ㄧㄚˊ", "犀（）角", "象—牙", "🐘🦷 手串", "ＸＮ角", "象牙手鐲",
             "白·塑·膠", "白塑 胶手串", "其实 系象牙", "长毛象牙", "a1", "xiang", "5克", "手鈪 50克", "【】", "(", ")"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load(), model=None)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "listings_dev.jsonl").read_text(encoding="utf-8").splitlines()
            if line]
    out = [row[f] for row in rows for f in ("title", "description")]
    for species_share, lookalike_share in ((0.05, 0.03), (0.6, 0.35)):
        out += [x[f] for x in generate(400, 11, species_share, lookalike_share) for f in ("title", "description")]
    rng = random.Random(5)
    pieces = DISGUISED + SPECIES_PHRASES + LOOKALIKES
    out += ["".join(rng.choice(pieces) + rng.choice(["", " ", "，", "\n"]) for _ in range(rng.randrange(1, 5)))
            for _ in range(600)]
    return out


def test_unchanged_text_is_its_own_normal_form(matcher: Matcher, texts: list[str]) -> None:
    normaliser = matcher.normaliser
    unchanged = 0
    for text in texts:
        assert normaliser.with_offsets(text) == normaliser._with_offsets(text), text
        if normaliser.unchanged(text):
            unchanged += 1
            assert normaliser.prefilter(text) == text, text
    assert 100 < unchanged < len(texts)


def test_seam_shortcut_agrees_with_the_long_way(matcher: Matcher, texts: list[str]) -> None:
    prefilter, count = matcher.normaliser.prefilter, matcher._scanner.spelling_count
    rng = random.Random(9)
    crossing = cleans = 0
    pairs = [(rng.choice(texts)[-rng.randrange(1, 25):], rng.choice(texts)[:rng.randrange(1, 25)]) for _ in range(3000)]
    for phrase in SPECIES_PHRASES + LOOKALIKES + DISGUISED:  # terms split at every place
        pairs += [(rng.choice(texts)[-8:] + phrase[:k], phrase[k:] + rng.choice(texts)[:8]) for k in range(len(phrase) + 1)]
    for left, right in pairs:
        long_way = count(prefilter(left + "\n" + right)) > count(prefilter(left)) + count(prefilter(right))
        assert matcher._seam_has_more(left, right) == long_way, (left, right)
        _, plain, clean = matcher.normaliser.prefilter_listing(left + "\n" + right)
        if clean:  # a seam of a clean listing, told so
            assert matcher._seam_has_more(left, right, plain, clean) == long_way, (left, right)
            cleans += 1
        crossing += long_way
    assert crossing > 50 and cleans > 1000


def test_jieba_is_skipped_only_where_it_would_not_absorb(matcher: Matcher, texts: list[str]) -> None:
    segmenter, lexicon_words = matcher._segmenter, matcher._lexicon_words
    asked = absorbed = 0
    for text in texts:
        s = matcher.normaliser.with_offsets(text).text
        for start in range(0, len(s) - 1, 3):
            end = start + 2
            lo, hi = max(0, start - 8), min(len(s), end + 8)
            window, a, b = s[lo:hi], start - lo, end - lo
            jieba = next(((w not in lexicon_words and segmenter.stock_frequency(w) > 0)
                          for w, w_start, w_end in segmenter.tokenize(window)
                          if w_start <= a and b <= w_end and w_end - w_start > b - a), False)
            assert matcher._absorbed_in(window, a, b) == jieba, (window, a, b)
            asked += 1
            absorbed += jieba
    assert asked > 1000 and absorbed > 10


def test_a_plain_listing_asks_once_for_all_its_pieces(matcher: Matcher, texts: list[str]) -> None:
    """A text no step but dropping separators touches: so is every piece of it, and the steps
    told so (``plain``) give what they give when they ask themselves."""
    normaliser = matcher.normaliser
    rng = random.Random(13)
    plain = cleans = 0
    for _ in range(1500):
        left, right = rng.choice(texts), rng.choice(texts)
        joined = left + "\n" + right
        if not normaliser.nothing_rewritten(joined):
            continue
        plain += 1
        assert normaliser.prefilter(joined, True) == normaliser.prefilter(joined), joined
        for piece in (left, right, left[-10:] + "\n" + right[:10]):
            assert normaliser.nothing_rewritten(piece), piece
            assert normaliser.with_offsets(piece, True) == normaliser._with_offsets(piece), piece
        assert normaliser.prefilter_pair(left[-24:], right[:24], True) == \
            normaliser.prefilter_pair(left[-24:], right[:24]), joined
        loose, told_plain, clean = normaliser.prefilter_listing(joined)
        assert (loose, told_plain) == (normaliser.prefilter(joined), True), joined
        if clean:  # and its pieces told so normalise as when they ask
            cleans += 1
            for piece in (left, right, left[-10:] + "\n" + right[:10]):
                assert normaliser.with_offsets(piece, True, True) == normaliser._with_offsets(piece), piece
            assert normaliser.prefilter_pair(left[-24:], right[:24], True, True) == \
                normaliser.prefilter_pair(left[-24:], right[:24]), joined
    assert plain > 300 and 100 < cleans < plain
    for text in texts:  # and of any text, what nothing_rewritten and prefilter say
        loose, told_plain, _ = normaliser.prefilter_listing(text)
        assert (loose, told_plain) == (normaliser.prefilter(text), normaliser.nothing_rewritten(text)), text


def test_quick_searches_find_what_the_plain_ones_find(matcher: Matcher, texts: list[str]) -> None:
    """Separator runs found by a pattern written for sre's skip, regional words by a regex: the
    same runs and the same answer as the plain pattern and the automaton, emoji words included."""
    import re

    from monitor.matching import separators

    normaliser = matcher.normaliser
    plain_run = re.compile(f"(?:[{separators.SEP}]|{separators.EMPTY_BRACKETS}){{1,3}}")
    found = 0
    for text in texts + ["🐘牙 手串", "其实 系", "象（）（）（）（）牙", "象 【】 牙", "🐘 🦷"]:
        assert [m.span() for m in separators.SEPARATOR_RUN.finditer(text)] == \
            [m.span() for m in plain_run.finditer(text)], text
        automaton = next(normaliser._regional_finder.iter(text), None) is not None
        assert normaliser._has_regional(text) == automaton, text
        found += automaton
    assert found > 5


def test_bitmap_separator_classes_find_what_the_full_ones_find(texts: list[str]) -> None:
    """Text without an astral character is read with separator classes written as one bitmap
    (no emoji range, whitespace spelled out): the same characters, runs and deletions."""
    from monitor.matching import char_tables, separators

    for cp in range(0x10000):
        ch = chr(cp)
        assert (separators.SEPARATOR_ANY.fullmatch(ch) is None) == (separators.SEPARATOR_ANY_BMP.fullmatch(ch) is None), cp
    checked = 0
    for text in texts + ["象 \u3000\t牙", "象（）（）（）（）牙", "犀\u2028角", "象 【】 牙"]:
        if char_tables.ANY_ASTRAL.search(text):
            continue
        checked += 1
        assert [m.span() for m in separators.SEPARATOR_RUN_BMP.finditer(text)] == \
            [m.span() for m in separators.SEPARATOR_RUN.finditer(text)], text
        assert separators.SEPARATOR_ANY_BMP.sub("", text) == separators.SEPARATOR_ANY.sub("", text), text
    assert checked > 1000


def test_jieba_cache_read_in_one_piece_is_jiebas_own(tmp_path: Path) -> None:
    """The segmenter reads jieba's cache itself (one read instead of thousands): the same
    dictionary as jieba's own initialize, and a custom dictionary newer than its cache is
    rebuilt, as jieba would."""
    import os

    import jieba

    from monitor.matching.segmenter import initialize

    words = tmp_path / "words.txt"
    words.write_text("象牙 5 n\n犀角 3 n\n", encoding="utf-8")

    def tokenizer() -> "jieba.Tokenizer":
        t = jieba.Tokenizer(str(words))
        t.tmp_dir, t.cache_file = str(tmp_path), "test.cache"
        return t

    built = tokenizer()
    built.initialize()  # jieba builds the dictionary and writes its cache
    ours = tokenizer()
    initialize(ours)
    assert ours.initialized and ours.FREQ == built.FREQ and ours.total == built.total
    words.write_text("象牙 5 n\n犀角 3 n\n玳瑁 2 n\n", encoding="utf-8")
    later = os.path.getmtime(tmp_path / "test.cache") + 10
    os.utime(words, (later, later))  # the dictionary is now newer than the cache
    again = tokenizer()
    initialize(again)
    assert "玳瑁" in again.FREQ
