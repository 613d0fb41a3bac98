"""``wtm serve``: the analyst's workbench, a local web application over the database."""

from __future__ import annotations

import ipaddress

import click

from monitor.cli import State, pass_state
from monitor.exceptions import ConfigError


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
    from monitor.storage.search import refresh_index
    from monitor.workbench import create_app

    db = Database.from_config(config)
    db.check_current()
    indexed = refresh_index(db)
    if indexed and not state.quiet:
        click.echo(f"search index: {indexed} new listings indexed")
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
