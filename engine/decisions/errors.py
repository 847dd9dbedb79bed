"""Errors raised while evaluating decisions (model problems use :class:`engine.problems.ModelError`)."""

from __future__ import annotations


class DecisionError(Exception):
    """A decision could not be evaluated as its author reads it."""


class HitPolicyViolation(DecisionError):
    """The matched rules break the table's hit policy (UNIQUE with several matches, ANY with conflicts)."""

    def __init__(self, message: str, decision_id: str = "", rule_ids: list[str] | None = None) -> None:
        super().__init__(message)
        self.decision_id = decision_id
        self.rule_ids = list(rule_ids or [])


class DecisionInputError(DecisionError):
    """An input value that cannot be read as its ``typeRef`` says (or inputs that are not a mapping)."""


class UnknownDecision(KeyError):
    """No decision (or more than one) answers to the given id or name."""

    def __str__(self) -> str:  # KeyError would repr() the message, quotes and all
        return str(self.args[0]) if self.args else "unknown decision"
