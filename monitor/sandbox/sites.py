"""The 31 simulated marketplaces: who they are, how they encode, how they fail.

Everything a site does differently from its archetype siblings is data here, so the
renderers stay one per archetype and the fault list of a site can be read in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ARCHETYPES = ("classifieds", "collectibles", "c2c", "b2b", "forum", "auction")

# How a removed listing answers.
REMOVAL_KINDS = ("http_404", "http_410", "deleted_page", "redirect_home")

# Faults a site may show; see SITES.md for what each one looks like on the wire.
FAULTS = (
    "robots",          # robots.txt disallows a section of the site
    "rate_limit",      # 429 + Retry-After when more than RATE_LIMIT_PER_S requests/s hit the site
    "server_error",    # a fixed share of URLs answer 500/503 on their first request
    "slow",            # a fixed share of detail pages take SLOW_SECONDS to answer
    "truncated",       # a fixed share of detail pages are cut off before their closing tags
    "malformed",       # unclosed and misnested tags on every page
    "bad_charset",     # the HTTP header names the wrong charset
    "endless_pages",   # a "next" link on every search page, even past the last one
    "duplicates",      # each search page repeats the last two results of the previous one
    "stale_index",     # search lists ads removed this month; their detail page answers removed
    "login_wall",      # a fixed share of detail pages hide the ad (or its contacts) behind a login
    "captcha",         # searched faster than CAPTCHA_SEARCHES per CAPTCHA_WINDOW_S: a captcha page instead
)

RATE_LIMIT_PER_S = 40
# More search requests than this within the window put up a captcha wall on the site's searches
# for CAPTCHA_WALL_S (requests while it stands count in the window but do not extend it).
CAPTCHA_SEARCHES = 20
CAPTCHA_WINDOW_S = 2.0
CAPTCHA_WALL_S = 2.0
RETRY_AFTER_S = 1
SLOW_SECONDS = 0.8
FAULT_SHARE = {"server_error": 0.05, "slow": 0.10, "truncated": 0.20, "login_wall": 0.15}

# Fixed exchange rates the truth uses for price_cny.
CNY_PER = {"CNY": 1.0, "TWD": 0.22, "HKD": 0.92}


# How a site's search matches (see SITES.md, "Search"):
#   substring: the keyword as written occurs in title + description (SQL LIKE '%kw%')
#   segmented: a word index; every word of the segmented keyword is a word of the listing
SEARCH_MODES = ("substring", "segmented")

# Topics (phrases.TITLE_TOPIC / PRODUCT_TOPIC) that antiques, crafts and collectibles categories take.
COLLECTIBLE = ("beads", "wenwan", "carving", "raw", "daily", "jade", "porcelain", "painting", "coins")


@dataclass(frozen=True)
class Category:
    """A category page a site lets visitors browse, newest first, at the site's page size."""

    key: str                      # as it appears in the category's URL
    label: str
    topics: tuple[str, ...] = ()  # listings about these topics are filed here
    everything: bool = False      # lists every listing of the site (a "newest" feed)
    catch_all: bool = False       # takes listings no other category takes, and most misfiled ones
    max_pages: int | None = None  # only the newest N pages are reachable


def _c(key: str, label: str, *topics: str, pages: int | None = None) -> Category:
    """A category; the topic "*" makes it the site's catch-all, "ALL" its everything-feed."""
    return Category(key=key, label=label, topics=tuple(t for t in topics if t not in ("*", "ALL")),
                    everything="ALL" in topics, catch_all="*" in topics, max_pages=pages)


