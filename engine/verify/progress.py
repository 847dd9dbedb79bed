"""The command line's progress bar: states explored per track group, on stderr."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from .explorer import Progress


class Bar:
    """One line, rewritten in place: each group's states, frontier, elements reached and findings so far."""

    def __init__(self, enabled: bool = True, stream=None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.groups: dict[str, Progress] = {}
        self.began = time.perf_counter()
        self._width = 0

    def update(self, group: str, progress: Progress) -> None:
        self.groups[group] = progress
        if not self.enabled:
            return
        parts = []
        for name, p in self.groups.items():
            short = name if len(name) <= 24 else name[:23] + "…"
            done = p.frontier == 0
            reached = f", {p.reached}/{p.elements} elements" if p.elements else ""
            parts.append(f"{short}: {p.states} states{' ✓' if done else f' (+{p.frontier} to go)'}{reached}"
                         f"{f', {p.findings} found' if p.findings else ''}")
        line = f"verifying {time.perf_counter() - self.began:5.0f}s  " + " | ".join(parts)
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.enabled and self.groups:
            self.stream.write("\n")
            self.stream.flush()
