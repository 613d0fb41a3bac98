"""Each trick class and each kind of innocent look-alike, on sentences written for this test.

None of these sentences comes from the development corpus: they check mechanisms (Traditional
conversion, separators, pinyin, homophones, context rules), not memorised listings.
"""

from __future__ import annotations

import pytest

from monitor.matching import Lexicon, Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


ILLEGAL = {
    "plain": [
        ("出一只老象牙雕花手镯", "内径57，自戴多年", "ivory"),
        ("犀牛角杯一只 雕荷叶", "清代老件，包浆厚", "rhino_horn"),
        ("天然玳瑁发梳", "老工艺，手工磨制", "hawksbill"),
        ("鹤顶红手串 8mm", "顶级血皮", "hornbill"),
        ("东北虎骨 半斤", "泡酒用", "tiger"),
        ("羚羊角尖 整根", "30克，清热", "saiga"),
        ("穿山甲片 生片", "1斤起", "pangolin"),
        ("豹皮坐垫 老货", "毛色完整", "leopard"),
        ("高价求购犀角", "碎料也要，上门", "rhino_horn"),
        ("大象的牙 一整根", "家里老人留下的", "ivory"),
    ],
    "code_word": [
        ("白塑料吊坠 观音", "老料，网格纹明显", "ivory"),
        ("黑料珠子 12mm", "芝麻点明显，刮粉有清香", "rhino_horn"),
        ("十三鳞手镯", "透光，金黄底", "hawksbill"),
        ("非洲料 平安扣", "直径3cm，满纹", "ivory"),
        ("一红挂件", "外红内黄，雕刻精细", "hornbill"),
        ("大虫骨 二两", "老东西", "tiger"),
    ],
    "pinyin_mix": [
        ("xiangya手串 12mm", "18颗，自戴", "ivory"),
        ("象YA观音吊坠", "高4cm", "ivory"),
        ("Xi角粉 10克", "退烧用", "rhino_horn"),
        ("dai瑁梳子", "老件", "hawksbill"),
        ("hu骨 一副", "泡酒", "tiger"),
        ("chuan山甲片", "炮制好的 100克", "pangolin"),
        ("ＸＹ手镯 满纹", "圈口57", "ivory"),
        ("X牙手镯", "满纹", "ivory"),
        ("xiàng牙 平安扣", "直径3cm", "ivory"),
    ],
    "separator": [
        ("象-牙 手镯", "圈口56", "ivory"),
        ("犀·角 杯", "老件", "rhino_horn"),
        ("玳|瑁 耳环", "一对", "hawksbill"),
        ("羚~羊~角 片", "50克", "saiga"),
        ("豹 骨 酒", "老酒一瓶", "leopard"),
        ("象\u200b牙手镯", "自戴", "ivory"),
        ("象\u3000牙手串", "108颗", "ivory"),
        ("犀、角杯", "老件", "rhino_horn"),
    ],
    "homophone": [
        ("相牙手镯 老料", "圈口55", "ivory"),
        ("吸角杯", "竹丝纹清楚", "rhino_horn"),
        ("鹤鼎红手牌", "外红内黄", "hornbill"),
        ("湖骨酒 老酒", "泡了十年", "tiger"),
        ("零羊角粉 10克", "纯粉", "saiga"),
        ("穿山夹片 炮制", "100克", "pangolin"),
        ("代帽梳子 真品", "透光有花", "hawksbill"),
    ],
    "traditional": [
        ("象牙手鐲 舊物", "阿嬤留下", "ivory"),
        ("鶴頂紅掛件", "雕佛", "hornbill"),
        ("羚羊角絲 一兩", "藥材行", "saiga"),
        ("白塑膠手鐲", "網紋清楚", "ivory"),
        ("犀⾓手串", "10mm", "rhino_horn"),
        ("帶帽手鈪", "透光，識貨PM", "hawksbill"),
    ],
    "legal_cover": [
        ("猛犸象牙手镯", "颜色雪白，没有皮，懂的来", "ivory"),
        ("水牛角杯（实为犀角）", "刮粉清香", "rhino_horn"),
        ("树脂手串", "挂树脂是为了过审，其实是真鹤顶，外红内黄", "hornbill"),
        ("仿玳瑁梳", "标题写仿，实物是真的，烫针有焦味", "hawksbill"),
        ("牛骨手镯", "标题写牛骨是怕被删，实物白料人字纹", "ivory"),
        ("牦牛角碗", "敏感词不能写，其实是老犀，天沟地岗明显", "rhino_horn"),
    ],
}

