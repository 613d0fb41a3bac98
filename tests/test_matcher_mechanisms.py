"""The general mechanisms of issue 12 (item 3 and 4), each on listings written for this test.

None of these listings comes from the development or the blind set: they were written before
the blind set was scored again, one kind of error at a time (look-alike letters, emoji, a term
split across title and description, product types named after animals, foreign trade names,
context real sellers give, cover wording that confirms), plus what is on offer on every flag.
"""

from __future__ import annotations

import pytest

from monitor.matching import Lexicon, Matcher
from monitor.matching.char_tables import confusable_latin
from monitor.matching.normalise import Normaliser


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


# -- emoji sequences as lexicon terms ------------------------------------------------------

@pytest.mark.parametrize("title, description, species", [
    ("🐘🦷手镯 圈口58", "老料 满纹", ["ivory"]),
    ("🐘 🦷 挂件 观音", "", ["ivory"]),                 # spaced like Chinese characters
    ("🐯🦴 一副", "泡酒用 老东西", ["tiger"]),
    ("🐅🦴 半斤", "", ["tiger"]),
    ("🐆🦷 吊坠 一颗", "", ["leopard"]),
    ("🦏角 杯 老件", "", ["rhino_horn"]),               # an animal emoji before a word
    ("🐦顶红 挂件 红黄分明", "", ["hornbill"]),          # an emoji for one character of a name
])
def test_emoji_terms(matcher: Matcher, title: str, description: str, species: list[str]) -> None:
    result = matcher.match({"title": title, "description": description})
    assert result.species == species
    m = result.matches[0]
    assert m.trick == "code_word" and title[m.start:m.end] == m.text


@pytest.mark.parametrize("title", ["儿童🦷刷 🐘图案 软毛", "🐘🦷", "宝宝🦷膏 🐯卡通"])
def test_emoji_alone_or_in_daily_goods_are_not_offers(matcher: Matcher, title: str) -> None:
    assert not matcher.match({"title": title}).flagged


def test_other_emoji_still_separate_nothing(matcher: Matcher) -> None:
    assert matcher.match({"title": "象🎉牙 手镯 老料"}).species == ["ivory"]


@pytest.fixture()
def lexicon_copy(tmp_path):
    import shutil
    from pathlib import Path

    target = tmp_path / "lexicon"
    target.mkdir()
    for path in Path(Lexicon.load().source).glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.mark.parametrize("term, says", [
    ("✂🐘", "separator"),            # a symbol the normaliser strips cannot be in a term
    ("🐘", "single emoji"),
])
def test_bad_emoji_term_names_file_line_and_field(lexicon_copy, term: str, says: str) -> None:
    from monitor.exceptions import KeywordFileError

    path = lexicon_copy / "ivory.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - term: 🐘🦷\n", f"  - term: {term}\n", 1), encoding="utf-8")
    line_no = next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                   if line == f"  - term: {term}")
    with pytest.raises(KeywordFileError) as err:
        Lexicon.load(lexicon_copy)
    message = str(err.value)
    assert f"ivory.yaml:{line_no}:" in message and ".term:" in message and says in message


# -- title and description read as one text -----------------------------------------------

@pytest.mark.parametrize("title, description, species, text", [
    ("老料 象", "牙手镯 圈口56", ["ivory"], "象\n牙手镯"),
    ("出一只 犀", "角杯 清代", ["rhino_horn"], "犀\n角杯"),
    ("穿山", "甲片 50克 炮制", ["pangolin"], "穿山\n甲片"),
])
def test_term_split_across_title_and_description(matcher: Matcher, title: str, description: str,
                                                 species: list[str], text: str) -> None:
    result = matcher.match({"title": title, "description": description})
    assert result.species == species
    assert [m.field for m in result.matches] == ["title+description"]   # one hit, not also 甲片
    m = result.matches[0]
    assert m.text == text and (title + "\n" + description)[m.start:m.end] == text


def test_split_innocent_compound_stays_innocent(matcher: Matcher) -> None:
    assert not matcher.match({"title": "小象", "description": "牙刷 儿童 软毛"}).flagged
    assert not matcher.match({"title": "经典 玳瑁", "description": "色眼镜框 板材"}).flagged


def test_whole_terms_in_each_field_are_not_counted_again(matcher: Matcher) -> None:
    result = matcher.match({"title": "象牙手镯", "description": "象牙手镯 老料"})
    assert [m.field for m in result.matches] == ["title", "description"]


