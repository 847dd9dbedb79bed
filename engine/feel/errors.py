"""Errors raised by the FEEL parser and evaluator.

Most FEEL type problems are *not* errors: per DMN 1.3 they evaluate to null. These
classes cover what a model author must fix (syntax, unknown functions) and the few
real runtime failures (a range too large to build, an internal fault).
"""

from __future__ import annotations


class FeelError(Exception):
    """Base class for every FEEL problem."""


class FeelSyntaxError(FeelError):
    """The text is not FEEL we understand; ``position`` is a 0-based character offset."""

    def __init__(self, message: str, source: str, position: int) -> None:
        self.message = message
        self.source = source
        self.position = max(0, min(position, len(source)))
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.message} at position {self.position} in: "
        text = f"{head}{self.source}"
        if "\n" not in self.source:
            # A caret under the offending character helps a modeller find it in a long cell.
            text += "\n" + " " * (len(head) + self.position) + "^"
        return text

    def __reduce__(self):  # keep the error picklable (multiprocessing, caches)
        return (type(self), (self.message, self.source, self.position))


class FeelEvaluationError(FeelError):
    """A genuine run-time failure (not a type mismatch, which yields null)."""
