"""The report's tables for spreadsheets: XLSX (one sheet per table), CSV (one file per table) or JSON.

The rows come from the same context as the HTML page, so the figures agree. Scraped text is
written as text, never as a formula: a cell that starts with ``=``, ``+``, ``-`` or ``@``
would otherwise run in Excel (CSV injection), so CSV cells get a leading apostrophe and
XLSX cells are typed as strings.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Mapping

FORMATS = ("xlsx", "csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tables(context: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables as lists of flat rows, keyed by a file-safe table name."""
    meta = context["meta"]
    trend = context["trend"]
    key = context["key_points"]
    summary = [
        {"figure": "month", "value": meta["month"]},
        {"figure": "new_flagged", "value": key["total"]},
        {"figure": "new_flagged_previous_month", "value": key["previous"]},
        {"figure": "new_flagged_same_month_last_year", "value": key["year_ago"]},
        {"figure": "takedown_requested", "value": key["takedown_requested"]},
        {"figure": "takedown_removed_60d", "value": key["takedown_removed_60"]},
        {"figure": "takedown_removed_share_60d", "value": key["takedown_removed_share"]},
        {"figure": "removed_this_month", "value": key["removed_this_month"]},
        {"figure": "removed_before_read", "value": key["removed_unread"]},
        {"figure": "removed_before_read_flagged_by_title", "value": key["removed_unread_flagged"]},
        {"figure": "sites_not_crawled", "value": ", ".join(u["site"] for u in key["uncrawled_sites"])},
    ]
    trend_rows = []
    for index, month in enumerate(trend["months"]):
        row: dict[str, Any] = {"month": month, "total": trend["total"][index]}
        for species, series in trend["by_species"].items():
            row[species] = series[index]
        trend_rows.append(row)
    return {
        "summary": summary,
        "trend": trend_rows,
        "species": [{k: v for k, v in r.items()} for r in context["species"]],
        "sites": [{**{k: v for k, v in r.items() if k != "by_species"},
                   "by_species": _pairs(r["by_species"])} for r in context["sites"]],
        "takedowns": list(context["takedowns"]),
        "takedown_history": list(context["takedown_history"]),
        "removals": [{**{k: v for k, v in r.items() if k != "by_kind"}, "by_kind": _pairs(r["by_kind"])}
                     for r in context["removals"]],
        "dealers": [{**d, "contacts": ", ".join(d["contacts"]), "ads_by_species": _pairs(d["ads_by_species"]),
                     "sites": ", ".join(d["sites"])} for d in context["dealers"]],
        "terms": list(context["terms"]),
        "examples": [{k: (", ".join(v) if isinstance(v, list) else v) for k, v in e.items() if k != "spans"}
                     for e in context["examples"]],
        "health": [{**{k: v for k, v in h.items() if k not in ("errors", "coverage", "problems")},
                    **{f"coverage_{k}": v for k, v in h["coverage"].items()},
                    "errors": _pairs(h["errors"]), "problems": "; ".join(h["problems"])}
                   for h in context["health"]],
    }


def write_tables(context: Mapping[str, Any], fmt: str, out: Path) -> Path:
    """Write the tables to ``out`` (a file for xlsx/json, a folder for csv); returns ``out``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    data = tables(context)
    if fmt == "json":
        out.parent.mkdir(parents=True, exist_ok=True)
        document = {"meta": context["meta"], "key_points": context["key_points"], "tables": data}
        out.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    elif fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        for name, rows in data.items():
            _write_csv(out / f"{name}.csv", rows)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_xlsx(out, data)
    return out


def _pairs(mapping: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items())


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = _columns(rows)
    # utf-8-sig: Excel opens Chinese text correctly only with the byte-order mark.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in columns])


def _write_xlsx(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    for name, rows in data.items():
        sheet = book.create_sheet(title=name[:31])
        columns = _columns(rows)
        sheet.append(columns)
        for row in rows:
            cells = []
            for column in columns:
                value = row.get(column)
                if value is None or isinstance(value, (int, float)):
                    cell = WriteOnlyCell(sheet, value=value)
                else:
                    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                cells.append(cell)
            sheet.append(cells)
    book.save(path)
