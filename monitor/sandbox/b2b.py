"""B2B wholesale (1688 / 慧聪 style): offer search, offer pages with price ranges and
minimum order, company pages listing a supplier's offers."""

from __future__ import annotations

import re

from monitor.sandbox.apps import Response, SiteApp, h
from monitor.sandbox.urls import COMPANY_RE, company_url, listing_url
from monitor.sandbox.world import Listing

SEARCH = [("/pifa168/offer_search.htm", "keywords", "beginPage"), ("/huicongwang/s/", "w", "p"),
          ("/gongchangzhi/search", "word", "page"), ("/yiwugou/products", "q", "pageNo"),
          ("/maoyitong/search.do", "keyword", "offset")]
# Product categories (gongchangzhi and maoyitong have none): key in the path, page parameter.
CATEGORY = {0: ("/pifa168/category/{key}.html", re.compile(r"^/pifa168/category/(\d+)\.html$"), "beginPage"),
            1: ("/huicongwang/c/{key}/", re.compile(r"^/huicongwang/c/([a-z]+)/$"), "p"),
            3: ("/yiwugou/market/{key}", re.compile(r"^/yiwugou/market/([a-z]+)$"), "pageNo")}


class B2BApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        action, qname, pname = SEARCH[self.spec.variant]
        if path == action:
            p = self.params(query)
            offsets = self.spec.variant == 4
            page = self.page_of_offset(p.get(pname)) if offsets else self.int_param(p.get(pname), 1)
            return self.results(month, p.get(qname, ""), page)
        m = COMPANY_RE[self.spec.name].match(path)
        if m:
            return self.company(month, m.group(1))
        if self.spec.variant in CATEGORY:
            _, pattern, pname = CATEGORY[self.spec.variant]
            m = pattern.match(path)
            if m and self.is_category(m.group(1)):
                return self.results(month, "", self.int_param(self.params(query).get(pname), 1), m.group(1))
        if path == f"/{self.spec.name}/login":
            return self.page("会员登录", '<form class="login"><input name="user"><input name="pass" type="password"></form>')
        return None

    def page_url(self, keyword: str, page: int) -> str:
        action, qname, pname = SEARCH[self.spec.variant]
        value = self.offset_of_page(page) if self.spec.variant == 4 else page
        return f"{action}?{qname}={self.quote(keyword)}&{pname}={value}"

    def category_url(self, key: str, page: int) -> str:
        path, _, pname = CATEGORY[self.spec.variant]
        return f"{path.format(key=key)}?{pname}={page}"

    def home(self, month: str) -> Response:
        action, qname, _ = SEARCH[self.spec.variant]
        return self.page(self.spec.label, f'<div class="top-search"><h1>{h(self.spec.label)}</h1>{self.search_form(action, qname, "搜产品")}</div>'
                                          f'{self.category_nav()}')

    def results(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        v = self.spec.variant
        rows = []
        for x in items:
            url, title, price = listing_url(self.spec, x.external_id), h(x.title), h(x.price_text)
            curl, company = company_url(self.spec, x.seller.seller_id.lower()), h(x.seller.company)
            if v == 0:
                rows.append(f'<div class="sm-offer-item" data-offerid="{x.external_id}"><a class="offer-title" href="{url}">{title}</a>'
                            f'<div class="price">{price}</div><span class="moq">{h(x.min_order)}</span>'
                            f'<div class="company"><a href="{curl}">{company}</a></div></div>')
            elif v == 1:
                rows.append(f'<li class="prod"><h3><a href="{url}">{title}</a></h3><p class="jg">{price}</p><p class="gs">{company}</p></li>')
            elif v == 2:
                rows.append(f'<tr><td class="pname"><a href="{url}">{title}</a></td><td class="pprice">{price}</td>'
                            f'<td class="pmoq">{h(x.min_order)}</td><td class="pcorp"><a href="{curl}">{company}</a></td></tr>')
            elif v == 3:
                rows.append(f'<li class=pro-item><a href="{url}" class=pro-name>{title}</a><p class=pro-price>{price}<p class=pro-shop>{company}')
            else:
                rows.append(f'<div class="trade-row"><a class="trade-link" href="{url}">{title}</a> <em>{price}</em> <i>{h(x.location)}</i></div>')
        nxt = self.list_url(keyword, page + 1, category) if has_next else ""
        if v == 0:
            body = f'<div class="sm-offer-list">{"".join(rows)}</div><div class="fui-paging">' + (f'<a class="fui-next" href="{nxt}">下一页</a>' if nxt else "") + "</div>"
        elif v == 1:
            body = f'<ul class="prod-list">{"".join(rows)}</ul><div class="page">' + (f'<a class="next" href="{nxt}">下一页</a>' if nxt else "") + "</div>"
        elif v == 2:
            body = f'<table class="supply-list">{"".join(rows)}</table><p class="paging">' + (f'<a href="{nxt}" class="nextpage">下一页</a>' if nxt else "") + "</p>"
        elif v == 3:
            body = f'<div class=box><ul class=pro-list>{"".join(rows)}</ul></div></div><div class=pagination>' + (f'<a href="{nxt}" class=page-next>下一页' if nxt else "") + "</div>"
        else:
            body = f'<div id="tradeList">{"".join(rows)}</div><div class="pg">' + (f'<a href="{nxt}" id="nextPage">下一页</a>' if nxt else "") + "</div>"
        if category is None:
            return self.page(f"{keyword}批发", f'<div class="result-count">找到{total}条供应信息</div>{body}')
        label = self.heading(keyword, category)
        return self.page(f"{label}批发", f'<div class="result-count">{h(label)} 共{total}条供应信息</div>{body}')

    def detail(self, month: str, item: Listing) -> Response:
        v = self.spec.variant
        walled = self.world.login_walled(item)
        phone = '<a class="login-to-view" href="/huicongwang/login">登录后查看</a>' if walled else h(item.contact_text)
        title, desc = h(item.title), h(item.description)
        curl, company = company_url(self.spec, item.seller.seller_id.lower()), h(item.seller.company)
        date = item.posted.isoformat()
        contact_rows = [("联系人", h(item.seller_name)), ("电话", phone), ("所在地", h(item.location))]
        if v == 0:
            dl = "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in contact_rows)
            body = (f'<div class="offer-detail"><h1 class="d-title">{title}</h1><div class="price-range"><span class="price">{h(item.price_text)}</span></div>'
                    f'<div class="moq">起批量：{h(item.min_order)}</div><div class="d-content">{desc}</div>'
                    f'<div class="company-card"><a class="company-name" href="{curl}">{company}</a><dl>{dl}</dl></div>'
                    f'<div class="pub-date">发布日期：{date}</div></div>')
        elif v == 1:
            rows = "".join(f"<tr><th>{k}</th><td>{val}</td></tr>" for k, val in
                           [("价格", h(item.price_text)), ("起订量", h(item.min_order)), ("供应商", company)] + contact_rows + [("发布时间", date)])
            body = f'<div class="pro-detail"><h1 class="pro-title">{title}</h1><table class="pro-attr">{rows}</table><div class="pro-intro">{desc}</div></div>'
        elif v == 2:
            lis = "".join(f'<li><span class="name">{k}：</span><span class="val">{val}</span></li>' for k, val in
                          [("价格", h(item.price_text)), ("最小起订", h(item.min_order))] + contact_rows + [("更新日期", date)])
            body = (f'<div class="supply-main"><h1>{title}</h1><ul class="supply-props">{lis}</ul><div class="supply-desc">{desc}</div>'
                    f'<div class="corp"><a href="{curl}">{company}</a></div></div>')
        elif v == 3:
            lis = "".join(f"<li><b>{k}</b>{val}" for k, val in
                          [("价格：", h(item.price_text)), ("起批：", h(item.min_order))] + [(k + "：", val) for k, val in contact_rows] + [("上架：", date)])
            body = (f'<div class=detail-wrap><h1 class=detail-title>{title}</h1><ul class=detail-props>{lis}</ul>'
                    f'<div class=detail-desc><p>{desc}</div></div></div><div class=shop><a href="{curl}">{company}</a>')
        else:
            rows = "".join(f"<tr><td class=\"lbl\">{k}</td><td>{val}</td></tr>" for k, val in
                           [("价格区间", h(item.price_text)), ("起订数量", h(item.min_order)), ("公司", company)] + contact_rows + [("发布日期", date)])
            body = f'<div id="trade"><h1 id="tradeTitle">{title}</h1><table id="tradeInfo">{rows}</table><div id="tradeDesc">{desc}</div></div>'
        return self.page(item.title, body)

    def company(self, month: str, company_id: str) -> Response:
        offers = [x for x in self.world.month_listings(self.spec.name, month)
                  if x.seller.seller_id.lower() == company_id and self.world.is_live(x, month)]
        if not offers:
            return self.not_found()
        first = offers[0]
        links = "".join(f'<li><a href="{listing_url(self.spec, x.external_id)}">{h(x.title)}</a> {h(x.price_text)}</li>' for x in offers)
        body = (f'<div class="company-profile"><h1 class="company-title">{h(first.seller.company)}</h1>'
                f'<p class="contact">联系人：{h(first.seller_name)}</p><p class="addr">所在地：{h(first.location)}</p>'
                f'<h2>供应产品</h2><ul class="offers">{links}</ul></div>')
        return self.page(first.seller.company, body)
