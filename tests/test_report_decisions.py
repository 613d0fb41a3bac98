"""Analysts' decisions count everywhere: ads rejected through the review import leave every
figure (headline, species, sites, trend, dealers, takedown cohorts), and each figure says how
many of its ads an analyst confirmed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from monitor.reports import build_context, render_html
from monitor.storage import Database
from monitor.storage.review import export_review, import_review
from monitor.storage.takedowns import record_takedown_sent

import report_fixtures as fx

MONTH = "2025-03"
REJECT = {("alpha", "a5"), ("beta", "b4")}   # ivory on alpha, tiger on beta
CONFIRM = {("alpha", "a6")}                  # ivory and rhino horn on alpha


def _decide(db: Database, folder: Path) -> None:
    path, _ = export_review(db, MONTH, folder / "review.xlsx")
    book = load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = (row[header.index("site")].value, row[header.index("external_id")].value)
        if key in REJECT | CONFIRM:
            row[header.index("decision")].value = "rejected" if key in REJECT else "confirmed"
    book.save(path)
    assert import_review(db, path, reviewer="ana", decided_at=datetime(2025, 4, 2))["recorded"] == 3


def _figures(context: dict) -> dict:
    history = {h["month"]: h for h in context["takedown_history"]}
    return {
        "total": context["key_points"]["total"],
        "confirmed": context["key_points"]["confirmed"],
        "species": {r["species"]: r["count"] for r in context["species"]},
        "sites": {r["site"]: r["count"] for r in context["sites"]},
        "sites_confirmed": {r["site"]: r["confirmed"] for r in context["sites"]},
        "trend": context["trend"]["total"][-1],
        "trend_confirmed": context["trend"]["confirmed"][-1],
        "trend_species": {sp: series[-1] for sp, series in context["trend"]["by_species"].items()},
        "dealer_ads": sum(d["new_ads"] for d in context["dealers"]),
        "dealer_confirmed": sum(d["confirmed_ads"] for d in context["dealers"]),
        "requested": history[MONTH]["requested"],
        "requested_confirmed": history[MONTH]["confirmed"],
        "examples": {(e["site"], e["external_id"]) for e in context["examples"]},
    }


def test_rejected_ads_leave_every_figure_and_confirmed_ones_are_counted(tmp_path: Path) -> None:
    db = fx.make_database(tmp_path)
    try:
        record_takedown_sent(db, "alpha", MONTH, sent_at=datetime(2025, 3, 26))
        before = _figures(build_context(db, MONTH, "en", now=datetime(2025, 4, 1)))
        _decide(db, tmp_path)
        context = build_context(db, MONTH, "en", now=datetime(2025, 4, 1))
        after = _figures(context)
    finally:
        db.dispose()
    assert REJECT <= before["examples"] and not REJECT & after["examples"]
    assert after["total"] == before["total"] - 2 and after["trend"] == before["trend"] - 2
    assert before["confirmed"] == 0 and after["confirmed"] == 1 and after["trend_confirmed"] == 1
    assert after["species"] == {**before["species"], "ivory": before["species"]["ivory"] - 1,
                                "tiger": before["species"]["tiger"] - 1}
    assert after["trend_species"] == {**before["trend_species"], "ivory": before["trend_species"]["ivory"] - 1,
                                      "tiger": before["trend_species"]["tiger"] - 1}
    assert after["sites"] == {**before["sites"], "alpha": before["sites"]["alpha"] - 1, "beta": before["sites"]["beta"] - 1}
    assert after["sites_confirmed"]["alpha"] == 1 and after["sites_confirmed"]["beta"] == 0
    assert after["dealer_ads"] == before["dealer_ads"] - 2 and after["dealer_confirmed"] == 1
    assert after["requested"] == before["requested"] - 1 and after["requested_confirmed"] == 1
    ivory = next(r for r in context["species"] if r["species"] == "ivory")
    assert (ivory["confirmed"], ivory["rejected"]) == (1, 1)
    page = render_html(context)
    assert "Confirmed by an analyst only: 1" in page
