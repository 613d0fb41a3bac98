"""Words of the report in its two languages: Simplified Chinese (default) and English.

Kept as data so a translator edits one table; templates look words up by key and never
put scraped text through this table. Species names, colours and legal basis are not here: they
come from the lexicon folder's ``species.yaml`` (``monitor.matching.species``), the configured
``keywords_dir`` or the shipped one, chosen for one report with ``species_folder``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator, Mapping

from monitor.matching.species import Species, species_table

LANGUAGES = ("zh", "en")

# The lexicon folder whose species.yaml names and colours species while a report is built or
# drawn (None: the shipped one). Set by build_context and render_report for their duration, so
# the row and chart helpers need no folder argument.
_SPECIES_FOLDER: ContextVar[str | None] = ContextVar("report_species_folder", default=None)


@contextmanager
def species_folder(folder: Path | str | None) -> Iterator[None]:
    """Within the block, name and colour species from ``folder``'s species.yaml (None: shipped)."""
    token = _SPECIES_FOLDER.set(str(folder) if folder else None)
    try:
        yield
    finally:
        _SPECIES_FOLDER.reset(token)


def species_groups(folder: Path | str | None = None) -> tuple[Species, ...]:
    """The species groups in the lexicon's order: ``folder``'s, else the report's, else the shipped."""
    return species_table(folder if folder else _SPECIES_FOLDER.get())


def species_names(lang: str, folder: Path | str | None = None) -> dict[str, str]:
    """key -> display name in ``lang``, in the lexicon's order."""
    return {g.key: g.name(lang) for g in species_groups(folder)}


def species_colours(folder: Path | str | None = None) -> dict[str, str]:
    """key -> the group's fixed chart colour."""
    return {g.key: g.colour for g in species_groups(folder)}


def legal_basis(species: str, lang: str, folder: Path | str | None = None) -> str:
    """The group's legal basis in ``lang``; empty for an unknown key."""
    return next((g.legal_basis(lang) for g in species_groups(folder) if g.key == species), "")

