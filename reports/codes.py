"""Display names of the enumerated codes the report can show (removal method, contact kind, crawl
finish and status, archetype, trick, review decision, product form, intent), in both languages.

Kept as data beside ``labels.py``'s words so a translator edits tables, not code.
"""

from __future__ import annotations

# Every other enumerated code the report can show, by code set, in both languages. The code
# sets themselves are defined elsewhere (monitor.items.REMOVAL_KINDS, monitor.contacts.CONTACT_KINDS,
# monitor.matching.lexicon.TRICKS, the spiders' ARCHETYPES, review DECISIONS, crawl statuses);
# tests/test_report_codes.py walks them so a new code cannot reach the page untranslated.
CODE_NAMES: dict[str, dict[str, dict[str, str]]] = {
    "removal": {
        "zh": {"http_404": "页面不存在(404)", "http_410": "页面已永久删除(410)", "deleted_page": "页面显示已删除",
               "redirect_home": "跳转到首页", "removed": "已删除(方式不明)", "unknown": "方式不明"},
        "en": {"http_404": "page not found (404)", "http_410": "page gone (410)", "deleted_page": "page says deleted",
               "redirect_home": "redirected to the home page", "removed": "removed (how unknown)", "unknown": "how unknown"},
    },
    "contact": {
        "zh": {"phone": "手机", "landline": "座机", "wechat": "微信", "qq": "QQ"},
        "en": {"phone": "Mobile", "landline": "Landline", "wechat": "WeChat", "qq": "QQ"},
    },
    "finish": {
        "zh": {"finished": "正常完成", "failed": "失败", "unknown": "未知", "shutdown": "被中止", "cancelled": "已取消",
               "disk_full": "磁盘已满", "closespider_timeout": "达到时间上限", "closespider_itemcount": "达到条目上限",
               "closespider_pagecount": "达到页面上限", "closespider_errorcount": "错误过多"},
        "en": {"finished": "completed", "failed": "failed", "unknown": "unknown", "shutdown": "shut down",
               "cancelled": "cancelled", "disk_full": "disk full", "closespider_timeout": "time limit reached",
               "closespider_itemcount": "item limit reached", "closespider_pagecount": "page limit reached",
               "closespider_errorcount": "too many errors"},
    },
    "crawl_status": {
        "zh": {"finished": "已完成", "failed": "失败", "running": "进行中", "refused": "被拒绝(已有采集在进行)"},
        "en": {"finished": "finished", "failed": "failed", "running": "running", "refused": "refused (another crawl held the site)"},
    },
    "archetype": {
        "zh": {"html": "网页", "forum": "论坛帖子", "json_api": "JSON 接口", "embedded_json": "网页内嵌 JSON"},
        "en": {"html": "HTML pages", "forum": "forum threads", "json_api": "JSON API", "embedded_json": "JSON embedded in pages"},
    },
    "trick": {
        "zh": {"plain": "直接写明", "code_word": "暗语", "pinyin_mix": "拼音混写", "separator": "插入分隔符",
               "homophone": "同音字", "traditional": "繁体字", "legal_cover": "合法外衣"},
        "en": {"plain": "plain", "code_word": "code word", "pinyin_mix": "pinyin mixed in", "separator": "separators inserted",
               "homophone": "homophone", "traditional": "Traditional characters", "legal_cover": "legal cover"},
    },
    "decision": {
        "zh": {"confirmed": "已确认", "rejected": "已排除", "candidate": "待审核"},
        "en": {"confirmed": "Confirmed", "rejected": "Rejected", "candidate": "Candidate"},
    },
    # What a flag offers (monitor.storage.supply.FORMS: the lexicon's OFFER_FORMS and "unknown").
    "form": {
        "zh": {"raw_tusk": "原牙（整支）", "segment": "牙段、块料", "whole_horn": "整只角、整件", "casque": "盔（头骨）",
               "scale": "鳞片", "bone": "骨", "skin": "皮", "worked": "工艺品、饰品", "unknown": "未写明形态"},
        "en": {"raw_tusk": "Raw tusk", "segment": "Segment or block", "whole_horn": "Whole horn or piece",
               "casque": "Casque", "scale": "Scales", "bone": "Bone", "skin": "Skin", "worked": "Worked item",
               "unknown": "Form not stated"},
    },
    # The currencies of monitor.currency.CNY_RATES, named where the page states its rates.
    "currency": {
        "zh": {"CNY": "人民币", "HKD": "港币", "TWD": "新台币", "USD": "美元", "EUR": "欧元", "MOP": "澳门元"},
        "en": {"CNY": "CNY", "HKD": "HKD", "TWD": "TWD", "USD": "USD", "EUR": "EUR", "MOP": "MOP"},
    },
    "intent": {
        "zh": {"sell": "出售", "buy": "收购、求购"},
        "en": {"sell": "Offered", "buy": "Wanted (buying in)"},
    },
}


def code_name(group: str, code: str, lang: str) -> str:
    """The display name of ``code`` in the code set ``group``; an unknown code is shown as it is."""
    return CODE_NAMES[group].get(lang, {}).get(code, code)
