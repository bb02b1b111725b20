"""Frames per second, measured the same way in the CLI's ``live`` window and the notebook's ``LiveView``."""

from __future__ import annotations

import time
from typing import Callable

__all__ = ["FpsMeter"]


class FpsMeter:
    """Frames per second, smoothed over the last frames and averaged since the first: :meth:`tick` each frame.

    Parameters
    ----------
    smoothing : float, default 0.9
        Weight of the previous rate in the running rate (0: the last interval only).
    clock : callable, default time.perf_counter
    """

    def __init__(self, smoothing: float = 0.9, *, clock: Callable[[], float] = time.perf_counter) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}")
        self.smoothing = float(smoothing)
        self.clock = clock
        self.fps = 0.0
        self.count = 0
        self.started: float | None = None
        self.last: float | None = None

    def tick(self) -> float:
        """Count one frame; returns the smoothed rate (0.0 on the first frame)."""
        now = self.clock()
        if self.last is not None and now > self.last:
            current = 1.0 / (now - self.last)
            weight = 0.0 if self.count == 1 else self.smoothing
            self.fps = weight * self.fps + (1 - weight) * current
        self.started = now if self.started is None else self.started
        self.last = now
        self.count += 1
        return self.fps

    @property
    def mean(self) -> float:
        """Frames per second from the first tick to the last (0.0 before two ticks)."""
        if self.count < 2 or self.last == self.started:
            return 0.0
        return (self.count - 1) / (self.last - self.started)
