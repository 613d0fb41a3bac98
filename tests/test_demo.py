"""`wtm demo` end to end, shortened to two simulated months: sandbox, crawl, takedowns, reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from monitor.cli import EXIT_BAD_INPUT, cli, main


def test_demo_crawls_files_takedowns_and_prints_the_last_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "demo", "--months", "2"])
    assert result.exit_code == 0, result.output
    last = Path(result.stdout.strip().splitlines()[-1])
    assert last == data / "reports" / "report-2025-12.html" and last.is_file()
    assert (data / "reports" / "report-2025-11.html").is_file()
    assert "[2/2] 2025-12" in result.stderr
    db = sqlite3.connect(data / "wtm.sqlite3")  # the data folder's default database
    months = [m for (m,) in db.execute("SELECT month FROM crawl_runs ORDER BY month")]
    assert months == ["2025-11", "2025-12"]
    assert db.execute("SELECT COUNT(*) FROM listings WHERE flagged").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(*) FROM takedown_items").fetchone()[0] > 0
    assert (data / "logs" / "demo.log").is_file()

    db.close()
    # `wtm report` right after the demo, with the demo's data folder and nothing else.
    for lang in ("zh", "en"):
        out = CliRunner().invoke(cli, ["--data-dir", str(data), "report", "--month", "2025-12", "--lang", lang,
                                       "--out", str(tmp_path / f"after-demo-{lang}.html")])
        assert out.exit_code == 0, out.output
        text = lxml.html.fromstring(Path(out.stdout.strip()).read_text(encoding="utf-8")).text_content()
        for raw in ("redirect_home", "http_404", "deleted_page", "login_wall", "finished", "phone:", "wechat:", "qq:"):
            assert raw not in text.lower(), (lang, raw)
        assert "古玩街" in text  # sites by their titles
    assert sorted(p.name for p in data.glob("*.sqlite3")) == ["wtm.sqlite3"]


def test_demo_never_replaces_a_monitoring_database(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "wtm.sqlite3").write_bytes(b"real monitoring data")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data), "demo", "--months", "1"])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "was not written by the demo" in capsys.readouterr().err
    assert (data / "wtm.sqlite3").read_bytes() == b"real monitoring data"