# The lexicon's term kinds (monitor.matching TERM_KINDS).
KIND_NAMES: dict[str, dict[str, str]] = {
    "zh": {"name": "物种名", "product": "制品名", "code_word": "暗语"},
    "en": {"name": "species name", "product": "product", "code_word": "code word"},
}

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "网络野生动物非法贸易监测月报",
        "subtitle": "中文电商平台监测简报",
        "generated": "生成时间",
        "month": "月份",
        "contents": "目录",
        "key_points": "要点",
        "trend": "趋势",
        "by_species": "按物种",
        "by_site": "按平台",
        "takedowns": "下架请求",
        "removals": "下架情况",
        "dealers": "活跃卖家",
        "terms": "关键词与暗语",
        "examples": "广告示例",
        "health": "采集状况",
        "new_flagged": "本月新增涉嫌违法广告",
        "vs_previous": "较上月",
        "vs_year_ago": "较去年同月",
        "no_year_ago": "去年同月无数据",
        "no_previous": "上月无数据",
        "sep": "；",
        "shown_of": "显示 {n} 条，共 {m} 条",
        "confirmed_only": "仅计分析员已确认的广告",
        "rejected_note": "分析员排除的广告不计入任何数字；“已确认”列为其中经分析员审核确认的数量。",
        "pending": "待定（期限未到）",
        "baseline_30": "对照组 30 天删除率",
        "baseline_60": "对照组 60 天删除率",
        "difference": "差值",
        "points": "个百分点",
        "intervals": "删除所用采集周期数（周期：广告数）",
        "baseline_note": "对照组：同一平台上从未被请求下架、在请求日仍在线的涉嫌违法广告，按发布月份加权到与请求广告相同的年龄结构，即平台自身的删除率。差值是两者删除率之差，不表示“因请求而删除”的数量。期限未到的显示为待定。",
        "repeat_unremoved": "被请求两次及以上仍在线的广告",
        "most_requests": "最多请求次数",
        "takedown_vs_baseline": "对照组",
        "baseline_of": "对照组 {n} 条",
        "backlog": "存量广告（监测开始前已发布，本月首次发现，不计入新增）",
        "backlog_from": "最早发布于",
        "no_data": "无数据",
        "no_data_months": "无数据的月份（不计算变化）",
        "new_flagged_note": "新增按广告的发布月份计算（无发布日期时按首次发现月份）。",
        "movers_species": "变化最大的物种",
        "movers_sites": "变化最大的平台",
        "removed_share": "发出下架请求后 60 天内被删除的比例",
        "removed_this_month": "本月被删除的涉嫌违法广告",
        "removed_unread": "首次发现时已被删除、未能读取的商品",
        "removed_unread_flagged": "其中按标题涉嫌违法",
        "removed_unread_note": "只知道搜索结果页显示的标题等信息，未计入本月新增。",
        "reach_col": "采集范围",
        "reach": "搜索了 {queries} 个查询词，浏览了 {pages} 个分类页；{only_browse} 条商品只通过浏览找到，{single} 条只被一个查询词找到；{per_flagged}。",
        "reach_per_flagged": "每条涉嫌违法广告耗费 {n} 次请求",
        "reach_no_flagged": "共 {n} 次请求，未发现涉嫌违法广告",
        "no_takedowns": "本月及之前没有记录下架请求。",
        "uncrawled": "未能正常采集的平台",
        "all_crawled": "所有平台均已正常采集。",
        "no_health": "本月没有采集记录。",
        "coverage_gap_note": "这些平台本月的数据不完整，相关数字可能偏低。",
        "trend_total": "每月新增涉嫌违法广告（总计）",
        "trend_species": "每月新增涉嫌违法广告（按物种）",
        "since": "自首次采集以来",
        "species": "物种",
        "site": "平台",
        "count": "本月新增",
        "previous": "上月",
        "change": "变化",
        "share": "占比",
        "confirmed": "已确认",
        "candidate": "待审核",
        "rejected": "已排除",
        "review_note": "已确认 = 分析员审核确认；待审核 = 自动标记、尚未审核。两者分开统计。",
        "requested": "请求数",
        "removed_30": "30 天内删除",
        "removed_60": "60 天内删除",
        "live_at_start": "月初在线",
        "removed_in_month": "本月删除",
        "removal_kinds": "删除方式",
        "total": "合计",
        "dealer": "卖家编号",
        "dealers_all_time": "累计最活跃卖家（截至本月底）",
        "incomplete_contact": "号码疑似缺位（如只有10位的手机号），可能与同一卖家的完整号码是同一个",
        "contacts": "联系方式",
        "ads": "广告数",
        "sites": "平台",
        "months_active": "活跃月数",
        "first_seen": "首次出现",
        "last_seen": "最近出现",
        "ads_by_species": "按物种广告数",
        "term": "词语",
        "kind": "类型",
        "hits": "本月命中",
        "hits_previous": "上月命中",
        "rising": "上升中的词语",
        "none_rising": "本月没有明显上升的词语。",
        "col_title": "商品名称",
        "col_description": "具体描述",
        "col_price": "价格",
        "col_location": "地点",
        "col_seller": "联系人",
        "col_phone": "电话",
        "col_posted": "发布时间",
        "col_url": "网址",
        "col_evidence": "证据哈希",
        "col_terms": "命中词语",
        "pages": "页面",
        "item_count": "条目",
        "errors": "错误",
        "coverage": "字段覆盖率",
        "healthy": "状态",
        "ok": "正常",
        "not_ok": "异常",
        "last_run": "最近采集",
        "problems": "问题",
        "finish_reason": "结束原因",
        "none": "无",
        "empty": "本月无数据。",
        "by_place": "按地区",
        "province": "省级地区",
        "cities": "城市",
        "city_unknown": "城市不明",
        "list_sep": "、",
        "examples_shown_of": "显示得分最高的 {n} 条，共 {m} 条（全部见本报告的表格导出和 wtm review export 导出的审核表）",
        "comma": "，",
        "colon": "：",
        "lp": "（",
        "rp": "）",
        "stop": "。",
        "places_note": "按卖家所填所在地归入省级行政区和地级市（含台湾、香港、澳门），无法识别的计为“未知”。地名表：民政部《中华人民共和国行政区划代码》、台湾的直辖市和县市、香港十八区、澳门（monitor/gazetteer.py）。",
        "col_price_cny": "折合人民币",
        "rates_note": "折合人民币按固定汇率换算：{rates}。",
        "cov_price": "价格",
        "cov_date": "日期",
        "cov_contact": "联系方式",
        "cov_location": "地点",
        "footer": "本报告仅依据数据库生成；网页中的所有抓取文本均已转义。",
        "unknown": "未知",
        "no_crawl_recorded": "本月没有采集记录",
        "last_crawled": "最近一次采集",
        "requests_sent_in": "下架请求发出月份",
        "request_month": "发出月份",
        "unique_ads": "其中独立广告",
        "reposts": "重复发布",
        "new_ads": "本月新增",
        "total_ads": "累计广告",
        "first_month": "首次出现",
        "last_month": "最近出现",
        "supply": "卖家货源（按制品形态）",
        "supply_wanted": "收购、求购广告（需求，单独统计，不计入货源）",
        "form": "制品形态",
        "dealers_n": "卖家数",
        "pieces": "件数",
        "grams": "克数",
        "sets": "套、批",
        "unstated": "未写明数量",
        "supply_note": "本月新增涉嫌违法广告（不含存量及分析员排除的广告）按匹配器识别的制品形态统计；数量为广告中写明的件数、重量（克）或套数之和，未写明的只计广告数；卖家数为广告背后不同卖家（共用联系方式）的数目。",
        "misses": "漏报估计",
        "misses_line": "估计本月漏报涉嫌违法广告 {n} 条（95% 区间 {low}–{high} 条），依据分析员审核的 {reviewed} 条随机抽样未标记商品中的 {missed} 条",
        "misses_rate": "漏报率 {rate}（95% 区间 {low}–{high}），本月未标记商品共 {unflagged} 条",
        "misses_none": "漏报尚未估计：本月的随机抽样未标记商品尚无审核（已抽取 {drawn} 条）。",
        "misses_note": "每个平台每月随机抽取若干条未被标记的商品供分析员审核；各平台的漏报比例按其未标记商品数加权，区间为 Wilson 区间（按设计效应调整的样本量）。",
    },
    "en": {
        "title": "Online wildlife trade monitoring: monthly briefing",
        "subtitle": "Chinese-language marketplaces",
        "generated": "Generated",
        "month": "Month",
        "contents": "Contents",
        "key_points": "Key points",
        "trend": "Trend",
        "by_species": "By species",
        "by_site": "By site",
        "takedowns": "Takedown requests",
        "removals": "Removals",
        "dealers": "Active dealers",
        "terms": "Keywords and code words",
        "examples": "Example advertisements",
        "health": "Crawl health",
        "new_flagged": "New flagged advertisements this month",
        "vs_previous": "vs previous month",
        "vs_year_ago": "vs same month last year",
        "no_year_ago": "no data for the same month last year",
        "no_previous": "no data for the previous month",
        "sep": "; ",
        "shown_of": "{n} of {m} shown",
        "confirmed_only": "Confirmed by an analyst only",
        "rejected_note": "Ads an analyst rejected are left out of every figure; the Confirmed columns count those an analyst confirmed.",
        "pending": "pending (window not over)",
        "baseline_30": "Baseline removed within 30 days",
        "baseline_60": "Baseline removed within 60 days",
        "difference": "Difference",
        "points": "pp",
        "intervals": "Crawl intervals to removal (intervals: ads)",
        "baseline_note": "Baseline: flagged ads on the same site never requested, still online on the request date, weighted to the requested ads' posting months (the platform's own removal rate). The difference is between the two removal rates; it is not a count of ads removed because of the request. Windows not yet over are shown as pending.",
        "repeat_unremoved": "Ads still online after two or more requests",
        "most_requests": "Most requests",
        "takedown_vs_baseline": "baseline",
        "baseline_of": "of {n} ads",
        "backlog": "Backlog (posted before monitoring began, found this month; not counted as new)",
        "backlog_from": "earliest posted",
        "no_data": "no data",
        "no_data_months": "Months without data (no change computed)",
        "new_flagged_note": "An ad is new in the month it was posted (the month it was first seen when the site gives no date).",
        "movers_species": "Species that moved most",
        "movers_sites": "Sites that moved most",
        "removed_share": "Share removed within 60 days of a takedown request",
        "removed_this_month": "Flagged advertisements removed this month",
        "removed_unread": "Removed before it could be read",
        "removed_unread_flagged": "flagged by their titles",
        "removed_unread_note": "Only what the search results showed (the title) is known; not counted as new.",
        "reach_col": "Coverage",
        "reach": "searched {queries} queries and browsed {pages} pages; {only_browse} listings were found only by browsing, {single} by a single query; {per_flagged}.",
        "reach_per_flagged": "{n} requests per flagged ad",
        "reach_no_flagged": "{n} requests and no flagged ad",
        "no_takedowns": "No takedown requests have been recorded up to this month.",
        "uncrawled": "Sites that could not be crawled properly",
        "all_crawled": "Every site was crawled properly.",
        "no_health": "No crawl was recorded this month.",
        "coverage_gap_note": "Figures for these sites are incomplete this month and likely too low.",
        "trend_total": "New flagged advertisements per month (total)",
        "trend_species": "New flagged advertisements per month (by species)",
        "since": "since the first crawl",
        "species": "Species",
        "site": "Site",
        "count": "New this month",
        "previous": "Previous month",
        "change": "Change",
        "share": "Share",
        "confirmed": "Confirmed",
        "candidate": "Candidate",
        "rejected": "Rejected",
        "review_note": "Confirmed = checked by an analyst; candidate = flagged automatically, not yet reviewed. Counted apart.",
        "requested": "Requests",
        "removed_30": "Removed within 30 days",
        "removed_60": "Removed within 60 days",
        "live_at_start": "Live at start of month",
        "removed_in_month": "Removed this month",
        "removal_kinds": "How removed",
        "total": "Total",
        "dealer": "Dealer",
        "dealers_all_time": "Most active dealers of all time (to the end of the month)",
        "incomplete_contact": "looks incomplete (e.g. a mobile number of 10 digits); may be one of the dealer's full numbers",
        "contacts": "Contacts",
        "ads": "Ads",
        "sites": "Sites",
        "months_active": "Months active",
        "first_seen": "First seen",
        "last_seen": "Last seen",
        "ads_by_species": "Ads by species",
        "term": "Term",
        "kind": "Kind",
        "hits": "Hits this month",
        "hits_previous": "Hits last month",
        "rising": "Rising terms",
        "none_rising": "No term rose markedly this month.",
        "col_title": "Title (商品名称)",
        "col_description": "Description (具体描述)",
        "col_price": "Price (价格)",
        "col_location": "Location (地点)",
        "col_seller": "Seller (联系人)",
        "col_phone": "Phone (电话)",
        "col_posted": "Posted (发布时间)",
        "col_url": "URL (网址)",
        "col_evidence": "Evidence hash",
        "col_terms": "Matched terms",
        "pages": "Pages",
        "item_count": "Items",
        "errors": "Errors",
        "coverage": "Field coverage",
        "healthy": "Status",
        "ok": "healthy",
        "not_ok": "unhealthy",
        "last_run": "Last crawl",
        "problems": "Problems",
        "finish_reason": "Finish reason",
        "none": "none",
        "empty": "No data this month.",
        "by_place": "By province and city",
        "province": "Province",
        "cities": "Cities",
        "city_unknown": "city unknown",
        "list_sep": ", ",
        "examples_shown_of": "{n} of {m} shown, highest scores first (all of them: the report's spreadsheet exports and the review sheet wtm review export writes)",
        "comma": ", ",
        "colon": ": ",
        "lp": " (",
        "rp": ")",
        "stop": ".",
        "places_note": "Sellers' stated locations placed in provinces and prefecture-level cities (Taiwan, Hong Kong and Macau included); a location naming no known place counts as unknown. Gazetteer: the Ministry of Civil Affairs' administrative division codes, Taiwan's municipalities, counties and cities, Hong Kong's 18 districts, Macau (monitor/gazetteer.py).",
        "col_price_cny": "Price in CNY",
        "rates_note": "Prices converted to CNY at fixed rates: {rates}.",
        "cov_price": "price",
        "cov_date": "date",
        "cov_contact": "contact",
        "cov_location": "location",
        "footer": "Built from the database alone; all scraped text on this page is escaped.",
        "unknown": "unknown",
        "no_crawl_recorded": "no crawl recorded this month",
        "last_crawled": "last crawled",
        "requests_sent_in": "Requests sent in",
        "request_month": "Sent in",
        "unique_ads": "unique ads",
        "reposts": "re-posts",
        "new_ads": "New this month",
        "total_ads": "Ads in total",
        "first_month": "First seen",
        "last_month": "Last seen",
        "supply": "Dealers' supply by product form",
        "supply_wanted": "Wanted ads (收/求购: buying in; demand, counted apart from the supply)",
        "form": "Product form",
        "dealers_n": "Dealers",
        "pieces": "Pieces",
        "grams": "Grams",
        "sets": "Sets",
        "unstated": "No quantity stated",
        "supply_note": "This month's new flagged ads (backlog and ads an analyst rejected left out) by the product form the matcher read; volumes are the pieces, grams or sets the ads state, summed; an ad stating none counts as an ad only. Dealers are the distinct dealers (shared contacts) behind the ads.",
        "misses": "Estimated missed ads",
        "misses_line": "Estimated missed ads: {n} (95 % interval {low}–{high}) from {missed} of {reviewed} sampled listings reviewed",
        "misses_rate": "miss rate {rate} (95 % interval {low}–{high}) of {unflagged} unflagged listings this month",
        "misses_none": "Missed ads not yet estimated: no sample reviewed ({drawn} unflagged listings drawn this month).",
        "misses_note": "Each month a few unflagged listings per site are drawn at random for analysts to judge; each site's share of misses is weighted by its unflagged listings, and the interval is Wilson's (on the design-effect sample size).",
    },
}


