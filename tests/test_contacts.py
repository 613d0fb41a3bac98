from __future__ import annotations

import pytest

from monitor.contacts import Contact, extract_contacts, normalize_contact, phone_deletions, phone_insertions


def pairs(text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.value) for c in extract_contacts(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("电话13812345678", [("phone", "13812345678")]),
        ("电话：138 1234 5678", [("phone", "13812345678")]),
        ("手机 138-1234-5678 谢谢", [("phone", "13812345678")]),
        ("+86 139 1234 5678", [("phone", "13912345678")]),
        ("联系+86-139-1234-5678", [("phone", "13912345678")]),
        ("8613912345678", [("phone", "13912345678")]),
        ("一三八一二三四五六七八", [("phone", "13812345678")]),
        ("幺三八 幺二三四 五六七八", [("phone", "13812345678")]),
        ("联系：幺叁玖洞洞洞洞幺幺幺幺", [("phone", "13900001111")]),
        ("１３８１２３４５６７８", [("phone", "13812345678")]),
        ("138 一二三四 5678", [("phone", "13812345678")]),
        ("座机 010-12345678", [("landline", "010-12345678")]),
        ("电话0755 1234 5678", [("landline", "0755-12345678")]),
        ("(0755)12345678", [("landline", "0755-12345678")]),
        ("微信: WangLao_88", [("wechat", "wanglao_88")]),
        ("V信 WangLao_88", [("wechat", "wanglao_88")]),
        ("vx：wanglao_88", [("wechat", "wanglao_88")]),
        ("威信:WANGLAO_88", [("wechat", "wanglao_88")]),
        ("WX wanglao_88", [("wechat", "wanglao_88")]),
        ("加weixin=WangLao_88", [("wechat", "wanglao_88")]),
        ("ＷＸ：ｗａｎｇｌａｏ＿８８", [("wechat", "wanglao_88")]),
        ("QQ 12345678", [("qq", "12345678")]),
        ("扣扣：987654321", [("qq", "987654321")]),
        ("企鹅 55566677", [("qq", "55566677")]),
        ("手机 1381234567", [("phone", "1381234567")]),
        ("1381234567\n象牙手镯", [("phone", "1381234567")]),
        ("Q：1207730277", [("qq", "1207730277")]),
        ("扣扣：401 968 845", [("qq", "401968845")]),
        ("QQ：116 919 4100，手机 13512345678", [("qq", "1169194100"), ("phone", "13512345678")]),
        ("Q：二九九八七一六八八。", [("qq", "299871688")]),
        ("威信 LAO20", [("wechat", "lao20")]),
        ("V信：cang-2810。", [("wechat", "cang-2810")]),
        ("0970-203265", [("phone", "0970203265")]),
        ("+886 970 203 265", [("phone", "0970203265")]),
        ("電 ５４０５６０６６", [("phone", "54056066")]),
        ("+852 5405 6066", [("phone", "54056066")]),
    ],
)
def test_extracts_disguised_contacts(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(text) == expected


def test_wechat_given_as_a_phone_number_is_both() -> None:
    assert set(pairs("微信 13812345678")) == {("wechat", "13812345678"), ("phone", "13812345678")}


def test_several_contacts_in_order_and_without_repeats() -> None:
    text = "电话 138 1234 5678，微信 Ivory_King，QQ 1234567，再说一遍 13812345678"
    assert pairs(text) == [("phone", "13812345678"), ("wechat", "ivory_king"), ("qq", "1234567")]


def test_raw_is_the_original_text() -> None:
    (contact,) = extract_contacts("请致电 一三八-1234-5678 谢谢")
    assert contact == Contact("phone", "13812345678", "一三八-1234-5678")


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01 发布，价格 12000 元",
        "一对象牙手镯，两只，重 35 克",
        "订单号 20240501123456789",
        "时间戳 1700000000",
        "尺寸 10x20x30 cm，编号 12345",
        "",
    ],
)
def test_ordinary_numbers_are_not_contacts(text: str) -> None:
    assert extract_contacts(text) == []


@pytest.mark.parametrize(
    "kind, raw, value",
    [
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("phone", "一三八一二三四五六七八", "13812345678"),
        ("phone", "13812345678", "13812345678"),
        ("phone", "12345", ""),
        ("landline", "0755 1234 5678", "0755-12345678"),
        ("landline", "01012345678", "010-12345678"),
        ("wechat", "V信: AbC_123x", "abc_123x"),
        ("wechat", "abc_123x", "abc_123x"),
        ("qq", "QQ 12345", "12345"),
        ("qq", "12", ""),
    ],
)
def test_normalize_contact(kind: str, raw: str, value: str) -> None:
    assert normalize_contact(kind, raw) == value


def test_normalize_contact_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="email"):
        normalize_contact("email", "a@b.c")


def test_missing_digit_candidates() -> None:
    assert "1381234567" in phone_deletions("13812345678")
    assert "13812345678" in phone_insertions("1381234567")
    assert "13812345678" in phone_insertions("1312345678")
    assert all(len(p) == 11 and p[:2] in {"13", "14", "15", "16", "17", "18", "19"} for p in phone_insertions("1381234567"))


def test_never_fails_on_arbitrary_text() -> None:
    import random

    rng = random.Random(5)
    alphabet = "0123456789 -+()./一二三四五六七八九零幺洞两微信VvXxQq扣企鹅：:电话手机０１２３４５６７８９象牙\n"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        for contact in extract_contacts(text):
            assert contact.kind in ("phone", "landline", "wechat", "qq") and contact.value and contact.raw
    assert pairs("+0 12") == [] and pairs("0 1 2 3 4 5 6 7") == []


def _cpu(text: str) -> float:
    import time

    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        extract_contacts(text)
        best = min(best, time.process_time() - start)
    return best


def test_work_grows_with_the_text_not_its_square() -> None:
    """A hostile page of short digit groups ("1 1 1 ...") once took 2 s for 80,000 characters and
    hours for 6 MB, stalling the whole crawl: each group re-read the rest of its line."""
    small, large = _cpu("1 " * 10_000), _cpu("1 " * 40_000)
    assert large / max(small, 1e-3) < 8, (small, large)  # 4x the text: 4x when linear, 16x when quadratic


def test_only_the_first_characters_are_read() -> None:
    from monitor.contacts import MAX_TEXT_CHARS

    assert extract_contacts("微信 abc12345 " + "x" * MAX_TEXT_CHARS + " 微信 zzz98765") == \
        [Contact("wechat", "abc12345", "微信 abc12345")]
    assert _cpu("1 " * 3_000_000) < 5  # the 6 MB page: its first MAX_TEXT_CHARS only
