"""Logs an analyst can read: the terminal plus a file in the data folder."""

from __future__ import annotations

import logging
from pathlib import Path

from monitor.config import Config

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_file_logging(config: Config, name: str = "wtm.log") -> Path:
    """Also write the monitor's log lines to ``<data_dir>/logs/<name>`` (once per process)."""
    folder = config.data_path / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    return path