# Crawl faults as crawl health names them (``errors`` per site; see monitor.crawling.health);
# an unknown kind is shown as it is.
FAULT_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "refused_scheme": "拒绝的非网页链接", "offsite": "拒绝的站外请求", "blocked_address": "拒绝的内网地址",
        "too_large": "页面过大", "truncated": "文本过长已截断", "retries_exhausted": "重试用尽",
        "listings_unread": "无法读取的商品", "login_wall": "需要登录", "unreadable_page": "无法解析的页面",
        "http_429": "请求过频（429）", "http_500": "服务器错误（500）", "http_503": "服务不可用（503）",
        "DownloadTimeoutError": "超时", "DownloadConnectionRefusedError": "连接被拒",
        "storage": "数据库写入失败", "crawl_failed": "抓取失败", "item_lost": "处理出错而丢失的商品", "results_capped": "结果页链接过多已截断",
        "captcha": "验证码拦截", "banned": "被封禁", "robots_search": "robots.txt 禁止的搜索",
    },
    "en": {
        "refused_scheme": "refused non-web links", "offsite": "refused off-site requests",
        "blocked_address": "refused private addresses", "too_large": "pages too large",
        "truncated": "text truncated", "retries_exhausted": "retries exhausted",
        "listings_unread": "listings unread", "login_wall": "login wall", "unreadable_page": "unreadable pages",
        "http_429": "rate limited (429)", "http_500": "server errors (500)", "http_503": "unavailable (503)",
        "DownloadTimeoutError": "time-outs", "DownloadConnectionRefusedError": "connections refused",
        "storage": "database writes failed", "crawl_failed": "crawl failed", "item_lost": "listings lost to processing errors", "results_capped": "result pages cut at 500 links",
        "captcha": "captcha walls", "banned": "banned", "robots_search": "searches robots.txt disallows",
    },
}


