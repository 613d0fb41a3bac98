"""Forums and post bars (贴吧 / Discuz! style): thread search, threads whose first post is the
ad, replies, contacts written inside free text."""

from __future__ import annotations

import re
from datetime import date

from monitor.sandbox.apps import Response, SiteApp, h
from monitor.sandbox.urls import listing_url
from monitor.sandbox.world import Listing

SEARCH = [("/wenwanba/f/search", "qw", "pn"), ("/shoucangluntan/search.php", "srchtxt", "page"),
          ("/huaxiabbs/search", "keyword", "page"), ("/diaosuquan/s", "q", "p"),
          ("/laowanjia/forum/search", "kw", "page")]
# Boards (laowanjia has none): a pattern with the key (and page) and the page parameter.
BOARD_RE = {0: (re.compile(r"^/wenwanba/f/good$"), "pn"),
            1: (re.compile(r"^/shoucangluntan/forum-(\d+)-(\d+)\.html$"), ""),
            2: (re.compile(r"^/huaxiabbs/board/([a-z]+)$"), "page"),
            3: (re.compile(r"^/diaosuquan/c/([a-z]+)$"), "p")}


def post_date(item: Listing, variant: int, today: date) -> str:
    d, t = item.posted, item.posted_time
    this_year = f"{d:%m-%d} {t}" if d.year == today.year else f"{d.isoformat()} {t}"
    return [f"{d.isoformat()} {t}", f"{d.year}-{d.month}-{d.day} {t}", d.isoformat(),
            this_year, f"{d.isoformat()}T{t}"][variant]


