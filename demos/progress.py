"""A minimal one-line progress bar on stderr (no dependency)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress("training main", total) as bar: bar.update(step, loss)``."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.stream = label, max(int(total), 1), stream or sys.stderr
        self.start = time.monotonic()
        self._last = -1.0

    def update(self, step: int, value: float | None = None) -> None:
        now = time.monotonic()
        done = step + 1
        if done < self.total and now - self._last < 0.2:
            return
        self._last = now
        width = 24
        filled = int(width * done / self.total)
        extra = f" loss {value:.4f}" if value is not None else ""
        self.stream.write(f"\r{self.label:<22} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{self.total} {now - self.start:5.1f}s{extra}")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.stream.write("\n")
        self.stream.flush()
