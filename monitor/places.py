"""Which province and city a listing's location names, read against ``monitor.gazetteer``.

Sellers write places every way: 广东 深圳, 深圳市, 深圳, 廣東省深圳市, 臺北市, 旺角, IP属地:广东.
A location is read through OpenCC (Traditional to Simplified), then scanned left to right for
the longest name the gazetteer knows (a province's full or short name, a city's full or short
name, a neighbourhood); the first province named (by itself or through a city) is the place's
province, and its first city named within that province its city. A short name followed by 区
or 县 is a district (北京 朝阳区 is not 辽宁 朝阳市) and is passed over. Nothing found: unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from monitor.gazetteer import ALIASES, ENGLISH, PROVINCES

__all__ = ["Place", "UNKNOWN", "city_name", "place_of", "province_name"]

_CITY_ENDINGS = ("自治州", "地区", "林区", "市", "盟", "县", "区")
_ETHNIC = ("朝鲜族", "土家族", "苗族", "侗族", "布依族", "彝族", "哈尼族", "壮族", "白族", "傣族", "景颇族", "傈僳族",
           "藏族", "羌族", "回族", "蒙古族", "蒙古", "柯尔克孜", "哈萨克")
# Full names too generic to stand alone (many mainland districts end so): read only after 香港.
_ONLY_AFTER_PROVINCE = {"东区", "南区", "北区"}


@dataclass(frozen=True)
class Place:
    """A province-level division and a city in it, by their full Simplified names ("" when unknown)."""

    province: str = ""
    city: str = ""

    @property
    def known(self) -> bool:
        return bool(self.province)


UNKNOWN = Place()


@dataclass(frozen=True)
class _Entry:
    province: str
    city: str
    short: bool  # a short name: passed over when a district ending follows


def short_name(city: str) -> str:
    """A city's name without its ending and, for an autonomous prefecture, its peoples' names."""
    for ending in _CITY_ENDINGS:
        if city.endswith(ending) and len(city) > len(ending):
            city = city[: -len(ending)]
            break
    stripped = True
    while stripped:
        stripped = False
        for people in _ETHNIC:
            if city.endswith(people) and len(city) > len(people) + 1:
                city, stripped = city[: -len(people)], True
    return city


@lru_cache(maxsize=1)
def _index() -> dict[str, _Entry]:
    index: dict[str, _Entry] = {}
    cities: dict[str, str] = {}
    for full, short, _english, province_cities in PROVINCES:
        sole = province_cities[0] if len(province_cities) == 1 else ""
        index[full] = index[short] = _Entry(full, sole, False)
        for city in province_cities:
            cities[city] = full
            name = f"{short}{city}" if city in _ONLY_AFTER_PROVINCE else city
            index.setdefault(name, _Entry(full, city, False))
    for full, short, _english, province_cities in PROVINCES:
        for city in province_cities:
            brief = short_name(city)
            if len(brief) >= 2:
                index.setdefault(brief, _Entry(full, city, True))  # a province's short name wins (吉林, 海南)
    for alias, city in ALIASES.items():
        index.setdefault(alias, _Entry(cities[city], city, False))
    return index


@lru_cache(maxsize=1)
def _longest() -> int:
    return max(len(name) for name in _index())


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # imported on first use: the matcher's normaliser loads it as well

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def place_of(location: str | None) -> Place:
    """The province and city ``location`` names; ``UNKNOWN`` when it names no place we know."""
    text = _converter().convert(str(location or "")[:200])
    index, longest = _index(), _longest()
    hits: list[_Entry] = []
    i = 0
    while i < len(text):
        for length in range(min(longest, len(text) - i), 1, -1):
            entry = index.get(text[i:i + length])
            if entry is None:
                continue
            following = text[i + length:i + length + 1]
            if entry.short and following in ("区", "县"):
                continue  # a district or county of the same name, elsewhere
            hits.append(entry)
            i += length - 1
            break
        i += 1
    if not hits:
        return UNKNOWN
    province = hits[0].province
    city = next((h.city for h in hits if h.province == province and h.city), "")
    return Place(province, city)


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    return {full: english for full, _short, english, _cities in PROVINCES}


def province_name(province: str, lang: str) -> str:
    """A province's display name: its short Chinese name, in English "Guangdong (广东)"."""
    short = next((s for full, s, _e, _c in PROVINCES if full == province), province)
    return f"{_english().get(province, short)} ({short})" if lang == "en" else short


def city_name(city: str, lang: str) -> str:
    """A city's display name: its full Chinese name, in English "Shenzhen (深圳市)" (its pinyin
    unless the gazetteer gives the name used there: Taipei, Wan Chai, Hohhot)."""
    if lang != "en":
        return city
    english = ENGLISH.get(city)
    if english is None:
        from pypinyin import lazy_pinyin

        english = "".join(lazy_pinyin(short_name(city))).capitalize()
    return f"{english} ({city})"
