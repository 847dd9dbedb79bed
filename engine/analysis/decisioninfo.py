"""What a DMN decision reads from the pathway and what shape of result it writes.

A business rule task evaluates its decision together with every decision it requires (DRD), so
the names it reads are the inputs of that whole tree, minus what the required decisions provide
themselves. A result variable's shape follows ``camunda:mapDecisionResult`` (Camunda 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..decisions import Decision, DecisionRegistry, DecisionTable
from .feelscan import (
    PathT,
    comparisons,
    literal_only,
    null_tested,
    opaque_paths,
    path_of,
    read_paths,
    unary_literals,
    unary_paths,
)
from .shapes import Shape


@dataclass
class DecisionReads:
    """The variable paths a decision tree reads, the roots it expects to be null sometimes, and
    the ``(path, op, literal)`` comparisons its rules make on inputs that are plain paths."""

    paths: set[PathT] = field(default_factory=set)
    null_aware: set[str] = field(default_factory=set)
    comparisons: list[tuple[PathT, str, Any]] = field(default_factory=list)
    opaque: set[PathT] = field(default_factory=set)  # read other than by comparing with literals
    decisions: list[Decision] = field(default_factory=list)
    # names one input expression combines (e.g. a therapy class and an agent that must agree):
    # their answers matter together, not one at a time
    together: list[frozenset[str]] = field(default_factory=list)


def _literal_values(decision: Decision, output_index: int) -> frozenset[str] | None:
    """An output's allowed values: its ``outputValues`` list, else the literal strings of its
    cells when every cell is one; None when the table can produce other values."""
    table = decision.logic
    assert isinstance(table, DecisionTable)
    clause = table.outputs[output_index]
    if clause.output_values_text:
        from ..feel import parse_unary_tests

        literals = [v for op, v in unary_literals(parse_unary_tests(clause.output_values_text).node) if op == "="]
        if literals and all(isinstance(v, str) for v in literals):
            return frozenset(literals)
        return None
    values: set[str] = set()
    for rule in table.rules:
        entry = rule.outputs[output_index]
        if entry.expression is None:
            continue
        node = entry.expression.node
        literal = getattr(node, "value", None)
        if type(node).__name__ != "Literal" or not isinstance(literal, str):
            return None
        values.add(literal)
    return frozenset(values) if values else None


def always_matches(decision: Decision) -> bool:
    """A table with a rule whose every input entry is ``-`` (or a literal decision) never gives null."""
    table = decision.logic
    if not isinstance(table, DecisionTable):
        return True
    return any(all(entry.tests is None or entry.tests.matches_anything for entry in rule.inputs)
               for rule in table.rules)


def output_shapes(decision: Decision) -> dict[str, Shape]:
    """One shape per output name (a literal decision: its variable)."""
    table = decision.logic
    if not isinstance(table, DecisionTable):
        kind = {"boolean": "boolean", "number": "number", "date": "date", "string": "string"}.get(
            decision.type_ref or "", None)
        return {decision.variable_name: Shape("value", type=kind)}
    nullable = not always_matches(decision)
    shapes = {}
    for index, clause in enumerate(table.outputs):
        shapes[clause.name] = Shape("value", type=clause.type_ref, values=_literal_values(decision, index),
                                    nullable=nullable or any(r.outputs[index].expression is None for r in table.rules))
    return shapes


def is_multi_hit(decision: Decision) -> bool:
    table = decision.logic
    return isinstance(table, DecisionTable) and table.hit_policy in ("COLLECT", "RULE ORDER", "OUTPUT ORDER") \
        and not table.aggregation


def result_shape(decision: Decision, mapping: str | None) -> Shape:
    """The shape a result variable gets from ``camunda:mapDecisionResult`` (default resultList)."""
    outputs = output_shapes(decision)
    mapping = (mapping or "resultList").strip()
    if mapping == "singleEntry":
        (only,) = outputs.values() if len(outputs) == 1 else (Shape("any"),)
        return only
    if mapping == "singleResult":
        return Shape("record", members=outputs, nullable=not always_matches(decision))
    if mapping == "collectEntries":
        (only,) = outputs.values() if len(outputs) == 1 else (Shape("any"),)
        return Shape("list", type=only.type, values=only.values)
    return Shape("records", members=outputs)


def decision_reads(registry: DecisionRegistry, decision: Decision) -> DecisionReads:
    """Everything evaluating ``decision`` (with its required decisions) reads from the pathway."""
    reads = DecisionReads()
    _collect(registry, decision, reads, seen=set())
    return reads


def _provided(registry: DecisionRegistry, decision: Decision) -> set[str]:
    """Names a decision's required decisions put in its context."""
    names: set[str] = set()
    for requirement in decision.required_decisions:
        try:
            target = registry.resolve(decision, requirement)
        except Exception:  # noqa: BLE001 - an unresolved href is reported by the DMN checks
            continue
        names.update({target.id, target.name, target.variable_name, *target.output_names()})
    return names


def _collect(registry: DecisionRegistry, decision: Decision, reads: DecisionReads, seen: set[str]) -> None:
    if decision.id in seen:
        return
    seen.add(decision.id)
    reads.decisions.append(decision)
    provided = _provided(registry, decision)
    own: set[PathT] = set()
    aware: set[str] = set()
    logic = decision.logic
    if isinstance(logic, DecisionTable):
        for index, clause in enumerate(logic.inputs):
            node = clause.expression.node
            own |= read_paths(node)
            aware |= null_tested(node)
            target = path_of(node)
            entries = [rule.inputs[index].tests for rule in logic.rules if rule.inputs[index].tests is not None]
            if target is not None and any(_mentions_null(t.node) for t in entries):
                aware.add(target[0])
            if target is None or not all(literal_only(t.node) for t in entries):
                reads.opaque |= {p for p in read_paths(node) if p[0] not in provided}
            roots = frozenset(p[0] for p in read_paths(node) if p[0] not in provided)
            if target is None and len(roots) > 1:
                reads.together.append(roots)
            for tests in entries:
                own |= unary_paths(tests.node)
                if target is not None and target[0] not in provided:
                    reads.comparisons.extend((target, op, value) for op, value in unary_literals(tests.node))
        for rule in logic.rules:
            for entry in rule.outputs:
                if entry.expression is not None:
                    own |= read_paths(entry.expression.node)
                    reads.opaque |= {p for p in read_paths(entry.expression.node) if p[0] not in provided}
    else:
        node = logic.expression.node
        own |= read_paths(node)
        aware |= null_tested(node)
        reads.comparisons.extend((c.path, c.op, c.value) for c in comparisons(node) if c.path[0] not in provided)
        reads.opaque |= {p for p in opaque_paths(node) if p[0] not in provided}
    reads.paths |= {p for p in own if p[0] not in provided and p[0] != "?"}
    reads.null_aware |= aware - provided
    for requirement in decision.required_decisions:
        try:
            target = registry.resolve(decision, requirement)
        except Exception:  # noqa: BLE001
            continue
        _collect(registry, target, reads, seen)


def _mentions_null(node: Any) -> bool:
    return any(value is None for _, value in unary_literals(node))
