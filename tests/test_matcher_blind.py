"""Generalisation floor on a blind-authored set, and the mechanisms added for what it exposed.

tests/data/listings_blind.jsonl (240 listings) was written from the labelling guide and the
domain notes only, before its author read the matcher, the lexicon or the development set, to
estimate how the matcher does on listings written by other hands. The floors sit a little below
what the matcher scores now, so a change that loses generality fails here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from monitor.matching import Lexicon, Matcher

DATA = Path(__file__).parent / "data" / "listings_blind.jsonl"
BENCH = Path(__file__).parent.parent / "benchmarks" / "matcher_quality.py"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


@pytest.fixture(scope="module")
def scores(matcher: Matcher) -> dict:
    spec = importlib.util.spec_from_file_location("matcher_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 240
    predictions = {}
    for row in rows:
        result = matcher.match({"title": row["title"], "description": row["description"]})
        predictions[row["id"]] = (result.flagged, result.species)
    return module.evaluate(rows, predictions)


def test_blind_precision_recall_floor(scores: dict) -> None:
    assert scores["precision"] >= 0.97, scores
    assert scores["recall"] >= 0.97, scores


def test_blind_species_accuracy_floor(scores: dict) -> None:
    assert scores["species_accuracy"] >= 0.97, scores


def test_blind_every_trick_mostly_right(scores: dict) -> None:
    for (label, trick), (right, total) in scores["by_trick"].items():
        assert right / total >= 0.9, (label, trick, right, total)


# -- mechanisms ----------------------------------------------------------------------------

@pytest.mark.parametrize("title, species, trick", [
    ("象ㄧㄚˊ手鐲 內徑56", "ivory", "pinyin_mix"),        # Taiwan zhuyin for 牙
    ("穿ㄕㄢ甲片 50克", "pangolin", "pinyin_mix"),
])
def test_zhuyin_spelled_as_pinyin(matcher: Matcher, title: str, species: str, trick: str) -> None:
    result = matcher.match({"title": title})
    assert result.species == [species]
    assert result.matches[0].trick == trick
    start, end = result.matches[0].start, result.matches[0].end
    assert "ㄧ" in title[start:end] or "ㄕ" in title[start:end]   # offsets still index the original


def test_regional_words_hidden_by_separators(matcher: Matcher) -> None:
    result = matcher.match({"title": "白~塑~膠 手串 10mm", "description": "有網格紋"})
    assert result.species == ["ivory"]


@pytest.mark.parametrize("title", [
    "象—牙 手镯 老料", "象…牙 吊坠 观音", "象〜牙 印章 一方", "象ー牙 手串 108颗", "象丨牙 镯子 老货",
    "象（）牙 手串 108颗", "象【】牙 手镯 老料",
])
def test_more_separators(matcher: Matcher, title: str) -> None:
    assert matcher.match({"title": title}).species == ["ivory"]


def test_punctuation_still_separates_words(matcher: Matcher) -> None:
    # a sentence full stop or bracketed aside is not a separator: no word is glued together
    assert not matcher.match({"title": "小象（玩偶）。牙刷 儿童款"}).flagged


@pytest.mark.parametrize("title", ["大象牙膏实验套装 儿童科学", "小象牙刷 儿童软毛 4支装"])
def test_hit_ending_inside_an_everyday_word(matcher: Matcher, title: str) -> None:
    assert not matcher.match({"title": title}).flagged


def test_an_ivory_toothbrush_handle_is_still_ivory(matcher: Matcher) -> None:
    assert matcher.match({"title": "老象牙 牙刷柄 民国"}).species == ["ivory"]


def test_product_homophones_swap_only_the_animal(matcher: Matcher) -> None:
    assert matcher.match({"title": "报皮 整张 老货", "description": "真皮，毛色好"}).species == ["leopard"]
    # 狮骨 must not turn into 湿骨 (风湿骨痛), nor 牙雕 into 牙吊 (吊坠)
    result = matcher.match({"title": "唬骨粉 风湿骨痛", "description": "一两装"})
    assert result.species == ["tiger"]
    assert matcher.match({"title": "豹牙吊坠 一对"}).species == ["leopard"]


def test_toy_sizes_do_not_outweigh_toy_context(matcher: Matcher) -> None:
    result = matcher.match({"title": "毛绒大象 玩具", "description": "带白色长象牙，高40cm"})
    assert not result.flagged


@pytest.mark.parametrize("title", [
    "寿山石 黄料 印章 一对", "黑色PP塑料颗粒 黑塑料回收料 注塑用", "鹤顶红 特调 鸡尾酒 团购",
    "牙雕机 电磨 雕刻工具", "象牙卡 300g 名片纸", "鹤顶红 口红 色号", "穿山甲 钻头 冲击钻 6mm",
    "红料 柿子红 保山 手串", "三白草 中药材 500克", "大虫子 钓鱼 活饵", "鹤顶红 锦鲤 一条",
])
def test_innocent_contexts(matcher: Matcher, title: str) -> None:
    assert not matcher.match({"title": title}).flagged


@pytest.mark.parametrize("title, species", [
    ("非洲原牙一整根 2.3公斤", ["ivory"]),
    ("山君骨 泡酒 一副", ["tiger"]),
    ("虎豹骨 一副 泡酒", ["tiger", "leopard"]),
    ("豹pi 一张 真皮", ["leopard"]),
])
def test_lexicon_breadth(matcher: Matcher, title: str, species: list[str]) -> None:
    assert matcher.match({"title": title}).species == species


def test_other_animals_tusks_are_not_ivory(matcher: Matcher) -> None:
    assert not matcher.match({"title": "海象牙 原牙 一根", "description": "阿拉斯加海象"}).flagged


def test_pinyin_with_repeated_spaces(matcher: Matcher) -> None:
    assert matcher.match({"title": "xiang   ya 手镯 老料"}).species == ["ivory"]


def test_plant_nurseries_and_costumes_are_innocent(matcher: Matcher) -> None:
    assert not matcher.match({"title": "鹤顶红 苹果 新品种 树苗"}).flagged
    assert not matcher.match({"title": "虎皮 纹 cosplay 服装 漫展"}).flagged


def test_mammoth_cover_features(matcher: Matcher) -> None:
    honest = {"title": "猛犸象牙 手串", "description": "西伯利亚出土，有风化纹，皮色漂亮"}
    assert not matcher.match(honest).flagged
    given_away = {"title": "猛犸象牙 吊坠", "description": "检测是现代象牙，白"}
    result = matcher.match(given_away)
    assert result.species == ["ivory"] and {m.trick for m in result.matches} == {"legal_cover"}


@pytest.mark.parametrize("title, species", [
    ("黑料 杯 配紫檀底座 鱼籽纹", ["rhino_horn"]),
    ("鹤顶 挂件 配南红 隔珠", ["hornbill"]),
    ("白料 手串 配蜜蜡隔珠 交叉纹", ["ivory"]),
    ("犀角杯 赠送 小玩具", ["rhino_horn"]),
])
def test_accessories_do_not_make_the_item_innocent(matcher: Matcher, title: str, species: list[str]) -> None:
    assert matcher.match({"title": title}).species == species


def test_materials_of_the_item_itself_still_innocent(matcher: Matcher) -> None:
    assert not matcher.match({"title": "和田玉 白料 手镯 送红木盒"}).flagged
    assert not matcher.match({"title": "黑檀 黑料 手串 配南红"}).flagged


def test_space_between_items_keeps_them_apart(matcher: Matcher) -> None:
    assert matcher.match({"title": "回收 鹤顶红 象牙 犀角 老件"}).species == ["ivory", "rhino_horn", "hornbill"]
    assert matcher.match({"title": "红象牙 挂件 红皮黄肉"}).species == ["hornbill"]
    assert not matcher.match({"title": "象牙 色 沙发 三人位"}).flagged


def test_teeth_sold_together(matcher: Matcher) -> None:
    assert matcher.match({"title": "狼牙 虎牙 豹牙 一起出 真牙"}).species == ["tiger", "leopard"]


@pytest.mark.parametrize("title, species", [
    ("X J 粉 退烧 5克", ["rhino_horn"]),          # spaced initials
    ("希脚 片 退烧", ["rhino_horn"]),              # both characters swapped
    ("琥古 泡酒 一副", ["tiger"]),
    ("海🐢壳 标本 一个", ["hawksbill"]),            # animal emoji
])
def test_more_disguises(matcher: Matcher, title: str, species: list[str]) -> None:
    assert matcher.match({"title": title}).species == species


def test_mammoth_emoji_is_the_mammoth_cover(matcher: Matcher) -> None:
    assert not matcher.match({"title": "🦣牙 手串", "description": "带皮，有沁，附证书"}).flagged


@pytest.mark.parametrize("title, description, species", [
    ("虎骨 一副", "可以用汽车送货上门", ["tiger"]),          # a count outweighs a stray innocent word
    ("玳瑁 梳子", "以前在邮票店收的，老货", ["hawksbill"]),   # so does a product character by the hit
])
def test_stray_innocent_words_in_boilerplate(matcher: Matcher, title: str, description: str,
                                             species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


@pytest.mark.parametrize("title, species", [
    ("xiang4ya2 手镯 老料", ["ivory"]),
    ("xi1 jiao3 片 退烧 5克", ["rhino_horn"]),
    ("hu3gu3 泡酒 一副", ["tiger"]),
])
def test_pinyin_tone_digits(matcher: Matcher, title: str, species: list[str]) -> None:
    assert matcher.match({"title": title}).species == species


def test_digits_in_ordinary_words_stay(matcher: Matcher) -> None:
    assert matcher.normalise("iPhone15 mp3 v2") == "iphone15 mp3 v2"


def test_toothbrush_alone_is_not_a_candidate(matcher: Matcher) -> None:
    result = matcher.match({"title": "电动牙刷 全新", "description": "送刷头"})
    assert not result.flagged and not result.rejected
