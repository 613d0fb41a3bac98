"""Normalisation keeps a map to the original text, so matches can be highlighted in place."""

from __future__ import annotations

import pytest

from monitor.matching import Lexicon, Matcher
from monitor.matching.normalise import Normaliser


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser({"塑胶": "塑料", "长毛象": "猛犸象"})


@pytest.mark.parametrize("text,expected", [
    ("ＸＹ手镯", "xy手镯"),
    ("象\u200b牙\ufeff手镯", "象牙手镯"),
    ("象 * 牙", "象牙"),
    ("鶴頂紅掛件", "鹤顶红挂件"),
    ("白塑膠念珠", "白塑料念珠"),
    ("長毛象牙", "猛犸象牙"),
    ("犀⾓", "犀角"),
    ("老象 ya 梳", "老象ya梳"),
    ("dai mao 手镯", "dai mao手镯"),
    ("象牙，白色", "象牙，白色"),  # sentence punctuation stays: stripping it would glue words
])
def test_normalised_text(normaliser: Normaliser, text: str, expected: str) -> None:
    assert normaliser.with_offsets(text).text == expected
    assert normaliser.fast(text) == expected


@pytest.mark.parametrize("text", ["ＸＹ手镯", "象\u200b牙\ufeff手镯", "象 * 牙 梳", "長毛象牙手鐲", "a\u3000象/牙"])
def test_every_character_maps_back(normaliser: Normaliser, text: str) -> None:
    norm = normaliser.with_offsets(text)
    assert len(norm.origin) == len(norm.text)
    assert norm.origin == sorted(norm.origin)
    assert all(0 <= i < len(text) for i in norm.origin)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


@pytest.mark.parametrize("text,span_text", [
    ("全新 象 * 牙 手镯 一只", "象 * 牙 手镯"),
    ("出 象\u200b牙手镯", "象\u200b牙手镯"),
    ("九成新，鶴頂紅掛件，南洋", "鶴頂紅"),
    ("舊物 白塑膠念珠 108顆", "白塑膠"),
    ("好料 ＸＹ手镯 满纹", "ＸＹ手镯"),
])
def test_match_offsets_point_into_the_original(matcher: Matcher, text: str, span_text: str) -> None:
    result = matcher.match({"description": text})
    assert result.flagged
    match = result.matches[0]
    assert match.field == "description"
    assert text[match.start:match.end] == match.text == span_text


def test_prefilter_form_never_loses_a_candidate(normaliser: Normaliser) -> None:
    for text in ["象 牙", "xiang ya 手镯", "象-牙", "鶴 頂 紅"]:
        assert normaliser.fast(text).replace(" ", "") == normaliser.prefilter(text)
