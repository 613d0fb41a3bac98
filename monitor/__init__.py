"""wildlife-trade-monitor: crawl Chinese-language marketplaces, flag wildlife products,
keep their history in SQL and write a monthly briefing."""

from __future__ import annotations

__version__ = "0.1.0"

from monitor.config import Config, load_config
from monitor.exceptions import MonitorError

__all__ = ["Config", "MonitorError", "__version__", "load_config"]