class ForumApp(SiteApp):
    def route(self, month: str, path: str, query: str) -> Response | None:
        v = self.spec.variant
        action, qname, pname = SEARCH[v]
        p = self.params(query)
        if path == action:
            return self.results(month, p.get(qname, ""), self.int_param(p.get(pname), 1))
        if v not in BOARD_RE:
            return None
        pattern, board_page = BOARD_RE[v]
        m = pattern.match(path)
        if not m:
            return None
        key = p.get("cid", "") if v == 0 else m.group(1)
        page = int(m.group(2)) if v == 1 else self.int_param(p.get(board_page), 1)
        return self.results(month, "", page, key) if self.is_category(key) else None

    def page_url(self, keyword: str, page: int) -> str:
        action, qname, pname = SEARCH[self.spec.variant]
        return f"{action}?{qname}={self.quote(keyword)}&{pname}={page}"

    def category_url(self, key: str, page: int) -> str:
        return [f"/wenwanba/f/good?cid={key}&pn={page}", f"/shoucangluntan/forum-{key}-{page}.html",
                f"/huaxiabbs/board/{key}?page={page}", f"/diaosuquan/c/{key}?p={page}", ""][self.spec.variant]

    def home(self, month: str) -> Response:
        action, qname, _ = SEARCH[self.spec.variant]
        return self.page(self.spec.label, f'<div id="hd"><h1>{h(self.spec.label)}</h1>{self.search_form(action, qname, "搜帖子")}</div>'
                                          f'{self.category_nav()}')

    def href(self, item: Listing) -> str:
        url = listing_url(self.spec, item.external_id)
        return url.rsplit("/", 1)[1] if self.spec.variant == 1 else url

    def results(self, month: str, keyword: str, page: int, category: str | None = None) -> Response:
        items, has_next, total = self.list_page(month, page, keyword, category)
        v = self.spec.variant
        today = self.world.today(month)
        rows = []
        for x in items:
            url, title, snippet, when = self.href(x), h(x.title), h(x.description[:40]), post_date(x, v, today)
            if v == 0:
                rows.append(f'<div class="s_post"><span class="p_title"><a class="bluelink" href="{url}">{title}</a></span>'
                            f'<div class="p_content">{snippet}</div><font class="p_date">{when}</font></div>')
            elif v == 1:
                rows.append(f'<li class="pbw" id="{x.external_id}"><h3 class="xs3"><a href="{url}" target="_blank">{title}</a></h3>'
                            f'<p>{snippet}</p><p><span>{when}</span> - <a class="author">{h(x.seller_name)}</a></p></li>')
            elif v == 2:
                rows.append(f'<tr class="topic"><td class="subject"><a href="{url}">{title}</a></td><td class="by">{h(x.seller_name)}</td>'
                            f'<td class="when">{when}</td></tr>')
            elif v == 3:
                rows.append(f'<div class="topic-card"><a class="topic-link" href="{url}">{title}</a><span class="topic-meta">{when}</span></div>')
            else:
                rows.append(f'<li class="result"><a class="result-title" href="{url}">{title}</a><blockquote>{snippet}</blockquote></li>')
        nxt = self.list_url(keyword, page + 1, category) if has_next else ""
        if v == 1:
            nxt = nxt.replace("/shoucangluntan/", "")
        link = [f'<a class="next" href="{nxt}">下一页&gt;</a>', f'<a href="{nxt}" class="nxt">下一页</a>',
                f'<a href="{nxt}" class="page-next">下一页</a>', f'<a href="{nxt}" rel="next">下一页</a>',
                f'<a href="{nxt}" class="more">下一页 »</a>'][v] if nxt else ""
        wrap = ['<div class="s_post_list">{}</div>', '<ul id="threadlist">{}</ul>', '<table class="topics">{}</table>',
                '<div class="topic-list">{}</div>', '<ol class="results">{}</ol>'][v]
        if category is None:
            body = f'<div class="search-sum">共有 {total} 个相关帖子</div>' + wrap.format("".join(rows)) + f'<div class="pg">{link}</div>'
            return self.page(f"搜索 {keyword}", body)
        label = self.heading(keyword, category)
        body = f'<div class="search-sum">{h(label)} 共有 {total} 个帖子</div>' + wrap.format("".join(rows)) + f'<div class="pg">{link}</div>'
        return self.page(label, body)

    def posts(self, item: Listing, today: date) -> list[tuple[str, str, str]]:
        """(author, text, date) of the first post and the replies."""
        when = post_date(item, self.spec.variant, today)
        return [(item.seller_name, item.description, when)] + [(u, t, when) for u, t in item.replies]

    def detail(self, month: str, item: Listing) -> Response:
        v = self.spec.variant
        title = h(item.title)
        locked = self.world.login_walled(item)
        blocks = []
        for n, (author, text, when) in enumerate(self.posts(item, self.world.today(month)), start=1):
            content = h(text)
            if locked and n == 1:
                content = '<div class="locked">本帖内容需要登录后才能查看，<a href="/diaosuquan/login">登录</a></div>'
            loc = f'<span class="ip-location">IP属地:{h(item.location)}</span>' if n == 1 else ""
            if v == 0:
                blocks.append(f'<div class="l_post" data-floor="{n}"><div class="d_author"><a class="p_author_name">{h(author)}</a></div>'
                              f'<div class="d_post_content">{content}</div><div class="post-tail-wrap">{loc}'
                              f'<span class="tail-info">{n}楼</span><span class="tail-info">{when}</span></div></div>')
            elif v == 1:
                blocks.append(f'<div id="post_{item.external_id}{n:02d}" class="plhin"><div class="authi"><a class="xw1">{h(author)}</a></div>'
                              f'<em id="authorposton{n}">发表于 {when}</em>{loc}<table><tr><td class="t_f" id="postmessage_{n}">{content}</td></tr></table></div>')
            elif v == 2:
                blocks.append(f'<div class="post" id="p{n}"><div class="post-author">{h(author)}</div><div class="post-time">{when}</div>'
                              f'{loc}<div class="post-body">{content}</div></div>')
            elif v == 3:
                blocks.append(f'<section class="reply{" first" if n == 1 else ""}"><header><b class="nick">{h(author)}</b> <time>{when}</time>{loc}</header>'
                              f'<div class="text">{content}</div></section>')
            else:
                blocks.append(f'<div class="msg" data-no="{n}"><span class="user">{h(author)}</span><span class="date">{when}</span>{loc}'
                              f'<p class="body">{content}</p></div>')
        heading = [f'<h1 class="core_title_txt">{title}</h1>', f'<h1 class="ts"><span id="thread_subject">{title}</span></h1>',
                   f'<h1 class="thread-title">{title}</h1>', f'<h2 class="topic-title">{title}</h2>', f'<h1 id="t-title">{title}</h1>'][v]
        foot = '<div class="footer">Powered by BBS</div>' if v == 2 else ""
        return self.page(item.title, heading + f'<div class="thread" data-tid="{item.external_id}">{"".join(blocks)}</div>{foot}')