@dataclass(frozen=True)
class SandboxSite:
    """One marketplace: identity, encoding and behaviour."""

    name: str
    archetype: str
    charset: str            # the encoding the bytes are really in
    script: str             # "simplified" | "traditional"
    label: str              # display name
    removal: str            # one of REMOVAL_KINDS
    faults: tuple[str, ...] = ()
    takedown_rate: float = 0.5  # share of requested takedowns the platform carries out
    weight: float = 1.0         # share of the network's new listings
    illegal_bias: float = 1.0   # multiplies the network's share of protected-species ads
    region: str = "cn"          # "cn" | "tw" | "hk": locations, currency, wording
    page_size: int = 20
    variant: int = 0            # which markup family of the archetype
    search_mode: str = "substring"  # one of SEARCH_MODES
    result_cap: int | None = None   # hits beyond the first N are never shown (deep paging refused)
    categories: tuple[Category, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    query_charset: str = ""         # what its search reads the keyword in, when not charset (a UTF-8 API)
    regions: tuple[str, ...] = ()   # a site mixing regions: each listing is of its seller's (default: region)
    newcomer: bool = False          # joined after the first 30: generated without changing theirs (world.py)

    @property
    def currency(self) -> str:
        return {"tw": "TWD", "hk": "HKD"}.get(self.region, "CNY")

    @property
    def declared_charset(self) -> str:
        """What the HTTP Content-Type header claims (a lie on bad_charset sites)."""
        return "utf-8" if "bad_charset" in self.faults else self.charset

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

# Categories per site (about a third of the sites have none: there, only search finds ads).
# Keys are what the site's category URL carries; SITES.md gives each site's URL scheme.
_CLASSIFIEDS_WIDE = ("sports", "music", "books") + COLLECTIBLE
CATEGORIES: dict[str, tuple[Category, ...]] = {
    "tongcheng": (
        _c("ershou", "二手市场", "ALL", pages=5), _c("shouji", "手机数码", "digital"),
        _c("jiadian", "家电家具", "home"), _c("muying", "母婴玩具", "kids"),
        _c("wenti", "文体收藏", *_CLASSIFIEDS_WIDE), _c("fushi", "服饰鞋包", "clothing", "jewelry"),
        _c("diandongche", "电动车", "vehicle"), _c("qita", "其他闲置", "*"),
    ),
    "ganjiwang": (
        _c("shouji", "手机/数码", "digital"), _c("jiaju", "家具/家电", "home"),
        _c("ertong", "母婴/玩具", "kids", "music"), _c("shoucang", "收藏/文体", "sports", "books", *COLLECTIBLE),
        _c("yifu", "服装/鞋帽", "clothing", "jewelry"), _c("che", "电动车/摩托车", "vehicle"),
        _c("qita", "其他物品", "*"),
    ),
    "baixingjie": (
        _c("ershou", "二手", "ALL", pages=3), _c("wenti", "文体收藏", *_CLASSIFIEDS_WIDE),
        _c("shenghuo", "生活用品", "home", "kids", "food", "clothing", "jewelry"), _c("shuma", "数码", "digital"),
    ),
    "huaxiacang": (
        _c("11", "瓷器紫砂", "porcelain"), _c("12", "玉器翡翠", "jade"), _c("13", "文玩手串", "beads", "wenwan"),
        _c("14", "竹木牙角", "carving", "raw", "daily"), _c("15", "书画", "painting"),
        _c("16", "钱币铜器", "coins"), _c("19", "综合杂项", "*"),
    ),
    "guwanjie": (
        _c("ciqi", "瓷器", "porcelain"), _c("yuqi", "玉器", "jade"), _c("shuhua", "书画", "painting"),
        _c("qianbi", "钱币", "coins"), _c("zaxiang", "古玩杂项", "beads", "wenwan", "carving", "raw", "daily", "*"),
    ),
    "cangpinhui": (
        _c("1", "文玩", "beads", "wenwan"), _c("2", "工艺品", "carving", "raw", "daily"), _c("3", "玉石", "jade"),
        _c("4", "瓷器", "porcelain"), _c("5", "其他", "*"),
    ),
    "panjiayuan": (
        _c("1", "最新上架", "ALL", pages=2), _c("2", "瓷器陶器", "porcelain"), _c("3", "玉器", "jade"),
        _c("4", "书画", "painting"), _c("5", "钱币邮票", "coins"),
        _c("6", "杂项", "beads", "wenwan", "carving", "raw", "daily", "*"),
    ),
    "xianzhi": (_c("new", "最新发布", "ALL", pages=3),),
    "zhuanshou": (_c("latest", "最新", "ALL", pages=5),),
    "paipaitao": (_c("new", "新上架", "ALL", pages=3),),
    "pifa168": (
        _c("1031", "工艺礼品", *COLLECTIBLE), _c("1032", "饰品配件", "jewelry"),
        _c("1033", "家居日用", "home", "kids", "food"), _c("1034", "劳保包装", "supplies"),
        _c("1035", "五金照明", "hardware"), _c("1036", "服装纺织", "clothing"),
        _c("1037", "数码配件", "digital"), _c("1038", "运动户外", "sports", "vehicle"), _c("1039", "其他", "*"),
    ),
    "huicongwang": tuple(
        _c(key, label, *topics, pages=5) for key, label, *topics in (
            ("gongyipin", "工艺品", *COLLECTIBLE), ("shipin", "饰品", "jewelry"),
            ("riyong", "日用百货", "home", "kids", "food", "sports"), ("laobao", "劳保用品", "supplies", "hardware"),
            ("fuzhuang", "服装", "clothing"), ("shuma", "数码配件", "digital"), ("qita", "其他", "*"),
        )
    ),
    "yiwugou": (
        _c("gongyi", "工艺品市场", *COLLECTIBLE, "jewelry"), _c("riyong", "日用百货市场", "home", "kids", "sports", "supplies"),
        _c("fuzhuang", "服装市场", "clothing"), _c("dianzi", "电子市场", "digital", "hardware"),
    ),
    "wenwanba": (
        _c("1", "玉石翡翠", "jade"), _c("2", "文玩杂项", "beads", "wenwan", "carving", "raw", "daily"),
        _c("4", "瓷器紫砂", "porcelain"), _c("5", "钱币书画", "coins", "painting"), _c("6", "交流灌水", "discussion", "*"),
    ),
    "shoucangluntan": (
        _c("36", "古玩杂项", "beads", "wenwan", "carving", "raw", "daily"), _c("37", "玉器珠宝", "jade", "jewelry"),
        _c("38", "陶瓷", "porcelain"), _c("39", "书画钱币", "painting", "coins"), _c("41", "灌水闲聊", "discussion", "*"),
    ),
    "huaxiabbs": (
        _c("zaxiang", "杂项", "beads", "wenwan", "carving", "raw", "daily"), _c("yuqi", "玉器", "jade"),
        _c("ciqi", "瓷器", "porcelain"), _c("shuhua", "书画", "painting"), _c("qianbi", "钱币", "coins"),
        _c("chaguan", "茶馆", "discussion", "*"),
    ),
    "diaosuquan": (
        _c("muyadiao", "木牙角雕", "carving", "raw", "daily", "beads"), _c("yudiao", "玉雕", "jade"),
        _c("hediao", "核雕文玩", "wenwan"), _c("taoci", "陶瓷", "porcelain"), _c("xianliao", "闲聊", "discussion", "*"),
    ),
    "lutian": tuple(
        _c(key, label, *topics, pages=5) for key, label, *topics in (
            ("0011", "古董", "porcelain", "coins", "carving", "raw", "daily"), ("0012", "藝術品", "painting"),
            ("0013", "收藏", "beads", "wenwan", "jade"), ("0014", "3C", "digital"),
            ("0015", "居家生活", "home", "kids", "food", "music", "sports", "vehicle"),
            ("0016", "服飾配件", "clothing", "jewelry"), ("0019", "其他", "*"),
        )
    ),
    "qipaitw": (
        _c("23000", "古董藝品", *COLLECTIBLE), _c("23500", "電腦/3C", "digital"),
        _c("24000", "居家生活", "home", "kids", "food", "music", "sports", "vehicle"),
        _c("24500", "服飾", "clothing", "jewelry"), _c("29999", "其他", "*"),
    ),
    "kaluohk": tuple(
        _c(key, label, *topics, pages=3) for key, label, *topics in (
            ("antiques-1840", "古董及收藏品", *COLLECTIBLE), ("electronics-1841", "電子產品", "digital"),
            ("home-1842", "家居", "home", "kids", "food", "music"), ("fashion-1843", "時尚", "clothing", "jewelry"),
            ("others-1849", "其他", "*"),
        )
    ),
}

# Search per site, chosen the way such sites are built: a search engine (segmented) on the big
# platforms, SQL LIKE (substring) on small PHP/ASP sites and Discuz!-style forums.
SEGMENTED = {"tongcheng", "ganjiwang", "baixingjie", "huaxiacang", "panjiayuan", "xianzhi", "zhuanshou",
             "erhuoquan", "pifa168", "huicongwang", "yiwugou", "wenwanba", "diaosuquan", "lutian", "qipaitw",
             "jingbiaotw"}
RESULT_CAP = {"tongcheng": 100, "cangpinhui": 60, "panjiayuan": 100, "xianzhi": 100, "pifa168": 60, "wenwanba": 60,
              "jingbiaotw": 100}


def _s(name: str, archetype: str, charset: str, label: str, removal: str, faults: tuple[str, ...] = (),
       **kw: object) -> SandboxSite:
    script = "traditional" if archetype == "auction" else "simplified"
    return SandboxSite(name=name, archetype=archetype, charset=charset, script=script, label=label,
                       removal=removal, faults=faults,
                       search_mode="segmented" if name in SEGMENTED else "substring",
                       result_cap=RESULT_CAP.get(name), categories=CATEGORIES.get(name, ()),
                       **kw)  # type: ignore[arg-type]


SITES: tuple[SandboxSite, ...] = (
    # 1. city classifieds
    _s("tongcheng", "classifieds", "utf-8", "同城生活网", "http_404", ("robots",), variant=0,
       takedown_rate=0.8, weight=1.3, illegal_bias=0.6),
    _s("ganjiwang", "classifieds", "utf-8", "赶集分类", "deleted_page", ("server_error",), variant=1,
       takedown_rate=0.7, weight=1.2, illegal_bias=0.6),
    _s("baixingjie", "classifieds", "utf-8", "百姓街", "redirect_home", ("duplicates",), variant=2,
       takedown_rate=0.6, weight=1.1, illegal_bias=0.7),
    _s("kuaifenlei", "classifieds", "utf-8", "快分类", "http_410", ("endless_pages",), variant=3,
       takedown_rate=0.5, weight=1.0, illegal_bias=0.8, page_size=20),
    _s("linlitie", "classifieds", "utf-8", "邻里贴", "http_404", ("stale_index",), variant=4,
       takedown_rate=0.4, weight=0.9, illegal_bias=0.8),
    # 2. collectibles and antiques (GBK)
    _s("huaxiacang", "collectibles", "gbk", "华夏藏品网", "deleted_page", (), variant=0,
       takedown_rate=0.5, weight=1.0, illegal_bias=1.8),
    _s("guwanjie", "collectibles", "gbk", "古玩街", "http_404", ("truncated",), variant=1,
       takedown_rate=0.4, weight=0.9, illegal_bias=1.9),
    _s("cangpinhui", "collectibles", "gbk", "藏品汇", "redirect_home", ("rate_limit",), variant=2,
       takedown_rate=0.6, weight=0.9, illegal_bias=1.7),
    _s("jiucangge", "collectibles", "gbk", "旧藏阁", "http_410", ("bad_charset",), variant=3,
       takedown_rate=0.3, weight=0.8, illegal_bias=2.0),
    _s("panjiayuan", "collectibles", "gbk", "潘家园在线", "deleted_page", ("slow",), variant=4,
       takedown_rate=0.5, weight=1.0, illegal_bias=1.8, page_size=25),
    # 3. C2C second-hand apps (JSON)
    _s("xianzhi", "c2c", "utf-8", "闲置鱼塘", "http_404", ("rate_limit",), variant=0,
       takedown_rate=0.9, weight=1.4, illegal_bias=0.8),
    _s("zhuanshou", "c2c", "utf-8", "转手", "deleted_page", ("login_wall",), variant=1,
       takedown_rate=0.8, weight=1.2, illegal_bias=0.8),
    _s("erhuoquan", "c2c", "utf-8", "二货圈", "http_410", ("server_error",), variant=2,
       takedown_rate=0.7, weight=1.0, illegal_bias=0.9),
    _s("paipaitao", "c2c", "utf-8", "拍拍淘", "http_404", ("duplicates",), variant=3,
       takedown_rate=0.6, weight=1.0, illegal_bias=0.9),
    _s("huishouwa", "c2c", "utf-8", "回收蛙", "redirect_home", ("stale_index",), variant=4,
       takedown_rate=0.5, weight=0.9, illegal_bias=1.0),
    # 4. B2B wholesale
    _s("pifa168", "b2b", "utf-8", "批发168", "http_404", ("robots",), variant=0,
       takedown_rate=0.8, weight=1.2, illegal_bias=0.5),
    _s("huicongwang", "b2b", "utf-8", "汇聪商务网", "http_410", ("login_wall",), variant=1,
       takedown_rate=0.7, weight=1.0, illegal_bias=0.5),
    _s("gongchangzhi", "b2b", "utf-8", "工厂直供网", "deleted_page", ("server_error",), variant=2,
       takedown_rate=0.6, weight=0.9, illegal_bias=0.6),
    _s("yiwugou", "b2b", "utf-8", "义乌购货网", "redirect_home", ("malformed",), variant=3,
       takedown_rate=0.5, weight=0.9, illegal_bias=0.6),
    _s("maoyitong", "b2b", "utf-8", "贸易通", "http_404", ("rate_limit",), variant=4,
       takedown_rate=0.4, weight=0.8, illegal_bias=0.7),
    # 5. forums and post bars
    _s("wenwanba", "forum", "utf-8", "文玩吧", "deleted_page", ("captcha",), variant=0,
       takedown_rate=0.6, weight=1.2, illegal_bias=1.6),
    _s("shoucangluntan", "forum", "gbk", "收藏论坛", "deleted_page", (), variant=1,
       takedown_rate=0.4, weight=0.9, illegal_bias=1.5),
    _s("huaxiabbs", "forum", "utf-8", "华夏收藏BBS", "http_410", ("truncated",), variant=2,
       takedown_rate=0.5, weight=0.9, illegal_bias=1.4),
    _s("diaosuquan", "forum", "utf-8", "雕塑圈", "redirect_home", ("login_wall",), variant=3,
       takedown_rate=0.3, weight=0.8, illegal_bias=1.5),
    _s("laowanjia", "forum", "utf-8", "老玩家社区", "http_404", ("server_error", "captcha"), variant=4,
       takedown_rate=0.5, weight=0.9, illegal_bias=1.4),
    # 6. Taiwan and Hong Kong auctions (Traditional)
    _s("lutian", "auction", "big5", "露天拍賣場", "http_404", ("robots",), variant=0, region="tw",
       takedown_rate=0.5, weight=1.1, illegal_bias=1.2),
    _s("paimaitw", "auction", "big5", "台灣拍賣網", "deleted_page", ("rate_limit",), variant=1,
       region="tw", takedown_rate=0.4, weight=0.9, illegal_bias=1.3),
    _s("qipaitw", "auction", "utf-8", "奇拍", "http_410", ("server_error",), variant=2, region="tw",
       takedown_rate=0.6, weight=1.0, illegal_bias=1.1),
    _s("kaluohk", "auction", "utf-8", "卡路街", "redirect_home", (), variant=3, region="hk",
       takedown_rate=0.7, weight=1.0, illegal_bias=1.2),
    _s("gangpaihk", "auction", "utf-8", "港拍網", "deleted_page", ("duplicates",), variant=4,
       region="hk", takedown_rate=0.5, weight=0.9, illegal_bias=1.3),
    # 7. joined later: a Taiwan auction site with Hong Kong sellers, a UTF-8 JSON search API and
    # Big5 listing pages whose data is JSON in a <script> (see SITES.md)
    _s("jingbiaotw", "auction", "big5", "競標網", "deleted_page", ("stale_index",), variant=5, region="tw",
       regions=("tw", "hk"), query_charset="utf-8", newcomer=True, takedown_rate=0.5, weight=0.9,
       illegal_bias=1.2),
)

SITES_BY_NAME: dict[str, SandboxSite] = {s.name: s for s in SITES}

# Per-site robots.txt rules (path prefixes under the site's own prefix).
ROBOTS_DISALLOW: dict[str, tuple[str, ...]] = {
    "tongcheng": ("/tongcheng/user/", "/tongcheng/post/"),
    "pifa168": ("/pifa168/company/",),
    "lutian": ("/lutian/member/", "/lutian/bid/"),
}