# -- product types named after an animal ---------------------------------------------------

@pytest.mark.parametrize("title, description, kind", [
    ("豹子皮 纹理 毛绒公仔 40cm", "柔软 送礼", "toy"),
    ("犀牛角 手办 树脂涂装", "限量款", "toy"),
    ("清代象牙雕刻 拍卖 图录", "大16开 300页", "book"),
    ("鹤顶红 相册 老照片", "胶片时代 影集一本", "book"),
    ("穿山甲 盾构机 配件", "机械 设备 型号齐全", "machine"),
    ("XY轴 滑台 丝杆 行程200", "步进电机 驱动", "machine"),
    ("穿山甲 软件 激活码", "永久授权", "software"),
    ("鹤顶红 手游 账号 出售", "满级", "software"),
    ("金钱豹 男装 夹克", "吊牌齐全 正品", "garment"),
    ("保护穿山甲 公益 徽章", "义卖款 一枚", "badge"),
    ("人工虎骨粉 胶囊", "国药准字 壮骨关节", "substitute_medicine"),
    ("复古 虎骨酒 海报", "印刷 50x70cm 挂墙", "print"),
    ("犀角杯 拍卖 宣传单", "铜版纸 双面", "print"),
    ("ivory 洗衣粉 家庭装", "低泡 易漂", "household"),
    ("雪豹 操作系统 光盘", "原装 未拆", "software"),
    ("象牙 仙人球 带盆", "群生 好养", "plant"),
    ("穿山甲 保育 T恤", "公益 义卖 全码", "garment"),   # 保育 describes the shirt, denies nothing
])
def test_product_types_clear_a_name_hit(matcher: Matcher, title: str, description: str, kind: str) -> None:
    result = matcher.match({"title": title, "description": description})
    assert not result.flagged
    reasons = {reason for _, reason in result.rejected}
    assert any(kind in r for r in reasons) or any("depiction" in r or "innocent" in r or "negated" in r
                                                  for r in reasons), reasons


