"""``wtm report``: write the monthly briefing (HTML) or its tables (XLSX, CSV, JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import State, month_callback, pass_state




@click.command("report")
@click.option("--month", callback=month_callback, metavar="YYYY-MM",
              help="Month to report on (default: the last complete month with data).")
@click.option("--out", type=click.Path(dir_okay=True, path_type=Path), metavar="PATH",
              help="Where to write (default: <data_dir>/reports/report-YYYY-MM.<format>; csv: a folder).")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "xlsx", "csv", "json"]), default="html",
              show_default=True, help="An HTML page, the same page as a PDF, or its tables for spreadsheets.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Page language: Simplified Chinese, or English headings.")
@pass_state
def report_command(state: State, month: str | None, out: Path | None, fmt: str, lang: str) -> None:
    """Write the monthly briefing from the database and print the path written."""
    from monitor.site_titles import site_titles
    from monitor.reports import render_report

    path = render_report(state.config, month, out, fmt=fmt, lang=lang, site_titles=site_titles(state.config))
    click.echo(str(path))
