"""``wtm review``: hand analysts a spreadsheet of flagged listings and read their verdicts back."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import State, month_callback, pass_state




@click.group("review")
def review_group() -> None:
    """Export and import analysts' review decisions."""


@review_group.command("export")
@click.option("--month", required=True, callback=month_callback, metavar="YYYY-MM", help="Month of first sighting.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="XLSX file to write (default: <data folder>/review/review-YYYY-MM.xlsx).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the contact kinds (微信 / WeChat).")
@pass_state
def export(state: State, month: str, out_file: Path | None, lang: str) -> None:
    """Write the month's new flagged listings as XLSX with their full text (matched terms in
    【】), price, contacts and dealer, and a decision column (confirmed / rejected); a second
    sheet, "sample", holds a random sample of unflagged listings per site (missed / not_missed)."""
    from monitor.reports.codes import CODE_NAMES
    from monitor.site_titles import site_titles
    from monitor.storage import Database
    from monitor.storage.review import export_review

    db = Database.from_config(state.config)
    db.check_current()
    target = out_file or state.config.data_path / "review" / f"review-{month}.xlsx"
    path, count = export_review(db, month, target, site_titles=site_titles(state.config),
                                contact_names=CODE_NAMES["contact"][lang])
    click.echo(f"{count} listings to review: {path}")


@review_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reviewer", default="", help="Who decided (default: the file's reviewer column).")
@pass_state
def import_(state: State, file: Path, reviewer: str) -> None:
    """Read decisions back from FILE; a file with any bad row changes nothing."""
    from monitor.storage import Database
    from monitor.storage.review import import_review

    db = Database.from_config(state.config)
    db.check_current()
    counts = import_review(db, file, reviewer=reviewer)
    click.echo(
        f"{counts['recorded']} decisions recorded, {counts['unchanged']} unchanged, "
        f"{counts['blank']} rows without a decision ({counts['rows']} rows read)"
    )
