"""Site definitions: every shipped file validates, and a bad file is refused with an error
naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from monitor.crawling.sites import load_site_file, load_sites, shipped_sites_dir
from monitor.exceptions import SiteFileError

GOOD = """\
name: newsite
platform: html
base_url: "{sandbox}/newsite/"
script: traditional
traditional_variant: s2tw
charset: big5
search:
  url: "search?q={keyword}&page={page}"
  results: "a.hit::attr(href)"
  next_page: "xpath://a[text()='下一頁']/@href"
listing:
  id_from_url: "item/(\\\\d+)"
  fields:
    title: "h1::text"
    price: "span.price::text re:([\\\\d,.]+)"
"""


def write(tmp_path: Path, text: str, name: str = "newsite") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_and_encodes_keywords_in_the_sites_script_and_charset(tmp_path: Path) -> None:
    site = load_site_file(write(tmp_path, GOOD))
    assert site.base_url("http://127.0.0.1:9") == "http://127.0.0.1:9/newsite/"
    assert site.site_keyword("象牙手镯") == "象牙手鐲"
    url = site.search_urls("犀角杯", "http://127.0.0.1:9")[0]
    encoded = url.split("q=")[1].split("&")[0]
    assert unquote_to_bytes(encoded).decode("big5") == "犀角杯"
    assert url.endswith("page=1")


@pytest.mark.parametrize(
    "change, field",
    [
        (("platform: html", "platform: spa"), "platform"),
        (("charset: big5", "charset: klingon"), "charset"),
        (("script: traditional", "script: cyrillic"), "script"),
        (('url: "search?q={keyword}&page={page}"', 'url: "search?page={page}"'), "search.url"),
        (('results: "a.hit::attr(href)"', 'results: "a[[["'), "search.results"),
        (('title: "h1::text"', 'titel: "h1::text"'), "listing.fields.titel"),
        (('base_url: "{sandbox}/newsite/"', 'base_url: "newsite"'), "base_url"),
        (("name: newsite", "name: New Site"), "name"),
        (('id_from_url: "item/(\\\\d+)"', 'id_from_url: "item/\\\\d+"'), "listing.id_from_url"),
        (("charset: big5", "charset: big5\npolitness: {}"), "politness"),
    ],
)
def test_bad_file_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SiteFileError) as error:
        load_site_file(path)
    assert str(path) in str(error.value)
    assert f": {field}:" in str(error.value)


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed")
    with pytest.raises(SiteFileError, match="not valid YAML"):
        load_site_file(path)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace("name: newsite", "name: broken").replace("platform: html", "platform: ?"), "broken")
    errors: list[SiteFileError] = []
    sites = load_sites(tmp_path, errors=errors)
    assert "newsite" in sites and "broken" not in sites
    assert len(errors) == 1 and "broken.yaml" in str(errors[0])


def test_name_must_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="other")
    with pytest.raises(SiteFileError, match="must match the file name"):
        load_sites(tmp_path, ["other"])


def test_unknown_site_is_named(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="unknown site 'nosuch'"):
        load_sites(tmp_path, ["nosuch"])


def test_every_shipped_site_file_validates() -> None:
    files = sorted(shipped_sites_dir().glob("*.yaml"))
    assert len(files) >= 30
    sites = load_sites()
    assert len(sites) == len(files)
    assert {s.platform for s in sites.values()} >= {"html", "json_api", "forum"}
    assert {s.charset for s in sites.values()} >= {"utf-8", "gbk", "big5"}
    assert any(s.script == "traditional" for s in sites.values())
