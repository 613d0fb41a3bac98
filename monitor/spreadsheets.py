"""CSV and XLSX files for people outside the tool: platforms' takedown lists, analysts' reviews.

Cells hold scraped text, which is hostile: a title starting with ``=`` must stay text and
never become a formula in the analyst's spreadsheet (CSV injection), so such cells are
written as literal strings (XLSX) or prefixed with an apostrophe (CSV).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from monitor.exceptions import InputFileError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """UTF-8 with BOM so Excel opens Chinese text correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            out = []
            for value in row:
                value = _cell_text(value)
                if isinstance(value, str) and value.startswith(_FORMULA_START):
                    value = "'" + value
                out.append("" if value is None else value)
            writer.writerow(out)
    return path


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    title: str = "Sheet1",
    choices: dict[str, Sequence[str]] | None = None,
) -> Path:
    """One sheet with a bold frozen header; ``choices`` adds a drop-down list to a column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=count + 1, column=column, value=_cell_text(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for name, allowed in (choices or {}).items():
        column = list(header).index(name) + 1
        letter = sheet.cell(row=1, column=column).column_letter
        rule = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{max(count + 1, 2) + 1000}")
    book.save(path)
    return path


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header and (spreadsheet row number, {column: value}) rows of an XLSX or CSV file."""
    if not path.is_file():
        raise InputFileError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            raw_rows = list(csv.reader(handle))
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InputFileError(f"{path}: not a readable XLSX file ({exc})") from None
        sheet = book.worksheets[0]
        raw_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        raise InputFileError(f"{path}: expected an .xlsx or .csv file")
    if not raw_rows:
        raise InputFileError(f"{path}: the file is empty (no header row)")
    header = [str(h).strip() if h is not None else "" for h in raw_rows[0]]
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        rows.append((number, {name: raw[i] if i < len(raw) else None for i, name in enumerate(header) if name}))
    return header, rows
