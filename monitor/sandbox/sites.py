"""The 30 simulated marketplaces: who they are, how they encode, how they fail.

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
)

RATE_LIMIT_PER_S = 40
RETRY_AFTER_S = 1
SLOW_SECONDS = 0.8
FAULT_SHARE = {"server_error": 0.05, "slow": 0.10, "truncated": 0.20, "login_wall": 0.15}

# Fixed exchange rates the truth uses for price_cny.
CNY_PER = {"CNY": 1.0, "TWD": 0.22, "HKD": 0.92}


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
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return {"tw": "TWD", "hk": "HKD"}.get(self.region, "CNY")

    @property
    def declared_charset(self) -> str:
        """What the HTTP Content-Type header claims (a lie on bad_charset sites)."""
        return "utf-8" if "bad_charset" in self.faults else self.charset


def _s(name: str, archetype: str, charset: str, label: str, removal: str, faults: tuple[str, ...] = (),
       **kw: object) -> SandboxSite:
    script = "traditional" if archetype == "auction" else "simplified"
    return SandboxSite(name=name, archetype=archetype, charset=charset, script=script, label=label,
                       removal=removal, faults=faults, **kw)  # type: ignore[arg-type]


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
    _s("wenwanba", "forum", "utf-8", "文玩吧", "deleted_page", (), variant=0,
       takedown_rate=0.6, weight=1.2, illegal_bias=1.6),
    _s("shoucangluntan", "forum", "gbk", "收藏论坛", "deleted_page", (), variant=1,
       takedown_rate=0.4, weight=0.9, illegal_bias=1.5),
    _s("huaxiabbs", "forum", "utf-8", "华夏收藏BBS", "http_410", ("truncated",), variant=2,
       takedown_rate=0.5, weight=0.9, illegal_bias=1.4),
    _s("diaosuquan", "forum", "utf-8", "雕塑圈", "redirect_home", ("login_wall",), variant=3,
       takedown_rate=0.3, weight=0.8, illegal_bias=1.5),
    _s("laowanjia", "forum", "utf-8", "老玩家社区", "http_404", ("server_error",), variant=4,
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
)

SITES_BY_NAME: dict[str, SandboxSite] = {s.name: s for s in SITES}

# Per-site robots.txt rules (path prefixes under the site's own prefix).
ROBOTS_DISALLOW: dict[str, tuple[str, ...]] = {
    "tongcheng": ("/tongcheng/user/", "/tongcheng/post/"),
    "pifa168": ("/pifa168/company/",),
    "lutian": ("/lutian/member/", "/lutian/bid/"),
}
