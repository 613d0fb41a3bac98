"""C2C second-hand apps (闲鱼 / 转转 style): HTML shells fed by a JSON API with cursor
pagination, or pages carrying their data as JSON inside a <script> tag."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import unquote

from monitor.sandbox.apps import Response, SiteApp, h, relative_date
from monitor.sandbox.urls import api_url, listing_url
from monitor.sandbox.world import Listing

CST = timezone(timedelta(hours=8))
PAIPAI_SEARCH_RE = re.compile(r"^/paipaitao/s/([^/]*)$")
ERHUO_ITEM_RE = re.compile(r"^/erhuoquan/api/v1/items/(\d+)$")
XIANZHI_ITEM_RE = re.compile(r"^/xianzhi/api/item/(\d+)$")
ZHUANSHOU_LIST_RE = re.compile(r"^/zhuanshou/list/([a-z]+)$")
PAIPAI_LIST_RE = re.compile(r"^/paipaitao/c/([a-z]+)$")


def epoch(item: Listing) -> int:
    hh, mm = item.posted_time.split(":")
    moment = datetime(item.posted.year, item.posted.month, item.posted.day, int(hh), int(mm), tzinfo=CST)
    return int(moment.timestamp())


def script_json(obj: object) -> str:
    """JSON safe inside <script> (no closing tag can sneak in)."""
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


class C2CApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        v, p = self.spec.variant, self.params(query)
        name = self.spec.name
        if v == 0:
            if path == "/xianzhi/api/search":
                return self.api_page(month, p.get("q", ""), p.get("cursor", ""))
            if path == "/xianzhi/api/feed":
                tab = p.get("tab", "")
                return self.api_page(month, "", p.get("cursor", ""), tab) if self.is_category(tab) else self.not_found(api=True)
            m = XIANZHI_ITEM_RE.match(path)
            if m:
                return self.api_item(month, m.group(1))
            if path == "/xianzhi/search":
                return self.shell("search", {"q": p.get("q", "")})
        elif v == 1:
            if path == "/zhuanshou/search":
                return self.embedded_search(month, p.get("keyword", ""), self.int_param(p.get("page"), 1))
            m = ZHUANSHOU_LIST_RE.match(path)
            if m and self.is_category(m.group(1)):
                return self.embedded_search(month, "", self.int_param(p.get("page"), 1), m.group(1))
            if path == "/zhuanshou/login":
                return self.page("登录", '<form class="login" method="post"><input name="mobile"><input name="code">'
                                       '<button>登录</button></form><p class="need-login">请登录后查看商品详情</p>')
        elif v == 2:
            if path == "/erhuoquan/api/v1/search":
                return self.api_page(month, p.get("kw", ""), p.get("after", ""))
            m = ERHUO_ITEM_RE.match(path)
            if m:
                return self.api_item(month, m.group(1))
        elif v == 3:
            m = PAIPAI_SEARCH_RE.match(path)
            if m:
                return self.embedded_search(month, unquote(m.group(1), "utf-8", "replace"), self.int_param(p.get("page"), 1))
            m = PAIPAI_LIST_RE.match(path)
            if m and self.is_category(m.group(1)):
                return self.embedded_search(month, "", self.int_param(p.get("page"), 1), m.group(1))
        elif v == 4:
            if path == "/huishouwa/api/search":
                return self.api_page(month, p.get("query", ""), p.get("cursor", ""))
            if path == "/huishouwa/api/detail":
                return self.api_item(month, p.get("id", ""))
        if path == f"/{name}/static/app.js":
            return Response(200, b"/* app bundle: renders data fetched from the JSON API */\n",
                            "application/javascript; charset=utf-8")
        return None

    def page_url(self, keyword: str, page: int) -> str:
        """First-page URL for API sites (later pages follow the cursor); page N for the others."""
        q = self.quote(keyword)
        return [f"/xianzhi/api/search?q={q}", f"/zhuanshou/search?keyword={q}&page={page}",
                f"/erhuoquan/api/v1/search?kw={q}", f"/paipaitao/s/{q}?page={page}",
                f"/huishouwa/api/search?query={q}"][self.spec.variant]

    def category_url(self, key: str, page: int) -> str:
        """First-page URL of the feed on the API site (later pages follow the cursor); page N elsewhere."""
        return [f"/xianzhi/api/feed?tab={key}", f"/zhuanshou/list/{key}?page={page}", "",
                f"/paipaitao/c/{key}?page={page}", ""][self.spec.variant]

    # -- JSON API sites (variants 0, 2, 4) ----------------------------------------------
    def card(self, x: Listing, month: str) -> dict:
        v = self.spec.variant
        url = listing_url(self.spec, x.external_id)
        if v == 0:
            return {"id": x.external_id, "title": x.title, "price": x.price_text, "area": x.location,
                    "publishTime": epoch(x) * 1000, "url": url}
        if v == 2:
            return {"itemId": int(x.external_id), "name": x.title, "priceText": x.price_text, "city": x.location,
                    "createdAt": datetime.fromtimestamp(epoch(x), CST).isoformat(), "link": url}
        return {"id": x.external_id, "title": x.title, "price": x.price_text, "location": x.location,
                "ts": epoch(x), "time_text": relative_date(x.posted, self.world.today(month)), "page": url}

    def api_page(self, month: str, keyword: str, cursor: str, category: str | None = None) -> Response:
        if category is None:
            ids, total = self.world.search_results(self.spec.name, keyword, month)
        else:
            ids, total = self.world.category_results(self.spec.name, category, month)
        size, v = self.spec.page_size, self.spec.variant
        if v == 2:
            start = ids.index(cursor) + 1 if cursor in ids else 0
        else:
            try:
                if v == 0:
                    start = int(cursor[2:], 16) if cursor else 0
                else:
                    start = int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]) if cursor else 0
            except (ValueError, KeyError, TypeError):
                return self.json({"error": "bad cursor"}, 400)
            start = max(0, start)
        chosen = ids[start:start + size]
        items = [self.card(self.world.listing(self.spec.name, i, month), month) for i in chosen]
        more = start + size < len(ids)
        if v == 0:
            nxt = f"c_{start + size:x}" if more else None
            return self.json({"ok": True, "data": {"total": total, "items": items, "nextCursor": nxt}})
        if v == 2:
            return self.json({"code": 0, "data": {"list": items, "hasMore": more, "cursor": chosen[-1] if chosen else ""}})
        nxt = base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode() if more else ""
        return self.json({"items": items, "cursor": nxt, "has_more": more, "total": total})

    def full(self, x: Listing, month: str) -> dict:
        card = self.card(x, month)
        v = self.spec.variant
        if v == 0:
            card.update({"desc": x.description, "seller": {"nick": x.seller_name, "userId": x.seller.seller_id.lower()}})
        elif v == 2:
            card.update({"description": x.description, "user": {"nickName": x.seller_name}})
        else:
            card.update({"content": x.description, "seller_name": x.seller_name})
        return card

    def api_item(self, month: str, external_id: str) -> Response:
        if not external_id.isdigit():
            return self.not_found(api=True)
        return self.detail_or_removed(month, external_id, api=True)

    def api_detail(self, month: str, item: Listing) -> Response:
        data = self.full(item, month)
        if self.spec.variant == 0:
            return self.json({"ok": True, "data": data})
        if self.spec.variant == 2:
            return self.json({"code": 0, "data": data})
        return self.json({"item": data})

    def detail(self, month: str, item: Listing) -> Response:
        if self.spec.variant in (0, 2, 4):
            return self.shell("item", {"id": item.external_id, "api": api_url(self.spec, item.external_id)})
        if self.world.login_walled(item):
            target = f"/{self.spec.name}/login?redirect={listing_url(self.spec, item.external_id)}"
            return Response(302, b"", "text/html", [("Location", target)])
        return self.embedded_detail(month, item)

    def shell(self, page: str, data: dict, extra: str = "") -> Response:
        attrs = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in data.items() if v is not None)
        body = (f'<div id="app" data-page="{page}" {attrs}><div class="loading">加载中...</div></div>{extra}'
                f'<noscript>请开启JavaScript</noscript><script src="/{self.spec.name}/static/app.js"></script>')
        return self.page(self.spec.label, body)

    def home(self, month: str) -> Response:
        if self.spec.variant in (1, 3):
            action = "/zhuanshou/search" if self.spec.variant == 1 else "/paipaitao/s/"
            return self.page(self.spec.label, f'<h1>{h(self.spec.label)}</h1>{self.search_form(action, "keyword")}'
                                              f'{self.category_nav()}')
        return self.shell("home", {}, self.category_nav())

    # -- embedded JSON sites (variants 1, 3) --------------------------------------------
    def embedded_search(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        if self.spec.variant == 1:
            state: dict = {"search": {"keyword": keyword, "page": page, "hasMore": has_next, "total": total,
                                      "list": [{"infoId": x.external_id, "title": x.title, "price": x.price_text,
                                                "cityName": x.location, "pubDate": x.posted.isoformat()} for x in items]}}
            if category is not None:
                state["search"]["category"] = category
            script = f"<script>window.__INITIAL_STATE__ = {script_json(state)};</script>"
        else:
            page_props: dict = {"query": keyword, "page": page, "nextPage": page + 1 if has_next else None,
                                "results": [{"goodsId": x.external_id, "goodsName": x.title,
                                             "displayPrice": x.price_text, "region": x.location,
                                             "href": listing_url(self.spec, x.external_id)} for x in items]}
            if category is not None:
                page_props["category"] = category
            props = {"props": {"pageProps": page_props}, "page": "/s/[q]" if category is None else "/c/[category]"}
            script = f'<script id="__NEXT_DATA__" type="application/json">{script_json(props)}</script>'
        return self.page(f"{self.heading(keyword, category)}", f'<div id="root"></div>{script}')

    def embedded_detail(self, month: str, item: Listing) -> Response:
        if self.spec.variant == 1:
            state = {"detail": {"infoId": item.external_id, "title": item.title, "content": item.description,
                                "price": item.price_text, "cityName": item.location, "nickName": item.seller_name,
                                "pubDate": item.posted.isoformat(), "pubTime": item.posted_time}}
            script = f"<script>window.__INITIAL_STATE__ = {script_json(state)};</script>"
        else:
            props = {"props": {"pageProps": {"goods": {
                "goodsId": item.external_id, "goodsName": item.title, "goodsDesc": item.description,
                "displayPrice": item.price_text, "region": item.location, "sellerNick": item.seller_name,
                "publishedAt": datetime.fromtimestamp(epoch(item), CST).isoformat()}}}, "page": "/goods/[id]"}
            script = f'<script id="__NEXT_DATA__" type="application/json">{script_json(props)}</script>'
        return self.page(item.title, f'<div id="root"></div>{script}')
