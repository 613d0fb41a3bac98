"""Where a site's crawl may go: scheme, host, port and path prefix, and what a name may
resolve to. Pure rules; the hostile-site crawl (test_crawl_hostile.py) tests them in Scrapy."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.crawling.scope import SiteScope, is_local_host, parse_scope, refused_address
from monitor.crawling.sites import load_site_file
from monitor.exceptions import SiteFileError

SANDBOX = "http://127.0.0.1:8765/paimaitw/"


@pytest.mark.parametrize(("url", "refusal"), [
    ("http://127.0.0.1:8765/paimaitw/auction/1.html", ""),
    ("http://127.0.0.1:8765/paimaitw", ""),
    ("http://127.0.0.1:8765/robots.txt", ""),
    ("http://127.0.0.1:8765/qipaitw/auction/1.html", "offsite"),  # another sandbox site, same origin
    ("http://127.0.0.1:8766/paimaitw/auction/1.html", "offsite"),  # another local port
    ("https://127.0.0.1:8765/paimaitw/", ""),  # an http site may move to https
    ("https://127.0.0.1:443/paimaitw/", "offsite"),
    ("http://127.0.0.1:8765/paimaitw/../qipaitw/x", "offsite"),
    ("http://127.0.0.1:8765/paimaitw/%2e%2e/qipaitw/x", "offsite"),
    ("http://2130706433:8765/paimaitw/", "offsite"),
    ("http://0177.0.0.1:8765/paimaitw/", "offsite"),
    ("http://169.254.169.254/latest/meta-data/", "offsite"),
    ("file:///etc/passwd", "refused_scheme"),
    ("data:text/html,x", "refused_scheme"),
    ("javascript:alert(1)", "refused_scheme"),
    ("ftp://127.0.0.1:8765/paimaitw/", "refused_scheme"),
    ("http://127.0.0.1:99999/paimaitw/", "offsite"),
])
def test_sandbox_site_scope(url: str, refusal: str) -> None:
    assert SiteScope(SANDBOX).refusal(url) == refusal


def test_a_public_site_may_not_name_a_private_address_even_in_its_hosts() -> None:
    scope = SiteScope("https://www.example.com/", [parse_scope("10.0.0.8"), parse_scope("https://api.example.com/v1/")])
    assert scope.refusal("https://www.example.com/item/1") == ""
    assert scope.refusal("http://www.example.com/item/1") == "offsite"  # the base URL's scheme only
    assert scope.refusal("https://api.example.com/v1/search?q=1") == ""
    assert scope.refusal("https://api.example.com/v2/search") == "offsite"
    assert scope.refusal("http://10.0.0.8/x") == "blocked_address"
    assert scope.hosts == ["10.0.0.8", "api.example.com", "www.example.com"]


@pytest.mark.parametrize(("address", "refused"), [
    ("169.254.169.254", True), ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.1", True),
    ("0.0.0.0", True), ("::1", True), ("::ffff:169.254.169.254", True), ("fe80::1", True),
    ("93.184.216.34", False), ("not an address", True),
])
def test_refused_addresses(address: str, refused: bool) -> None:
    assert refused_address(address) is refused


def test_local_hosts() -> None:
    assert is_local_host("127.0.0.1") and is_local_host("localhost") and not is_local_host("www.example.com")


def test_site_file_hosts_are_validated_naming_the_entry(tmp_path: Path) -> None:
    site = tmp_path / "shop.yaml"
    body = ('name: shop\nplatform: html\nbase_url: "https://shop.example.com/"\nscript: simplified\ncharset: utf-8\n'
            'search:\n  url: "s?q={keyword}"\n  results: "a::attr(href)"\nlisting:\n  id_from_url: "i/(\\\\d+)"\n'
            '  fields:\n    title: "h1::text"\n')
    site.write_text(body + 'hosts: ["api.shop.example.com", "ftp://files.shop.example.com/"]\n', encoding="utf-8")
    with pytest.raises(SiteFileError, match=r"shop.yaml: hosts\[1\]: only http and https"):
        load_site_file(site)
    site.write_text(body + 'hosts: ["api.shop.example.com", "https://img.shop.example.com/p/"]\n', encoding="utf-8")
    scope = load_site_file(site).scope()
    assert scope.refusal("http://api.shop.example.com/search") == ""
    assert scope.refusal("https://img.shop.example.com/p/1.jpg") == ""
    assert scope.refusal("https://img.shop.example.com/q/1.jpg") == "offsite"


@pytest.mark.parametrize(("line", "field"), [
    ("politeness:\n  download_delay: .nan\n", "politeness.download_delay"),
    ("politeness:\n  download_delay: .inf\n", "politeness.download_delay"),
    ("politeness:\n  concurrency: 0\n", "politeness.concurrency"),
    ("max_pages: 0\n", "max_pages"),
])
def test_site_file_politeness_is_bounded(tmp_path: Path, line: str, field: str) -> None:
    site = tmp_path / "shop.yaml"
    site.write_text('name: shop\nplatform: html\nbase_url: "https://shop.example.com/"\nscript: simplified\n'
                    'charset: utf-8\nsearch:\n  url: "s?q={keyword}"\n  results: "a::attr(href)"\nlisting:\n'
                    '  id_from_url: "i/(\\\\d+)"\n  fields:\n    title: "h1::text"\n' + line, encoding="utf-8")
    with pytest.raises(SiteFileError, match=rf"shop.yaml: {field}: must be"):
        load_site_file(site)
