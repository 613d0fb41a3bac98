"""``wtm takedown``: export a site's takedown list, record that it was sent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from monitor.cli import State, month_callback, pass_state




@click.group("takedown")
def takedown_group() -> None:
    """Export and record takedown requests to platforms."""


@takedown_group.command("export")
@click.option("--site", required=True, help="Site name as in the database (see `wtm sites list`).")
@click.option("--month", required=True, callback=month_callback, metavar="YYYY-MM", help="Month of the crawl to report.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files (default: <data folder>/takedowns).")
@pass_state
def export(state: State, site: str, month: str, out_dir: Path | None) -> None:
    """Write the site's flagged live listings (URL, title, species, first seen, evidence
    hash) as CSV and XLSX for the platform."""
    from monitor.storage import Database
    from monitor.storage.takedowns import export_takedown

    db = Database.from_config(state.config)
    db.check_current()
    folder = out_dir or state.config.data_path / "takedowns"
    csv_path, xlsx_path, count = export_takedown(db, site, month, folder)
    click.echo(f"{count} listings for {site}, {month}:")
    click.echo(str(csv_path))
    click.echo(str(xlsx_path))


@takedown_group.command("sent")
@click.option("--site", required=True, help="Site name as in the database.")
@click.option("--month", required=True, callback=month_callback, metavar="YYYY-MM", help="Month of the exported list.")
@click.option("--date", "sent_date", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="When it was sent (default: now).")
@click.option("--platform-contact", default="", help="Who at the platform received it (e-mail, form URL).")
@pass_state
def sent(state: State, site: str, month: str, sent_date: datetime | None, platform_contact: str) -> None:
    """Record that the site's takedown list for MONTH was sent; later crawls record which
    of those listings disappear and when."""
    from monitor.storage import Database
    from monitor.storage.takedowns import record_takedown_sent

    db = Database.from_config(state.config)
    db.check_current()
    request_id, urls = record_takedown_sent(db, site, month, sent_at=sent_date, platform_contact=platform_contact)
    click.echo(f"takedown request {request_id}: {len(urls)} listings of {site} reported for {month}")
