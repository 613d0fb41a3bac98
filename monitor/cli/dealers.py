"""``wtm dealers``: what the monitor knows about one dealer, as a workbook for an officer."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import State, pass_state


@click.group("dealers")
def dealers_group() -> None:
    """Dealers: sellers linked by the contacts their ads share."""


@dealers_group.command("dossier")
@click.argument("dealer_id", type=click.IntRange(min=1))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="XLSX file to write (default: <data folder>/dossiers/dealer-ID.xlsx).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the headers and statuses.")
@pass_state
def dossier(state: State, dealer_id: int, out_file: Path | None, lang: str) -> None:
    """Write DEALER_ID's dossier (the number the report and the workbench show as #ID): contacts,
    names used, sites, every ad with dates, prices and status, takedown requests, a monthly timeline."""
    from monitor.reports import write_dossier
    from monitor.site_titles import site_titles
    from monitor.storage import Database

    db = Database.from_config(state.config)
    db.check_current()
    target = out_file or state.config.data_path / "dossiers" / f"dealer-{dealer_id}.xlsx"
    write_dossier(db, dealer_id, target, lang, site_titles=site_titles(state.config))
    click.echo(f"dealer #{dealer_id}: {target}")