# Column, sheet and status words of the takedown package, the review sheet and the dealer dossier
# (reports.packages, reports.dossier): workbooks for platforms and officers, in both languages.
PACKAGE_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "site_title": "平台", "url": "广告链接", "title": "标题", "description": "描述", "price_text": "标价",
        "price_cny": "价格（人民币元）", "seller": "卖家名称", "contacts": "联系方式", "terms": "命中词及释义",
        "species": "物种", "legal_basis": "法律依据", "earlier_requests": "此前下架请求日期",
        "evidence_sha256": "证据 SHA-256", "evidence_file": "证据文件", "first_seen": "首次发现",
        "last_seen": "最近发现", "external_id": "平台广告编号", "listing_id": "监测编号",
        "gloss": "{species}的{kind}", "none": "（无）",
        "kind": "类型", "value": "号码/账号", "incomplete": "疑似缺位", "ads": "广告数", "posted_at": "发布时间",
        "status": "状态", "online": "在线", "removed": "已下架：{how}，{when}", "requests": "下架请求",
        "review": "审核结论", "sent_at": "发送时间", "month": "月份", "outcome": "结果", "still_online": "仍在线",
        "ads_seen": "当月所见广告", "new_ads": "当月新增广告", "removed_ads": "当月下架广告",
        "sheet_contacts": "联系方式", "sheet_names": "使用名称", "sheet_sites": "平台", "sheet_ads": "广告",
        "sheet_requests": "下架请求", "sheet_timeline": "月度时间线", "sheet_empty": "无待下架广告",
    },
    "en": {
        "site_title": "Site", "url": "Listing URL", "title": "Title", "description": "Description",
        "price_text": "Price as stated", "price_cny": "Price (CNY)", "seller": "Seller", "contacts": "Contacts",
        "terms": "Matched terms (gloss)", "species": "Species", "legal_basis": "Legal basis",
        "earlier_requests": "Earlier takedown requests", "evidence_sha256": "Evidence SHA-256",
        "evidence_file": "Evidence file", "first_seen": "First seen", "last_seen": "Last seen",
        "external_id": "Listing ID on site", "listing_id": "Monitor ID",
        "gloss": "{kind} for {species}", "none": "(none)",
        "kind": "Kind", "value": "Number or account", "incomplete": "Looks incomplete", "ads": "Ads",
        "posted_at": "Posted", "status": "Status", "online": "online", "removed": "removed: {how}, {when}",
        "requests": "Takedown requests", "review": "Review", "sent_at": "Sent", "month": "Month",
        "outcome": "Outcome", "still_online": "still online", "ads_seen": "Ads seen", "new_ads": "New ads",
        "removed_ads": "Ads removed",
        "sheet_contacts": "Contacts", "sheet_names": "Names used", "sheet_sites": "Sites", "sheet_ads": "Ads",
        "sheet_requests": "Takedown requests", "sheet_timeline": "Timeline", "sheet_empty": "Nothing to report",
    },
}


def package_words(lang: str) -> Mapping[str, str]:
    """The workbook word table of ``lang`` (zh or en)."""
    if lang not in PACKAGE_WORDS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return PACKAGE_WORDS[lang]


def fault_name(kind: str, lang: str) -> str:
    """A crawl fault's display name; ``http_NNN`` by its status; other unknown kinds as they are."""
    named = FAULT_NAMES.get(lang, {}).get(kind)
    if named is None and kind.startswith("http_") and kind[5:].isdigit():
        return ("HTTP {code} 错误" if lang == "zh" else "HTTP {code} errors").format(code=kind[5:])
    return named if named is not None else kind


def words(lang: str) -> Mapping[str, str]:
    """The word table of ``lang``; ValueError naming it when it is not one we have."""
    if lang not in WORDS:
        raise ValueError(f"unknown report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return WORDS[lang]


def kind_name(kind: str, lang: str) -> str:
    """The term kind's display name; unknown kinds are shown as they are."""
    return KIND_NAMES.get(lang, {}).get(kind, kind)


def species_name(species: str, lang: str, folder: Path | str | None = None) -> str:
    """The species group's display name; unknown keys are shown as they are."""
    return species_names(lang, folder).get(species, species)
