"""Simulated marketplaces: 31 Chinese-language sites on 127.0.0.1, the test bed and the demo.

``Sandbox`` is the deterministic world (listings over a calendar of months, the truth,
takedowns); ``SandboxServer`` serves it over HTTP. SITES.md documents every site.
"""

from __future__ import annotations

from monitor.sandbox.server import SandboxServer
from monitor.sandbox.sites import SITES, Category, SandboxSite
from monitor.sandbox.world import Sandbox

__all__ = ["SITES", "Category", "Sandbox", "SandboxServer", "SandboxSite"]
