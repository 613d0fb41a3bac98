"""The general mechanisms of issue 12 (item 3 and 4), each on listings written for this test.

None of these listings comes from the development or the blind set: they were written before
the blind set was scored again, one kind of error at a time (look-alike letters, emoji, a term
split across title and description, product types named after animals, foreign trade names,
context real sellers give, cover wording that confirms), plus what is on offer on every flag.
"""

from __future__ import annotations

import pytest

from monitor.matching import Lexicon, Matcher
from monitor.matching.normalise import Normaliser, confusable_latin


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


# -- Unicode confusables (TR39 skeletons), non-Han runs only ------------------------------

@pytest.mark.parametrize("title, species", [
    ("ХY手镯 满纹 圈口56", ["ivory"]),          # Cyrillic Ха
    ("Χ\u039d角 杯 老件", ["rhino_horn"]),        # Greek Chi and Nu
    ("LΥЈ 片 50克 清热", ["saiga"]),              # Greek Upsilon, Cyrillic Je
    ("ᏟЅЈ片 炮制 100克", ["pangolin"]),           # Cherokee C, Cyrillic Dze and Je
])
def test_look_alike_letters_inside_abbreviations(matcher: Matcher, title: str, species: list[str]) -> None:
    result = matcher.match({"title": title})
    assert result.species == species
    m = result.matches[0]
    assert title[m.start:m.end] == m.text and m.text[0] in title   # offsets index the original


def test_skeletons_leave_chinese_and_its_scripts_alone() -> None:
    n = Normaliser()
    # 丫 looks like Y, ㄧ like l, ロ like 口: folding them would make initials out of Chinese
    assert n.fast("丫头 ロ") == "丫头 ロ"
    assert n.fast("象ㄧㄚˊ") == "象ya"           # zhuyin is still spelled, not folded
    assert n.fast("3×4 cm") == "3×4 cm"           # symbols are not letters
    assert all(not (0x3400 <= cp <= 0x9FFF) for cp in confusable_latin())


def test_skeleton_is_from_the_library_data() -> None:
    table = confusable_latin()
    assert table[ord("х")] == "x" and table[ord("Ν")] == "n" and table[ord("Ј")] == "j"
    assert len(table) > 200   # hundreds of letters, not a hand-written list


def test_other_alphabets_words_are_not_abbreviations(matcher: Matcher) -> None:
    # a Russian word folds in part (хорошо -> xopoшo) but stays a word: no initials inside it
    assert not matcher.match({"title": "Сувенир хорошо xyz 手镯"}).flagged
