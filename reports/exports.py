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

from .sections import export_all

FORMATS = ("xlsx", "csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tables(context: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables as lists of flat rows, keyed by a file-safe table name (each section's own)."""
    return export_all(context)


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
