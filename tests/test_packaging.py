"""A wheel built from a clean clone works from any folder: lexicon, site definitions,
templates and migrations travel inside the monitor package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel of the committed tree; dependencies come from ours."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    root = tmp_path_factory.mktemp("pkg")
    clone = root / "clone"
    result = _run(["git", "clone", "-q", str(REPO), str(clone)], cwd=root)
    assert result.returncode == 0, result.stderr
    result = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                   "-w", str(root / "dist"), str(clone)], cwd=root)
    assert result.returncode == 0, result.stderr
    venv = root / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root).returncode == 0
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next((root / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return venv


def _wheel_names(venv: Path) -> set[str]:
    site = next((venv / "lib").glob("python3*/site-packages"))
    return {p.name for p in site.iterdir()}


def test_nothing_generic_lands_in_site_packages(installed: Path) -> None:
    names = _wheel_names(installed)
    assert "monitor" in names
    assert not names & {"spiders", "keywords", "reports", "tests", "benchmarks"}


def test_installed_tool_finds_its_data_from_any_folder(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    code = (
        "import monitor, pathlib, sys;"
        "root = pathlib.Path(monitor.__file__).parent;"
        "assert 'site-packages' in str(root), root;"
        "print(sorted(p.name for p in (root / 'keywords').glob('*.yaml')));"
        "print(sorted(p.name for p in (root / 'spiders' / 'sites').glob('*.yaml')));"
        "print(sorted(p.name for p in (root / 'reports' / 'templates').glob('*.html')));"
        "print(sorted(p.name for p in (root / 'migrations' / 'versions').glob('*.py')))"
    )
    result = _run([str(python), "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    keywords, sites, templates, migrations = (eval(line) for line in result.stdout.splitlines())
    assert "ivory.yaml" in keywords and len(keywords) >= 8
    assert len(sites) >= 30
    assert templates and migrations


def test_installed_cli_creates_a_database(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    result = _run([str(python), "-m", "monitor", "--data-dir", str(tmp_path / "d"), "db", "upgrade"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / "wtm.sqlite3").is_file()
    result = _run([str(python), "-m", "monitor", "keywords", "list", "--species", "ivory"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "白塑料" in result.stdout
