"""Evaluate one decision (table or literal expression) and, first, the decisions it requires.

One :class:`Evaluation` serves one ``evaluate()`` call: required decisions are evaluated once
(memoised), their results are put in the context under the decision's name and id, and every
decision evaluated leaves one trace entry.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.problems import ModelError, Problem

from .errors import DecisionError, DecisionInputError
from .hitpolicy import SINGLE_HIT, Match, apply_hit_policy
from .jsonvalue import json_friendly
from .model import Decision, DecisionRequirement, DecisionTable, LiteralExpression
from .typeref import CoercionError, coerce

Resolver = Callable[[Decision, DecisionRequirement], Decision]


@dataclass
class Outcome:
    """The FEEL-valued result of one decision."""

    value: Any
    rows: list[dict[str, Any]]
    matched_rules: list[str]
    trace_entry: dict[str, Any] = field(default_factory=dict)


class Evaluation:
    def __init__(self, context: Mapping[str, Any], resolve: Resolver, clock: Any = None) -> None:
        self.base = dict(context)
        self.resolve = resolve
        self.clock = clock
        self.done: dict[str, Outcome] = {}
        self.active: list[str] = []
        self.trace: list[dict[str, Any]] = []

    def run(self, decision: Decision) -> Outcome:
        if decision.id in self.done:
            return self.done[decision.id]
        if decision.id in self.active:
            cycle = self.active[self.active.index(decision.id):] + [decision.id]
            raise ModelError([Problem(decision.filename, decision.id,
                                      "decision requirement cycle: " + " -> ".join(cycle))])
        self.active.append(decision.id)
        try:
            required: dict[str, Any] = {}
            camunda: dict[str, Any] = {}
            for requirement in decision.required_decisions:
                target = self.resolve(decision, requirement)
                outcome = self.run(target)
                camunda.update(output_variables(target, outcome))
                required[target.id] = outcome.value
                required[target.name] = outcome.value
            context = ChainMap(required, camunda, self.base) if required else self.base
            if isinstance(decision.logic, DecisionTable):
                outcome = self._table(decision, decision.logic, context)
            elif isinstance(decision.logic, LiteralExpression):
                outcome = self._literal(decision, decision.logic, context)
            else:  # pragma: no cover - load_dmn refuses decisions without logic
                raise DecisionError(f"decision '{decision.id}' has no decision logic")
        finally:
            self.active.pop()
        self.done[decision.id] = outcome
        self.trace.append(outcome.trace_entry)
        return outcome

    # -- decision tables -----------------------------------------------------------------
    def _table(self, decision: Decision, table: DecisionTable, context: Mapping[str, Any]) -> Outcome:
        values: list[Any] = []
        cell_contexts: list[Mapping[str, Any]] = []
        for clause in table.inputs:
            try:
                raw = clause.expression.evaluate(context, clock=self.clock)
            except Exception as error:  # noqa: BLE001 - FEEL failures become decision errors
                raise DecisionError(
                    f"decision '{decision.id}', input '{clause.display}': cannot evaluate "
                    f"`{clause.expression_text}`: {error}"
                ) from error
            try:
                value = coerce(raw, clause.type_ref)
            except CoercionError as error:
                raise DecisionInputError(
                    f"decision '{decision.id}', input '{clause.display}' (`{clause.expression_text}`): {error}"
                ) from None
            values.append(value)
            cell_contexts.append(ChainMap({clause.input_variable: value}, context))

        matches: list[Match] = []
        for rule in table.rules:
            if all(self._entry_matches(decision, rule.id, entry, value, cell_context)
                   for entry, value, cell_context in zip(rule.inputs, values, cell_contexts, strict=True)):
                outputs = tuple(self._output(decision, rule.id, entry, clause, context)
                                for entry, clause in zip(rule.outputs, table.outputs, strict=True))
                matches.append(Match(rule.id, rule.index, outputs))

        def priority_key(match: Match) -> tuple[int, ...]:
            return tuple(clause.priority(value) for clause, value in zip(table.outputs, match.outputs, strict=True))

        outcome = apply_hit_policy(table.hit_policy, table.aggregation, matches, priority_key, decision.id)
        names = [clause.name for clause in table.outputs]
        matched = [m.rule_id for m in outcome.selected]
        if outcome.aggregated:
            rows = [{names[0]: outcome.aggregate}]
            value = outcome.aggregate
        else:
            rows = [dict(zip(names, m.outputs, strict=True)) for m in outcome.selected]
            if len(names) == 1:
                items = [m.outputs[0] for m in outcome.selected]
            else:
                items = rows
            if table.hit_policy in SINGLE_HIT:
                value = items[0] if items else None
            else:
                value = items
        trace = {
            "decision": decision.id,
            "name": decision.name,
            "hitPolicy": table.hit_policy + (f" {table.aggregation}" if table.aggregation else ""),
            "inputs": {clause.display: json_friendly(v) for clause, v in zip(table.inputs, values, strict=True)},
            "matchedRules": matched,
            "outputs": json_friendly(rows),
            "result": json_friendly(value),
        }
        return Outcome(value, rows, matched, trace)

    def _entry_matches(self, decision: Decision, rule_id: str, entry: Any, value: Any,
                       context: Mapping[str, Any]) -> bool:
        if entry.tests is None:  # '-' or empty: matches anything
            return True
        try:
            return bool(entry.tests.matches(value, context=context, clock=self.clock))
        except Exception as error:  # noqa: BLE001 - FEEL failures become decision errors
            raise DecisionError(
                f"decision '{decision.id}', rule {rule_id}, entry {entry.id}: cannot evaluate "
                f"`{entry.text}`: {error}"
            ) from error

    def _output(self, decision: Decision, rule_id: str, entry: Any, clause: Any,
                context: Mapping[str, Any]) -> Any:
        if entry.expression is None:
            return None
        where = f"decision '{decision.id}', rule {rule_id}, output '{clause.name}'"
        try:
            raw = entry.expression.evaluate(context, clock=self.clock)
        except Exception as error:  # noqa: BLE001
            raise DecisionError(f"{where}: cannot evaluate `{entry.text}`: {error}") from error
        try:
            return coerce(raw, clause.type_ref)
        except CoercionError as error:
            raise DecisionError(f"{where}: `{entry.text}` {error}") from None

    # -- literal expressions ---------------------------------------------------------------
    def _literal(self, decision: Decision, literal: LiteralExpression, context: Mapping[str, Any]) -> Outcome:
        try:
            raw = literal.expression.evaluate(context, clock=self.clock)
        except Exception as error:  # noqa: BLE001
            raise DecisionError(
                f"decision '{decision.id}': cannot evaluate `{literal.text}`: {error}"
            ) from error
        try:
            value = coerce(raw, decision.type_ref)
        except CoercionError as error:
            raise DecisionError(f"decision '{decision.id}': `{literal.text}` {error}") from None
        try:
            used = sorted(literal.expression.names())
        except Exception:  # noqa: BLE001
            used = []
        rows = [{decision.variable_name: value}]
        trace = {
            "decision": decision.id,
            "name": decision.name,
            "inputs": {name: json_friendly(context.get(name)) for name in used if name in context},
            "matchedRules": [],
            "outputs": json_friendly(rows),
            "result": json_friendly(value),
        }
        return Outcome(value, rows, [], trace)


def output_variables(decision: Decision, outcome: Outcome) -> dict[str, Any]:
    """What Camunda 7 puts in the context for a required decision: its output names.

    A single-hit (or aggregated) result gives each output name its value; a multi-hit result
    gives each output name the list of its values. DMN's own variable (the decision's name and
    id) is added by the caller and wins on a clash.
    """
    logic = decision.logic
    if isinstance(logic, DecisionTable):
        names = [clause.name for clause in logic.outputs]
        if logic.hit_policy in SINGLE_HIT or logic.aggregation:
            row = outcome.rows[0] if outcome.rows else {}
            return {name: row.get(name) for name in names}
        return {name: [row.get(name) for row in outcome.rows] for name in names}
    return {decision.variable_name: outcome.value}
