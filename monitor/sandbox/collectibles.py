"""Collectibles and antiques markets (华夏收藏 / 孔夫子 style): GBK pages, GBK query strings,
"下一页" links, prices like 2.8万 and 面议."""

from __future__ import annotations

import re

from monitor.sandbox.apps import Response, SiteApp, h
from monitor.sandbox.urls import listing_url
from monitor.sandbox.world import Listing

SEARCH = [("/huaxiacang/search.php", "keyword", "page"), ("/guwanjie/s", "kw", "p"),
          ("/cangpinhui/list.asp", "q", "pg"), ("/jiucangge/search", "k", "page"),
          ("/panjiayuan/search.php", "kw", "start")]
# Category pages (jiucangge has none): (path, key parameter, page parameter); guwanjie's is a path.
CATEGORY = {0: ("/huaxiacang/list.php", "catid", "page"), 2: ("/cangpinhui/class.asp", "cid", "pg"),
            4: ("/panjiayuan/list.php", "catid", "start")}
GUWANJIE_CATEGORY_RE = re.compile(r"^/guwanjie/list-([a-z]+)-(\d+)\.htm$")


def posted_text(item: Listing, variant: int) -> str:
    d = item.posted
    if variant == 1:
        return f"{d:%Y/%m/%d} {item.posted_time}"
    if variant == 2:
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    if variant == 3:
        return f"{d.isoformat()} {item.posted_time}"
    return d.isoformat()


class CollectiblesApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        v = self.spec.variant
        action, qname, pname = SEARCH[v]
        offsets = v == 4
        if path == action:
            p = self.params(query)
            page = self.page_of_offset(p.get(pname)) if offsets else self.int_param(p.get(pname), 1)
            return self.results(month, p.get(qname, ""), page)
        if v in CATEGORY and path == CATEGORY[v][0]:
            _, kname, pname = CATEGORY[v]
            p = self.params(query)
            page = self.page_of_offset(p.get(pname)) if offsets else self.int_param(p.get(pname), 1)
            key = p.get(kname, "")
            return self.results(month, "", page, key) if self.is_category(key) else None
        m = GUWANJIE_CATEGORY_RE.match(path) if v == 1 else None
        if m and self.is_category(m.group(1)):
            return self.results(month, "", int(m.group(2)), m.group(1))
        return None

    def category_url(self, key: str, page: int) -> str:
        v = self.spec.variant
        if v == 1:
            return f"/guwanjie/list-{key}-{page}.htm"
        path, kname, pname = CATEGORY[v]
        value = self.offset_of_page(page) if v == 4 else page
        if v == 2:
            return f"class.asp?{kname}={key}&{pname}={value}"
        return f"{path}?{kname}={key}&{pname}={value}"

    def page_url(self, keyword: str, page: int) -> str:
        action, qname, pname = SEARCH[self.spec.variant]
        value = self.offset_of_page(page) if self.spec.variant == 4 else page
        if self.spec.variant == 2:
            return f"list.asp?q={self.quote(keyword)}&pg={value}"
        return f"{action}?{qname}={self.quote(keyword)}&{pname}={value}"

    def item_href(self, item: Listing) -> str:
        if self.spec.variant == 2:
            return f"show.asp?id={item.external_id}"
        return listing_url(self.spec, item.external_id)

    def home(self, month: str) -> Response:
        action, qname, _ = SEARCH[self.spec.variant]
        return self.page(self.spec.label, f'<div id="top"><h1>{h(self.spec.label)}</h1>{self.search_form(action, qname)}</div>'
                                         f'{self.category_nav()}<p class="tip">本站藏品信息由会员发布</p>')

    def results(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        v = self.spec.variant
        rows = []
        for x in items:
            url, title, price, seller = self.item_href(x), h(x.title), h(x.price_text), h(x.seller_name)
            when = posted_text(x, v)
            if v == 0:
                rows.append(f'<div class="goods-item"><a class="goods-name" href="{url}">{title}</a>'
                            f'<span class="goods-price">{price}</span><span class="shop">{seller}</span><span class="t">{when}</span></div>')
            elif v == 1:
                rows.append(f'<tr><td class="name"><a href="{url}">{title}</a></td><td class="jg">{price}</td>'
                            f'<td class="mj">{seller}</td><td class="sj">{when}</td></tr>')
            elif v == 2:
                rows.append(f'<li><p class="cp-t"><a href="{url}">{title}</a></p><p class="cp-p">价格：{price}</p></li>')
            elif v == 3:
                rows.append(f'<div class="r-item"><h4><a href="{url}" title="{title}">{title}</a></h4>'
                            f'<div class="r-price">{price}</div><div class="r-seller">{seller}</div></div>')
            else:
                rows.append(f'<tr class="lr"><td><a href="{url}">{title}</a></td><td>{price}</td><td>{h(x.location)}</td></tr>')
        nxt = f'<a href="{self.list_url(keyword, page + 1, category)}">下一页</a>' if has_next else ""
        prev = f'<a href="{self.list_url(keyword, page - 1, category)}">上一页</a>' if page > 1 else ""
        pager = f'<div class="pages">{prev} <span class="cur">{page}</span> {nxt}</div>'
        wrap = ['<div class="goods-list">{}</div>', '<table class="tb-list">{}</table>', '<ul class="cp-list">{}</ul>',
                '<div class="result">{}</div>', '<table id="list">{}</table>'][v]
        if category is None:
            body = f'<div class="sum">搜索“{h(keyword)}”共 {total} 件藏品</div>' + wrap.format("".join(rows)) + pager
            return self.page(f"{keyword}_藏品搜索", body)
        label = self.heading(keyword, category)
        body = f'<div class="sum">{h(label)} 共 {total} 件藏品</div>' + wrap.format("".join(rows)) + pager
        return self.page(f"{label}_藏品分类", body)

    def detail(self, month: str, item: Listing) -> Response:
        v = self.spec.variant
        title, desc = h(item.title), h(item.description)
        fields = [("价格", item.price_text), ("所在地", item.location), ("卖家", item.seller_name),
                  ("联系电话", item.contact_text), ("上架时间", posted_text(item, v))]
        if v == 0:
            lis = "".join(f"<li>{k}：<span>{h(val)}</span></li>" for k, val in fields)
            body = (f'<div class="goods-info"><h1 class="goods-title">{title}</h1><ul class="attr">{lis}</ul>'
                    f'<div class="goods-desc">{desc}</div></div>')
        elif v == 1:
            rows = "".join(f"<tr><td class=\"l\">{k}</td><td class=\"r\">{h(val)}</td></tr>" for k, val in fields)
            body = (f'<div id="itemDetail"><div class="tit">{title}</div><table class="param">{rows}</table>'
                    f'<div class="intro"><b>藏品介绍</b><p>{desc}</p></div></div><div class="footer">古玩街 版权所有</div>')
        elif v == 2:
            info = "".join(f'<p><span class="lbl">{k}：</span>{h(val)}</p>' for k, val in fields[1:])
            body = (f'<div class="cp-show"><h2>{title}</h2><div class="cp-price">价格：<strong>{h(item.price_text)}</strong></div>'
                    f'<div class="cp-info">{info}</div><div class="cp-desc">{desc}</div></div>')
        elif v == 3:
            dl = "".join(f"<dt>{k}</dt><dd>{h(val)}</dd>" for k, val in fields)
            body = f'<div class="p-main"><h1 class="p-name">{title}</h1><dl class="p-props">{dl}</dl><div class="p-desc">{desc}</div></div>'
        else:
            rows = "".join(f"<tr><th>{k}</th><td>{h(val)}</td></tr>" for k, val in fields)
            body = f'<div class="view"><h1>{title}</h1><table class="infotable">{rows}</table><div class="content">{desc}</div></div>'
        return self.page(item.title, body)