LOOKALIKES = [
    ("象牙白 实木书柜", "1.2米，九成新"),
    ("象牙色 蕾丝婚纱", "M码"),
    ("象牙 色 毛衣", "宽松"),
    ("象牙塔里的日子", "二手书"),
    ("虎皮青椒", "下饭菜 一份"),
    ("豹纹 短裙", "M码 吊牌在"),
    ("玳瑁色 墨镜", "太阳镜 偏光"),
    ("玳瑁猫 两个月", "送养 不卖"),
    ("穿山甲 毛绒 玩偶", "30cm"),
    ("鹤顶红 金鱼 三尾", "健康"),
    ("鹤顶红 武侠小说", "全三册"),
    ("虎牙直播 礼物卡", "面值100"),
    ("白塑料 脸盆 10个", "加厚"),
    ("黑料 紫光檀 手串", "2.0"),
    ("果冻 零食 大礼包", "60个"),
    ("广角 镜头 佳能", "16-35mm"),
    ("羚羊挂角 书法", "四尺"),
    ("大花犀角 多肉", "带盆"),
    ("带帽 冲锋衣", "防水"),
    ("美甲片 24片", "穿戴甲"),
    ("拒绝象牙 公益 T恤", "纯棉"),
    ("三白 瓜", "新鲜 5斤"),
    ("虎骨酒 空瓶 收藏", "纯空瓶"),
    ("一红二黑三白 说的是什么", "科普文章 讲收藏史"),
    ("《象牙雕刻技法》", "书 九成新"),
    ("猎豹皮卡 2015款", "柴油 四驱"),
    ("白塑料杯子 一次性", "1000个"),
    ("大象，牙齿很白", "动物世界 纪录片"),
]

SUBSTITUTES = [
    ("象牙果 手串", "植物种子"),
    ("牦牛骨 手串 108颗", "西藏"),
    ("水牛角 梳子", "防静电"),
    ("树脂 仿象牙 摆件", "工艺品"),
    ("猛犸象牙吊坠 带皮", "有证书，可送检"),
    ("亚克力 仿玳瑁 发夹", "三个"),
    ("人造 豹纹 皮草", "大衣"),
    ("塞隆骨 药材", "正规，可替代虎骨"),
    ("山羊角片", "可代羚羊角"),
    ("黑牦牛角手串", "犀角的平价替代"),
    ("不卖象牙 只卖牛骨", "牛骨雕刻手串"),
    ("水牛角梳", "和犀角一样有清凉作用"),
    ("骆驼骨手镯", "白度高 纹理像象牙"),
]


@pytest.mark.parametrize(
    "trick,title,description,species",
    [(trick, t, d, s) for trick, rows in ILLEGAL.items() for t, d, s in rows],
)
def test_trick_is_seen_through(matcher: Matcher, trick: str, title: str, description: str, species: str) -> None:
    result = matcher.match({"title": title, "description": description})
    assert result.flagged, (trick, title, [(m.text, r) for m, r in result.rejected])
    assert result.species == [species]
    assert result.matches and result.score >= 0.5


@pytest.mark.parametrize("title,description", LOOKALIKES + SUBSTITUTES)
def test_innocent_listing_is_not_flagged(matcher: Matcher, title: str, description: str) -> None:
    result = matcher.match({"title": title, "description": description})
    assert not result.flagged, (title, [(m.text, m.trick) for m in result.matches])
    assert result.species == [] and result.matches == []


@pytest.mark.parametrize("title,expected", [
    ("象 牙 手镯", "separator"),
    ("象ya手镯", "pinyin_mix"),
    ("希角手镯 竹丝纹", "homophone"),
    ("鶴頂紅掛件", "traditional"),
    ("白塑料手串 网格纹", "code_word"),
    ("白塑膠手串 網格紋", "traditional"),
    ("帶帽手鐲 透光", "homophone"),
    ("象牙手镯", "plain"),
])
def test_match_names_the_trick_it_undid(matcher: Matcher, title: str, expected: str) -> None:
    result = matcher.match({"title": title})
    assert result.flagged
    assert result.matches[0].trick == expected


