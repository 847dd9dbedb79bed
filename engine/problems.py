"""A model finding that names the file and element it is about."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.element}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class ModelError(Exception):
    """A bundle of BPMN/DMN that cannot be run as its author reads it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid model")
