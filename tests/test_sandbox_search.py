"""How the simulated sites find their ads (issue 10): segmented or substring search, result
caps, Traditional-only indexes, empty keywords, category pages, and the world's own account of
them (world.search, world.category, world.reached_by, truth["categories"]), over real HTTP on
127.0.0.1 as a crawler sees them."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from urllib.parse import quote, urljoin

import pytest

from monitor.sandbox import SITES, Sandbox, SandboxServer
from monitor.sandbox.index import listing_words
from monitor.sandbox.sites import COLLECTIBLE
from monitor.sandbox.urls import parse_listing_url
from test_sandbox_http import HREF_RE, NEXT_RE, Client, body_text, dedupe

MONTH = "2025-06"
CURSOR_PARAM = {"xianzhi": "cursor", "erhuoquan": "after", "huishouwa": "cursor"}
CATEGORY_SITES = [s.name for s in SITES if s.categories]


@pytest.fixture(scope="module")
def server() -> SandboxServer:
    with SandboxServer(Sandbox(), port=0, month=MONTH) as server:
        yield server


@pytest.fixture()
def client(server: SandboxServer) -> Client:
    server.set_month(MONTH)
    return Client(server)


def walk(server: SandboxServer, client: Client, site: str, keyword: str = "",
         category: str | None = None) -> tuple[list[str], int, list[str]]:
    """Every page of a search (or of a category) as a crawler follows it: (listing ids in page
    order, duplicates included; pages fetched; the pages' texts)."""
    spec = server.world.site(site)
    app = server.apps[site]

    def nth(page: int) -> str:
        return app.search_url(keyword, page) if category is None else app.category_page_url(category, page)

    url, ids, texts = nth(1), [], []
    while url and len(texts) < 60:
        response = client.get(url)
        assert response.status == 200, (site, url, response.status)
        text = body_text(server, site, response)
        texts.append(text)
        found: list[str] = []
        nxt = ""
        if response.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(text)
            if site == "jingbiaotw":
                found, offset = [x["id"] for x in data["hits"]], data["next_offset"]
                nxt = f"{nth(1).rsplit('&offset=', 1)[0]}&offset={offset}" if offset else ""
                cursor = None
            elif site == "xianzhi":
                found, cursor = [x["id"] for x in data["data"]["items"]], data["data"]["nextCursor"]
            elif site == "erhuoquan":
                found = [str(x["itemId"]) for x in data["data"]["list"]]
                cursor = data["data"]["cursor"] if data["data"]["hasMore"] else None
            else:
                found, cursor = [x["id"] for x in data["items"]], data["cursor"] if data["has_more"] else None
            nxt = f"{nth(1)}&{CURSOR_PARAM[site]}={quote(cursor)}" if cursor else nxt
        elif site == "zhuanshou":
            state = json.loads(re.search(r"window.__INITIAL_STATE__ = (.*?);</script>", text).group(1))["search"]
            found = [x["infoId"] for x in state["list"]]
            nxt = nth(state["page"] + 1) if state["hasMore"] else ""
        elif site == "paipaitao":
            props = json.loads(re.search(r'id="__NEXT_DATA__" type="application/json">(.*?)</script>', text).group(1))
            page_props = props["props"]["pageProps"]
            found = [x["goodsId"] for x in page_props["results"]]
            nxt = nth(page_props["nextPage"]) if page_props["nextPage"] else ""
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
    return ids, len(texts), texts


def written(world: Sandbox, site: str, text: str, month: str = MONTH) -> list[str]:
    """Ids of the site's listed ads whose title + description contain ``text`` as written."""
    return [i for i in world.listed(site, month) if text in world.listing(site, i).search_text]


def site_with(world: Sandbox, mode: str, text: str, month: str = MONTH) -> tuple[str, list[str]]:
    return next((s.name, ids) for s in SITES if s.search_mode == mode and (ids := written(world, s.name, text, month)))


# -- search modes ---------------------------------------------------------------------------

def test_segmented_sites_match_words_substring_sites_match_text(server: SandboxServer, client: Client) -> None:
    world, month = server.world, "2025-05"  # a month with an ad written 象 牙 on sites of both kinds
    server.set_month(month)
    # An ad written 象 牙 (separator trick) has the words 象 and 牙: 象牙 does not find it on a
    # segmented site, 象 牙 does (both its words are there).
    seg, spaced = site_with(world, "segmented", "象 牙", month)
    found = dedupe(walk(server, client, seg, "象牙")[0])
    assert found == world.search(seg, "象牙", month) != [] and not set(spaced) & set(found)
    assert set(spaced) <= set(walk(server, client, seg, "象 牙")[0])
    # A substring site matches the text as written: 象 牙 finds it, 象牙 does not either.
    sub, spaced = site_with(world, "substring", "象 牙", month)
    assert set(spaced) <= set(walk(server, client, sub, "象 牙")[0])
    assert not set(spaced) & set(walk(server, client, sub, "象牙")[0])
    # Where they differ: 象牙 inside a longer word (象牙塔, a look-alike book) is found by a
    # substring site and not by a segmented one (象牙塔 is one word).
    for mode, finds in (("substring", True), ("segmented", False)):
        site, tower = next((s.name, ids) for s in SITES if s.search_mode == mode and not s.result_cap
                           and (ids := written(world, s.name, "象牙塔", month)))
        assert (set(tower) <= set(walk(server, client, site, "象牙")[0])) is finds, (site, tower)


def test_a_part_word_finds_nothing_on_a_segmented_site(server: SandboxServer, client: Client) -> None:
    world = server.world
    sub, with_part = site_with(world, "substring", "牙手")
    assert set(with_part) <= set(walk(server, client, sub, "牙手")[0])
    seg, ivory = next((s.name, ids) for s in SITES if s.search_mode == "segmented" and not world.search(s.name, "牙手", MONTH)
                      and (ids := [i for i in written(world, s.name, "象牙手")  # (猛犸象牙 is 猛犸象/牙)
                                   if "象牙" in listing_words(world.listing(s.name, i))]))
    assert walk(server, client, seg, "牙手")[0] == []  # 象牙手镯 is 象牙/手镯: no word 牙, no word 手
    assert set(ivory) <= set(walk(server, client, seg, "象牙")[0])
    # Wherever a segmented site finds 牙手, both 牙 and 手 stand there as words of their own.
    for spec in SITES:
        if spec.search_mode == "segmented":
            for i in world.search(spec.name, "牙手", MONTH):
                assert {"牙", "手"} <= listing_words(world.listing(spec.name, i))


def test_latin_letters_are_case_insensitive(server: SandboxServer, client: Client) -> None:
    for spec in SITES:
        if spec.search_mode == "segmented" and server.world.search(spec.name, "xj", MONTH):
            assert walk(server, client, spec.name, "XJ")[0] == walk(server, client, spec.name, "xj")[0] != []
            return
    pytest.fail("no segmented site has an XJ ad this month")


def test_every_site_states_its_search_mode_and_cap() -> None:
    modes = Counter(s.search_mode for s in SITES)
    assert modes == {"segmented": 16, "substring": 15}
    caps = {s.name: s.result_cap for s in SITES if s.result_cap}
    assert len(caps) == 7 and all(60 <= cap <= 100 for cap in caps.values())


# -- caps -------------------------------------------------------------------------------------

@pytest.mark.parametrize("site,keyword", [("cangpinhui", "。"), ("pifa168", "批发"), ("wenwanba", "元")])
def test_result_cap_holds_over_the_pages(server: SandboxServer, client: Client, site: str, keyword: str) -> None:
    world, spec = server.world, server.world.site(site)
    shown, total = world.search_results(site, keyword, MONTH)
    assert total > spec.result_cap == len(shown)  # more hits than the cap: the cap bites
    ids, pages, texts = walk(server, client, site, keyword)
    assert dedupe(ids) == list(shown) and pages == -(-spec.result_cap // spec.page_size)
    assert str(total) in texts[0]  # the page prints every hit...
    beyond = server.apps[site].search_url(keyword, pages + 1)  # ...but no page shows those past the cap
    hrefs = HREF_RE.findall(body_text(server, site, client.get(beyond)))
    assert not [h for h in hrefs if (parse_listing_url(urljoin(urljoin("http://x", beyond), h)) or ("",))[0] == site]


def test_capped_categories_show_only_their_newest_pages(server: SandboxServer, client: Client) -> None:
    world = server.world
    for site, key in (("tongcheng", "ershou"), ("baixingjie", "ershou"), ("panjiayuan", "1"), ("xianzhi", "new")):
        spec, category = world.site(site), world.site(site).category(key)
        shown, total = world.category_results(site, key, MONTH)
        assert total > category.max_pages * spec.page_size == len(shown)
        ids, pages, _ = walk(server, client, site, category=key)
        assert dedupe(ids) == list(shown) == world.listed(site, MONTH)[:len(shown)]  # the newest ads only
        assert pages == category.max_pages


# -- scripts and empty keywords ------------------------------------------------------------------

@pytest.mark.parametrize("site", ["lutian", "paimaitw", "kaluohk"])
def test_traditional_sites_index_traditional_text_only(server: SandboxServer, client: Client, site: str) -> None:
    traditional = written(server.world, site, "手鐲")
    assert traditional and set(traditional) <= set(walk(server, client, site, "手鐲")[0])
    assert walk(server, client, site, "手镯")[0] == []
    assert server.world.search(site, "手镯", MONTH) == []


@pytest.mark.parametrize("site", [s.name for s in SITES])
def test_an_empty_keyword_finds_nothing(server: SandboxServer, client: Client, site: str) -> None:
    ids, pages, texts = walk(server, client, site, "")
    assert ids == [] and server.world.search(site, "", MONTH) == [] and server.world.search(site, "   ", MONTH) == []
    if "endless_pages" not in server.world.site(site).faults:
        assert pages == 1 and not NEXT_RE.search(texts[0])


# -- categories ------------------------------------------------------------------------------

def test_a_third_of_the_sites_have_no_categories(server: SandboxServer, client: Client) -> None:
    world = server.world
    bare = [s.name for s in SITES if not world.categories(s.name)]
    assert len(bare) == 11
    assert {s.archetype for s in SITES if s.name in bare} == {s.archetype for s in SITES}  # in every archetype
    for spec in SITES:
        home = body_text(server, spec.name, client.get(f"/{spec.name}/"))
        links = re.search(r'<nav class="cats">(.*?)</nav>', home)
        if spec.name in bare:
            assert links is None
        else:
            hrefs = [h.replace("&amp;", "&") for h in HREF_RE.findall(links.group(1))]
            assert hrefs == [server.apps[spec.name].category_page_url(c.key) for c in spec.categories]
    assert client.get("/tongcheng/nosuch/").status == 404
    assert client.get("/huaxiacang/list.php?catid=99&page=1").status == 404
    assert client.get("/xianzhi/api/feed?tab=nosuch").status == 404
    with pytest.raises(KeyError):
        world.category("kuaifenlei", "anything", MONTH)


def test_categories_mix_illegal_ads_among_many_benign_ones(server: SandboxServer) -> None:
    world = server.world
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    illegal_filed: Counter = Counter()
    for row in world.truth(MONTH):
        spec = world.site(row["site"])
        if not spec.categories or row["state"] != "live":
            continue
        assert row["categories"] == [k for k in row["filed_in"] if row["external_id"] in world.category(spec.name, k, MONTH)]
        for key in row["filed_in"]:
            counts[row["site"], key][row["kind"]] += 1
        if row["illegal"]:
            sorted_into = [spec.category(k) for k in row["filed_in"] if not spec.category(k).everything]
            where = sorted_into[0] if sorted_into else None
            illegal_filed["collectibles" if where and set(where.topics) & set(COLLECTIBLE) else
                          "elsewhere" if where else "feed only"] += 1
    illegal = sum(c["illegal"] for c in counts.values() if c["illegal"])
    sorted_illegal = illegal_filed["collectibles"] + illegal_filed["elsewhere"]  # (not on feed-only C2C sites)
    assert illegal_filed["collectibles"] > 0.6 * sorted_illegal
    assert illegal_filed["elsewhere"] >= 0.1 * sorted_illegal  # catch-all and unrelated categories
    holding = {key: c for key, c in counts.items() if c["illegal"] >= 3}
    assert len(holding) >= 10 and illegal
    for key, c in holding.items():
        everything = world.site(key[0]).category(key[1]).everything
        assert c["ordinary"] + c["lookalike"] > (3 if everything else 1) * c["illegal"], (key, dict(c))
    assert sum(c["lookalike"] for c in holding.values()) >= 10
    # Browsing is no free pass: most categories hold no illegal ad at all.
    assert sum(1 for c in counts.values() if not c["illegal"]) > len(counts) / 2


@pytest.mark.parametrize("site", CATEGORY_SITES)
def test_pages_agree_with_the_world_and_reached_by(server: SandboxServer, client: Client, site: str) -> None:
    world = server.world
    walked: dict[str, set[str]] = {}
    for category in world.categories(site):
        ids, pages, _ = walk(server, client, site, category=category.key)
        assert dedupe(ids) == world.category(site, category.key, MONTH), category.key
        walked[category.key] = set(ids)
    queries = ["象牙", "手串", "犀角", "玳瑁", "手鐲" if world.site(site).script == "traditional" else "手镯"]
    found: dict[str, set[str]] = {}
    for query in queries:
        ids, _, _ = walk(server, client, site, query)
        assert dedupe(ids) == world.search(site, query, MONTH), query
        found[query] = set(ids)
    truth = [r for r in world.truth(MONTH) if r["site"] == site and r["in_search"]]
    assert truth
    for row in truth:
        reached = world.reached_by(site, row["external_id"], MONTH, queries)
        assert reached == {"queries": [q for q in queries if row["external_id"] in found[q]],
                           "categories": [k for k in walked if row["external_id"] in walked[k]]}, row["external_id"]
        assert reached["categories"] == row["categories"]
    assert world.reached_by(site, truth[0]["external_id"], MONTH, [], categories=[]) == {"queries": [], "categories": []}


def test_reached_by_on_a_site_without_categories(server: SandboxServer, client: Client) -> None:
    world = server.world
    row = next(r for r in world.truth(MONTH) if r["site"] == "maoyitong" and r["illegal"] and r["state"] == "live")
    word = row["title"][:2]
    reached = world.reached_by("maoyitong", row["external_id"], MONTH, [word, "没有这个词"])
    assert reached == {"queries": [word], "categories": []} and row["categories"] == row["filed_in"] == []
    assert row["external_id"] in walk(server, client, "maoyitong", word)[0]


def test_placement_is_fixed_by_the_seed() -> None:
    a, b = Sandbox(seed=3, first_month="2025-01", n_months=2), Sandbox(seed=3, first_month="2025-01", n_months=2)
    other = Sandbox(seed=4, first_month="2025-01", n_months=2)
    for site in ("huaxiacang", "tongcheng", "lutian"):
        for key in [c.key for c in a.categories(site)]:
            assert a.category(site, key, "2025-02") == b.category(site, key, "2025-02")
    filed = [(x.external_id, x.filed) for x in a.site_listings("huaxiacang")]
    assert filed == [(x.external_id, x.filed) for x in b.site_listings("huaxiacang")]
    assert filed != [(x.external_id, x.filed) for x in other.site_listings("huaxiacang")]