def test_legal_cover_match_is_marked(matcher: Matcher) -> None:
    result = matcher.match({"title": "猛犸牙平安扣", "description": "纯白无皮，新料，过审用"})
    assert result.species == ["ivory"]
    assert all(m.trick == "legal_cover" for m in result.matches)


def test_weak_evidence_needs_product_context(matcher: Matcher) -> None:
    assert not matcher.match({"title": "带帽", "description": "全新"}).flagged
    assert matcher.match({"title": "带帽手镯", "description": "透光"}).flagged
    assert not matcher.match({"title": "xiangya", "description": "你好"}).flagged
    assert matcher.match({"title": "xiangya 手串", "description": "12mm"}).flagged


def test_honest_mammoth_with_warning_text_stays_benign(matcher: Matcher) -> None:
    listing = {
        "title": "猛犸象牙手串 带皮",
        "description": "保留原皮，带沁，有进口报关单和检测证书。提醒：市面上雪白无皮的多半不是猛犸。",
    }
    assert not matcher.match(listing).flagged


def test_buying_in_ad_is_flagged(matcher: Matcher) -> None:
    assert matcher.match({"title": "长期回收象牙", "description": "碎料也收，价格公道"}).species == ["ivory"]


def test_multi_species_listing(matcher: Matcher) -> None:
    result = matcher.match({"title": "虎骨豹骨 一套", "description": "药酒料"})
    assert result.species == ["tiger", "leopard"]


def test_any_field_names_and_empty_listing(matcher: Matcher) -> None:
    assert matcher.match({"body": "象牙手镯 老料"}).species == ["ivory"]
    empty = matcher.match({})
    assert not empty.flagged and empty.to_dict() == {"flagged": False, "species": [], "score": 0.0, "matches": []}


def test_result_serialises(matcher: Matcher) -> None:
    data = matcher.match({"title": "象牙手镯", "description": "老料"}).to_dict()
    assert data["flagged"] is True and data["species"] == ["ivory"]
    assert set(data["matches"][0]) == {"term", "species", "kind", "field", "start", "end", "text", "trick"}


def test_cover_word_reported_when_it_is_the_only_evidence(matcher: Matcher) -> None:
    result = matcher.match({"title": "猛犸牙平安扣", "description": "颜色纯白，不带皮不带沁，新料"})
    assert result.species == ["ivory"]
    assert [(m.text, m.kind, m.trick) for m in result.matches] == [("猛犸牙", "code_word", "legal_cover")]
    assert all(m.kind in ("name", "product", "code_word") for m in result.matches)


def test_generic_cover_given_away_flags_the_species_its_context_names(matcher: Matcher) -> None:
    result = matcher.match({"title": "树脂手镯", "description": "真名不方便写，人字纹清晰，火烧不臭"})
    assert result.species == ["ivory"]
    assert {m.trick for m in result.matches} == {"legal_cover"}
    honest = matcher.match({"title": "树脂手镯", "description": "仿象牙，无纹路，很轻"})
    assert not honest.flagged


def test_mammoth_is_innocent_only_with_mammoth_features(matcher: Matcher) -> None:
    neutral = matcher.match({"title": "猛犸牙手镯", "description": "圈口56，可定制雕刻"})
    assert neutral.species == ["ivory"] and neutral.matches[0].trick == "legal_cover"
    honest = matcher.match({"title": "猛犸牙手镯", "description": "外圈保留原皮，内有沁色，附进口文件"})
    assert not honest.flagged


@pytest.mark.parametrize("title,species", [("🐘牙手镯", "ivory"), ("🦏角杯 老件", "rhino_horn"), ("🐯骨 一副 泡酒", "tiger")])
def test_animal_emoji_stand_for_names(matcher: Matcher, title: str, species: str) -> None:
    result = matcher.match({"title": title})
    assert result.species == [species]
    assert result.matches[0].text.startswith(title[0]) and result.matches[0].trick == "code_word"
