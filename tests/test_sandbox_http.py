"""The sandbox over real HTTP on 127.0.0.1 with a plain client: every site's search and
pagination against the world's own search, encodings, removals, faults, admin, determinism."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from collections import Counter
from urllib.parse import quote, urljoin

import opencc
import pytest

from monitor.sandbox import SITES, Sandbox, SandboxServer
from monitor.sandbox.index import listing_words
from monitor.sandbox.sites import FAULT_SHARE
from monitor.sandbox.urls import api_url, listing_url, parse_listing_url
from monitor.sandbox.world import hash01

MONTH = "2025-06"
NEXT_RE = re.compile(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>(?:<span>)?下一[页頁]')
HREF_RE = re.compile(r'href="([^"]+)"')


class Client:
    """Keep-alive HTTP client that honours Retry-After and retries a first-hit 5xx once."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

    def raw(self, path: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        return response

    def get(self, path: str) -> http.client.HTTPResponse:
        for _ in range(5):
            response = self.raw(path)
            if response.status == 429:
                time.sleep(float(response.getheader("Retry-After", "1")))
                continue
            if response.status in (500, 503):
                continue
            return response
        raise AssertionError(f"{path} kept failing")


@pytest.fixture(scope="module")
def started() -> tuple[SandboxServer, float]:
    began = time.monotonic()
    server = SandboxServer(Sandbox(), port=0, month=MONTH).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/tongcheng/")
    assert conn.getresponse().status == 200
    elapsed = time.monotonic() - began
    yield server, elapsed
    server.close()


@pytest.fixture(scope="module")
def server(started: tuple[SandboxServer, float]) -> SandboxServer:
    return started[0]


@pytest.fixture()
def client(server: SandboxServer) -> Client:
    server.set_month(MONTH)
    return Client(server)


def body_text(server: SandboxServer, site: str, response: http.client.HTTPResponse) -> str:
    """The body in the site's charset; JSON answers are UTF-8 on every site (jingbiaotw's search API too)."""
    json_answer = (response.getheader("Content-Type") or "").startswith("application/json")
    return response.body.decode("utf-8" if json_answer else server.world.site(site).charset)  # type: ignore[attr-defined]


def crawl_search(server: SandboxServer, client: Client, site: str, keyword: str) -> tuple[list[str], int]:
    """Follow the site's pagination as a crawler would; (listing ids in order, pages fetched)."""
    spec = server.world.site(site)
    app = server.apps[site]
    url = app.search_url(keyword, 1)
    ids: list[str] = []
    pages = 0
    while url and pages < 50:
        response = client.get(url)
        assert response.status == 200, (site, url, response.status)
        pages += 1
        text = body_text(server, site, response)
        found: list[str] = []
        nxt = ""
        if response.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(text)
            if site == "jingbiaotw":
                found = [x["id"] for x in data["hits"]]
                nxt = f"/jingbiaotw/api/search?q={quote(keyword)}&offset={data['next_offset']}" if data["next_offset"] else ""
            elif spec.variant == 0:
                found = [x["id"] for x in data["data"]["items"]]
                cursor = data["data"]["nextCursor"]
                nxt = f"/xianzhi/api/search?q={quote(keyword)}&cursor={cursor}" if cursor else ""
            elif spec.variant == 2:
                found = [str(x["itemId"]) for x in data["data"]["list"]]
                nxt = f"/erhuoquan/api/v1/search?kw={quote(keyword)}&after={data['data']['cursor']}" if data["data"]["hasMore"] else ""
            else:
                found = [x["id"] for x in data["items"]]
                nxt = f"/huishouwa/api/search?query={quote(keyword)}&cursor={data['cursor']}" if data["has_more"] else ""
        elif site == "zhuanshou":
            state = json.loads(re.search(r"window.__INITIAL_STATE__ = (.*?);</script>", text).group(1))["search"]
            found = [x["infoId"] for x in state["list"]]
            nxt = app.search_url(keyword, state["page"] + 1) if state["hasMore"] else ""
        elif site == "paipaitao":
            props = json.loads(re.search(r'id="__NEXT_DATA__" type="application/json">(.*?)</script>', text).group(1))
            page_props = props["props"]["pageProps"]
            found = [x["goodsId"] for x in page_props["results"]]
            nxt = app.search_url(keyword, page_props["nextPage"]) if page_props["nextPage"] else ""
        else:
            for href in HREF_RE.findall(text):
                parsed = parse_listing_url(urljoin(urljoin("http://x", url), href.replace("&amp;", "&")))
                if parsed and parsed[0] == site and parsed[1] not in found:
                    found.append(parsed[1])
            match = NEXT_RE.search(text)
            nxt = urljoin(url, match.group(1).replace("&amp;", "&")) if match else ""
        if not found and "endless_pages" in spec.faults:
            break
        ids += found
        url = nxt
    return ids, pages


def dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def broad_keyword(world: Sandbox, site: str, month: str = MONTH) -> str:
    """A keyword with several pages of hits. An empty keyword finds nothing since issue 10, so
    the tests that walked the old browse page walk this instead: the full stop on substring
    sites (every description has one), the commonest word on segmented ones."""
    if world.site(site).search_mode == "substring":
        return "。"
    words = Counter(w for i in world.listed(site, month) for w in listing_words(world.listing(site, i)))
    return min(words.items(), key=lambda kv: (-kv[1], kv[0]))[0]


# -- network and start-up -----------------------------------------------------------------

def test_starts_all_sites_in_under_five_seconds(started: tuple[SandboxServer, float]) -> None:
    server, elapsed = started
    assert elapsed < 5.0
    assert len(server.apps) == 31


def test_binds_only_loopback(server: SandboxServer) -> None:
    assert server._httpd.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent; reveals the outward address
        outward = probe.getsockname()[0]
    except OSError:
        outward = ""
    finally:
        probe.close()
    if not outward or outward.startswith("127."):
        pytest.skip("no non-loopback interface to probe")
    with pytest.raises(OSError):
        socket.create_connection((outward, server.port), timeout=1).close()


def test_date_header_is_the_simulated_today(client: Client) -> None:
    response = client.get("/tongcheng/")
    assert response.getheader("Date") == "Mon, 30 Jun 2025 12:00:00 GMT"


def test_robots_txt_has_per_site_rules(client: Client) -> None:
    text = client.get("/robots.txt").body.decode()  # type: ignore[attr-defined]
    assert "User-agent: *" in text
    assert "Disallow: /tongcheng/user/" in text and "Disallow: /pifa168/company/" in text
    assert "Disallow: /lutian/member/" in text


def test_admin_state_month_and_truth(server: SandboxServer, client: Client) -> None:
    assert json.loads(client.get("/__admin__/state").body)["month"] == MONTH  # type: ignore[attr-defined]
    response = client.raw("/__admin__/month", "POST", b"month=2024-02",
                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert json.loads(response.body) == {**server.state(), "month": "2024-02", "today": "2024-02-29"}  # type: ignore[attr-defined]
    assert client.get("/tongcheng/").getheader("Date") == "Thu, 29 Feb 2024 12:00:00 GMT"
    bad = client.raw("/__admin__/month", "POST", b"month=1999-01")
    assert bad.status == 400
    as_json = client.raw("/__admin__/month", "POST", b'{"month": "2024-03"}', {"Content-Type": "application/json"})
    assert json.loads(as_json.body)["today"] == "2024-03-31"  # type: ignore[attr-defined]
    sites = json.loads(client.get("/__admin__/sites").body)  # type: ignore[attr-defined]
    assert len(sites) == 31 and {"name", "archetype", "charset", "faults", "removal"} <= set(sites[0])
    truth = json.loads(client.get("/__admin__/truth?month=2024-02").body)  # type: ignore[attr-defined]
    assert len(truth) == len(server.world.truth("2024-02"))


# -- every site: search, pagination, detail -----------------------------------------------

@pytest.mark.parametrize("site", [s.name for s in SITES])
def test_search_pagination_and_detail_match_the_world(server: SandboxServer, client: Client, site: str) -> None:
    spec = server.world.site(site)
    keyword = broad_keyword(server.world, site)
    expected = server.world.search(site, keyword, MONTH)
    if len(expected) <= spec.page_size:  # no word that common there; its category pages page (test_sandbox_search)
        assert expected and spec.search_mode == "segmented" and spec.categories
    ids, pages = crawl_search(server, client, site, keyword)
    assert dedupe(ids) == expected
    if "duplicates" in spec.faults:
        assert len(ids) > len(expected)
    last_page = -(-len(expected) // spec.page_size)
    assert pages == last_page + (1 if "endless_pages" in spec.faults else 0)
    truth = {r["external_id"]: r for r in server.world.truth(MONTH) if r["site"] == site}
    live = next(i for i in expected if truth[i]["state"] == "live" and not truth[i]["login_wall"])
    row = truth[live]
    path = api_url(spec, live) or listing_url(spec, live)
    response = client.get(path)
    assert response.status == 200
    text = body_text(server, site, response)
    for contact in row["contacts"]:
        assert contact["written"] in text, contact  # every contact in the truth is on the page as written
    if response.getheader("Content-Type").startswith("application/json"):
        assert row["title"] in text and row["description"] in text
    else:
        from html import unescape

        page = unescape(text)
        for key in ("title", "description", "price_text", "location"):
            if row[key] and not (spec.archetype == "c2c" and key == "location" and spec.variant in (1, 3)):
                assert row[key] in page or json.dumps(row[key], ensure_ascii=False)[1:-1] in page, (key, row[key])
        if row["contact_text"]:
            assert row["contact_text"] in page


@pytest.mark.parametrize("site", [s.name for s in SITES])
def test_keyword_search_in_the_sites_encoding(server: SandboxServer, client: Client, site: str) -> None:
    spec = server.world.site(site)
    titles = [server.world.listing(site, i).title for i in server.world.listed(site, MONTH)]
    keyword = next(t[:2] for t in titles if re.match(r"^[\u4e00-\u9fff]{2}", t)
                   and server.world.search(site, t[:2], MONTH))  # on segmented sites: a word
    ids, _ = crawl_search(server, client, site, keyword)
    assert dedupe(ids) == server.world.search(site, keyword, MONTH) != []
    if spec.charset != "utf-8":
        # The same keyword percent-encoded in another charset is garbage to the site's search:
        # UTF-8 to a GBK/Big5 site, Big5 to jingbiaotw's UTF-8 search API.
        app = server.apps[site]
        taken = spec.query_charset or spec.charset
        other = "big5" if taken == "utf-8" else "utf-8"
        right = app.search_url(keyword, 1)
        wrong = right.replace(quote(keyword.encode(taken)), quote(keyword.encode(other)))
        assert wrong != right
        response = client.get(wrong)
        text = body_text(server, site, response)
        if response.getheader("Content-Type").startswith("application/json"):
            assert json.loads(text)["hits"] == []
        else:
            assert not any(parse_listing_url(urljoin(urljoin("http://x", wrong), h)) for h in HREF_RE.findall(text))


@pytest.mark.parametrize("site,charset", [("huaxiacang", "gbk"), ("shoucangluntan", "gbk"), ("lutian", "big5"),
                                          ("paimaitw", "big5"), ("kaluohk", "utf-8")])
def test_pages_are_in_their_declared_encoding(server: SandboxServer, client: Client, site: str, charset: str) -> None:
    item = server.world.listing(site, server.world.listed(site, MONTH)[0])
    response = client.get(listing_url(server.world.site(site), item.external_id))
    assert response.getheader("Content-Type") == f"text/html; charset={charset}"
    text = response.body.decode(charset)  # type: ignore[attr-defined]  # strict: raises on a wrong byte
    assert f"charset={charset}" in text or f'charset="{charset}"' in text
    if charset != "utf-8":
        with pytest.raises(UnicodeDecodeError):
            response.body.decode("utf-8")  # type: ignore[attr-defined]


def test_traditional_sites_do_not_find_simplified_text(server: SandboxServer, client: Client) -> None:
    to_simplified = opencc.OpenCC("t2s")
    titles = [server.world.listing("lutian", i).title for i in server.world.listed("lutian", MONTH)]
    word = next(t[:2] for t in titles if to_simplified.convert(t[:2]) != t[:2] and re.match(r"^[\u4e00-\u9fff]{2}", t)
                and server.world.search("lutian", t[:2], MONTH))
    assert crawl_search(server, client, "lutian", word)[0]
    assert crawl_search(server, client, "lutian", to_simplified.convert(word))[0] == []


# -- removals -------------------------------------------------------------------------------

@pytest.mark.parametrize("site", [s.name for s in SITES])
def test_removed_listings_answer_the_sites_way(server: SandboxServer, client: Client, site: str) -> None:
    spec = server.world.site(site)
    removed = next(r for r in server.world.truth(MONTH) if r["site"] == site and r["state"] == "removed"
                   and hash01(server.world.seed, "slow", r["url"]) >= FAULT_SHARE["slow"])
    assert removed["removal_kind"] == spec.removal
    response = client.get(removed["api_url"] or removed["url"])
    text = response.body.decode(spec.charset, "replace")  # type: ignore[attr-defined]
    if spec.removal == "http_404":
        assert response.status == 404
    elif spec.removal == "http_410":
        assert response.status == 410
    elif spec.removal == "deleted_page":
        assert response.status == 200
        assert ("信息已删除" if spec.script == "simplified" else "此商品資訊已刪除") in text
    else:
        assert response.status == 302 and response.getheader("Location") == f"/{site}/"
    assert client.get(listing_url(spec, "1")).status == 404


# -- faults ---------------------------------------------------------------------------------

def test_rate_limit_answers_429_with_retry_after(server: SandboxServer, client: Client) -> None:
    statuses = [client.get("/cangpinhui/").status]  # waits out any earlier 429
    while 429 not in statuses and len(statuses) < 2000:  # a burst well above 40 requests a second
        statuses.append(client.raw("/cangpinhui/").status)
    assert 429 in statuses and statuses[0] == 200
    limited = client.raw("/cangpinhui/")
    assert limited.status == 429 and limited.getheader("Retry-After") == "1"
    time.sleep(1.05)
    assert client.raw("/cangpinhui/").status == 200
    assert all(client.raw("/tongcheng/").status == 200 for _ in range(60))  # no limit there


def test_server_errors_hit_fixed_urls_once(server: SandboxServer, client: Client) -> None:
    spec = server.world.site("ganjiwang")
    paths = [listing_url(spec, i) for i in server.world.listed("ganjiwang", MONTH)]
    failing = [p for p in paths if hash01(server.world.seed, "5xx", p) < FAULT_SHARE["server_error"]]
    healthy = [p for p in paths if p not in failing]
    assert failing
    server.set_month(MONTH)  # forgets which URLs already failed
    first = client.raw(failing[0])
    assert first.status in (500, 503)
    assert client.raw(failing[0]).status in (200, 302, 404, 410)
    assert client.raw(healthy[0]).status == 200


def test_slow_endpoint(server: SandboxServer, client: Client) -> None:
    spec = server.world.site("panjiayuan")
    paths = [listing_url(spec, i) for i in server.world.listed("panjiayuan", MONTH)]
    slow = next(p for p in paths if hash01(server.world.seed, "slow", p) < FAULT_SHARE["slow"])
    fast = next(p for p in paths if hash01(server.world.seed, "slow", p) >= FAULT_SHARE["slow"])
    began = time.monotonic()
    client.get(slow)
    assert time.monotonic() - began >= 0.75
    quickest = 9.0
    for _ in range(3):  # the quickest of three, so a busy machine does not fake a slow page
        began = time.monotonic()
        client.get(fast)
        quickest = min(quickest, time.monotonic() - began)
    assert quickest < 0.5


def test_truncated_pages_keep_their_fields(server: SandboxServer, client: Client) -> None:
    world = server.world
    truth = {r["external_id"]: r for r in world.truth(MONTH) if r["site"] == "guwanjie" and r["state"] == "live"}
    spec = world.site("guwanjie")
    cut = whole = 0
    for external_id, row in truth.items():
        text = body_text(server, "guwanjie", client.get(listing_url(spec, external_id)))
        assert row["title"] in text
        if text.rstrip().endswith("</html>"):
            whole += 1
        else:
            cut += 1
            assert text.endswith('<div class="foo')
    assert 0.1 < cut / (cut + whole) < 0.3


def test_malformed_markup_and_mislabelled_charset(server: SandboxServer, client: Client) -> None:
    yiwu = body_text(server, "yiwugou", client.get(server.apps["yiwugou"].search_url(broad_keyword(server.world, "yiwugou"), 1)))
    assert "<li class=pro-item>" in yiwu and "</li>" not in yiwu
    spec = server.world.site("jiucangge")
    item = server.world.listing("jiucangge", server.world.listed("jiucangge", MONTH)[0])
    response = client.get(listing_url(spec, item.external_id))
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        response.body.decode("utf-8")  # type: ignore[attr-defined]
    assert item.title in response.body.decode("gbk")  # type: ignore[attr-defined]


def test_endless_pagination_and_duplicates(server: SandboxServer, client: Client) -> None:
    app = server.apps["kuaifenlei"]
    total = len(server.world.search("kuaifenlei", "。", MONTH))
    beyond = body_text(server, "kuaifenlei", client.get(app.search_url("。", total // 20 + 3)))
    assert "没有更多了" in beyond and NEXT_RE.search(beyond)
    keyword = broad_keyword(server.world, "baixingjie")
    ids = server.world.search("baixingjie", keyword, MONTH)
    page2, _ = crawl_search(server, client, "baixingjie", keyword)
    assert page2[20:22] == ids[18:20]


def test_stale_index_lists_ads_already_gone(server: SandboxServer, client: Client) -> None:
    for site in ("linlitie", "huishouwa"):
        gone = [r for r in server.world.truth(MONTH) if r["site"] == site and r["state"] == "removed"]
        assert gone and all(r["in_search"] for r in gone)
        assert gone[0]["external_id"] in crawl_search(server, client, site, gone[0]["title"])[0]
        response = client.raw(gone[0]["api_url"] or gone[0]["url"])
        assert response.status in (404, 302)
    plain = [r for r in server.world.truth(MONTH) if r["site"] == "tongcheng" and r["state"] == "removed"]
    assert plain and not set(r["external_id"] for r in plain) & set(server.world.listed("tongcheng", MONTH))


def test_login_walls(server: SandboxServer, client: Client) -> None:
    truth = [r for r in server.world.truth(MONTH) if r["login_wall"] and r["state"] == "live"]
    by_site = {r["site"]: r for r in truth}
    assert set(by_site) == {"zhuanshou", "huicongwang", "diaosuquan"}
    response = client.raw(by_site["zhuanshou"]["url"])
    assert response.status == 302 and response.getheader("Location").startswith("/zhuanshou/login?redirect=")
    assert "请登录后查看" in client.get(response.getheader("Location")).body.decode()  # type: ignore[attr-defined]
    text = client.get(by_site["huicongwang"]["url"]).body.decode()  # type: ignore[attr-defined]
    assert "登录后查看" in text and by_site["huicongwang"]["contact_text"] not in text
    text = client.get(by_site["diaosuquan"]["url"]).body.decode()  # type: ignore[attr-defined]
    assert 'class="locked"' in text and by_site["diaosuquan"]["title"] in text


# -- takedowns over HTTP and determinism ------------------------------------------------------

def test_same_seed_gives_byte_identical_pages() -> None:
    paths: list[str] = []
    bodies = []
    for _ in range(2):
        with SandboxServer(Sandbox(seed=99, first_month="2025-01", n_months=2), month="2025-02") as srv:
            if not paths:
                for site in ("tongcheng", "huaxiacang", "zhuanshou", "xianzhi", "pifa168", "shoucangluntan", "lutian"):
                    app = srv.apps[site]
                    paths += [app.search_url("手串", 1), app.search_url("手串", 2)]
                    paths += [app.category_page_url(c.key, 1) for c in srv.world.categories(site)[:2]]
                    for i in srv.world.listed(site, "2025-02")[:5]:
                        spec = srv.world.site(site)
                        paths.append(api_url(spec, i) or listing_url(spec, i))
            client = Client(srv)
            bodies.append([client.get(p).body for p in paths])  # type: ignore[attr-defined]
    assert bodies[0] == bodies[1]


def test_takedown_endpoint_removes_listings_later() -> None:
    with SandboxServer(Sandbox(seed=5, first_month="2025-01", n_months=3), month="2025-01") as srv:
        client = Client(srv)
        rows = [r for r in srv.world.truth("2025-01") if r["illegal"] and r["state"] == "live"]
        urls = [srv.url + r["url"] for r in rows]
        answer = json.loads(client.raw("/__admin__/takedowns", "POST", json.dumps({"month": "2025-01", "urls": urls}).encode(),
                                       {"Content-Type": "application/json"}).body)  # type: ignore[attr-defined]
        assert answer["requested"] == len(urls) and 0 < answer["will_remove"] < len(urls)
        gone_url, when = next((u, w) for u, w in answer["outcome"].items() if w)
        path = gone_url[len(srv.url):]
        site = parse_listing_url(path)[0]
        spec = srv.world.site(site)
        target = api_url(spec, parse_listing_url(path)[1]) or path
        assert client.get(target).status == 200  # still live in the month of the request
        srv.set_month(when)
        assert client.raw(target).status != 200 or spec.removal == "deleted_page"


def test_edited_price_shows_from_the_edit_month(server: SandboxServer, client: Client) -> None:
    from monitor.sandbox.world import month_name

    row = next(r for r in server.world.truth(MONTH) if r["edited"] and r["archetype"] == "classifieds"
               and r["state"] == "live" and r["price_text"] != "面议")
    item = server.world.listing(row["site"], row["external_id"])
    before = month_name(item.edit_idx - 1)
    assert item.price_text != row["price_text"]
    assert row["price_text"] in client.get(row["url"]).body.decode()  # type: ignore[attr-defined]
    server.set_month(before)
    assert item.price_text in client.get(row["url"]).body.decode()  # type: ignore[attr-defined]
