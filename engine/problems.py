"""A model finding that names the file and element it is about."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    message: str
    severity: str = "error"  # "warning": shown to the author, does not stop a deploy

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.element}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity != "warning"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class ModelError(Exception):
    """A bundle of BPMN/DMN that cannot be run as its author reads it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid model")
