"""`wtm demo` end to end, shortened to two simulated months: sandbox, crawl, takedowns, reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli


def test_demo_crawls_files_takedowns_and_prints_the_last_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "demo", "--months", "2"])
    assert result.exit_code == 0, result.output
    last = Path(result.stdout.strip().splitlines()[-1])
    assert last == data / "reports" / "report-2025-12.html" and last.is_file()
    assert (data / "reports" / "report-2025-11.html").is_file()
    assert "[2/2] 2025-12" in result.stderr
    db = sqlite3.connect(data / "demo.sqlite3")
    months = [m for (m,) in db.execute("SELECT month FROM crawl_runs ORDER BY month")]
    assert months == ["2025-11", "2025-12"]
    assert db.execute("SELECT COUNT(*) FROM listings WHERE flagged").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(*) FROM takedown_items").fetchone()[0] > 0
    assert (data / "logs" / "demo.log").is_file()
