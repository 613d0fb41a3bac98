"""The lines between layers that must never be crossed (DEVELOPERS.md).

The import lines are import-linter contracts in pyproject.toml. Its graph builder walks the
root package's folder, while pyproject maps ``spiders/``, ``reports/`` and ``alembic/`` into
``monitor`` from the checkout's top level, so the contracts are checked on a copy laid out as a
wheel installs it. What imports cannot say (who reads the environment) is checked here by hand.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS: dict[str, str] = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"]["setuptools"]["package-dir"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in sorted((CHECKOUT / folder).rglob("*.py")):
            parts = path.relative_to(CHECKOUT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def installed_layout(root: Path) -> Path:
    """The package's Python files as a wheel lays them out, under ``root``."""
    for package, folder in sorted(PACKAGE_DIRS.items()):  # parents first: monitor before monitor.spiders
        target = root.joinpath(*package.split("."))
        shutil.copytree(CHECKOUT / folder, target, dirs_exist_ok=True,
                        ignore=lambda _, names: [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".yaml"))])
    return root


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(CHECKOUT / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=300)


def reads_environment(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "environb", "getenv", "putenv"):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv") for a in node.names):
            return True
    return False


ALL = modules()


def test_the_import_contracts_hold(tmp_path: Path) -> None:
    result = lint_imports(installed_layout(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_contracts_see_the_mapped_packages(tmp_path: Path) -> None:
    """A spider importing storage, and indirectly, a storage module reaching Scrapy through a
    module outside every contract: the lint must see both, in folders pyproject maps in."""
    root = installed_layout(tmp_path)
    (root / "monitor" / "spiders" / "crossing.py").write_text("import monitor.storage\n", encoding="utf-8")
    (root / "monitor" / "go_between.py").write_text("import scrapy\n", encoding="utf-8")
    (root / "monitor" / "storage" / "crossing.py").write_text("import monitor.go_between\n", encoding="utf-8")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "monitor.spiders.crossing -> monitor.storage" in result.stdout
    assert "monitor.storage.crossing -> monitor.go_between" in result.stdout
    assert "2 broken" in result.stdout, result.stdout[-4000:]


def test_only_config_reads_the_environment() -> None:
    assert {"monitor.spiders.base", "monitor.reports.context", "monitor.crawling.runner"} <= ALL.keys()
    readers = sorted(name for name, path in ALL.items() if name != "monitor.config" and reads_environment(path))
    assert readers == []


def test_loading_every_site_file_imports_no_scrapy() -> None:
    """The contract covers imports; this covers what loading the site files actually pulls in
    (readers and archetypes are looked up in their registries at load)."""
    probe = ("import sys; from monitor.crawling.sites import load_sites; load_sites(); "
             "found = sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')); "
             "print(found[:5]); sys.exit(1 if found else 0)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
