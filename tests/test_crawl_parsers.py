"""Price, date and location parsers against what marketplaces print."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.crawling.middlewares import retry_after_seconds
from monitor.crawling.parsers import clean_location, http_date, parse_date, parse_price

REF = datetime(2025, 6, 30, 20, 0)


@pytest.mark.parametrize(
    "text, amount, currency, cny",
    [
        ("4800元", 4800, "CNY", 4800),
        ("¥1,680", 1680, "CNY", 1680),
        ("￥ 2,000.50", 2000.5, "CNY", 2000.5),
        ("2.8万", 28000, "CNY", 28000),
        ("价格：1.2萬元", 12000, "CNY", 12000),
        ("NT$12,000", 12000, "TWD", 2640),
        ("HK$320,000", 320000, "HKD", 294400),
        ("300-500元", 300, "CNY", 300),
        ("US$100", 100, "USD", 720),
    ],
)
def test_price_to_cny_keeps_currency(text: str, amount: float, currency: str, cny: float) -> None:
    price = parse_price(text)
    assert price.amount == pytest.approx(amount)
    assert price.currency == currency
    assert price.cny == pytest.approx(cny)


def test_negotiable_price_has_no_amount_but_keeps_currency() -> None:
    assert parse_price("面议").amount is None
    assert parse_price("面議", default_currency="TWD").currency == "TWD"
    assert parse_price("").currency == ""


def test_site_default_currency_applies_to_bare_numbers() -> None:
    assert parse_price("12,000", default_currency="TWD").cny == pytest.approx(2640)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("刚刚", datetime(2025, 6, 30, 20, 0)),
        ("今天", datetime(2025, 6, 30, 20, 0)),
        ("昨天", datetime(2025, 6, 29)),
        ("昨天 14:30", datetime(2025, 6, 29, 14, 30)),
        ("前天", datetime(2025, 6, 28)),
        ("3天前", datetime(2025, 6, 27, 20, 0)),
        ("5小時前", datetime(2025, 6, 30, 15, 0)),
        ("2025-06-03", datetime(2025, 6, 3)),
        ("2025/06/03 12:30", datetime(2025, 6, 3, 12, 30)),
        ("2025年6月3日", datetime(2025, 6, 3)),
        ("06-12", datetime(2025, 6, 12)),
        ("12-24", datetime(2024, 12, 24)),
        ("发布于 2024-11-03", datetime(2024, 11, 3)),
    ],
)
def test_dates_absolute_and_relative_to_the_server_day(text: str, expected: datetime) -> None:
    assert parse_date(text, REF) == expected


def test_not_a_date() -> None:
    assert parse_date("很久以前", REF) is None
    assert parse_date("", REF) is None


def test_http_date_header() -> None:
    assert http_date(b"Mon, 30 Jun 2025 04:00:00 GMT") == datetime(2025, 6, 30, 4, tzinfo=timezone.utc)
    assert http_date(b"garbage") is None


@pytest.mark.parametrize("text, expected", [("所在地：广州", "广州"), ("地区: 台北市 ", "台北市"), ("【深圳】", "深圳"), ("香港", "香港")])
def test_location_label_stripped(text: str, expected: str) -> None:
    assert clean_location(text) == expected


def test_retry_after_seconds_or_date() -> None:
    now = datetime(2025, 6, 30, 4, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"3") == 3
    assert retry_after_seconds(b"Mon, 30 Jun 2025 04:00:10 GMT", now=now) == 10
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize("text", ["999999999天前", "99999999999999999999小时前", "99999999999999999999个月前"])
def test_a_date_out_of_the_calendar_is_unknown(text: str) -> None:
    assert parse_date(text, REF) is None  # not OverflowError, which cost the listing


@pytest.mark.parametrize("text", ["9" * 400 + "万", '{"amount": 1e999}', '{"amount": ' + "9" * 400 + "}", "2000000000000000元"])
def test_an_impossible_price_has_no_amount(text: str) -> None:
    price = parse_price(text)
    assert price.amount is None and price.cny is None  # never Infinity, which JSON cannot carry


def test_controls_are_stripped_but_emoji_joiners_kept() -> None:
    from monitor.crawling.parsers import strip_controls

    assert strip_controls("\x1b[2J象\u202e牙\x07\x9b") == "[2J象牙"
    assert strip_controls("👨\u200d👩 行\n一") == "👨\u200d👩 行\n一"
