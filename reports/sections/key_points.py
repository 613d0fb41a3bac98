"""The key points: the month's headline figure and changes, movers, takedowns and coverage gaps.

Built last from the other sections' entries, so a figure here is the same number as in its table.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..labels import fault_name
from .base import Context, Query, Section, Tables

MOVER_LIMIT = 3


def build(q: Query, context: Context) -> dict[str, Any]:
    labels = q.labels
    total = sum(q.stat("new_flagged_by_site", q.month).values())
    total_prev = sum(q.stat("new_flagged_by_site", q.previous_month).values())
    has_prev = q.previous_month in q.data_months
    total_year_ago = (sum(q.stat("new_flagged_by_site", q.year_ago_month).values())
                      if q.year_ago_month in q.data_months else None)
    summary = q.stat("new_flagged_summary", q.month)
    confirmed = sum(q.stat("new_flagged_by_site", q.month, confirmed=True).values())
    confirmed_prev = sum(q.stat("new_flagged_by_site", q.previous_month, confirmed=True).values())
    backlog = q.stat("backlog_found", q.month)
    takedown = context["takedown_totals"]
    removals, health = context["removals"], context["health"]
    unread = context["removed_unread"]
    return {"key_points": {
        "total": total,
        "previous": total_prev if has_prev else None,
        "year_ago": total_year_ago,
        "change_previous": total - total_prev if has_prev else None,
        "change_previous_pct": pct_change(total, total_prev) if has_prev else None,
        "change_year_ago": total - total_year_ago if total_year_ago is not None else None,
        "change_year_ago_pct": pct_change(total, total_year_ago) if total_year_ago is not None else None,
        # The same figures counting only ads an analyst confirmed ("confirmed only").
        "confirmed": confirmed,
        "confirmed_previous": confirmed_prev if has_prev else None,
        "confirmed_change_previous": confirmed - confirmed_prev if has_prev else None,
        "takedown_confirmed": takedown["confirmed"],
        "unique_ads": summary.get("unique_ads", total),
        "reposts": summary.get("reposts", 0),
        # Found this month but posted before their site was first monitored: never "new".
        "backlog": sum(r["listings"] for r in backlog),
        "backlog_sites": backlog,
        "species_movers": movers(context["species"], "species", lambda r: r["name"]),
        "site_movers": movers(context["sites"], "site", lambda r: r["site"]),
        "takedown_month": takedown["month"],
        "takedown_requested": takedown["requested"],
        "takedown_removed_60": takedown["removed_60"],
        "takedown_removed_share": takedown["share_60"],
        "takedown_pending": takedown["pending_60"],
        "takedown_baseline": takedown["baseline_60"],
        "takedown_difference": takedown["difference_60"],
        "takedown_repeat_unremoved": sum(r["listings"] for r in context["repeat_unremoved"]),
        "removed_this_month": sum(r["removed"] for r in removals),
        # Gone before the crawl could read them: never in "total" (new flagged ads).
        "removed_unread": sum(r["listings"] for r in unread),
        "removed_unread_flagged": sum(r["flagged_by_title"] for r in unread),
        "uncrawled_sites": [
            {"site": r["site"], "problems": r["problems"] or [unhealthy_reason(r, labels, q.lang)]}
            for r in health if not r["healthy"]
        ] + [
            {"site": r["site"], "problems": [f"{labels['no_crawl_recorded']} ({labels['last_crawled']} {r['last_crawled_month']})"]}
            for r in q.stat("sites_not_crawled", q.month)
        ],
        "sites_crawled": len(health),
        # Figures are as known at the end of the month; these decisions were made since.
        "decisions_after": q.stat("decisions_after", q.month),
        "as_of_note": as_of_note(q.stat("decisions_after", q.month), q.month, q.lang),
    }}


# The as-of line is a sentence, not a code's label: it lives with the only figure it states.
AS_OF_NOTE = {
    "zh": "本报告按{month}月底已知的数据计算；其中采用了{month}之后作出的分析员决定 {n} 项（确认 {confirmed}，排除 {rejected}）。",
    "en": "Figures as known at the end of {month}; they include {n} analysts' decisions made after it "
          "({confirmed} confirmed, {rejected} rejected).",
}


def as_of_note(after: Mapping[str, int], month: str, lang: str) -> str:
    """The line saying how many of the figures' decisions were made after the month."""
    return AS_OF_NOTE.get(lang, AS_OF_NOTE["en"]).format(month=month, n=after["decisions"], confirmed=after["confirmed"],
                                                         rejected=after["rejected"])


def unhealthy_reason(row: Mapping[str, Any], labels: Mapping[str, str], lang: str) -> str:
    """What to say of an unhealthy site whose crawl listed no problem."""
    if row["finish_reason"] and row["finish_reason"] != "finished":
        return row["finish_reason_name"]
    if row["error_total"]:
        return labels["list_sep"].join(f"{fault_name(kind, lang)} {n}" for kind, n in row["errors"].items())
    return labels["not_ok"]


def pct_change(now: int, before: int | None) -> float | None:
    if not before:
        return None
    return round((now - before) / before, 4)


def movers(table: list[dict[str, Any]], key: str, name: Any) -> list[dict[str, Any]]:
    moved = [r for r in table if r["change"]]
    moved.sort(key=lambda r: (-abs(r["change"]), r[key]))
    return [
        {key: r[key], "name": name(r), "count": r["count"], "previous": r["previous"], "change": r["change"]}
        for r in moved[:MOVER_LIMIT]
    ]


def export(context: Context) -> Tables:
    meta, key = context["meta"], context["key_points"]
    return {"summary": [
        {"figure": "month", "value": meta["month"]},
        {"figure": "new_flagged", "value": key["total"]},
        {"figure": "new_flagged_previous_month", "value": key["previous"]},
        {"figure": "new_flagged_confirmed", "value": key["confirmed"]},
        {"figure": "new_flagged_confirmed_previous_month", "value": key["confirmed_previous"]},
        {"figure": "backlog_found", "value": key["backlog"]},
        {"figure": "new_flagged_same_month_last_year", "value": key["year_ago"]},
        {"figure": "takedown_requested", "value": key["takedown_requested"]},
        {"figure": "takedown_removed_60d", "value": key["takedown_removed_60"]},
        {"figure": "takedown_removed_share_60d", "value": key["takedown_removed_share"]},
        {"figure": "takedown_60d_pending", "value": key["takedown_pending"]},
        {"figure": "baseline_removed_share_60d", "value": key["takedown_baseline"]},
        {"figure": "difference_in_removal_rate_60d", "value": key["takedown_difference"]},
        {"figure": "still_online_after_two_or_more_requests", "value": key["takedown_repeat_unremoved"]},
        {"figure": "removed_this_month", "value": key["removed_this_month"]},
        {"figure": "removed_before_read", "value": key["removed_unread"]},
        {"figure": "removed_before_read_flagged_by_title", "value": key["removed_unread_flagged"]},
        {"figure": "sites_not_crawled", "value": ", ".join(u["site"] for u in key["uncrawled_sites"])},
        {"figure": "decisions_made_after_month", "value": key["decisions_after"]["decisions"]},
    ]}


SECTION = Section(key="key-points", title="key_points", template="_key_points.html", build=build, export=export,
                  needs=("species", "sites", "takedown_totals", "repeat_unremoved", "removals", "health", "removed_unread"))
