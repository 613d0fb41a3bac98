"""City classifieds (58 / Ganji / Baixing style): search list, detail page with a field table,
relative posting dates."""

from __future__ import annotations

import re

from monitor.sandbox.apps import Response, SiteApp, h, relative_date
from monitor.sandbox.urls import listing_url
from monitor.sandbox.world import Listing

PATH_SEARCH_RE = re.compile(r"^/baixingjie/search/([^/]*)/(?:p(\d+)/)?$")
# Category pages: /<site>/<key>/ for page 1, then the site's own page marker.
CATEGORY = {0: ("/tongcheng/{key}/", "pn"), 1: ("/ganjiwang/{key}/", "o"), 2: ("/baixingjie/{key}/", "p")}
CATEGORY_RE = {v: re.compile("^" + re.escape(path).replace(r"\{key\}", "([a-z]+)") + f"(?:{mark}(\\d+)/)?$")
               for v, (path, mark) in CATEGORY.items()}


class ClassifiedsApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        v = self.spec.variant
        p = self.params(query)
        if v == 0 and path == "/tongcheng/search/":
            return self.results(month, p.get("key", ""), self.int_param(p.get("page"), 1))
        if v == 1 and path == "/ganjiwang/s/":
            return self.results(month, p.get("q", ""), self.int_param(p.get("p"), 1))
        if v == 2:
            m = PATH_SEARCH_RE.match(path)
            if m:
                from urllib.parse import unquote

                return self.results(month, unquote(m.group(1), "utf-8", "replace"), int(m.group(2) or 1))
        if v == 3 and path == "/kuaifenlei/so":
            return self.results(month, p.get("wd", ""), self.page_of_offset(p.get("pn")))
        if v == 4 and path == "/linlitie/list":
            return self.results(month, p.get("kw", ""), self.int_param(p.get("page"), 1))
        m = CATEGORY_RE[v].match(path) if v in CATEGORY_RE else None
        if m and self.is_category(m.group(1)):
            return self.results(month, "", int(m.group(2) or 1), m.group(1))
        return None

    def category_url(self, key: str, page: int) -> str:
        path, mark = CATEGORY[self.spec.variant]
        first = path.format(key=key)
        return first if page <= 1 else f"{first}{mark}{page}/"

    def page_url(self, keyword: str, page: int) -> str:
        q = self.quote(keyword)
        v = self.spec.variant
        if v == 0:
            return f"/tongcheng/search/?key={q}&page={page}"
        if v == 1:
            return f"/ganjiwang/s/?q={q}&p={page}"
        if v == 2:
            return f"/baixingjie/search/{q}/p{page}/"
        if v == 3:
            return f"/kuaifenlei/so?wd={q}&pn={self.offset_of_page(page)}"
        return f"/linlitie/list?kw={q}&page={page}"

    def search_action(self) -> tuple[str, str]:
        return [("/tongcheng/search/", "key"), ("/ganjiwang/s/", "q"), ("/baixingjie/search/", "q"),
                ("/kuaifenlei/so", "wd"), ("/linlitie/list", "kw")][self.spec.variant]

    # -- pages ---------------------------------------------------------------------------
    def home(self, month: str) -> Response:
        action, name = self.search_action()
        latest = self.world.listed(self.spec.name, month)[:10]
        links = "".join(f'<li><a href="{listing_url(self.spec, i)}">{h(self.world.listing(self.spec.name, i).title)}</a></li>'
                        for i in latest)
        return self.page(self.spec.label, f'<div class="header"><h1>{h(self.spec.label)}</h1>{self.search_form(action, name)}</div>'
                                         f'{self.category_nav()}<ul class="latest">{links}</ul>')

    def results(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        today = self.world.today(month)
        v = self.spec.variant
        rows = []
        for x in items:
            url, title, price, loc, when = listing_url(self.spec, x.external_id), h(x.title), h(x.price_text), h(x.location), relative_date(x.posted, today)
            if v == 0:
                rows.append(f'<li class="list-item" data-id="{x.external_id}"><a class="t" href="{url}">{title}</a>'
                            f'<b class="price">{price}</b><span class="area">{loc}</span><span class="time">{when}</span></li>')
            elif v == 1:
                rows.append(f'<dl class="list-ad" id="ad-{x.external_id}"><dt><a href="{url}" target="_blank">{title}</a></dt>'
                            f'<dd class="feature">{price}</dd><dd class="region">{loc}</dd><dd class="pubtime">{when}</dd></dl>')
            elif v == 2:
                rows.append(f'<li class="listing-ad item-regular"><div class="media-body-title"><a class="ad-title" href="{url}">{title}</a></div>'
                            f'<div class="ad-item-detail"><span class="highlight">{price}</span> <span>{loc}</span> <span class="date">{when}</span></div></li>')
            elif v == 3:
                rows.append(f'<tr class="row" data-post="{x.external_id}"><td class="title"><a href="{url}">{title}</a></td>'
                            f'<td class="p">{price}</td><td class="loc">{loc}</td><td class="date">{when}</td></tr>')
            else:
                rows.append(f'<article class="post-card"><h3><a href="{url}">{title}</a></h3><p class="meta"><em class="price">{price}</em> · '
                            f'<span class="city">{loc}</span> · <time>{when}</time></p></article>')
        nxt = self.list_url(keyword, page + 1, category) if has_next else ""
        if v == 0:
            body = f'<ul class="list-box">{"".join(rows)}</ul><div class="pager">' + (f'<a class="next" href="{nxt}">下一页</a>' if nxt else "") + "</div>"
        elif v == 1:
            body = f'<div class="job-list">{"".join(rows)}</div><div class="pageBox">' + (f'<a class="pager-next" href="{nxt}"><span>下一页 &gt;</span></a>' if nxt else "") + "</div>"
        elif v == 2:
            body = f'<ul class="search-list">{"".join(rows)}</ul><ul class="list-pagination">' + (f'<li><a href="{nxt}">下一页</a></li>' if nxt else "") + "</ul>"
        elif v == 3:
            empty = "" if rows else '<p class="empty">没有更多了</p>'
            body = f'<table class="results">{"".join(rows)}</table>{empty}<div class="nav">' + (f'<a rel="next" href="{nxt}">下一页</a>' if nxt else "") + "</div>"
        else:
            body = f'<div class="posts">{"".join(rows)}</div><nav class="pages">' + (f'<a class="pg-next" href="{nxt}">下一页</a>' if nxt else "") + "</nav>"
        head = f'<p class="count">共找到 <em>{total}</em> 条信息</p>'
        title = f"{keyword} 搜索结果" if category is None else self.heading(keyword, category)
        return self.page(title, head + body)

    def detail(self, month: str, item: Listing) -> Response:
        today = self.world.today(month)
        fields = [("价格", item.price_text), ("地点", item.location), ("联系人", item.seller_name),
                  ("电话", item.contact_text), ("发布时间", relative_date(item.posted, today))]
        v = self.spec.variant
        title, desc = h(item.title), h(item.description)
        if v == 0:
            rows = "".join(f"<tr><th>{k}</th><td>{h(val)}</td></tr>" for k, val in fields)
            body = (f'<div class="info-main"><h1 class="info-title">{title}</h1><table class="info-table">{rows}</table>'
                    f'<div class="description"><h3>详细描述</h3><p>{desc}</p></div></div>')
        elif v == 1:
            rows = "".join(f"<li><label>{k}：</label><span>{h(val)}</span></li>" for k, val in fields)
            body = (f'<div class="leftBox"><h1 class="title-name">{title}</h1><ul class="det-infor">{rows}</ul>'
                    f'<div class="second-det"><div class="summary-cont">{desc}</div></div></div>')
        elif v == 2:
            rows = "".join(f"<dt>{k}</dt><dd>{h(val)}</dd>" for k, val in fields)
            body = (f'<div class="viewad-title"><h1>{title}</h1></div><div class="viewad-meta"><dl>{rows}</dl></div>'
                    f'<section class="viewad-text">{desc}</section>')
        elif v == 3:
            rows = "".join(f'<tr><td class="k">{k}</td><td class="v">{h(val)}</td></tr>' for k, val in fields)
            body = f'<div id="post"><h2 id="post-title">{title}</h2><table id="fields">{rows}</table><div id="post-body">{desc}</div></div>'
        else:
            rows = "".join(f"<tr><th>{k}</th><td>{h(val)}</td></tr>" for k, val in fields)
            body = (f'<article class="post-detail" data-id="{item.external_id}"><header><h1>{title}</h1></header>'
                    f'<table class="fields">{rows}</table><div class="content">{desc}</div></article>')
        return self.page(item.title, body)
