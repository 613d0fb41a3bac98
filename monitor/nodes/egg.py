"""The egg Scrapyd runs: it only names the Scrapy project's settings module.

Scrapyd appends a deployed egg to the end of ``sys.path``, so a node that has wtm installed runs
its installed copy whatever the egg holds (and files inside a zipped egg are not readable
through ``Path``). The egg therefore carries no code of ours: its settings module checks that
the node runs the coordinator's wtm version, takes the project's settings and names the node's
spider loader. Its version is wtm's version and the egg's content hash, so a changed egg is a
new version that ``wtm deploy`` uploads.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

from monitor import __version__

PROJECT = "wtm"
PACKAGE = "wtm_scrapyd"

_SETTINGS = '''"""Scrapy settings of a wtm job on a Scrapyd node (written by `wtm deploy`)."""
from monitor import __version__

BUILT_FOR = {version!r}
if __version__ != BUILT_FOR:
    raise ImportError(f"this node runs wtm {{__version__}} but the coordinator runs wtm {{BUILT_FOR}}: "
                      f"install wtm {{BUILT_FOR}} on the node")

from monitor.crawling.scrapy_project import *  # noqa: E402,F401,F403  the node's own wtm.toml / WTM_*

SPIDER_LOADER_CLASS = "monitor.nodes.loader.NodeSpiderLoader"
'''


@dataclass(frozen=True)
class Egg:
    version: str
    data: bytes

    @property
    def stored_as(self) -> str:
        """The version as Scrapyd stores and lists it (it turns all but [A-Za-z0-9_-] into _)."""
        return re.sub(r"[^A-Za-z0-9_-]", "_", self.version)


def _files(version: str) -> dict[str, str]:
    return {
        f"{PACKAGE}/__init__.py": "",
        f"{PACKAGE}/settings.py": _SETTINGS.format(version=version),
        "EGG-INFO/PKG-INFO": f"Metadata-Version: 1.1\nName: {PACKAGE}\nVersion: {version}\n",
        "EGG-INFO/entry_points.txt": f"[scrapy]\nsettings = {PACKAGE}.settings\n",
        "EGG-INFO/top_level.txt": f"{PACKAGE}\n",
        "EGG-INFO/zip-safe": "\n",
    }


def build_egg(version: str = __version__) -> Egg:
    """The egg for wtm ``version``; the same version always gives the same bytes.

    Zipped by hand (five small text files, fixed timestamps) because setuptools' bdist_egg is
    deprecated and would package our whole code, which the node must not run from the egg."""
    files = _files(version)
    digest = hashlib.sha256("\0".join(f"{k}\0{v}" for k, v in sorted(files.items())).encode()).hexdigest()[:12]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as egg:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            egg.writestr(info, text)
    return Egg(version=f"{version}_{digest}", data=buffer.getvalue())