@pytest.mark.parametrize("title, description, species", [
    ("象牙手镯 网格纹清晰", "老料 不是玩具", ["ivory"]),                # negated type word
    ("犀角杯 清代", "送毛绒公仔一个", ["rhino_horn"]),                   # an accessory
    ("象牙雕件 人物", "有网格纹 附图录一本", ["ivory"]),                 # species context outweighs
    ("老虎骨 一副 泡酒", "过审写工具 懂的来", ["tiger"]),                 # a giveaway outweighs
])
def test_real_offers_with_a_product_type_word(matcher: Matcher, title: str, description: str,
                                              species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


def test_only_a_denial_negates_a_type_word(matcher: Matcher) -> None:
    # 保护 before an animal's name clears the name; before a type word it denies nothing
    assert not matcher.match({"title": "保护穿山甲", "description": "公益宣传"}).flagged
    assert matcher.match({"title": "穿山甲片 一斤", "description": "不是T恤 是真货"}).species == ["pangolin"]


def test_latin_type_words_are_whole_words(matcher: Matcher) -> None:
    # app inside WhatsApp is no software listing
    result = matcher.match({"title": "象牙手镯 老料", "description": "联系 WhatsApp"})
    assert result.species == ["ivory"]


# -- context real sellers give: origin, price, form, selling cheap ------------------------

@pytest.mark.parametrize("title, description, species", [
    ("非洲 白料 便宜出", "", ["ivory"]),           # origin and selling cheap
    ("黑料 急出 白菜价", "", ["rhino_horn"]),
    ("白料 雕龙牌", "", ["ivory"]),                # a plaque right by the code word
    ("象ya 牌 一块", "", ["ivory"]),               # half pinyin beside a plaque
    ("黄料 老挝 带回", "", ["ivory"]),
    ("十三鳞 2800元", "自留多年", ["hawksbill"]),   # a price after a number
])
def test_trade_context_confirms_weak_evidence(matcher: Matcher, title: str, description: str,
                                              species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


@pytest.mark.parametrize("title", [
    "非洲 花梨 黄料 便宜出",        # the other material's grade
    "黑料 卫衣 便宜出 300元",       # clothing
    "鹤顶红 口红 色号 特价出 59元",  # cosmetics
])
def test_trade_context_does_not_outweigh_innocent_words(matcher: Matcher, title: str) -> None:
    assert not matcher.match({"title": title}).flagged


# -- foreign trade names for tortoiseshell --------------------------------------------------

@pytest.mark.parametrize("title, description", [
    ("べっ甲 かんざし", "江户时代 老件"),
    ("bekko 手镯 老件", ""),
    ("pulsera de carey de tortuga", "antigua"),
    ("peigne en écaille de tortue", "梳子 19世纪"),
    ("Écaille 手串 透光", ""),
])
def test_foreign_tortoiseshell_names(matcher: Matcher, title: str, description: str) -> None:
    assert matcher.match({"title": title, "description": description}).species == ["hawksbill"]


@pytest.mark.parametrize("title, description", [
    ("べっ甲調 眼镜框", "醋酸板材"),
    ("Mariah Carey 专辑 CD", "全新未拆"),
    ("tortoiseshell 猫 领养", "两个月大"),
])
def test_foreign_names_in_innocent_listings(matcher: Matcher, title: str, description: str) -> None:
    assert not matcher.match({"title": title, "description": description}).flagged


@pytest.mark.parametrize("title, description, species", [
    ("marfil 手镯 回流", "欧洲带回", ["ivory"]),
    ("Ivoire 雕件 老件", "", ["ivory"]),
    ("cuerno de rinoceronte 杯", "", ["rhino_horn"]),
    ("サイの角 杯 老件", "", ["rhino_horn"]),
    ("ngà voi 吊坠", "越南带回", ["ivory"]),
    ("sừng tê 粉 一份", "", ["rhino_horn"]),
    ("jeung ngaa 手鈪", "老件 內徑56", ["ivory"]),
])
def test_other_languages_names(matcher: Matcher, title: str, description: str, species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


@pytest.mark.parametrize("title, description", [
    ("ivoire 色 乳胶漆", "墙面 环保"),          # a colour
    ("Đổi Mới 越南 革新 历史", "图书 出版社"),    # the reform (đổi mới), not hawksbill (đồi mồi)
])
def test_other_languages_names_in_innocent_listings(matcher: Matcher, title: str, description: str) -> None:
    assert not matcher.match({"title": title, "description": description}).flagged


# -- a material named by its tell-tale features ------------------------------------------

@pytest.mark.parametrize("title, description, species", [
    ("方料 人字纹 清晰", "不是猛犸 不是骨头", ["ivory"]),   # a feature and a giveaway
    ("料子 鱼子纹 天沟地岗", "整支 500克", ["rhino_horn"]),
    ("犀jiao 手串", "鱼子纹明显", ["rhino_horn"]),          # a feature confirms another hit
])
def test_features_name_the_material(matcher: Matcher, title: str, description: str, species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


@pytest.mark.parametrize("title, description", [
    ("鱼子纹 牛皮 女包", "鱼子纹牛皮 斜挎 黑色"),   # the leather grain, named twice: confirms nothing
    ("人字纹 实木地板", "橡木 锁扣"),
])
def test_a_feature_does_not_confirm_itself(matcher: Matcher, title: str, description: str) -> None:
    assert not matcher.match({"title": title, "description": description}).flagged


@pytest.mark.parametrize("title, description", [
    ("整支 料 12公斤", "不会拿猛犸和骨头糊弄人"),         # 和 read hé, as a seller types it: no 虎骨
    ("树脂 仿象牙 观音", "明说是树脂 介意勿拍"),           # honest about the resin
    ("王不留行 下奶", "老方子里的穿山甲早已禁用 用它代替"),   # a ban stated after the name
    ("黄料 鼻烟壶 清代", "料器 玻璃"),                   # yellow glass, not ivory
    ("黑料 釉 陶艺用", "1公斤装"),                       # a potter's glaze
])
def test_innocent_wording_other_hands_used(matcher: Matcher, title: str, description: str) -> None:
    assert not matcher.match({"title": title, "description": description}).flagged


@pytest.mark.parametrize("title, description, species", [
    ("仿豹皮 地毯", "话是仿皮 其实真皮 带头带爪", ["leopard"]),   # 其实真: the cover given away
    ("gading 手镯 一对", "槟城老店", ["ivory"]),
    ("黑货 小摆件", "竹丝纹 可验", ["rhino_horn"]),
])
def test_offers_other_hands_wrote(matcher: Matcher, title: str, description: str, species: list[str]) -> None:
    assert matcher.match({"title": title, "description": description}).species == species


# -- cover wording that confirms rather than clears ----------------------------------------

@pytest.mark.parametrize("title, description", [
    ("不是仿品 象牙手镯", "老料"),
    ("不是树脂 象牙 吊坠", ""),
    ("非猛犸象牙 手串", ""),
    ("猛犸象牙 吊坠", "说是猛犸其实是老象牙"),
])
def test_cover_wording_that_confirms(matcher: Matcher, title: str, description: str) -> None:
    assert matcher.match({"title": title, "description": description}).species == ["ivory"]


def test_a_real_negation_still_clears(matcher: Matcher) -> None:
    assert not matcher.match({"title": "不是象牙 是牛骨 手串"}).flagged
    assert not matcher.match({"title": "仿品 象牙手镯 树脂"}).flagged


# -- what is on offer ------------------------------------------------------------------------

@pytest.mark.parametrize("title, description, form, quantity, intent", [
    ("象牙手镯 老料", "重35克", "worked", {"amount": 35, "unit": "gram", "text": "35克"}, "sell"),
    ("非洲原牙一整根", "2.3公斤", "raw_tusk", {"amount": 2300, "unit": "gram", "text": "2.3公斤"}, "sell"),
    ("象牙 牙段 3块", "边角也有", "segment", {"amount": 3, "unit": "piece", "text": "3块"}, "sell"),
    ("犀角 整只 老件", "约三两", "whole_horn", {"amount": 150, "unit": "gram", "text": "三两"}, "sell"),
    ("盔犀鸟头骨 完整", "", "casque", None, "sell"),
    ("穿山甲片 半斤", "炮制好的", "scale", {"amount": 250, "unit": "gram", "text": "半斤"}, "sell"),
    ("虎骨 一副", "泡酒用", "bone", {"amount": 1, "unit": "set", "text": "一副"}, "sell"),
    ("豹皮 整张", "毛色完整", "skin", None, "sell"),
    ("高价求购犀角杯", "老件优先", "worked", None, "buy"),
    ("收老象牙 原牙", "两根以上", "raw_tusk", {"amount": 2, "unit": "piece", "text": "两根"}, "buy"),
    ("老象牙", "", None, None, "sell"),
])
def test_what_is_on_offer(matcher: Matcher, title: str, description: str, form: str | None,
                          quantity: dict | None, intent: str) -> None:
    result = matcher.match({"title": title, "description": description})
    assert result.flagged
    assert (result.form, result.quantity, result.intent) == (form, quantity, intent)
    data = result.to_dict()
    assert (data["form"], data["quantity"], data["intent"]) == (form, quantity, intent)


def test_offer_keys_only_on_flags(matcher: Matcher) -> None:
    data = matcher.match({"title": "象牙白 乳胶漆 5公斤"}).to_dict()
    assert not data["flagged"] and "form" not in data and "intent" not in data


def test_buying_words_negated_or_inside_other_words(matcher: Matcher) -> None:
    assert matcher.match({"title": "象牙手镯 收藏多年", "description": "不回收 不退换"}).intent == "sell"


@pytest.mark.parametrize("old, new, field, below", [
    ("    worked:\n      - 手镯\n", "    carved:\n      - 手镯\n", "offer.forms.carved", 1),  # its word list
    ("    kg: 1000\n", "    kg: 0\n", "offer.weights.kg", 0),
    ("  toy:\n    - 玩具\n", "  Toy:\n    - 玩具\n", "product_types.Toy", 1),
])
def test_bad_offer_or_type_entry_names_file_line_and_field(lexicon_copy, old: str, new: str, field: str,
                                                           below: int) -> None:
    from monitor.exceptions import KeywordFileError

    path = lexicon_copy / "context.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line_no = text[:text.index(old)].count("\n") + 1 + below
    with pytest.raises(KeywordFileError) as err:
        Lexicon.load(lexicon_copy)
    assert f"context.yaml:{line_no}: {field}:" in str(err.value)


def test_a_type_word_far_off_in_a_mixed_list_does_not_clear(matcher: Matcher) -> None:
    # a shop's clearance list: the keyboard is another item, not what the ivory is
    listing = {"title": "清仓 象牙手镯 一只", "description": "店里还有茶叶礼盒，红木茶台，紫砂壶，二手手机，机械键盘，单反相机"}
    assert matcher.match(listing).species == ["ivory"]
    assert not matcher.match({"title": "机械键盘 象牙白 键帽", "description": "全新"}).flagged
