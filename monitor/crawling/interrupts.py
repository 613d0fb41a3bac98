"""Signals that stop a crawl cleanly: the first interrupts, a second kills the worker."""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import Any


class Interrupts:
    """While a crawl runs in the main thread, SIGINT and SIGTERM both interrupt it.

    The first raises KeyboardInterrupt (``run_crawl`` then stops the worker gracefully, leaves
    the crawl resumable and lets the exception through: the CLI exits non-zero); a second kills
    the worker at once. While the run is being closed (``defer``) a signal waits until that is
    done. Off the main thread (a scheduler's job) signals stay the caller's business. The Scrapyd
    coordinator uses it too (no worker: every signal interrupts).
    """

    def __init__(self) -> None:
        self.worker: subprocess.Popen[bytes] | None = None
        self.defer = False
        self.previous: dict[int, Any] = {}
        self.received: list[int] = []

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        if self.defer:
            return
        if len(self.received) > 1 and self.worker is not None:
            try:
                self.worker.kill()  # no logging here: the signal may have cut a log write short
            except OSError:
                pass
            return
        raise KeyboardInterrupt(f"crawl stopped by {signal.Signals(signum).name}")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if self.received and exc_type is None:
            raise KeyboardInterrupt(f"crawl stopped by {signal.Signals(self.received[0]).name}")
