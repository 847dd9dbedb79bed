"""A set of loaded DMN models: cross-file requirement resolution, lookup by id or name, evaluation."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.problems import ModelError, Problem

from .dmnxml import find_cycles
from .errors import DecisionInputError, UnknownDecision
from .evaluate import Evaluation
from .jsonvalue import json_friendly
from .model import Decision, DecisionModel, DecisionRequirement
from .typeref import CoercionError, coerce


@dataclass
class DecisionResult:
    """The result of evaluating one decision.

    ``value`` is the DMN decision result, JSON-friendly (see the ``pathway decide`` contract);
    ``rows`` holds one dict per selected rule (outputs keyed by output name, in hit-policy order;
    one ``{output: aggregate}`` row for an aggregation), as ``camunda:mapDecisionResult`` needs.
    ``raw_value``/``raw_rows`` keep the FEEL values (Decimal, date, ...).
    """

    decision_id: str
    value: Any
    matched_rules: list[str]
    trace: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    raw_value: Any = None
    raw_rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.value, "matchedRules": list(self.matched_rules)}


class DecisionRegistry:
    """The decisions of a bundle of DMN files."""

    def __init__(self, models: Iterable[DecisionModel] = ()) -> None:
        self.models: list[DecisionModel] = []
        self._types: tuple[int, dict[str, str | None]] | None = None
        for model in models:
            self.add(model)

    def add(self, model: DecisionModel) -> None:
        self.models.append(model)

    # -- lookup ----------------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        return [d for model in self.models for d in model.decisions.values()]

    def get(self, id_or_name: str) -> Decision:
        """The decision with this id, else with this name; :class:`KeyError` if none or ambiguous."""
        for attribute in ("id", "name"):
            found = [d for d in self.decisions() if getattr(d, attribute) == id_or_name]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                files = ", ".join(sorted({d.filename for d in found}))
                raise UnknownDecision(f"decision {attribute} '{id_or_name}' is ambiguous: defined in {files}")
        known = ", ".join(sorted(f"{d.id} ({d.name})" if d.name != d.id else d.id for d in self.decisions()))
        raise UnknownDecision(f"unknown decision '{id_or_name}'; known decisions: {known or 'none'}")

    def resolve(self, decision: Decision, requirement: DecisionRequirement) -> Decision:
        """The decision a ``requiredDecision`` points to; :class:`ModelError` if it does not resolve."""
        found = self._resolve(decision, requirement)
        if found is None:
            raise ModelError([_unresolved(decision, requirement)])
        return found

    def _resolve(self, decision: Decision, requirement: DecisionRequirement) -> Decision | None:
        target = requirement.target_id
        if not requirement.prefix:
            candidates = [m for m in self.models if m.filename == decision.filename and m.namespace == decision.namespace]
        else:
            candidates = [m for m in self.models if _names_model(m, requirement.prefix)]
        for model in candidates:
            if target in model.decisions:
                return model.decisions[target]
        everywhere = [d for d in self.decisions() if d.id == target]
        return everywhere[0] if len(everywhere) == 1 else None

    # -- checks ----------------------------------------------------------------------------
    def validate(self) -> list[Problem]:
        """Cross-file problems: duplicate decision ids, unresolved requiredDecision hrefs, cycles."""
        problems: list[Problem] = []
        first: dict[str, Decision] = {}
        for decision in self.decisions():
            if decision.id in first:
                other = first[decision.id]
                problems.append(Problem(decision.filename, decision.id,
                                        f"duplicate decision id '{decision.id}' (also in {other.filename})"))
            else:
                first[decision.id] = decision
        graph: dict[str, list[str]] = {}
        owner: dict[str, Decision] = {}
        for decision in self.decisions():
            key = _key(decision)
            owner[key] = decision
            graph[key] = []
            for requirement in decision.required_decisions:
                target = self._resolve(decision, requirement)
                if target is None:
                    problems.append(_unresolved(decision, requirement))
                else:
                    graph[key].append(_key(target))
        for cycle in find_cycles(graph):
            start = owner[cycle[0]]
            path = " -> ".join(owner[k].id for k in cycle)
            problems.append(Problem(start.filename, start.id, f"decision requirement cycle: {path}"))
        return problems

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, id_or_name: str, inputs: Mapping[str, Any], clock: Any = None) -> DecisionResult:
        """Evaluate a decision (and the decisions it requires) for ``inputs`` keyed by input data name.

        Raises :class:`KeyError` (unknown decision), :class:`DecisionInputError`,
        :class:`HitPolicyViolation`, :class:`DecisionError` or :class:`ModelError`.
        """
        decision = self.get(id_or_name)
        context = self.input_context(inputs)
        evaluation = Evaluation(context, self.resolve, clock)
        outcome = evaluation.run(decision)
        return DecisionResult(
            decision_id=decision.id,
            value=json_friendly(outcome.value),
            matched_rules=list(outcome.matched_rules),
            trace=evaluation.trace,
            rows=json_friendly(outcome.rows),
            raw_value=outcome.value,
            raw_rows=outcome.rows,
        )

    def _input_types(self) -> dict[str, str | None]:
        # every evaluation types its inputs: worked out once per set of loaded models
        if self._types is None or self._types[0] != len(self.models):
            types: dict[str, str | None] = {}
            for model in self.models:
                for name, data in model.input_data.items():
                    if types.get(name) is None:
                        types[name] = data.type_ref
            self._types = (len(self.models), types)
        return self._types[1]

    def input_context(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            raise DecisionInputError(f"inputs must be an object keyed by input name, got {type(inputs).__name__}")
        types = self._input_types()
        context: dict[str, Any] = {}
        for name, value in inputs.items():
            if not isinstance(name, str):
                raise DecisionInputError(f"input names must be strings, got {name!r}")
            try:
                context[name] = coerce(value, types.get(name))
            except CoercionError as error:
                raise DecisionInputError(f"input '{name}': {error}") from None
        return context


def _key(decision: Decision) -> str:
    return f"{decision.filename}#{decision.id}"


def _names_model(model: DecisionModel, prefix: str) -> bool:
    if prefix in (model.namespace, model.filename, model.id, model.name):
        return True
    base = os.path.basename(model.filename)
    return prefix in (base, os.path.splitext(base)[0])


def _unresolved(decision: Decision, requirement: DecisionRequirement) -> Problem:
    return Problem(decision.filename, decision.id,
                   f"requiredDecision href '{requirement.href}' does not resolve to a loaded decision")
