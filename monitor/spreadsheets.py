"""CSV and XLSX files for people outside the tool: platforms' takedown lists, analysts' reviews.

Cells hold scraped text, which is hostile: a title starting with ``=`` must stay text and
never become a formula in the analyst's spreadsheet (CSV injection), so such cells are
written as literal strings (XLSX) or prefixed with an apostrophe (CSV).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Sequence
from unicodedata import east_asian_width

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


@dataclass
class Sheet:
    """One sheet of a workbook: its title, header and rows.

    ``choices`` adds a drop-down list to a column; ``links`` names columns whose cells are URLs
    made clickable (a hyperlink on the cell, never a ``HYPERLINK`` formula built from scraped
    text); ``widths`` caps a column's width in characters (default ``MAX_WIDTH``).
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    choices: dict[str, Sequence[str]] = field(default_factory=dict)
    links: Sequence[str] = ()
    widths: dict[str, int] = field(default_factory=dict)


MAX_WIDTH = 60
MIN_WIDTH = 8


def _display_width(text: str) -> int:
    """Columns a string takes in a spreadsheet: CJK and other wide characters count twice."""
    return sum(2 if east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def sheet_title(text: str) -> str:
    """``text`` as a valid, unique-enough sheet title (31 characters, no ``[]:*?/\\``)."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'") or "sheet"
    return cleaned[:31]


def _fill_sheet(sheet: Any, spec: Sheet) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    header = list(spec.header)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [_display_width(str(h)) for h in header]
    links = {header.index(name) + 1 for name in spec.links if name in header}
    count = 0
    for count, row in enumerate(spec.rows, start=1):
        for column, value in enumerate(row, start=1):
            value = _cell_text(value)
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=count + 1, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the scraped text starts with
                longest = max((_display_width(line) for line in value.splitlines()), default=0)
                widths[column - 1] = max(widths[column - 1], longest)
                if column in links and value.startswith(("http://", "https://")):
                    cell.hyperlink = value
                    cell.style = "Hyperlink"
                elif "\n" in value or len(value) > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif value is not None:
                widths[column - 1] = max(widths[column - 1], len(str(value)))
    for index, width in enumerate(widths, start=1):
        cap = spec.widths.get(header[index - 1], MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = max(MIN_WIDTH, min(cap, width + 2))
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    for name, allowed in spec.choices.items():
        letter = get_column_letter(header.index(name) + 1)
        rule = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{max(count + 1, 2) + 1000}")


def write_workbook(path: Path | BinaryIO, sheets: Sequence[Sheet]) -> Path | BinaryIO:
    """Sheets with a bold frozen header row, an autofilter, column widths fitted to the text
    (capped) and clickable links; every text cell typed as text (never a formula). ``path`` may
    be an open binary file (a web response's buffer)."""
    from openpyxl import Workbook

    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        _fill_sheet(book.create_sheet(title=sheet_title(spec.title)), spec)
    if not sheets:
        book.create_sheet(title="empty")
    book.save(path)
    return path


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    title: str = "Sheet1",
    choices: dict[str, Sequence[str]] | None = None,
) -> Path:
    """One sheet (see ``write_workbook``); ``choices`` adds a drop-down list to a column."""
    return write_workbook(path, [Sheet(title, header, rows, choices=dict(choices or {}))])


def read_sheets(path: Path) -> list[tuple[str, list[str], list[tuple[int, dict[str, Any]]]]]:
    """Every sheet of an XLSX file (one unnamed sheet for a CSV) as (title, header, rows)."""
    raw = _raw_sheets(path)
    return [(title, *_table(path, title, rows)) for title, rows in raw]


def _raw_sheets(path: Path) -> list[tuple[str, list[list[Any]]]]:
    if not path.is_file():
        raise InputFileError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [("", list(csv.reader(handle)))]
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InputFileError(f"{path}: not a readable XLSX file ({exc})") from None
        sheets = [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in book.worksheets]
        book.close()
        return sheets
    raise InputFileError(f"{path}: expected an .xlsx or .csv file")


def _table(path: Path, title: str, raw_rows: list[list[Any]]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    if not raw_rows:
        where = f" sheet {title!r}" if title else ""
        raise InputFileError(f"{path}:{where} the file is empty (no header row)")
    header = [str(h).strip() if h is not None else "" for h in raw_rows[0]]
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        rows.append((number, {name: raw[i] if i < len(raw) else None for i, name in enumerate(header) if name}))
    return header, rows


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header and (spreadsheet row number, {column: value}) rows of an XLSX file's first sheet or a CSV file."""
    title, rows = _raw_sheets(path)[0]
    return _table(path, title, rows)
