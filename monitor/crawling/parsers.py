"""Field parsers: turn what a marketplace prints (¥1,680 / 1.2万 / NT$12,000 / 面议, 3天前 /
昨天 / 2025年6月3日, 所在地：广州) into values the database can compare across sites.

Relative dates are read against the response's ``Date`` header, never the crawler's clock:
a page saying 昨天 means the day before the server's today (the sandbox serves a simulated
month, and a real site's clock is what its author meant).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from monitor.currency import CNY_RATES  # the one rate table, which the report states too


_CURRENCY_MARKS: tuple[tuple[str, str], ...] = (
    ("NT$", "TWD"), ("NTD", "TWD"), ("新台币", "TWD"), ("新臺幣", "TWD"), ("台币", "TWD"), ("臺幣", "TWD"),
    ("HK$", "HKD"), ("HKD", "HKD"), ("港币", "HKD"), ("港幣", "HKD"), ("港元", "HKD"),
    ("MOP", "MOP"), ("澳门币", "MOP"), ("澳門幣", "MOP"),
    ("US$", "USD"), ("USD", "USD"), ("美元", "USD"), ("美金", "USD"),
    ("EUR", "EUR"), ("€", "EUR"), ("欧元", "EUR"),
    ("RMB", "CNY"), ("CNY", "CNY"), ("人民币", "CNY"), ("人民幣", "CNY"), ("¥", "CNY"), ("￥", "CNY"), ("元", "CNY"),
)
_NEGOTIABLE = ("面议", "面議", "议价", "議價", "私聊", "电议", "電議", "价格面议")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|萬|千|k|K|w|W)?")
_MULTIPLIERS = {"万": 10_000, "萬": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000}


@dataclass(frozen=True)
class Price:
    amount: float | None
    currency: str
    cny: float | None


# Control characters a page can smuggle into a field: C0 but tab and newlines, DEL, C1 (ESC
# sequences recolour, clear or retitle the analyst's terminal) and the bidi controls that
# reorder what is shown (U+202E). Zero-width joiners stay: emoji sequences need them.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Scraped text with its control characters removed, fit to store and to print."""
    return _CONTROLS.sub("", text) if text else text


# Keys of a price given as a JSON object ({"amount": 1200, "currency": "HKD"}), as APIs name them.
_AMOUNT_KEYS = ("amount", "value", "price")
_CURRENCY_KEYS = ("currency", "currency_code", "currencyCode", "priceCurrency")


# No listing is priced above this (a trillion): a larger or infinite "price" is a page's trick
# (9999...9万), and would be stored as Infinity, which JSON cannot carry.
MAX_AMOUNT = 1e12


def _plausible(amount: float | int) -> float | None:
    try:
        value = float(amount)
    except OverflowError:  # an integer too large for a float
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_AMOUNT else None


def parse_price(text: str, default_currency: str = "CNY") -> Price:
    """Read a printed price; a range (300-500元) counts as its lower bound, what a buyer is
    first offered. 面议 and other "ask me" prices have no amount but keep the currency.
    A price selected as a JSON object carries its own currency (a site mixing regions)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return Price(None, "", None)
    if raw.startswith("{"):
        price = _price_object(raw, default_currency)
        if price is not None:
            return price
    currency = default_currency
    upper = raw.upper()
    for mark, code in _CURRENCY_MARKS:
        if mark.upper() in upper:
            currency = code
            break
    else:
        if raw.lstrip().startswith("$"):
            currency = default_currency if default_currency != "CNY" else "USD"
    if any(word in raw for word in _NEGOTIABLE) and not re.search(r"\d", raw):
        return Price(None, currency, None)
    match = _NUMBER.search(raw.replace(",", "").replace("，", ""))
    if match is None:
        return Price(None, currency, None)
    amount = _plausible(float(match.group(1)) * _MULTIPLIERS.get(match.group(2) or "", 1))
    if amount is None:
        return Price(None, currency, None)
    rate = CNY_RATES.get(currency)
    cny = round(amount * rate, 2) if rate is not None else None
    return Price(amount, currency, cny)


# Keys under which a JSON price object carries the price as the page prints it.
_DISPLAY_KEYS = ("display", "displayPrice", "text", "formatted", "label")


def price_display(text: str) -> str:
    """The price as a reader sees it: a JSON price object's printed form ("HK$1,200"), or its
    amount and currency when it prints none; any other text unchanged. Stored as the listing's
    price text, which the report and the takedown package show as written."""
    data = _json_object((text or "").strip())
    if data is None:
        return text
    printed = next((str(data[k]).strip() for k in _DISPLAY_KEYS if data.get(k) not in (None, "")), "")
    if printed:
        return printed
    amount, currency = _amount_and_currency(data)
    return " ".join(str(x) for x in (amount, currency) if x not in (None, "")) if amount is not None else ""


def _json_object(raw: str) -> dict[str, Any] | None:
    if not raw.startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _amount_and_currency(data: dict[str, Any]) -> tuple[Any, str]:
    amount = next((data[k] for k in _AMOUNT_KEYS if data.get(k) is not None), None)
    return amount, next((str(data[k]).strip().upper() for k in _CURRENCY_KEYS if data.get(k)), "")


def _price_object(raw: str, default_currency: str) -> Price | None:
    """A JSON price object, or None when ``raw`` is not one. Its amount may itself be printed
    ("NT$1,200"); a currency the object names wins over one the amount's text shows."""
    data = _json_object(raw)
    if data is None:
        return None
    amount, currency = _amount_and_currency(data)
    if isinstance(amount, bool):
        amount = None
    if isinstance(amount, (int, float)):
        code = currency or default_currency
        rate = CNY_RATES.get(code)
        value = _plausible(amount)
        return Price(value, code, round(value * rate, 2) if rate is not None and value is not None else None)
    printed = parse_price(str(amount) if amount is not None else "", currency or default_currency)
    code = currency or printed.currency or default_currency
    rate = CNY_RATES.get(code)
    cny = round(printed.amount * rate, 2) if printed.amount is not None and rate is not None else None
    return Price(printed.amount, code, cny)


