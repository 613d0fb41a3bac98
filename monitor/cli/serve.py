"""``wtm serve``: the analyst's workbench, a local web application over the database."""

from __future__ import annotations

import ipaddress
import sys
from typing import TYPE_CHECKING

import click

from monitor.cli import State, pass_state
from monitor.exceptions import ConfigError

if TYPE_CHECKING:
    from monitor.storage import Database


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs serve_password_hash.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: the serve_port setting).")
@click.option("--hash-password", is_flag=True,
              help="Ask for a password and print the serve_password_hash value for wtm.toml, then exit.")
@pass_state
def serve_command(state: State, host: str, port: int | None, hash_password: bool) -> None:
    """Serve the review queue, listings with their evidence, dealers, crawl health and search
    at http://HOST:PORT/ (127.0.0.1:8765 by default)."""
    from monitor.workbench.security import hash_password as make_hash
    from monitor.workbench.security import is_password_hash

    if hash_password:
        password = click.prompt("Workbench password", hide_input=True, confirmation_prompt=True)
        click.echo(f'serve_password_hash = "{make_hash(password)}"')
        return
    config = state.config
    secret = config.serve_password_hash
    if secret and not is_password_hash(secret):
        raise ConfigError(f"{config.sources['serve_password_hash']}: serve_password_hash: not a hash from "
                          "`wtm serve --hash-password` (the password itself is never stored)")
    if not is_loopback(host) and not secret:
        raise ConfigError(f"--host {host}: serving beyond this machine needs a password; run "
                          "`wtm serve --hash-password` and set serve_password_hash")
    import uvicorn

    from monitor.storage import Database
    from monitor.workbench import create_app

    db = Database.from_config(config)
    db.check_current()
    indexed = build_index(db, quiet=state.quiet)
    if indexed and not state.quiet:
        click.echo(f"search index: {indexed:,} new listings indexed")
    port = port or config.serve_port
    from monitor.matching.species import species_table

    species = [g.key for g in species_table(config.keywords_dir or None)]
    app = create_app(db, analyst=config.analyst, password_hash=secret, hosts=[host], charsets=listing_charsets(config),
                     species=species)
    if not state.quiet:
        click.echo(f"workbench on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning" if state.quiet else "info",
                server_header=False, proxy_headers=False)


def listing_charsets(config: object) -> dict[str, str]:
    """Site name -> the charset its site file gives listing pages (a broken file is skipped:
    its evidence falls back to the page's own declaration)."""
    from monitor.crawling.sites import sites_for_config
    from monitor.exceptions import SiteFileError

    errors: list[SiteFileError] = []
    return {name: site.listing_reader.charset for name, site in sites_for_config(config, errors=errors).items()}


def build_index(db: Database, quiet: bool) -> int:
    """Bring the search index up to date before serving, showing progress: a first index of a
    large database takes minutes (114 s for 1,000,000 listings on SQLite), later ones only what
    the crawls since could not index."""
    from monitor.storage.search import refresh_index

    if quiet:
        return refresh_index(db)
    shown = {"bar": None, "tenth": 0}

    def show(done: int, total: int) -> None:
        if sys.stderr.isatty():
            if shown["bar"] is None:
                shown["bar"] = click.progressbar(length=total, label="search index", file=sys.stderr, show_pos=True)
            bar = shown["bar"]
            bar.update(done - bar.pos)
        elif total and done * 10 // total > shown["tenth"]:
            shown["tenth"] = done * 10 // total
            click.echo(f"search index: {done:,} of {total:,} listings indexed", err=True)

    try:
        return refresh_index(db, progress=show)
    finally:
        if shown["bar"] is not None:
            shown["bar"].render_finish()
