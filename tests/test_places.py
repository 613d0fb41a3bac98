"""Sellers' locations placed in provinces and cities (monitor.places), and the report's table of them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from monitor.gazetteer import ALIASES, PROVINCES
from monitor.places import UNKNOWN, Place, city_name, place_of, province_name
from monitor.reports import build_context, render_html, tables
from monitor.sandbox import Sandbox
from monitor.storage import Database

import report_fixtures as fx


@pytest.mark.parametrize(("location", "province", "city"), [
    ("广东 深圳", "广东省", "深圳市"),
    ("深圳市", "广东省", "深圳市"),
    ("深圳", "广东省", "深圳市"),
    ("廣東省深圳市", "广东省", "深圳市"),  # 繁體
    ("IP属地:广东", "广东省", ""),
    ("香港", "香港", ""),
    ("旺角", "香港", "油尖旺区"),
    ("荷李活道", "香港", "中西区"),
    ("銅鑼灣", "香港", "湾仔区"),
    ("香港東區", "香港", "东区"),
    ("台北市", "台湾", "台北市"),
    ("臺北市", "台湾", "台北市"),
    ("桃園市", "台湾", "桃园市"),
    ("澳門 氹仔", "澳门", "澳门"),
    ("北京 朝阳区", "北京市", "北京市"),  # Beijing's district, not Liaoning's 朝阳市
    ("朝阳", "辽宁省", "朝阳市"),
    ("吉林", "吉林省", ""),  # the province's short name before the city's
    ("吉林市", "吉林省", "吉林市"),
    ("西双版纳", "云南省", "西双版纳傣族自治州"),
    ("广州 天河区", "广东省", "广州市"),
    ("吉林 长春", "吉林省", "长春市"),
])
def test_locations_find_their_province_and_city(location: str, province: str, city: str) -> None:
    assert place_of(location) == Place(province, city)


@pytest.mark.parametrize("location", ["", "   ", None, "东区", "市南区", "美国", "Guangzhou", "{{ 7*7 }}", "同城"])
def test_a_location_naming_no_known_place_is_unknown(location: str | None) -> None:
    assert place_of(location) == UNKNOWN
    assert not place_of(location).known


def test_every_sandbox_location_is_placed() -> None:
    """The simulated sellers' cities, mainland, Taiwan (Traditional) and Hong Kong neighbourhoods."""
    locations = {row["location"] for row in Sandbox().truth("2025-07")}
    assert len(locations) > 20
    placed = {loc: place_of(loc) for loc in locations}
    assert all(p.province and p.city for p in placed.values()), {k: v for k, v in placed.items() if not v.city}
    provinces = {p.province for p in placed.values()}
    assert {"台湾", "香港"} <= provinces and len(provinces - {"台湾", "香港"}) >= 10


def test_the_gazetteer_is_whole_and_consistent() -> None:
    assert len(PROVINCES) == 34  # 23 provinces (Taiwan with them), 5 regions, 4 municipalities, HK, Macau
    cities = [c for _full, _short, _en, province_cities in PROVINCES for c in province_cities]
    assert len(cities) == len(set(cities))
    assert len(cities) >= 333 + 22 + 18
    assert set(ALIASES.values()) <= set(cities)
    for _full, short, _en, province_cities in PROVINCES:
        for city in province_cities:  # every city finds itself (东区, 南区, 北区 only after 香港)
            assert place_of(city).city == city or place_of(short + city).city == city, city


def test_names_in_each_language() -> None:
    assert province_name("广东省", "zh") == "广东"
    assert province_name("广东省", "en") == "Guangdong (广东)"
    assert city_name("深圳市", "zh") == "深圳市"
    assert city_name("深圳市", "en") == "Shenzhen (深圳市)"
    assert city_name("湾仔区", "en") == "Wan Chai (湾仔区)"
    assert city_name("台北市", "en") == "Taipei (台北市)"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    database = fx.make_database(tmp_path_factory.mktemp("places"))
    yield database
    database.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_counts_new_flagged_ads_by_province_and_city(db: Database, lang: str) -> None:
    """2025-03: four new flagged ads from 广州 and the hostile one, whose location names no place."""
    context = build_context(db, "2025-03", lang, now=datetime(2025, 4, 1))
    places = context["places"]
    assert [(r["province"], r["count"]) for r in places] == [("广东省", 4), ("", 1)]
    assert places[0]["cities"] == [{"city": "广州市", "city_name": city_name("广州市", lang), "count": 4}]
    assert places[-1]["province_name"] == ("未知" if lang == "zh" else "unknown")
    assert context["places_total"] == sum(context["sites"][i]["count"] for i in range(len(context["sites"])))
    page = render_html(context)
    assert 'id="places"' in page and city_name("广州市", lang) in page
    assert "{{ 7*7 }}" not in page.split('id="places"')[1].split("</section>")[0]
    exported = tables(context)["places"]
    assert sum(r["count"] for r in exported) == context["places_total"]
    assert {r["city"] for r in exported} == {"广州市", ""}
