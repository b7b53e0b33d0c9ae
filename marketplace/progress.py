"""A text progress bar for management commands (no dependency, works in a terminal and in logs)."""

import sys
import time


class ProgressBar:
    """Draws ``label [#######-------] 7/15  47%  2.1s`` on one line, redrawn in place on a terminal.

    When the output is not a terminal (CI logs, pipes) it prints a line at every tenth of the way
    instead, so logs stay short.
    """

    def __init__(self, total: int, *, label: str = "", stream=None, width: int = 30):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stdout
        self.width = width
        self.done = 0
        self._started = time.monotonic()
        self._interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_printed_tenth = -1

    def advance(self, steps: int = 1, *, note: str = "") -> None:
        self.done = min(self.done + steps, self.total)
        self._draw(note)

    def _draw(self, note: str) -> None:
        fraction = self.done / self.total
        tenth = int(fraction * 10)
        if not self._interactive and tenth == self._last_printed_tenth and self.done < self.total:
            return
        self._last_printed_tenth = tenth
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self._started
        line = (
            f"{self.label} [{bar}] {self.done}/{self.total} {fraction:4.0%} {elapsed:5.1f}s {note}"
        )
        if self._interactive:
            self.stream.write("\r" + line.ljust(100))
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line.rstrip() + "\n")
        self.stream.flush()
