"""URL schemes of the 31 sites: where a listing lives and how to read an id back from a URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from monitor.sandbox.sites import SITES_BY_NAME, SandboxSite

# Canonical page of a listing ("{id}" is the external id). JSON sites also have an API URL.
DETAIL: dict[str, str] = {
    "tongcheng": "/tongcheng/item/{id}.shtml",
    "ganjiwang": "/ganjiwang/post/{id}x.htm",
    "baixingjie": "/baixingjie/a{id}.html",
    "kuaifenlei": "/kuaifenlei/post/{id}",
    "linlitie": "/linlitie/info/{id}.html",
    "huaxiacang": "/huaxiacang/goods/{id}.html",
    "guwanjie": "/guwanjie/item-{id}.htm",
    "cangpinhui": "/cangpinhui/show.asp?id={id}",
    "jiucangge": "/jiucangge/p/{id}.html",
    "panjiayuan": "/panjiayuan/view.php?itemid={id}",
    "xianzhi": "/xianzhi/item?id={id}",
    "zhuanshou": "/zhuanshou/detail/{id}",
    "erhuoquan": "/erhuoquan/goods/{id}",
    "paipaitao": "/paipaitao/goods/{id}",
    "huishouwa": "/huishouwa/m/{id}.html",
    "pifa168": "/pifa168/offer/{id}.html",
    "huicongwang": "/huicongwang/product/{id}.html",
    "gongchangzhi": "/gongchangzhi/supply/{id}.html",
    "yiwugou": "/yiwugou/detail/{id}",
    "maoyitong": "/maoyitong/trade/{id}.html",
    "wenwanba": "/wenwanba/p/{id}",
    "shoucangluntan": "/shoucangluntan/thread-{id}-1-1.html",
    "huaxiabbs": "/huaxiabbs/thread/{id}.html",
    "diaosuquan": "/diaosuquan/topic/{id}",
    "laowanjia": "/laowanjia/t/{id}",
    "lutian": "/lutian/item/{id}",
    "paimaitw": "/paimaitw/auction/{id}.html",
    "qipaitw": "/qipaitw/item/{id}",
    "kaluohk": "/kaluohk/p/{id}/",
    "gangpaihk": "/gangpaihk/lot/{id}",
    "jingbiaotw": "/jingbiaotw/item/{id}",
}

API_DETAIL: dict[str, str] = {
    "xianzhi": "/xianzhi/api/item/{id}",
    "erhuoquan": "/erhuoquan/api/v1/items/{id}",
    "huishouwa": "/huishouwa/api/detail?id={id}",
}

# Company/shop pages of the B2B sites ("{cid}" is the seller's shop id).
COMPANY: dict[str, str] = {
    "pifa168": "/pifa168/company/{cid}.html",
    "huicongwang": "/huicongwang/shop/{cid}/",
    "gongchangzhi": "/gongchangzhi/corp/{cid}.html",
    "yiwugou": "/yiwugou/shop/{cid}",
    "maoyitong": "/maoyitong/company/{cid}.html",
}


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace(r"\{id\}", r"(\d+)").replace(r"\{cid\}", r"([A-Za-z0-9]+)") + "$")


DETAIL_RE = {name: _pattern(t) for name, t in DETAIL.items()}
API_RE = {name: _pattern(t) for name, t in API_DETAIL.items()}
COMPANY_RE = {name: _pattern(t) for name, t in COMPANY.items()}


def listing_url(spec: SandboxSite, external_id: str) -> str:
    return DETAIL[spec.name].format(id=external_id)


def api_url(spec: SandboxSite, external_id: str) -> str | None:
    template = API_DETAIL.get(spec.name)
    return template.format(id=external_id) if template else None


def company_url(spec: SandboxSite, company_id: str) -> str:
    return COMPANY[spec.name].format(cid=company_id)


def parse_listing_url(url: str) -> tuple[str, str] | None:
    """(site, external_id) for a listing page or API URL, absolute or origin-relative."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    site = parts.path.strip("/").split("/", 1)[0]
    if site not in SITES_BY_NAME:
        return None
    for table in (DETAIL_RE, API_RE):
        pattern = table.get(site)
        if pattern is not None:
            match = pattern.match(target)
            if match:
                return site, match.group(1)
    return None