_REL_UNITS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d+)\s*秒(?:钟|鐘)?前"), "seconds"),
    (re.compile(r"(\d+)\s*分(?:钟|鐘)?前"), "minutes"),
    (re.compile(r"(\d+)\s*(?:个|個)?(?:小时|小時|钟头|鐘頭)前"), "hours"),
    (re.compile(r"(\d+)\s*天前"), "days"),
    (re.compile(r"(\d+)\s*日前"), "days"),
    (re.compile(r"(\d+)\s*(?:周|週|星期|礼拜|禮拜)前"), "weeks"),
    (re.compile(r"(\d+)\s*(?:个|個)?月前"), "months"),
)
_REL_DAYS = {"刚刚": 0, "剛剛": 0, "刚才": 0, "剛才": 0, "今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_ABSOLUTE = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
)
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})")


def http_date(value: bytes | str | None) -> datetime | None:
    """The ``Date`` header as an aware UTC datetime, or None when missing or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_date(text: str, reference: datetime, date_format: str | None = None) -> datetime | None:
    """Read an absolute or relative posting date against ``reference`` (the server's now).

    Returns a naive datetime in the reference's own frame; None when nothing date-like is
    there. A date without a year takes the reference's year, or the year before when that
    would put it in the future. ``date_format`` (strptime) is tried first, for sites whose
    dates are ambiguous (DD/MM/YYYY); epoch seconds or milliseconds (APIs) are understood.
    A date out of the calendar's range (999999999天前) is None too: the listing is kept.
    """
    try:
        return _parse_date(text, reference, date_format)
    except (OverflowError, ValueError, OSError):
        return None


def _parse_date(text: str, reference: datetime, date_format: str | None) -> datetime | None:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return None
    ref = reference.replace(tzinfo=None)
    if date_format:
        try:
            return datetime.strptime(raw, date_format)
        except ValueError:
            pass
    if raw.isdigit() and len(raw) in (10, 13):
        seconds = int(raw) / (1000 if len(raw) == 13 else 1)
        moment = datetime.fromtimestamp(seconds, tz=reference.tzinfo or timezone.utc)
        return moment.replace(tzinfo=None)
    for word, days in _REL_DAYS.items():
        if word in raw:
            day = ref - timedelta(days=days)
            clock = _TIME.search(raw)
            if clock:
                return day.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
            return day if not days else day.replace(hour=0, minute=0, second=0, microsecond=0)
    if "半小时前" in raw or "半小時前" in raw:
        return ref - timedelta(minutes=30)
    for pattern, unit in _REL_UNITS:
        found = pattern.search(raw)
        if found:
            count = int(found.group(1))
            if unit == "months":
                return ref - timedelta(days=30 * count)
            return ref - timedelta(**{unit: count})
    found = _ABSOLUTE.search(raw)
    if found is None:
        return None
    year_text, month, day, hour, minute, second = found.groups()
    year = int(year_text) if year_text else ref.year
    try:
        when = datetime(year, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if not year_text and when > ref + timedelta(days=1):
        when = when.replace(year=year - 1)
    return when


_LOCATION_LABELS = re.compile(
    r"^\s*(?:IP属地|IP屬地|所在地|所在地区|所在地區|发货地|發貨地|地区|地區|地点|地點|位置|城市|location|loc)\s*[:：]?\s*",
    re.IGNORECASE,
)


def clean_location(text: str) -> str:
    """The place name without its label (所在地：广州 → 广州) or surrounding punctuation."""
    cleaned = unicodedata.normalize("NFKC", text or "")
    cleaned = " ".join(cleaned.split())
    cleaned = _LOCATION_LABELS.sub("", cleaned)
    return cleaned.strip(" []【】()（）|·,，;；")
