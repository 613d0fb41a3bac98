"""Taiwan and Hong Kong auctions (露天 / Yahoo 拍賣 / Carousell style): Traditional Chinese,
Big5 on two families (one searched through a JSON API), prices in NT$ / HK$, search that only
matches Traditional text."""

from __future__ import annotations

import json
import re
from datetime import date
from urllib.parse import parse_qs, quote, unquote

from monitor.sandbox.apps import Response, SiteApp, h
from monitor.sandbox.sites import SandboxSite
from monitor.sandbox.urls import listing_url
from monitor.sandbox.world import Listing

SEARCH = [("/lutian/find", "q", "p"), ("/paimaitw/search.php", "kw", "page"), ("/qipaitw/search", "p", "b"),
          ("/kaluohk/search/", "", "page"), ("/gangpaihk/search", "keyword", "page")]
KALUO_SEARCH_RE = re.compile(r"^/kaluohk/search/([^/]*)/?$")
# Categories (paimaitw and gangpaihk have none): key in the path, page (or 1-based start) parameter.
CATEGORY = {0: ("/lutian/category/{key}", re.compile(r"^/lutian/category/(\d+)$"), "p"),
            2: ("/qipaitw/category/{key}", re.compile(r"^/qipaitw/category/(\d+)$"), "b"),
            3: ("/kaluohk/categories/{key}/", re.compile(r"^/kaluohk/categories/([a-z0-9-]+)/$"), "page")}


def auction_date(item: Listing, variant: int, today: date) -> str:
    d, t = item.posted, item.posted_time
    if variant == 0:
        return f"{d:%Y/%m/%d}"
    if variant == 1:
        return f"{d.isoformat()} {t}"
    if variant == 2:
        return f"{d.year}/{d.month}/{d.day} {t}"
    if variant == 3:
        days = (today - d).days
        return "今日" if days <= 0 else f"{days}日前" if days < 7 else f"{d.year}年{d.month}月{d.day}日"
    return f"{d:%d/%m/%Y}"


class AuctionApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        v = self.spec.variant
        action, qname, pname = SEARCH[v]
        p = self.params(query)
        if v in CATEGORY:
            _, pattern, cname = CATEGORY[v]
            m = pattern.match(path)
            if m:
                if not self.is_category(m.group(1)):
                    return None
                page = self.page_of_offset(p.get(cname), first=1) if v == 2 else self.int_param(p.get(cname), 1)
                return self.results(month, "", page, m.group(1))
        if v == 3:
            m = KALUO_SEARCH_RE.match(path)
            if not m:
                return None
            return self.results(month, unquote(m.group(1), "utf-8", "replace"), self.int_param(p.get(pname), 1))
        if path != action:
            return None
        page = self.page_of_offset(p.get(pname), first=1) if v == 2 else self.int_param(p.get(pname), 1)
        return self.results(month, p.get(qname, ""), page)

    def page_url(self, keyword: str, page: int) -> str:
        v = self.spec.variant
        action, qname, pname = SEARCH[v]
        if v == 3:
            return f"/kaluohk/search/{self.quote(keyword)}?page={page}"
        value = self.offset_of_page(page, first=1) if v == 2 else page
        return f"{action}?{qname}={self.quote(keyword)}&{pname}={value}"

    def category_url(self, key: str, page: int) -> str:
        v = self.spec.variant
        path, _, cname = CATEGORY[v]
        value = self.offset_of_page(page, first=1) if v == 2 else page
        return f"{path.format(key=key)}?{cname}={value}"

    def home(self, month: str) -> Response:
        action, qname, _ = SEARCH[self.spec.variant]
        form = self.search_form(action, qname or "q", "搜尋")
        return self.page(self.spec.label, f'<header class="site-header"><h1>{h(self.spec.label)}</h1>{form}</header>'
                                          f'{self.category_nav()}')

    def results(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        v = self.spec.variant
        today = self.world.today(month)
        rows = []
        for x in items:
            url, title, price = listing_url(self.spec, x.external_id), h(x.title), h(x.price_text)
            if v == 0:
                rows.append(f'<li class="rt-goods-list-item"><a class="rt-goods-list-item-name" href="{url}">{title}</a>'
                            f'<div class="rt-goods-list-item-price">{price}</div><div class="rt-goods-list-item-seller">{h(x.seller_name)}</div></li>')
            elif v == 1:
                rows.append(f'<tr class="auction"><td class="name"><a href="{url}">{title}</a></td><td class="price">{price}</td>'
                            f'<td class="place">{h(x.location)}</td></tr>')
            elif v == 2:
                rows.append(f'<li class="BaseGridItem"><a class="sc-item" href="{url}"><span class="sc-title">{title}</span>'
                            f'<span class="sc-price">{price}</span></a></li>')
            elif v == 3:
                rows.append(f'<div data-testid="listing-card-{x.external_id}" class="lc"><a href="{url}"><p class="lc-title">{title}</p>'
                            f'<p class="lc-price">{price}</p><p class="lc-time">{auction_date(x, v, today)}</p></a></div>')
            else:
                rows.append(f'<div class="lot-card" id="lot-{x.external_id}"><a class="lot-name" href="{url}">{title}</a>'
                            f'<span class="lot-price">{price}</span><span class="lot-date">{auction_date(x, v, today)}</span></div>')
        nxt = self.list_url(keyword, page + 1, category) if has_next else ""
        link = [f'<a class="rt-pagination-next" href="{nxt}">下一頁</a>', f'<a href="{nxt}">下一頁</a>',
                f'<a class="Pagination__next" href="{nxt}">下一頁 &gt;</a>', f'<a rel="next" href="{nxt}">下一頁</a>',
                f'<a class="next-page" href="{nxt}">下一頁</a>'][v] if nxt else ""
        wrap = ['<ul class="rt-goods-list">{}</ul>', '<table class="auction-list">{}</table>', '<ul class="sc-list">{}</ul>',
                '<main class="search-results">{}</main>', '<section class="lots">{}</section>'][v]
        if category is None:
            body = f'<div class="result-total">共 {total} 筆結果</div>' + wrap.format("".join(rows)) + f'<nav class="paging">{link}</nav>'
            return self.page(f"{keyword} 搜尋結果", body)
        label = self.heading(keyword, category)
        body = (f'<div class="result-total">{h(label)} 共 {total} 筆商品</div>' + wrap.format("".join(rows))
                + f'<nav class="paging">{link}</nav>')
        return self.page(label, body)

    def detail(self, month: str, item: Listing) -> Response:
        v = self.spec.variant
        today = self.world.today(month)
        title, desc, price = h(item.title), h(item.description), h(item.price_text)
        fields = [("價格", item.price_text), ("所在地", item.location), ("賣家", item.seller_name),
                  ("聯絡電話", item.contact_text), ("刊登時間", auction_date(item, v, today))]
        head = ""
        if v == 0:
            rows = "".join(f"<tr><th>{k}</th><td>{h(val)}</td></tr>" for k, val in fields[1:])
            body = (f'<h1 class="item-title">{title}</h1><div class="item-purchase-stack"><strong class="rt-text-price">{price}</strong></div>'
                    f'<table class="item-info">{rows}</table><div class="item-description">{desc}</div>')
        elif v == 1:
            dl = "".join(f"<dt>{k}</dt><dd>{h(val)}</dd>" for k, val in fields)
            body = f'<div class="auction-main"><h2 class="a-title">{title}</h2><dl class="a-info">{dl}</dl><div class="a-desc">{desc}</div></div>'
        elif v == 2:
            lis = "".join(f'<li><span class="k">{k}</span><span class="v">{h(val)}</span></li>' for k, val in fields)
            body = f'<div class="item-page"><h1 class="title">{title}</h1><ul class="itemInfo">{lis}</ul><div class="itemDesc">{desc}</div></div>'
        elif v == 3:
            ld = {"@context": "https://schema.org", "@type": "Product", "sku": item.external_id, "name": item.title,
                  "description": item.description,
                  "offers": {"@type": "Offer", "price": item.price_amount, "priceCurrency": item.currency}}
            ld_text = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
            head = f'<script type="application/ld+json">{ld_text}</script>'
            body = (f'<div class="listing"><h1 class="l-title">{title}</h1><h2 class="l-price">{price}</h2>'
                    f'<p class="l-meta"><span class="l-loc">{h(item.location)}</span> · <span class="l-time">{h(fields[4][1])}</span></p>'
                    f'<div class="l-desc">{desc}</div><div class="l-seller">{h(item.seller_name)} <span class="l-phone">{h(item.contact_text)}</span></div></div>')
        else:
            rows = "".join(f'<tr><td class="lbl">{k}</td><td class="val">{h(val)}</td></tr>' for k, val in fields)
            body = f'<div class="lot-detail"><h1 class="lot-title">{title}</h1><table class="lot-info">{rows}</table><div class="lot-desc">{desc}</div></div>'
        return self.page(item.title, body, head=head)


JINGBIAO_API = "/jingbiaotw/api/search"
JINGBIAO_PAGE = "/jingbiaotw/search"


class ApiAuctionApp(SiteApp):
    """競標網 (a Yahoo 拍賣 / 露天 style site): the search page is a shell whose script calls a
    UTF-8 JSON API (``api/search?q=...&offset=N``: offset paging, 20 a page); listing pages are
    Big5 HTML carrying the listing as JSON in ``<script type="application/json" id="item-data">``.
    The page is encoded as a PHP site's ``mb_convert_encoding`` with entity substitution does
    it: a character Big5 cannot hold becomes ``&#NNNNN;``, in the script's JSON too. Sellers
    from Taiwan and Hong Kong list here: each price names its own currency."""

    def route(self, month: str, path: str, query: str) -> Response | None:
        if path == JINGBIAO_API:
            p = parse_qs(query, keep_blank_values=True, encoding=self.spec.query_charset, errors="replace")
            keyword = p.get("q", [""])[0]
            offset = self.int_param(p.get("offset", [None])[0], 0)
            if offset % self.spec.page_size:
                return self.json({"error": "bad_offset", "message": f"offset must be a multiple of {self.spec.page_size}"}, 400)
            return self.api_results(month, keyword, offset // self.spec.page_size + 1)
        if path == JINGBIAO_PAGE:
            keyword = self.params(query).get("q", "")
            shell = (f'<div id="search-app" data-api="{JINGBIAO_API}" data-q="{h(keyword)}">'
                     f'<p class="loading">載入中…</p><noscript>請啟用 JavaScript</noscript></div>')
            return self.page(f"{keyword} 搜尋結果", shell)
        return None

    def page_url(self, keyword: str, page: int) -> str:
        return f"{JINGBIAO_API}?q={quote(keyword.encode(self.spec.query_charset), safe='')}&offset={self.offset_of_page(page)}"

    def home(self, month: str) -> Response:
        form = self.search_form(JINGBIAO_PAGE, "q", "搜尋")
        return self.page(self.spec.label, f'<header class="jb-header"><h1>{h(self.spec.label)}</h1>{form}</header>')

    def api_results(self, month: str, keyword: str, page: int) -> Response:
        items, has_next, total = self.list_page(month, page, keyword)
        shown = len(self.world.search_results(self.spec.name, keyword, month)[0])
        offset = self.offset_of_page(page)
        if offset and offset >= shown:  # past the cap (or the last hit): refused, as Elasticsearch-backed sites do
            return self.json({"error": "window_too_large", "message": f"at most {shown} results can be paged"}, 400)
        hits = [{"id": x.external_id, "title": x.title, "url": listing_url(self.spec, x.external_id),
                 "price": self.price_object(x), "thumb": f"/jingbiaotw/img/{x.external_id}.jpg"} for x in items]
        return self.json({"query": keyword, "total": total, "offset": offset, "hits": hits,
                          "next_offset": offset + self.spec.page_size if has_next else None})

    @staticmethod
    def price_object(item: Listing) -> dict[str, object]:
        amount = int(item.price_amount) if item.price_amount is not None else None
        return {"amount": amount, "currency": item.currency, "display": item.price_text}

    def detail(self, month: str, item: Listing) -> Response:
        data = {"item": {
            "id": item.external_id, "title": item.title, "description": item.description,
            "price": self.price_object(item),
            "seller": {"nick": item.seller_name, "phone": item.contact_text, "area": item.location},
            "region": "HK" if item.currency == "HKD" else "TW",
            "posted_at": f"{item.posted:%Y/%m/%d} {item.posted_time}",
        }}
        script = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        body = (f'<div id="item-app"><h1 class="jb-title">{h(item.title)}</h1><p class="loading">載入中…</p></div>'
                f'<script type="application/json" id="item-data">{script}</script>')
        return self.page(item.title, body)


def auction_app(world: object, spec: SandboxSite) -> SiteApp:
    """The app of an auction site: the JSON-search family (variant 5) or the HTML one."""
    return ApiAuctionApp(world, spec) if spec.variant == 5 else AuctionApp(world, spec)  # type: ignore[arg-type]
