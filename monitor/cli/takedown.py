"""``wtm takedown``: export the month's takedown package, record that a platform's list was sent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from monitor.cli import State, month_callback, pass_state




@click.group("takedown")
def takedown_group() -> None:
    """Export and record takedown requests to platforms."""


@takedown_group.command("export")
@click.option("--month", required=True, callback=month_callback, metavar="YYYY-MM", help="Month of the crawl to report.")
@click.option("--site", default=None, help="Only this site (name as in `wtm sites list`); default: every site.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the headers and glosses.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files (default: <data folder>/takedowns).")
@pass_state
def export(state: State, month: str, site: str | None, lang: str, out_dir: Path | None) -> None:
    """Write the month's takedown package: one XLSX workbook with a sheet per platform (ad text,
    prices, seller and contacts, matched terms with a gloss, legal basis, earlier requests,
    evidence hash and file, clickable links). With --site, that platform alone, plus a CSV."""
    from monitor.reports.packages import write_takedown_package
    from monitor.site_titles import site_titles
    from monitor.storage import Database

    db = Database.from_config(state.config)
    db.check_current()
    folder = out_dir or state.config.data_path / "takedowns"
    files, counts = write_takedown_package(db, month, folder, site=site, lang=lang,
                                           site_titles=site_titles(state.config),
                                           keywords_dir=state.config.keywords_dir or None)
    where = site or f"{len(counts)} sites"
    click.echo(f"{sum(counts.values())} listings for {where}, {month}:")
    for name, count in counts.items():
        click.echo(f"  {name}: {count}")
    for path in files:
        click.echo(str(path))


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
