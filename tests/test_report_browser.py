"""The report in a real headless Chromium: no console errors, charts drawn, a screenshot kept.

Chromium logs every console message (errors, CSP violations, uncaught exceptions) to stderr
as ``:CONSOLE`` lines when started with ``--enable-logging=stderr --v=0``; the page itself
runs no script, so any such line is a failure. A control page with a broken script proves
the check sees errors.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest

from monitor.reports import build_context, render_html

import report_fixtures as fx

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (`make test` installs it when run as root)",
)


def run_chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in a fresh headless profile that reaches no network service."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    db = fx.make_database(folder)
    try:
        html = render_html(build_context(db, "2025-03", "zh", now=datetime(2025, 4, 1, 8, 0)))
    finally:
        db.dispose()
    path = folder / "report-2025-03.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_console_check_sees_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>",
                    encoding="utf-8")
    result = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert any("undefinedFunction" in line for line in console_lines(result.stderr))


def test_report_renders_without_console_errors(report_file: Path, tmp_path: Path) -> None:
    result = run_chromium(report_file, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_lines(result.stderr) == []
    dom = lxml.html.fromstring(result.stdout)
    charts = dom.xpath("//figure[contains(@class, 'chart-figure')]/*[local-name()='svg']")
    assert [c.get("id") for c in charts] == ["trend-total", "trend-species"]
    for chart in charts:
        assert len(chart.xpath(".//*[local-name()='path']")) > 10
    # The hostile listing's markup stayed text after the browser parsed the page.
    assert dom.xpath("//script") == [] and dom.xpath("//img") == []
    assert fx.HOSTILE_TITLE in dom.text_content()


def test_screenshot_is_saved(report_file: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = run_chromium(report_file, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_lines(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
