"""Python's cycle collector paused over a burst of short-lived objects.

A report's query rows, a dense page's matcher evidence and jieba's unmarshalled dictionary are
hundreds of thousands of objects that hold no reference cycles: reference counting frees them,
yet each full collection meanwhile walks every live one, so the work grows with the square of
the burst. ``paused()`` switches the collector off for the burst and back on (if it was on)
afterwards; a class rather than a generator, as the matcher enters it once per listing.
"""

from __future__ import annotations

import gc
from types import TracebackType

__all__ = ["paused"]


class paused:  # noqa: N801 - used as ``with paused():``, like a function
    """``with paused():`` the cycle collector is off inside the block, as it was after it."""

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._was_enabled:
            gc.enable()
