"""Progress of long work with an ETA: Keras's bar on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import time

import keras


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Progress:
    """Counts `done` towards `total` units. On a terminal it draws Keras's progress bar;
    in a log it prints a line with the elapsed time and the ETA every `interval` seconds
    and at the end. verbose=0 prints nothing."""

    def __init__(self, total: int, unit: str, verbose: int = 1, interval: float = 30.0):
        self.total, self.unit, self.interval = total, unit, interval
        self.done = 0
        self.start = self.last = time.perf_counter()
        self.bar = (
            keras.utils.Progbar(total, verbose=verbose, unit_name=unit)
            if verbose and sys.stdout.isatty()
            else None
        )
        self.lines = verbose > 0 and self.bar is None

    def add(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.add(n)
            return
        now = time.perf_counter()
        if self.lines and (now - self.last >= self.interval or self.done >= self.total):
            self.last = now
            elapsed = now - self.start
            eta = elapsed / self.done * (self.total - self.done)
            print(
                f"  {self.done:,}/{self.total:,} {self.unit}s ({100 * self.done / self.total:.0f}%)"
                f", {_clock(elapsed)} elapsed, ETA {_clock(eta)}",
                flush=True,
            )
