"""Each site's crawl this month: health, coverage, faults, and listings gone before they were read.

Crawl health stores its problems as English sentences (monitor.crawling.health, the recorder,
the Scrapyd coordinator write them, and the crawl log prints them as they are). The page shows
each in the report's language: ``PROBLEMS`` reads every sentence those modules write and gives
it in Chinese; codes inside a sentence (a finish reason, a field) are named in either language.
A sentence no pattern knows (an error's own message) is shown as it was written.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .. import rows
from ..codes import code_name
from ..labels import fault_name, words
from .base import Context, Query, Section, Tables

_Fill = Callable[[re.Match, str], dict[str, str]]


def _finish(m: re.Match, lang: str) -> dict[str, str]:
    return {"reason": code_name("finish", m["reason"], lang)}


def _field(m: re.Match, lang: str) -> dict[str, str]:
    return {"field": words(lang).get(f"cov_{m['field']}", m["field"])}


def _why(m: re.Match, lang: str) -> dict[str, str]:
    return {"why": problem_text(m["why"], lang)}


# (pattern of the English sentence, its Chinese, its English where a code in it needs a name,
# what to fill in from the match). Patterns match whole sentences.
PROBLEMS: tuple[tuple[str, str, str | None, _Fill | None], ...] = (
    (r"stopped: under (?P<mb>\d+) MB free on the disk of the data folder", "已停止：数据文件夹所在磁盘的剩余空间不足 {mb} MB", None, None),
    (r"did not finish: (?P<reason>\S+)", "未正常结束：{reason}", "did not finish: {reason}", _finish),
    (r"no listings found", "未找到任何商品", None, None),
    (r"(?P<n>\d+) batch writes to the database failed \(listings lost\)", "{n} 批数据库写入失败（商品数据丢失）", None, None),
    (r"gave up on the site after (?P<n>\d+) walls \(captcha or ban pages\)", "遇到 {n} 次验证码或封禁页面后放弃了该平台", None, None),
    (r"listings fell from (?P<a>\d+) to (?P<b>\d+)", "商品数从 {a} 条降至 {b} 条", None, None),
    (r"(?P<field>\w+) coverage fell from (?P<a>\d+%) to (?P<b>\d+%)", "{field}字段覆盖率从 {a} 降至 {b}", "{field} coverage fell from {a} to {b}", _field),
    (r"(?P<field>\w+) coverage only (?P<a>\d+%)", "{field}字段覆盖率仅 {a}", "{field} coverage only {a}", _field),
    (r"most requests failed \((?P<a>\d+) of (?P<b>\d+)\)", "大部分请求失败（{b} 次中 {a} 次）", None, None),
    (r"(?P<a>\d+) of (?P<b>\d+) listings could not be read after retries", "{b} 条商品中有 {a} 条重试后仍无法读取", None, None),
    (r"(?P<n>\d+) removals not applied because the crawl was unhealthy", "采集异常，{n} 条删除未予记录", None, None),
    (r"storing the last listings failed: (?P<error>.+)", "最后一批商品写入失败：{error}", None, None),
    (r"no outcome reported; see (?P<log>.+)", "没有报告采集结果，日志见 {log}", None, None),
    (r"crawl did not run", "采集未运行", None, None),
    (r"crawl failed: (?P<error>.+)", "采集失败：{error}", None, None),
    (r"no Scrapyd node answers", "没有应答的 Scrapyd 节点", None, None),
    (r"job (?P<job>\S+) on (?P<node>\S+) ended without finishing the site; see (?P<log>.+)",
     "节点 {node} 上的任务 {job} 未完成该平台即结束，日志见 {log}", None, None),
    (r"abandoned: (?P<why>.+)", "已放弃：{why}", "abandoned: {why}", _why),
    (r"its process is gone", "其进程已不存在", None, None),
    (r"its heartbeat is stale", "其心跳已过期", None, None),
    (r"its job (?P<job>\S+) was cancelled", "其任务 {job} 已取消", None, None),
    (r"its Scrapyd node (?P<node>\S+) stopped answering", "其 Scrapyd 节点 {node} 已无应答", None, None),
    (r"Scrapyd reports its job (?P<job>\S+) ended", "Scrapyd 报告其任务 {job} 已结束", None, None),
    (r"failed while finishing", "结束时失败", None, None),
    (r"aborted", "已中止", None, None),
)
_COMPILED = [(re.compile(pattern), zh, en, fill) for pattern, zh, en, fill in PROBLEMS]


def problem_text(problem: str, lang: str) -> str:
    """A crawl problem sentence in ``lang`` (Chinese from ``PROBLEMS``; English as written, its
    codes named); a sentence no pattern knows, as written."""
    for pattern, zh, en, fill in _COMPILED:
        m = pattern.fullmatch(problem)
        if m is None:
            continue
        template = zh if lang == "zh" else en
        if template is None:
            return problem
        return template.format(**{**m.groupdict(), **(fill(m, lang) if fill else {})})
    return problem


def build(q: Query, context: Context) -> dict[str, Any]:
    health = [rows.health_row(row, q.lang) for row in q.stat("crawl_health", q.month)]
    for row in health:
        row["problems"] = [problem_text(p, q.lang) for p in row["problems"]]
        row["error_names"] = {fault_name(kind, q.lang): n for kind, n in row["errors"].items()}
    return {"health": health, "removed_unread": q.stat("removed_unread", q.month)}


def export(context: Context) -> Tables:
    sep = context["labels"]["sep"]
    return {"health": [{**{k: v for k, v in h.items() if k not in ("errors", "error_names", "coverage", "problems")},
                        **{f"coverage_{k}": v for k, v in h["coverage"].items()},
                        "errors": rows.pairs(h["errors"]), "problems": sep.join(h["problems"])}
                       for h in context["health"]]}


SECTION = Section(key="health", title="health", template="_health.html", build=build, export=export)
