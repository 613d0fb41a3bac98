"""The lines between layers that must never be crossed (DEVELOPERS.md), checked on every
import in the source, function-level ones included.

Written by hand rather than as import-linter contracts: its graph builder walks only the
``monitor/`` folder, while pyproject maps ``spiders/`` and ``reports/`` into the package
from the checkout's top level, so it would not see the very modules these lines are about.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = {"monitor": "monitor", "monitor.spiders": "spiders", "monitor.reports": "reports"}

# (importing package, forbidden prefixes, why)
FORBIDDEN = [
    ("monitor.matching", ("scrapy", "twisted", "sqlalchemy", "monitor.storage", "monitor.crawling"),
     "the matcher imports neither Scrapy nor SQLAlchemy"),
    ("monitor.spiders", ("monitor.matching", "monitor.storage"), "spiders import neither matcher nor storage"),
    ("monitor.storage", ("monitor.cli", "monitor.reports", "monitor.crawling", "monitor.spiders", "scrapy", "twisted"),
     "storage imports no CLI, report or Scrapy code"),
    ("monitor.reports", ("monitor.spiders", "monitor.crawling", "scrapy"), "reports read storage, never spiders"),
    ("monitor.crawling", ("monitor.nodes", "monitor.cli", "monitor.crawljobs", "monitor.monthly", "monitor.scheduler",
                          "monitor.demo"),
     "crawling runs a crawl here; where a crawl runs (Scrapyd nodes) is the jobs' choice (monitor.crawljobs)"),
]


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted((CHECKOUT / folder).rglob("*.py")):
            parts = path.relative_to(CHECKOUT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


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


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize(("source", "forbidden", "why"), FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_forbidden_imports(source: str, forbidden: tuple[str, ...], why: str) -> None:
    crossings = sorted(
        f"{name} imports {target}"
        for name, path in ALL.items() if within(name, source)
        for target in imports(name, path) if any(within(target, f) for f in forbidden)
    )
    assert crossings == [], why


def test_nothing_imports_the_cli() -> None:
    crossings = sorted(
        f"{name} imports {target}"
        for name, path in ALL.items() if not within(name, "monitor.cli") and name != "monitor.__main__"
        for target in imports(name, path) if within(target, "monitor.cli")
    )
    assert crossings == []


def test_only_config_reads_the_environment() -> None:
    readers = sorted(name for name, path in ALL.items() if name != "monitor.config" and reads_environment(path))
    assert readers == []


def test_the_checker_sees_the_mapped_packages() -> None:
    assert "monitor.spiders.base" in ALL and "monitor.reports.context" in ALL and "monitor.matching.verdict" in ALL
    assert "monitor.crawling.parsers" in imports("monitor.spiders.base", ALL["monitor.spiders.base"])


def test_the_site_definition_model_and_its_readers_are_free_of_scrapy() -> None:
    """The site-file validator checks readers and archetypes against their registry: neither
    it nor anything it imports (transitively, within the project) may import Scrapy."""
    seen, todo, outside = set(), ["monitor.crawling.sites"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in imports(name, ALL[name]):
            if target in ALL:
                todo.append(target)
            elif not any(target.startswith(p) for p in PACKAGES):
                outside.add(target.split(".")[0])
    assert {"monitor.spiders.archetypes", "monitor.spiders.readers"} <= seen
    assert not outside & {"scrapy", "twisted"}, sorted(n for n in seen if any(
        within(t, "scrapy") or within(t, "twisted") for t in imports(n, ALL[n])))
    import subprocess
    import sys

    probe = ("import sys; from monitor.crawling.sites import load_sites; load_sites(); "
             "found = sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')); "
             "print(found[:5]); sys.exit(1 if found else 0)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr  # loading every site file imported Scrapy
