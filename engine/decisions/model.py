"""The in-memory model of a DMN file: decisions, decision tables, rules, literal expressions.

Compiled FEEL objects (``expression``/``tests`` attributes) come from ``engine.feel``; the XML is
read by :mod:`engine.decisions.dmnxml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class InputClause:
    id: str
    label: str | None
    expression_text: str
    expression: Any  # engine.feel compiled expression
    type_ref: str | None  # canonical type name, None = untyped
    input_values_text: str | None = None
    input_values: Any = None  # compiled unary tests (allowed values), kept for lint and UI
    input_variable: str = "cellInput"  # camunda:inputVariable

    @property
    def display(self) -> str:
        """What a trace calls this input: its label, else its expression."""
        return self.label or self.expression_text


@dataclass
class OutputClause:
    id: str
    name: str
    label: str | None
    type_ref: str | None
    output_values_text: str | None = None
    # one compiled unary test per listed output value, in priority order (first = highest)
    output_values: list[Any] = field(default_factory=list)

    def priority(self, value: Any) -> int:
        """Position of ``value`` in this output's ``outputValues`` (unlisted values rank last)."""
        for position, test in enumerate(self.output_values):
            try:
                if test.matches(value):
                    return position
            except Exception:  # noqa: BLE001 - a value of another type simply does not match
                continue
        return len(self.output_values)


@dataclass
class InputEntry:
    id: str
    text: str
    tests: Any  # compiled unary tests


@dataclass
class OutputEntry:
    id: str
    text: str
    expression: Any = None  # None for an empty entry (null)


@dataclass
class Rule:
    id: str
    index: int  # 1-based row number
    inputs: list[InputEntry]
    outputs: list[OutputEntry]
    description: str | None = None  # rule annotation (<description>)
    annotations: list[str] = field(default_factory=list)  # <annotationEntry> texts


@dataclass
class DecisionTable:
    id: str
    hit_policy: str
    aggregation: str  # '' when none
    inputs: list[InputClause]
    outputs: list[OutputClause]
    rules: list[Rule]

    @property
    def has_priorities(self) -> bool:
        return any(o.output_values for o in self.outputs)


@dataclass
class LiteralExpression:
    id: str
    text: str
    expression: Any


@dataclass
class DecisionRequirement:
    href: str
    target_id: str  # the id after '#'
    prefix: str  # text before '#': '' for this file, else a namespace or file name


@dataclass
class Decision:
    id: str
    name: str
    filename: str
    namespace: str
    logic: DecisionTable | LiteralExpression
    variable_name: str
    type_ref: str | None = None  # the decision variable's typeRef
    required_decisions: list[DecisionRequirement] = field(default_factory=list)
    required_inputs: list[str] = field(default_factory=list)  # input data names
    description: str | None = None

    @property
    def is_table(self) -> bool:
        return isinstance(self.logic, DecisionTable)

    def output_names(self) -> list[str]:
        if isinstance(self.logic, DecisionTable):
            return [o.name for o in self.logic.outputs]
        return [self.variable_name]


@dataclass
class InputData:
    id: str
    name: str
    type_ref: str | None = None


@dataclass
class DecisionModel:
    filename: str
    namespace: str
    id: str = ""
    name: str = ""
    dmn_version: str = "1.3"
    decisions: dict[str, Decision] = field(default_factory=dict)  # by id
    input_data: dict[str, InputData] = field(default_factory=dict)  # by name
    input_data_by_id: dict[str, InputData] = field(default_factory=dict)

    @property
    def input_data_names(self) -> list[str]:
        return list(self.input_data)
